/*
 * pg/query.hpp — typed wrappers through which C++-only files (pg/cpp_only.hpp) reach PostgreSQL. No
 * PostgreSQL header here: every function runs its PostgreSQL calls through pg::Call and reports a
 * PostgreSQL ERROR as a C++ exception (pg::PgError, a std::exception), so callers may own destructors.
 * Call them inside a transaction with SPI connected (a worker's unit of work, or a SQL function).
 */
#pragma once

#include "indexpilot/core/costmodel.hpp"

#include <string>
#include <vector>

namespace indexpilot::pg
{

/* One result row as strings (empty for NULL), owned by C++. */
using Row = std::vector<std::string>;

/* Runs `sql` with text parameters $1..$n (nullptr is NULL; cast in the SQL as needed); every row. */
std::vector<Row> Query(const char *sql, const std::vector<const char *> &args = {});

/* An identifier quoted for SQL when it needs it (quote_identifier), and a literal (quote_literal). */
std::string QuoteIdent(const std::string &ident);
std::string QuoteLiteral(const std::string &value);

/*
 * Appends to indexpilot.mutation_log (indexpilot._log_mutation()); returns the new id. Empty strings and
 * nullptr are NULL; details is a JSON text; parent 0 means none.
 */
long long AppendMutation(const char *kind, const std::string &table, const char *column, const std::string &index,
						 const char *tenant, const std::string &details, long long parent);

/* A LOG line in the server log, as C++ code writes one. */
void LogLine(const std::string &message);

/* The planner's cost constants now (seq_page_cost, random_page_cost, cpu_*_cost). */
core::CostSettings CurrentPlannerCosts();

} // namespace indexpilot::pg
