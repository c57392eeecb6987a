/*
 * advisor/advisor.cpp — the cost model at work in one database (see advisor/advisor.hpp and
 * docs/cost-model.md): candidates from core::GenerateCandidates over the inputs (advisor/inputs.hpp), their
 * costs from the planner (advisor/oracle.hpp), the choice from core::SelectIndexes, and the lineage of
 * what was decided (Act). C++ only: PostgreSQL through the wrappers of pg/query.hpp.
 */
#include "indexpilot/advisor/advisor.hpp"

#include "indexpilot/advisor/inputs.hpp"
#include "indexpilot/advisor/oracle.hpp"
#include "indexpilot/advisor/settings.hpp"
#include "indexpilot/core/error.hpp"
#include "indexpilot/core/json.hpp"
#include "indexpilot/core/naming.hpp"
#include "indexpilot/core/schedule.hpp"
#include "indexpilot/core/selection.hpp"
#include "indexpilot/pg/query.hpp"

#include <algorithm>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>

#include <sys/statvfs.h>

#include "indexpilot/pg/cpp_only.hpp" /* last: no PostgreSQL header in this file */

namespace indexpilot::advisor
{

using pg::Query;
using pg::Row;

/* ---- Advise ------------------------------------------------------------------------------------------------ */

static std::string
Quote(const std::string &ident)
{
	return pg::QuoteIdent(ident);
}

static std::string
QuoteLiteral(const std::string &value)
{
	return pg::QuoteLiteral(value);
}

/* The table's schema and name, unquoted (for index names: both go into the name and its hash). */
static std::pair<std::string, std::string>
BareName(std::uint32_t relid)
{
	char oid_text[16];
	std::snprintf(oid_text, sizeof(oid_text), "%u", relid);
	std::vector<Row> r = Query("SELECT n.nspname, c.relname FROM pg_catalog.pg_class c "
							   "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::oid",
							   {oid_text});
	if (r.empty())
		return {std::string("n") + oid_text, std::string("t") + oid_text};
	return {r[0][0], r[0][1]};
}

/* The open proposal of an index (recorded, no build outcome or skip since), 0 when there is none. */
static long long
OpenProposal(const std::string &index_name)
{
	std::vector<Row> open = Query("SELECT indexpilot._advisor_open_proposal($1)", {index_name.c_str()});
	return open.empty() || open[0][0].empty() ? 0 : std::atoll(open[0][0].c_str());
}

std::vector<Recommendation>
Advise(bool record)
{
	const Settings cfg = CurrentSettings();
	Inputs in = ReadInputs(record);
	core::CandidateOptions copt;
	copt.min_calls = cfg.min_calls;
	copt.min_call_share = cfg.min_call_share;
	copt.min_time_share = cfg.min_time_share;
	copt.slow_ms = cfg.slow_statement_ms;
	copt.max_partial_per_table = cfg.max_partial_per_table;
	std::vector<core::Candidate> candidates = core::GenerateCandidates(in.tables, in.shapes, in.statements, copt);
	{
		// Covering forms, from the columns each statement reads (planned once as it runs today, apart from
		// the costing below, whose plans see the builds in progress).
		const std::vector<core::Candidate> none;
		const std::vector<std::string> no_predicates;
		PlannerOracle reader(in, none, no_predicates, cfg.replan_timeout_ms);
		core::ReadColumns read;
		for (const core::Candidate &c : candidates)
			for (std::int64_t q : c.queryids)
				if (!read.count(q))
					read[q] = reader.Read(q);
		core::AddCoveringCandidates(candidates, in.tables, read);
	}

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
		for (std::int16_t col : c.include)
			rec.include.push_back(in.attname[{c.relid, col}]);
		if (!c.partial_tenant.empty())
			rec.predicate = Quote(in.tenant_column[c.relid]) + " = " + QuoteLiteral(c.partial_tenant);
		predicates.push_back(rec.predicate);
		const auto [schema, table] = BareName(c.relid);
		// The INCLUDE columns are part of the name (and its hash): a covering index is another index.
		std::vector<std::string> named = rec.columns;
		if (!rec.include.empty()) {
			named.push_back("incl");
			named.insert(named.end(), rec.include.begin(), rec.include.end());
		}
		rec.index_name = core::IndexName(schema, table, named, rec.predicate);
		rec.exists = in.existing_names.count(rec.index_name) > 0;
		std::string cols;
		for (std::size_t k = 0; k < rec.columns.size(); k++)
			cols += (k ? ", " : "") + Quote(rec.columns[k]);
		std::string include;
		for (std::size_t k = 0; k < rec.include.size(); k++)
			include += (k ? ", " : "") + Quote(rec.include[k]);
		rec.ddl = "CREATE INDEX CONCURRENTLY " + Quote(rec.index_name) + " ON " + rec.table + " (" + cols + ")" +
				  (include.empty() ? "" : " INCLUDE (" + include + ")") +
				  (rec.predicate.empty() ? "" : " WHERE " + rec.predicate);
	}
	// An index IndexPilot built already is no candidate again (a partial one is not in `existing`). A
	// candidate that cannot be sized (a table dropped or altered meanwhile, a partition without the column)
	// is left out and said so: one table's trouble never stops the others' decisions.
	std::vector<int> keep;
	std::vector<core::SizeEstimate> sizes;
	std::vector<Recommendation> not_costed;
	{
		PlannerOracle sizer(in, candidates, predicates, cfg.replan_timeout_ms);
		for (std::size_t i = 0; i < recs.size(); i++) {
			if (recs[i].exists)
				continue;
			std::string error;
			if (std::optional<core::SizeEstimate> size = sizer.TrySize(static_cast<int>(i), &error)) {
				sizes.push_back(*size);
				keep.push_back(static_cast<int>(i));
			} else {
				recs[i].evaluation.verdict = core::Verdict::NotCosted;
				recs[i].action = "not costed: " + error;
				pg::LogLine("indexpilot could not cost index " + recs[i].index_name + " on " + recs[i].table + ": " +
							error + "; the other candidates are decided as usual");
				not_costed.push_back(recs[i]);
			}
		}
	}
	std::vector<core::Candidate> live;
	std::vector<std::string> live_predicates;
	for (int i : keep) {
		live.push_back(candidates[i]);
		live_predicates.push_back(predicates[i]);
	}
	// Indexes IndexPilot is building now are costed as built (after the live candidates: selection never
	// sees them, the planner always does), so that no rival is chosen for their statements meanwhile.
	std::vector<core::Candidate> costed = live;
	std::vector<std::string> costed_predicates = live_predicates;
	std::vector<int> assumed;
	for (std::size_t i = 0; i < recs.size(); i++)
		if (recs[i].exists && in.unfinished_names.count(recs[i].index_name)) {
			assumed.push_back(static_cast<int>(costed.size()));
			costed.push_back(candidates[i]);
			costed_predicates.push_back(predicates[i]);
		}

