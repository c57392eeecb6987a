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
	for (const Row &r :
		 Query("SELECT t.relid::oid, indexpilot._qualified_name(t.relid), coalesce(a.attnum, 0), "
			   "greatest(c.reltuples, 0), c.relpages, coalesce(w.writes_per_second, 0), "
			   "(SELECT pg_catalog.count(*) FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = "
			   "i.indexrelid "
			   "  WHERE i.indrelid = t.relid AND ic.oid IN (SELECT (f.details->>'index_oid')::oid "
			   "  FROM indexpilot.mutation_log f WHERE f.kind = 'index_build_finished' AND f.target_index = "
			   "ic.relname)), "
			   "t.tenant_key "
			   "FROM indexpilot.genome_tables t JOIN pg_catalog.pg_class c ON c.oid = t.relid "
			   "LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = t.relid AND a.attname = t.tenant_key "
			   "  AND NOT a.attisdropped "
			   "LEFT JOIN indexpilot._write_rates($1::boolean) w ON w.relid = t.relid ORDER BY 1",
			   {record ? "true" : "false"})) {
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
	for (const Row &r :
		 Query("SELECT i.indrelid, pg_catalog.array_to_string((i.indkey::int2[])[0:i.indnkeyatts - 1], ',') "
			   "FROM pg_catalog.pg_index i WHERE i.indisvalid AND i.indpred IS NULL "
			   "AND i.indexprs IS NULL AND i.indrelid IN (SELECT relid FROM indexpilot.genome_tables)"))
		if (auto *t = table(static_cast<std::uint32_t>(std::strtoul(r[0].c_str(), nullptr, 10))))
			t->existing.push_back(ParseInts(r[1]));
	for (const Row &r : Query("SELECT a.attrelid, a.attnum, a.attname FROM pg_catalog.pg_attribute a "
							  "WHERE a.attrelid IN (SELECT relid FROM indexpilot.genome_tables) AND a.attnum > 0 "
							  "AND NOT a.attisdropped"))
		in.attname[{static_cast<std::uint32_t>(std::strtoul(r[0].c_str(), nullptr, 10)),
					static_cast<std::int16_t>(std::atoi(r[1].c_str()))}] = r[2];
	for (const Row &r : Query("SELECT c.relname FROM pg_catalog.pg_class c WHERE c.relkind = 'i' AND c.relnamespace IN "
							  "(SELECT t.relnamespace FROM pg_catalog.pg_class t "
							  " WHERE t.oid IN (SELECT relid FROM indexpilot.genome_tables))"))
		in.existing_names.insert(r[0]);

	char window[32];
	std::snprintf(window, sizeof(window), "%d seconds", cfg.stats_window_s);
	for (const Row &r : Query("SELECT relid::oid, (kind = 'join')::int, pg_catalog.array_to_string(attnums, ','), "
							  "pg_catalog.array_to_string(operators, ','), tenant, "
							  "pg_catalog.sum(CASE WHEN estimated_calls > 0 THEN estimated_calls ELSE calls END), "
							  "pg_catalog.sum(total_time_ms), "
							  "pg_catalog.max(sample_queryid) "
							  "FROM indexpilot.query_stats WHERE bucket_start >= pg_catalog.now() - $1::interval "
							  "AND relid IN (SELECT relid FROM indexpilot.genome_tables) "
							  "GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5",
							  {window})) {
		core::ShapeStat s;
		s.relid = static_cast<std::uint32_t>(std::strtoul(r[0].c_str(), nullptr, 10));
		s.join = r[1] == "1";
		s.attnums = ParseInts(r[2]);
		std::stringstream ops(r[3]);
		std::string op;
		while (std::getline(ops, op, ','))
			s.ops.push_back(ParseOp(op));
		s.tenant = r[4];
		s.calls = std::atof(r[5].c_str());
		s.total_ms = std::atof(r[6].c_str());
		s.queryid = r[7].empty() ? 0 : std::atoll(r[7].c_str());
		if (s.queryid != 0)
			in.query_calls[s.queryid] = std::max(in.query_calls[s.queryid], s.calls);
		in.shapes.push_back(std::move(s));
	}
	// Only texts with the role and search_path they ran with are re-planned (as that role, with that path).
	for (const Row &r : Query("SELECT s.queryid, s.query, s.userid, s.search_path FROM indexpilot.query_samples s "
							  "WHERE s.userid IS NOT NULL AND s.search_path IS NOT NULL AND s.queryid IN "
							  "(SELECT q.sample_queryid FROM indexpilot.query_stats q "
							  " WHERE q.bucket_start >= pg_catalog.now() - $1::interval)",
							  {window}))
		in.texts[std::atoll(r[0].c_str())] =
			Sample{core::StripPrepare(r[1]), static_cast<std::uint32_t>(std::strtoul(r[2].c_str(), nullptr, 10)), r[3]};

	// Rates are calls over the time actually observed: from the first capture in the window until now.
	std::vector<Row> span =
		Query("SELECT extract(epoch FROM pg_catalog.now() - pg_catalog.min(coalesce(first_seen, bucket_start))) "
			  "FROM indexpilot.query_stats WHERE bucket_start >= pg_catalog.now() - $1::interval",
			  {window});
	double observed = span.empty() || span[0][0].empty() ? 0 : std::atof(span[0][0].c_str());
	in.window_seconds = std::clamp(observed, 10.0, static_cast<double>(cfg.stats_window_s));

	// IndexPilot's indexes are those its index_build_finished rows recorded (by OID and name), not a name prefix.
	std::vector<Row> sizes = Query(
		"SELECT pg_catalog.pg_database_size(pg_catalog.current_database()), "
		"coalesce(pg_catalog.sum(pg_catalog.pg_relation_size(c.oid)), 0) FROM pg_catalog.pg_class c "
		"WHERE c.relkind = 'i' AND c.oid IN (SELECT (f.details->>'index_oid')::oid FROM indexpilot.mutation_log f "
		"WHERE f.kind = 'index_build_finished' AND f.target_index = c.relname)");
	double db_bytes = std::atof(sizes[0][0].c_str());
	double used = std::atof(sizes[0][1].c_str());
	double budget =
		std::min(static_cast<double>(cfg.max_index_size_mb) * 1024 * 1024, cfg.max_index_fraction * db_bytes);
	in.budget_bytes = std::max(0.0, budget - used);
	return in;
}

} // namespace indexpilot::advisor
