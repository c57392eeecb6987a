/*
 * advisor/advisor.cpp — the cost model at work in one database (see advisor/advisor.hpp and
 * docs/cost-model.md).
 *
 * Inputs, all read in one transaction: managed tables (indexpilot.genome_tables) with their tenant key,
 * size and write rate (pg_class, pg_stat_user_tables), the fields some tenant expresses
 * (indexpilot.expressed_fields), existing valid indexes (pg_index), the shapes of the statistics window
 * (indexpilot.query_stats) and their representative statements (indexpilot.query_samples). Candidates
 * come from core::GenerateCandidates; their benefit from re-planning the statements with hypothetical
 * indexes (advisor/whatif.hpp), cached per (statement, index set); the choice from core::ChooseIndexes.
 */
#include "indexpilot/advisor/advisor.hpp"

#include "indexpilot/advisor/whatif.hpp"
#include "indexpilot/control/bypass.hpp"
#include "indexpilot/core/error.hpp"
#include "indexpilot/core/json.hpp"
#include "indexpilot/core/naming.hpp"
#include "indexpilot/pg/guard.hpp"
#include "indexpilot/pg/spi.hpp"

extern "C" {
#include "executor/spi.h"
#include "miscadmin.h"
#include "optimizer/optimizer.h"
#include "utils/builtins.h"
#include "utils/guc.h"
}

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>