	core::ModelOptions model;
	model.horizon_seconds = cfg.horizon_s;
	model.window_seconds = in.window_seconds;
	model.floor_window_seconds = cfg.stats_window_s;
	model.min_improvement = cfg.min_improvement;
	model.max_total_bytes = in.budget_bytes;
	model.max_per_table = cfg.max_per_table;
	const core::CostSettings settings = pg::CurrentPlannerCosts();

	PlannerOracle oracle(in, costed, costed_predicates, cfg.replan_timeout_ms, assumed);
	core::SelectionInput selection;
	selection.candidates = live;
	selection.tables = in.tables;
	selection.calls = in.query_calls;
	for (int i : keep) /* proposed before and not built yet: kept unless a rival is clearly better */
		selection.incumbent.push_back(OpenProposal(recs[i].index_name) != 0);
	selection.model = model;
	selection.settings = settings;
	selection.size = [&](int i) { return sizes.at(static_cast<std::size_t>(i)); };
	selection.statement = [&](std::int64_t q, int i) { return oracle.Statement(q, i); };
	selection.together = [&](std::int64_t q, const std::vector<int> &set) { return oracle.Together(q, set); };
	std::vector<core::Evaluation> evals = core::SelectIndexes(selection);

	std::map<std::int64_t, const core::StatementStat *> stats;
	for (const core::StatementStat &st : in.statements)
		stats[st.queryid] = &st;
	std::vector<Recommendation> ordered;
	for (const core::Evaluation &e : evals) {
		Recommendation rec = recs[keep[e.candidate]];
		rec.evaluation = e;
		for (std::int64_t q : rec.candidate.queryids)
			if (auto st = stats.find(q); st != stats.end())
				rec.statements.emplace_back(q, st->second->calls, st->second->total_ms);
		if (e.rival >= 0)
			rec.rival = recs[keep[e.rival]].index_name;
		ordered.push_back(std::move(rec));
	}
	for (auto &rec : recs)
		if (rec.exists) {
			rec.action = "exists";
			ordered.push_back(rec);
		}
	ordered.insert(ordered.end(), not_costed.begin(), not_costed.end());
	return ordered;
}

