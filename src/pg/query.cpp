/*
 * pg/query.cpp — the typed wrappers of pg/query.hpp: each PostgreSQL call through pg::Call.
 */
#include "indexpilot/pg/query.hpp"

#include "indexpilot/pg/guard.hpp"
#include "indexpilot/pg/spi.hpp"

extern "C" {
#include "executor/spi.h"
#include "optimizer/optimizer.h"
#include "utils/builtins.h"
}

namespace indexpilot::pg
{

std::vector<Row>
Query(const char *sql, const std::vector<const char *> &args)
{
	const char *const *argv = args.data();
	const int nargs = static_cast<int>(args.size());
	const uint64 n = Call([&] { return SpiExec(sql, nargs, argv); });
	std::vector<Row> rows;
	rows.reserve(n);
	for (uint64 r = 0; r < n; r++) {
		HeapTuple tuple = SPI_tuptable->vals[r];
		TupleDesc desc = SPI_tuptable->tupdesc;
		Row row;
		row.reserve(desc->natts);
		for (int c = 1; c <= desc->natts; c++) {
			const char *value = Call([&] { return SPI_getvalue(tuple, desc, c); });
			row.emplace_back(value ? value : "");
		}
		rows.push_back(std::move(row));
	}
	return rows;
}

std::string
QuoteIdent(const std::string &ident)
{
	return Call([&] { return quote_identifier(ident.c_str()); });
}

std::string
QuoteLiteral(const std::string &value)
{
	return Call([&] { return static_cast<const char *>(quote_literal_cstr(value.c_str())); });
}

long long
AppendMutation(const char *kind, const std::string &table, const char *column, const std::string &index,
			   const char *tenant, const std::string &details, long long parent)
{
	const char *t = table.empty() ? nullptr : table.c_str();
	const char *i = index.empty() ? nullptr : index.c_str();
	const char *d = details.empty() ? nullptr : details.c_str();
	return Call([=] { return static_cast<long long>(LogMutation(kind, t, column, i, tenant, d, parent)); });
}

void
LogLine(const std::string &message)
{
	const char *m = message.c_str();
	Call([=] { ereport(LOG, (errmsg("%s", m))); });
}

core::CostSettings
CurrentPlannerCosts()
{
	core::CostSettings c;
	c.seq_page_cost = seq_page_cost;
	c.random_page_cost = random_page_cost;
	c.cpu_tuple_cost = cpu_tuple_cost;
	c.cpu_index_tuple_cost = cpu_index_tuple_cost;
	c.cpu_operator_cost = cpu_operator_cost;
	return c;
}

} // namespace indexpilot::pg
