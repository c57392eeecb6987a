/*
 * advisor/inputs.cpp — reads the cost model's inputs (see advisor/inputs.hpp) through pg::Query.
 */
#include "indexpilot/advisor/inputs.hpp"

#include "indexpilot/advisor/settings.hpp"
#include "indexpilot/core/json.hpp"
#include "indexpilot/pg/query.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "indexpilot/pg/cpp_only.hpp" /* last: no PostgreSQL header in this file */

namespace indexpilot::advisor
{

using pg::Query;
using pg::Row;

static std::vector<std::int16_t>
ParseInts(const std::string &csv)
{
	std::vector<std::int16_t> out;
	std::stringstream ss(csv);
	std::string item;
	while (std::getline(ss, item, ','))
		if (!item.empty())
			out.push_back(static_cast<std::int16_t>(std::atoi(item.c_str())));
	return out;
}

static core::OpKind
ParseOp(const std::string &name)
{
	for (int k = 1; k < core::kOpKindCount; k++)
		if (name == core::OpKindName(static_cast<core::OpKind>(k)))
			return static_cast<core::OpKind>(k);
	return core::OpKind::None;
}

/* Reads everything the model needs; `record` also samples the tables' write counters (not for a dry run). */
Inputs
ReadInputs(bool record)
{
	const Settings cfg = CurrentSettings();
	Inputs in;
	for (const Row &r : Query("SELECT * FROM indexpilot._advisor_tables($1::boolean)", {record ? "true" : "false"})) {
		core::TableInfo t;
		t.relid = static_cast<std::uint32_t>(std::strtoul(r[0].c_str(), nullptr, 10));
		t.name = r[1];
		t.tenant_attnum = static_cast<std::int16_t>(std::atoi(r[2].c_str()));
		t.tuples = std::atof(r[3].c_str());
		t.pages = std::atof(r[4].c_str());
		t.writes_per_second = std::atof(r[5].c_str());
		t.indexpilot_indexes = std::atoi(r[6].c_str());
		in.tenant_column[t.relid] = r[7];
		in.tables.push_back(t);
	}
	auto table = [&](std::uint32_t relid) -> core::TableInfo * {
		for (auto &t : in.tables)
			if (t.relid == relid)
				return &t;
		return nullptr;
	};
	for (const Row &r : Query("SELECT relid::oid, attnum FROM indexpilot.expressed_fields"))
		if (auto *t = table(static_cast<std::uint32_t>(std::strtoul(r[0].c_str(), nullptr, 10))))
			t->expressed.push_back(static_cast<std::int16_t>(std::atoi(r[1].c_str())));
	for (const Row &r : Query("SELECT * FROM indexpilot._advisor_existing_indexes()"))
		if (auto *t = table(static_cast<std::uint32_t>(std::strtoul(r[0].c_str(), nullptr, 10))))
			t->existing.push_back(ParseInts(r[1]));
	for (const Row &r : Query("SELECT * FROM indexpilot._advisor_columns()"))
		in.attname[{static_cast<std::uint32_t>(std::strtoul(r[0].c_str(), nullptr, 10)),
					static_cast<std::int16_t>(std::atoi(r[1].c_str()))}] = r[2];
	for (const Row &r : Query("SELECT * FROM indexpilot._advisor_index_names()"))
		in.existing_names.insert(r[0]);
	for (const Row &r : Query("SELECT * FROM indexpilot._advisor_unfinished_indexes()"))
		in.unfinished_names.insert(r[0]);

	char window[32];
	std::snprintf(window, sizeof(window), "%d seconds", cfg.stats_window_s);
	for (const Row &r : Query("SELECT * FROM indexpilot._advisor_statement_counts($1::interval)", {window})) {
		core::StatementStat st;
		st.queryid = std::atoll(r[0].c_str());
		st.calls = std::atof(r[1].c_str());
		st.sampled_calls = std::atof(r[2].c_str());
		st.total_ms = std::atof(r[3].c_str());
		in.statements.push_back(st);
	}
	for (const Row &r : Query("SELECT * FROM indexpilot._advisor_shapes($1::interval)", {window})) {
		core::ShapeStat s;
		s.relid = static_cast<std::uint32_t>(std::strtoul(r[0].c_str(), nullptr, 10));
		s.join = r[1] == "1";
		s.attnums = ParseInts(r[2]);
		std::stringstream ops(r[3]);
		std::string op;
		while (std::getline(ops, op, ','))
			s.ops.push_back(ParseOp(op));
		s.tenant = r[4];
		s.sampled_calls = std::atof(r[5].c_str());
		s.sampled_ms = std::atof(r[6].c_str());
		s.queryid = r[7].empty() ? 0 : std::atoll(r[7].c_str());
		s.weighted_calls = std::atof(r[8].c_str());
		in.shapes.push_back(std::move(s));
	}
	// Calls and time of each shape from its statement's true counts; a statement's calls are its true count.
	core::EstimateShapes(in.shapes, in.statements);
	for (const core::ShapeStat &s : in.shapes)
		if (s.queryid != 0)
			in.query_calls[s.queryid] = std::max(in.query_calls[s.queryid], s.calls);
	for (const core::StatementStat &st : in.statements)
		if (in.query_calls.count(st.queryid))
			in.query_calls[st.queryid] = st.calls;
	// Only texts with the role and search_path they ran with are re-planned (as that role, with that path).
	for (const Row &r : Query("SELECT * FROM indexpilot._advisor_statements($1::interval)", {window}))
		in.texts[std::atoll(r[0].c_str())] =
			Sample{core::StripPrepare(r[1]), static_cast<std::uint32_t>(std::strtoul(r[2].c_str(), nullptr, 10)), r[3]};

	// Rates are calls over the time actually observed: from the first capture in the window until now.
	std::vector<Row> span = Query("SELECT indexpilot._advisor_observed_seconds($1::interval)", {window});
	double observed = span.empty() || span[0][0].empty() ? 0 : std::atof(span[0][0].c_str());
	in.window_seconds = std::clamp(observed, 10.0, static_cast<double>(cfg.stats_window_s));

	// IndexPilot's indexes are those its index_build_finished rows recorded (by OID and name), not a name prefix.
	std::vector<Row> sizes = Query("SELECT * FROM indexpilot._advisor_sizes()");
	double table_bytes = std::atof(sizes[0][0].c_str());
	double used = std::atof(sizes[0][1].c_str());
	// The fraction of the table data, never below min_index_budget (on a small database a fraction would
	// refuse indexes whose bytes do not matter), capped by max_index_size.
	const double mb = 1024.0 * 1024.0;
	double budget =
		std::min(static_cast<double>(cfg.max_index_size_mb) * mb,
				 std::max(static_cast<double>(cfg.min_index_budget_mb) * mb, cfg.max_index_fraction * table_bytes));
	in.budget_bytes = std::max(0.0, budget - used);
	return in;
}

} // namespace indexpilot::advisor