/* ---- Act ---------------------------------------------------------------------------------------------------- */

/* Query ids as a JSON array. */
static std::string
IdArray(const std::vector<std::int64_t> &ids)
{
	std::string out = "[";
	for (std::size_t k = 0; k < ids.size(); k++)
		out += (k ? ", " : "") + std::to_string(ids[k]);
	return out + "]";
}

static std::string
Evidence(const Recommendation &rec)
{
	const core::Evaluation &e = rec.evaluation;
	core::JsonObject o;
	o.Add("kind", core::CandidateKindName(rec.candidate.kind))
		.Add("columns", rec.columns)
		.Add("include", rec.include)
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
		.Add("marginal_value", e.marginal_value)
		.Add("build_rank", static_cast<long long>(e.rank))
		.Add("incumbent", e.incumbent)
		.Add("rival", rec.rival)
		.Add("solver", e.exact ? "branch_and_bound" : "local_search");
	// The statements it was chosen for, and what they took in the window: what the lifecycle compares the
	// time they take after the build with (docs/architecture.md, "The index lifecycle").
	o.AddRaw("queryids", IdArray(rec.candidate.queryids));
	// The table's other statements whose plans use it too (counted in its figures; the lifecycle measures and
	// holds on `queryids`, the statements it was made for).
	o.AddRaw("also_serves", IdArray(e.also_serves));
	core::JsonObject before;
	for (const auto &[q, calls, ms] : rec.statements)
		before.AddRaw(std::to_string(q),
					  core::JsonObject().Add("calls", calls).Add("ms_per_call", calls > 0 ? ms / calls : 0.0).str());
	o.AddRaw("before", before.str());
	return o.str();
}

void
NoteBackoff(std::vector<Recommendation> &recs)
{
	// indexpilot._advisor_retry_after(): consecutive failures since the last finished build, doubled backoff.
	static const char *const kBackoff = "SELECT indexpilot._advisor_retry_after($1)";
	for (Recommendation &rec : recs) {
		if (rec.exists || rec.evaluation.verdict != core::Verdict::Chosen)
			continue;
		std::vector<Row> r = Query(kBackoff, {rec.index_name.c_str()});
		rec.retry_after = r.empty() ? std::string() : r[0][0];
		if (!rec.retry_after.empty() && rec.action.empty())
			rec.action = "backoff until " + rec.retry_after;
		std::string ids = "{";
		for (std::size_t k = 0; k < rec.candidate.queryids.size(); k++)
			ids += (k ? "," : "") + std::to_string(rec.candidate.queryids[k]);
		ids += "}";
		std::vector<Row> v =
			Query("SELECT indexpilot._advisor_reverted_until($1, $2::bigint[])", {rec.index_name.c_str(), ids.c_str()});
		rec.reverted_until = v.empty() ? std::string() : v[0][0];
		if (!rec.reverted_until.empty())
			rec.action = "reverted, not before " + rec.reverted_until;
	}
}