namespace indexpilot::advisor
{

/* ---- settings ------------------------------------------------------------------------------------------- */

static int s_mode = static_cast<int>(Mode::Advise);
static int s_advise_interval_s = 60;
static int s_stats_window_s = 3600;
static int s_min_calls = 50;
static double s_min_call_share = 0.02;
static int s_horizon_s = 24 * 3600;
static double s_min_improvement = 0.10;
static int s_max_index_size_mb = 10240;
static double s_max_index_fraction = 0.5;
static int s_max_per_table = 5;
static int s_max_partial_per_table = 2;
static int s_replan_timeout_ms = 2000;

static const struct config_enum_entry kModes[] = {
	{"off", static_cast<int>(Mode::Off), false},
	{"advise", static_cast<int>(Mode::Advise), false},
	{"auto", static_cast<int>(Mode::Auto), false},
	{nullptr, 0, false},
};

void
DefineAdvisorGucs()
{
	DefineCustomEnumVariable("indexpilot.mode", "What IndexPilot does with its conclusions: off, advise, auto.",
							 "advise records recommendations in mutation_log; auto also builds them.", &s_mode,
							 static_cast<int>(Mode::Advise), kModes, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
	DefineCustomIntVariable("indexpilot.advise_interval", "Time between two runs of the cost model.", nullptr,
							&s_advise_interval_s, 60, 1, 86400, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr, nullptr);
	DefineCustomIntVariable("indexpilot.stats_window", "The span of statistics the cost model weighs.", nullptr,
							&s_stats_window_s, 3600, 60, 30 * 86400, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr, nullptr);
	DefineCustomIntVariable("indexpilot.min_calls",
							"Calls in the statistics window below which a shape is rare: no index for it.", nullptr,
							&s_min_calls, 50, 1, INT_MAX, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
	DefineCustomRealVariable("indexpilot.min_call_share",
							 "Share of all captured calls below which a shape is rare: no index for it.", nullptr,
							 &s_min_call_share, 0.02, 0.0, 1.0, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
	DefineCustomIntVariable("indexpilot.benefit_horizon",
							"Span over which an index's benefit and write cost are weighed against its build.", nullptr,
							&s_horizon_s, 24 * 3600, 60, 365 * 86400, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr,
							nullptr);
	DefineCustomRealVariable("indexpilot.min_improvement",
							 "Fraction of its statements' cost an index must save to be worth it.", nullptr,
							 &s_min_improvement, 0.10, 0.0, 1.0, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
	DefineCustomIntVariable("indexpilot.max_index_size", "Storage budget for all of IndexPilot's indexes.", nullptr,
							&s_max_index_size_mb, 10240, 1, INT_MAX, PGC_SIGHUP, GUC_UNIT_MB, nullptr, nullptr,
							nullptr);
	DefineCustomRealVariable("indexpilot.max_index_size_fraction",
							 "Storage budget for IndexPilot's indexes as a fraction of the database's size.", nullptr,
							 &s_max_index_fraction, 0.5, 0.0, 10.0, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
	DefineCustomIntVariable("indexpilot.max_indexes_per_table", "IndexPilot indexes allowed per table.", nullptr,
							&s_max_per_table, 5, 0, 100, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
	DefineCustomIntVariable("indexpilot.max_partial_per_table",
							"Partial (one-tenant) index candidates allowed per table.", nullptr,
							&s_max_partial_per_table, 2, 0, 100, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
	DefineCustomIntVariable(
		"indexpilot.replan_timeout", "How long re-planning one captured statement may take before it is given up.",
		"Statements are re-planned as the role that ran them; this bounds the user code "
		"planning may run.",
		&s_replan_timeout_ms, 2000, 10, 600 * 1000, PGC_SIGHUP, GUC_UNIT_MS, nullptr, nullptr, nullptr);
}

Mode
CurrentMode()
{
	return static_cast<Mode>(s_mode);
}

int
AdviseIntervalMs()
{
	return s_advise_interval_s * 1000;
}

/* ---- SPI reading ---------------------------------------------------------------------------------------- */

/* One result row as strings (empty for NULL), copied out of SPI so C++ owns them. */
using Row = std::vector<std::string>;

static std::vector<Row>
Query(const char *sql, std::vector<const char *> args = {})
{
	uint64 n = pg::Call([&] { return pg::SpiExec(sql, static_cast<int>(args.size()), args.data()); });
	std::vector<Row> rows;
	rows.reserve(n);
	for (uint64 r = 0; r < n; r++) {
		HeapTuple tuple = SPI_tuptable->vals[r];
		TupleDesc desc = SPI_tuptable->tupdesc;
		Row row;
		for (int c = 1; c <= desc->natts; c++) {
			char *value = pg::Call([&] { return SPI_getvalue(tuple, desc, c); });
			row.emplace_back(value ? value : "");
		}
		rows.push_back(std::move(row));
	}
	return rows;
}

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

/* ---- the model's inputs ----------------------------------------------------------------------------------- */

/* A statement to re-plan, with the role and search_path it ran with. */
struct Sample {
	std::string text;
	Oid role = InvalidOid;
	std::string search_path;
};

struct Inputs {
	std::vector<core::TableInfo> tables;
	std::map<std::uint32_t, std::string> tenant_column;
	std::map<std::pair<std::uint32_t, std::int16_t>, std::string> attname;
	std::vector<core::ShapeStat> shapes;
	std::map<std::int64_t, Sample> texts;
	std::map<std::int64_t, double> query_calls;
	std::set<std::string> existing_names; /* index names in the managed tables' schemas */
	double window_seconds = 60;
	double budget_bytes = 0;
};

/* Reads everything the model needs; `record` also samples the tables' write counters (not for a dry run). */
static Inputs
ReadInputs(bool record)
{
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
	snprintf(window, sizeof(window), "%d seconds", s_stats_window_s);
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
			Sample{core::StripPrepare(r[1]), static_cast<Oid>(std::strtoul(r[2].c_str(), nullptr, 10)), r[3]};

	// Rates are calls over the time actually observed: from the first capture in the window until now.
	std::vector<Row> span =
		Query("SELECT extract(epoch FROM pg_catalog.now() - pg_catalog.min(coalesce(first_seen, bucket_start))) "
			  "FROM indexpilot.query_stats WHERE bucket_start >= pg_catalog.now() - $1::interval",
			  {window});
	double observed = span.empty() || span[0][0].empty() ? 0 : std::atof(span[0][0].c_str());
	in.window_seconds = std::clamp(observed, 10.0, static_cast<double>(s_stats_window_s));

	// IndexPilot's indexes are those its index_build_finished rows recorded (by OID and name), not a name prefix.
	std::vector<Row> sizes = Query(
		"SELECT pg_catalog.pg_database_size(pg_catalog.current_database()), "
		"coalesce(pg_catalog.sum(pg_catalog.pg_relation_size(c.oid)), 0) FROM pg_catalog.pg_class c "
		"WHERE c.relkind = 'i' AND c.oid IN (SELECT (f.details->>'index_oid')::oid FROM indexpilot.mutation_log f "
		"WHERE f.kind = 'index_build_finished' AND f.target_index = c.relname)");
	double db_bytes = std::atof(sizes[0][0].c_str());
	double used = std::atof(sizes[0][1].c_str());
	double budget = std::min(static_cast<double>(s_max_index_size_mb) * 1024 * 1024, s_max_index_fraction * db_bytes);
	in.budget_bytes = std::max(0.0, budget - used);
	return in;
}

/* ---- the planner as the model's oracle ------------------------------------------------------------------- */

class PlannerOracle
{
public:
	PlannerOracle(const Inputs &in, const std::vector<core::Candidate> &candidates,
				  const std::vector<std::string> &predicates)
		: in_(in), candidates_(candidates), predicates_(predicates)
	{
	}

	core::Benefit operator()(int candidate, const std::vector<int> &chosen)
	{
		std::vector<int> base = Usable(chosen, candidate);
		std::vector<int> with = base;
		with.push_back(candidate);
		core::Benefit b;
		for (std::int64_t q : candidates_[candidate].queryids) {
			auto text = in_.texts.find(q);
			if (text == in_.texts.end())
				continue;
			const Plan without_plan = Cost(q, text->second, base);
			const Plan with_plan = Cost(q, text->second, with);
			if (!without_plan.ok || !with_plan.ok)
				continue;
			const double calls = in_.query_calls.count(q) ? in_.query_calls.at(q) : 0;
			b.calls += calls;
			b.cost_without += calls * without_plan.cost;
			b.cost_with += calls * with_plan.cost;
			if (with_plan.used & (1u << (with.size() - 1)))
				b.used = true;
		}
		return b;
	}

	core::SizeEstimate Size(int candidate)
	{
		HypoIndex h = Hypo(candidate);
		HypoEstimate e = pg::Call([&] { return EstimateIndex(h); });
		return core::SizeEstimate{e.bytes, e.pages};
	}

	std::string last_error;

private:
	struct Plan {
		bool ok = false;
		double cost = 0;
		uint32 used = 0;
	};

	/* The chosen indexes on the candidate's table: the others cannot change its statements' plans. */
	std::vector<int> Usable(const std::vector<int> &chosen, int candidate) const
	{
		std::vector<int> out;
		for (int c : chosen)
			if (candidates_[c].relid == candidates_[candidate].relid && out.size() + 1 < kMaxHypoIndexes)
				out.push_back(c);
		return out;
	}

	HypoIndex Hypo(int i) const
	{
		HypoIndex h;
		memset(&h, 0, sizeof(h));
		h.relid = candidates_[i].relid;
		h.ncols = static_cast<int>(std::min<std::size_t>(candidates_[i].columns.size(), kMaxHypoColumns));
		for (int c = 0; c < h.ncols; c++)
			h.attnums[c] = candidates_[i].columns[c];
		h.predicate = predicates_[i].empty() ? nullptr : predicates_[i].c_str();
		return h;
	}

	Plan Cost(std::int64_t q, const Sample &sample, const std::vector<int> &set)
	{
		std::vector<int> key = set;
		std::sort(key.begin(), key.end());
		auto cached = cache_.find({q, key});
		if (cached != cache_.end()) {
			// used_mask bits follow the order of `set`: recompute them from the cached key's order.
			Plan p = cached->second.first;
			p.used = 0;
			for (std::size_t i = 0; i < set.size(); i++) {
				std::size_t pos = std::find(key.begin(), key.end(), set[i]) - key.begin();
				if (cached->second.first.used & (1u << pos))
					p.used |= 1u << i;
			}
			return p;
		}
		std::vector<HypoIndex> hypos;
		for (int c : key)
			hypos.push_back(Hypo(c));
		const char *sql = sample.text.c_str();
		const PlanAs as{sample.role, sample.search_path.c_str(), s_replan_timeout_ms};
		const PlanAs *as_ptr = &as;
		const HypoIndex *array = hypos.data();
		int count = static_cast<int>(hypos.size());
		PlanResult r = pg::Call([=] { return PlanWithHypotheticalIndexes(sql, as_ptr, array, count); });
		Plan p{r.ok, r.total_cost, r.used_mask};
		if (!r.ok)
			last_error = r.error;
		cache_[{q, key}] = {p, true};
		return Cost(q, sample, set);
	}

	const Inputs &in_;
	const std::vector<core::Candidate> &candidates_;
	const std::vector<std::string> &predicates_;
	std::map<std::pair<std::int64_t, std::vector<int>>, std::pair<Plan, bool>> cache_;
};

/* ---- Advise ------------------------------------------------------------------------------------------------ */

static std::string
Quote(const std::string &ident)
{
	const char *quoted = pg::Call([&] { return quote_identifier(ident.c_str()); });
	return quoted;
}

static std::string
QuoteLiteral(const std::string &value)
{
	char *quoted = pg::Call([&] { return quote_literal_cstr(value.c_str()); });
	return quoted;
}

/* The table's schema and name, unquoted (for index names: both go into the name and its hash). */
static std::pair<std::string, std::string>
BareName(std::uint32_t relid)
{
	char oid_text[16];
	snprintf(oid_text, sizeof(oid_text), "%u", relid);
	std::vector<Row> r = Query("SELECT n.nspname, c.relname FROM pg_catalog.pg_class c "
							   "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::oid",
							   {oid_text});
	if (r.empty())
		return {std::string("n") + oid_text, std::string("t") + oid_text};
	return {r[0][0], r[0][1]};
}

std::vector<Recommendation>
Advise(bool record)
{
	Inputs in = ReadInputs(record);
	core::CandidateOptions copt;
	copt.min_calls = s_min_calls;
	copt.min_call_share = s_min_call_share;
	copt.max_partial_per_table = s_max_partial_per_table;
	std::vector<core::Candidate> candidates = core::GenerateCandidates(in.tables, in.shapes, copt);

	std::vector<std::string> predicates;
	std::vector<Recommendation> recs(candidates.size());
	for (std::size_t i = 0; i < candidates.size(); i++) {
		const core::Candidate &c = candidates[i];
		Recommendation &rec = recs[i];
		rec.candidate = c;
		for (const auto &t : in.tables)
			if (t.relid == c.relid)
				rec.table = t.name;
		for (std::int16_t col : c.columns)
			rec.columns.push_back(in.attname[{c.relid, col}]);
		if (!c.partial_tenant.empty())
			rec.predicate = Quote(in.tenant_column[c.relid]) + " = " + QuoteLiteral(c.partial_tenant);
		predicates.push_back(rec.predicate);
		const auto [schema, table] = BareName(c.relid);
		rec.index_name = core::IndexName(schema, table, rec.columns, rec.predicate);
		rec.exists = in.existing_names.count(rec.index_name) > 0;
		std::string cols;
		for (std::size_t k = 0; k < rec.columns.size(); k++)
			cols += (k ? ", " : "") + Quote(rec.columns[k]);
		rec.ddl = "CREATE INDEX CONCURRENTLY " + Quote(rec.index_name) + " ON " + rec.table + " (" + cols + ")" +
				  (rec.predicate.empty() ? "" : " WHERE " + rec.predicate);
	}
	// An index IndexPilot built already is no candidate again (a partial one is not in `existing`).
	std::vector<int> keep;
	for (std::size_t i = 0; i < recs.size(); i++)
		if (!recs[i].exists)
			keep.push_back(static_cast<int>(i));
	std::vector<core::Candidate> live;
	std::vector<std::string> live_predicates;
	for (int i : keep) {
		live.push_back(candidates[i]);
		live_predicates.push_back(predicates[i]);
	}

	core::ModelOptions model;
	model.horizon_seconds = s_horizon_s;
	model.window_seconds = in.window_seconds;
	model.min_improvement = s_min_improvement;
	model.max_total_bytes = in.budget_bytes;
	model.max_per_table = s_max_per_table;
	core::CostSettings settings;
	settings.seq_page_cost = seq_page_cost;
	settings.random_page_cost = random_page_cost;
	settings.cpu_tuple_cost = cpu_tuple_cost;
	settings.cpu_index_tuple_cost = cpu_index_tuple_cost;
	settings.cpu_operator_cost = cpu_operator_cost;

	PlannerOracle oracle(in, live, live_predicates);
	std::vector<core::Evaluation> evals = core::ChooseIndexes(
		live, in.tables, model, copt, settings, [&](int i, const std::vector<int> &ch) { return oracle(i, ch); },
		[&](int i) { return oracle.Size(i); });

	std::vector<Recommendation> ordered;
	for (const core::Evaluation &e : evals) {
		Recommendation rec = recs[keep[e.candidate]];
		rec.evaluation = e;
		ordered.push_back(std::move(rec));
	}
	for (auto &rec : recs)
		if (rec.exists) {
			rec.action = "exists";
			ordered.push_back(rec);
		}
	return ordered;
}

/* ---- Act ---------------------------------------------------------------------------------------------------- */

static std::string
Evidence(const Recommendation &rec)
{
	const core::Evaluation &e = rec.evaluation;
	core::JsonObject o;
	o.Add("kind", core::CandidateKindName(rec.candidate.kind))
		.Add("columns", rec.columns)
		.Add("predicate", rec.predicate)
		.Add("statement", rec.ddl)
		.Add("verdict", core::VerdictName(e.verdict))
		.Add("calls_in_window", rec.candidate.calls)
		.Add("statements_replanned", static_cast<long long>(rec.candidate.queryids.size()))
		.Add("cost_without", e.benefit.cost_without)
		.Add("cost_with", e.benefit.cost_with)
		.Add("planner_uses_it", e.benefit.used)
		.Add("benefit_per_second", e.benefit_per_second)
		.Add("write_cost_per_second", e.write_cost_per_second)
		.Add("build_cost", e.build_cost)
		.Add("floor_value", e.floor_value)
		.Add("net_value", e.net_value)
		.Add("estimated_bytes", e.size.bytes)
		.Add("greedy_round", static_cast<long long>(e.round));
	return o.str();
}

void
NoteBackoff(std::vector<Recommendation> &recs)
{
	// Consecutive failures: index_build_failed and index_build_abandoned rows since the last finished build.
	// The backoff settings are the builder's GUCs, read here through current_setting (units included).
	static const char *const kBackoff =
		"WITH f AS (SELECT pg_catalog.count(*) AS n, pg_catalog.max(o.occurred_at) AS last "
		"FROM indexpilot.mutation_log o WHERE o.target_index = $1 "
		"AND o.kind IN ('index_build_failed', 'index_build_abandoned') "
		"AND o.id > coalesce((SELECT pg_catalog.max(d.id) FROM indexpilot.mutation_log d "
		"WHERE d.target_index = $1 AND d.kind = 'index_build_finished'), 0)), "
		"r AS (SELECT f.last + LEAST("
		"pg_catalog.current_setting('indexpilot.build_retry_backoff')::interval * "
		"pg_catalog.power(2::float8, LEAST(f.n - 1, 40)::float8), "
		"pg_catalog.current_setting('indexpilot.build_retry_backoff_max')::interval) AS retry_at "
		"FROM f WHERE f.n > 0) "
		"SELECT pg_catalog.to_char(r.retry_at, 'YYYY-MM-DD HH24:MI:SSOF') FROM r "
		"WHERE r.retry_at > pg_catalog.clock_timestamp()";
	for (Recommendation &rec : recs) {
		if (rec.exists || rec.evaluation.verdict != core::Verdict::Chosen)
			continue;
		std::vector<Row> r = Query(kBackoff, {rec.index_name.c_str()});
		rec.retry_after = r.empty() ? std::string() : r[0][0];
		if (!rec.retry_after.empty() && rec.action.empty())
			rec.action = "backoff until " + rec.retry_after;
	}
}

std::optional<BuildRequest>
Act(std::vector<Recommendation> &recs, bool allow_build)
{
	char window[32];
	snprintf(window, sizeof(window), "%d seconds", s_stats_window_s);
	NoteBackoff(recs);
	std::optional<BuildRequest> build;
	for (std::size_t i = 0; i < recs.size(); i++) {
		Recommendation &rec = recs[i];
		if (rec.exists)
			continue;
		const core::Evaluation &e = rec.evaluation;
		const std::string evidence = Evidence(rec);
		const char *tenant = rec.candidate.partial_tenant.empty() ? nullptr : rec.candidate.partial_tenant.c_str();
		if (e.verdict == core::Verdict::Chosen) {
			// One open proposal per index: reuse it until a build finishes, fails, is abandoned or skipped.
			std::vector<Row> open = Query(
				"SELECT p.id FROM indexpilot.mutation_log p WHERE p.kind = 'index_proposed' AND p.target_index = $1 "
				"AND NOT EXISTS (SELECT 1 FROM indexpilot.mutation_log l WHERE l.target_index = $1 AND l.id > p.id "
				"AND l.kind IN ('index_build_finished', 'index_build_failed', 'index_build_abandoned', "
				"'index_skipped', 'index_dropped')) "
				"ORDER BY p.id DESC LIMIT 1",
				{rec.index_name.c_str()});
			int64 proposal = open.empty() ? 0 : std::atoll(open[0][0].c_str());
			if (proposal == 0) {
				int64 parent = 0; /* the table's registration or last sync: the lineage runs from there */
				std::vector<Row> head =
					Query("SELECT head_mutation_id FROM indexpilot.genome_tables WHERE relid = $1::regclass",
						  {rec.table.c_str()});
				if (!head.empty())
					parent = std::atoll(head[0][0].c_str());
				const char *table = rec.table.c_str();
				const char *name = rec.index_name.c_str();
				const char *details = evidence.c_str();
				proposal = pg::Call(
					[=] { return pg::LogMutation("index_proposed", table, nullptr, name, tenant, details, parent); });
				rec.action = "proposed";
			} else {
				rec.action = "proposed_before";
			}
			if (!rec.retry_after.empty()) {
				rec.action = "backoff until " + rec.retry_after;
				continue;
			}
			if (allow_build && !build)
				build = BuildRequest{rec.candidate.relid, rec.index_name, rec.ddl, proposal, i};
			continue;
		}
		if (e.verdict == core::Verdict::TooRare || e.verdict == core::Verdict::NotUsed) {
			rec.action = "none";
			continue;
		}
		// A candidate with evidence that did not clear the bar: say why, once per reason and window.
		const char *reason = core::VerdictName(e.verdict);
		std::vector<Row> seen =
			Query("SELECT 1 FROM indexpilot.mutation_log WHERE kind = 'index_skipped' AND target_index = $1 "
				  "AND details->>'verdict' = $2 AND occurred_at > pg_catalog.now() - $3::interval LIMIT 1",
				  {rec.index_name.c_str(), reason, window});
		if (seen.empty()) {
			const char *table = rec.table.c_str();
			const char *name = rec.index_name.c_str();
			const char *details = evidence.c_str();
			pg::Call([=] { return pg::LogMutation("index_skipped", table, nullptr, name, tenant, details, 0); });
		}
		rec.action = "skipped";
	}
	return build;
}

} // namespace indexpilot::advisor