static std::string
Megabytes(double bytes)
{
	char buf[32];
	std::snprintf(buf, sizeof(buf), "%.0f MB", bytes / (1024.0 * 1024.0));
	return buf;
}

std::string
WorkHold(double build_bytes)
{
	const Settings cfg = CurrentSettings();
	std::string error;
	if (auto window = core::ParseDailyWindow(cfg.maintenance_window, &error)) {
		const std::time_t now = std::time(nullptr);
		std::tm utc{};
		gmtime_r(&now, &utc);
		if (!core::InDailyWindow(*window, utc.tm_hour * 60 + utc.tm_min))
			return "outside indexpilot.maintenance_window (" + cfg.maintenance_window + " UTC)";
	}
	if (cfg.max_busy_backends > 0) {
		std::vector<Row> r = Query("SELECT pg_catalog.count(*) FROM pg_catalog.pg_stat_activity "
								   "WHERE state = 'active' AND backend_type = 'client backend' "
								   "AND pid <> pg_catalog.pg_backend_pid()");
		const long long active = r.empty() ? 0 : std::atoll(r[0][0].c_str());
		if (active > cfg.max_busy_backends)
			return "the server is busy: " + std::to_string(active) +
				   " active backends (indexpilot.max_busy_backends is " + std::to_string(cfg.max_busy_backends) + ")";
	}
	struct statvfs fs;
	if (build_bytes >= 0 && !cfg.data_directory.empty() && statvfs(cfg.data_directory.c_str(), &fs) == 0) {
		const double free = static_cast<double>(fs.f_bavail) * static_cast<double>(fs.f_frsize);
		const double keep = static_cast<double>(cfg.min_free_space_mb) * 1024 * 1024;
		if (free < 2 * build_bytes + keep)
			return "too little free space: " + Megabytes(free) + " free, the build needs about " +
				   Megabytes(2 * build_bytes) + " and indexpilot.min_free_space keeps " + Megabytes(keep);
	}
	return "";
}

bool
SwitchOffBuildingIfFailing()
{
	const Settings cfg = CurrentSettings();
	if (cfg.max_build_failures <= 0)
		return false;
	std::vector<Row> r =
		Query("SELECT failures, pg_catalog.to_jsonb(outcomes)::text FROM indexpilot._advisor_failure_streak()");
	const long long failures = r.empty() ? 0 : std::atoll(r[0][0].c_str());
	if (failures < cfg.max_build_failures)
		return false;
	// The SQL function, in the extension's schema (workers resolve names in pg_catalog only).
	std::vector<Row> schema = Query("SELECT n.nspname FROM pg_catalog.pg_extension e "
									"JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace "
									"WHERE e.extname = 'indexpilot'");
	if (schema.empty())
		return false;
	const std::string off = "SELECT " + pg::QuoteIdent(schema[0][0]) + ".indexpilot_disable_feature('index_building')";
	Query(off.c_str());
	core::JsonObject details;
	details.Add("failures", failures)
		.Add("max_build_failures", static_cast<long long>(cfg.max_build_failures))
		.AddRaw("outcomes", r[0][1].empty() ? "[]" : r[0][1]);
	pg::AppendMutation("index_building_self_disabled", "", nullptr, "", nullptr, details.str(), 0);
	pg::LogLine("indexpilot switched index building off after " + std::to_string(failures) +
				" consecutive failed or reverted builds (indexpilot.max_build_failures is " +
				std::to_string(cfg.max_build_failures) +
				"); a superuser switches it on again with indexpilot_enable_feature('index_building')");
	return true;
}

std::optional<BuildRequest>
Act(std::vector<Recommendation> &recs, bool allow_build)
{
	const Settings cfg = CurrentSettings();
	char window[32];
	std::snprintf(window, sizeof(window), "%d seconds", cfg.stats_window_s);
	NoteBackoff(recs);
	std::optional<BuildRequest> build;
	for (std::size_t i = 0; i < recs.size(); i++) {
		Recommendation &rec = recs[i];
		if (rec.exists)
			continue;
		const core::Evaluation &e = rec.evaluation;
		const std::string evidence = Evidence(rec);
		const char *tenant = rec.candidate.partial_tenant.empty() ? nullptr : rec.candidate.partial_tenant.c_str();
		if (e.verdict == core::Verdict::Chosen && !rec.reverted_until.empty())
			continue; /* reverted on this evidence: neither proposed nor built again yet */
		if (e.verdict == core::Verdict::Chosen) {
			// One open proposal per index: reuse it until a build finishes, fails, is abandoned or skipped.
			long long proposal = OpenProposal(rec.index_name);
			if (proposal == 0) {
				long long parent = 0; /* the table's registration or last sync: the lineage runs from there */
				std::vector<Row> head =
					Query("SELECT indexpilot._advisor_table_head($1::regclass)", {rec.table.c_str()});
				if (!head.empty())
					parent = std::atoll(head[0][0].c_str());
				proposal =
					pg::AppendMutation("index_proposed", rec.table, nullptr, rec.index_name, tenant, evidence, parent);
				rec.action = "proposed";
			} else {
				rec.action = "proposed_before";
			}
			if (!rec.retry_after.empty()) {
				rec.action = "backoff until " + rec.retry_after;
				continue;
			}
			if (allow_build && !build) {
				// Builds proceed in order of value: while the first one must wait, none starts.
				const std::string hold = WorkHold(e.size.bytes);
				if (!hold.empty()) {
					rec.action = "waiting: " + hold;
					allow_build = false;
					continue;
				}
				build = BuildRequest{rec.candidate.relid, rec.index_name, rec.ddl, proposal, i};
			}
			continue;
		}
		if (e.verdict == core::Verdict::TooRare || e.verdict == core::Verdict::NotUsed) {
			rec.action = "none";
			continue;
		}
		if (e.verdict == core::Verdict::NotCosted)
			continue; /* its action says why; the log line said it once per run */
		// A candidate with evidence that did not clear the bar: say why, once per reason and window.
		const char *reason = core::VerdictName(e.verdict);
		std::vector<Row> seen = Query("SELECT indexpilot._advisor_skipped_recently($1, $2, $3::interval)::int",
									  {rec.index_name.c_str(), reason, window});
		if (seen.empty() || seen[0][0] != "1") {
			pg::AppendMutation("index_skipped", rec.table, nullptr, rec.index_name, tenant, evidence, 0);
		}
		rec.action = "skipped";
	}
	return build;
}

DropCost
CostOfDropping(std::uint32_t index_oid, const std::vector<std::int64_t> &queryids)
{
	const Settings cfg = CurrentSettings();
	DropCost out;
	for (std::int64_t q : queryids) {
		out.statements++;
		const std::string id = std::to_string(q);
		std::vector<Row> r =
			Query("SELECT s.query, s.userid, s.search_path FROM indexpilot.query_samples s "
				  "WHERE s.queryid = $1::bigint AND s.userid IS NOT NULL AND s.search_path IS NOT NULL",
				  {id.c_str()});
		if (r.empty())
			continue;
		const std::string text = core::StripPrepare(r[0][0]);
		const PlanAs as{static_cast<std::uint32_t>(std::strtoul(r[0][1].c_str(), nullptr, 10)), r[0][2].c_str(),
						cfg.replan_timeout_ms};
		const PlanResult with = PlanWithHypotheticalIndexes(text.c_str(), &as, nullptr, 0);
		const PlanResult without = PlanWithoutIndex(text.c_str(), &as, index_oid);
		if (!with.ok || !without.ok)
			continue;
		out.planned++;
		out.cost_with += with.total_cost;
		out.cost_without += without.total_cost;
	}
	return out;
}

} // namespace indexpilot::advisor
