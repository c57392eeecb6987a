/*
 * advisor/settings.cpp — the advisor's GUCs: indexpilot.mode, advise_interval, the statistics window,
 * thresholds, budgets and replan_timeout (docs/reference.md).
 */
#include "indexpilot/advisor/advisor.hpp"
#include "indexpilot/advisor/settings.hpp"
#include "indexpilot/core/schedule.hpp"

#include "indexpilot/pg/postgres.hpp"

extern "C" {
#include "miscadmin.h"
#include "utils/guc.h"
}

#include <climits>
#include <cstdlib>

namespace indexpilot::advisor
{

static int s_mode = static_cast<int>(Mode::Advise);
static int s_advise_interval_s = 60;
static int s_stats_window_s = 3600;
static int s_min_calls = 10;
static double s_min_call_share = 0.02;
static double s_min_time_share = 0.05;
static int s_max_busy_backends = 16;
static int s_min_free_space_mb = 1024;
static char *s_maintenance_window = nullptr;
static int s_max_build_failures = 3;
static int s_horizon_s = 24 * 3600;
static double s_min_improvement = 0.10;
static int s_max_index_size_mb = 10240;
static int s_min_index_budget_mb = 64;
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

/* indexpilot.maintenance_window: "" or "HH:MM-HH:MM" (core::ParseDailyWindow says what is wrong). */
static bool
CheckMaintenanceWindow(char **newval, void **, GucSource)
{
	std::string error;
	(void)core::ParseDailyWindow(*newval ? *newval : "", &error);
	if (error.empty())
		return true;
	GUC_check_errdetail("%s", error.c_str());
	return false;
}

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
	// Rarity is judged on estimated true counts and shares, with confidence bounds (core::IsRare); a shape
	// with 10% of the statements or of the time is never rare, so the shares cannot be set above that.
	DefineCustomIntVariable("indexpilot.min_calls",
							"Estimated calls in the statistics window below which a shape is rare (unless its "
							"share of the execution time says otherwise).",
							nullptr, &s_min_calls, 10, 1, INT_MAX, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
	DefineCustomRealVariable("indexpilot.min_call_share",
							 "Share of the database's statements below which a shape is rare (unless its share of "
							 "the execution time says otherwise).",
							 nullptr, &s_min_call_share, 0.02, 0.0, core::kNeverRareShare, PGC_SIGHUP, 0, nullptr,
							 nullptr, nullptr);
	DefineCustomRealVariable(
		"indexpilot.min_time_share", "Share of the database's execution time from which a slow shape is not rare.",
		"Slow: its mean time per call is at least indexpilot.slow_statement_threshold. With a tenth of the time no "
		"shape is rare.",
		&s_min_time_share, 0.05, 0.0, core::kNeverRareShare, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
	// Polite to the server (docs/architecture.md, "Index builds"): when builds and drops may run.
	DefineCustomIntVariable(
		"indexpilot.max_busy_backends", "Active client backends above which IndexPilot's index builds and drops wait.",
		"0: no limit.", &s_max_busy_backends, 16, 0, 100000, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
	DefineCustomIntVariable("indexpilot.min_free_space",
							"Free space an index build must leave on the data directory's file system.",
							"A build waits while the free space is below this plus twice the index's estimated size.",
							&s_min_free_space_mb, 1024, 0, INT_MAX, PGC_SIGHUP, GUC_UNIT_MB, nullptr, nullptr, nullptr);
	DefineCustomStringVariable("indexpilot.maintenance_window",
							   "Daily span (UTC) in which IndexPilot may build and drop indexes, as HH:MM-HH:MM.",
							   "Empty: at any time. 22:00-06:00 runs across midnight.", &s_maintenance_window, "",
							   PGC_SIGHUP, 0, CheckMaintenanceWindow, nullptr, nullptr);
	DefineCustomIntVariable("indexpilot.max_build_failures",
							"Consecutive failed or reverted builds after which IndexPilot switches index building off.",
							"0: never. A superuser switches it on again (indexpilot_enable_feature('index_building')).",
							&s_max_build_failures, 3, 0, 1000, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
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
	DefineCustomRealVariable(
		"indexpilot.max_index_size_fraction",
		"Storage budget for IndexPilot's indexes as a fraction of the size of the database's tables.", nullptr,
		&s_max_index_fraction, 0.5, 0.0, 10.0, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
	DefineCustomIntVariable("indexpilot.min_index_budget",
							"Storage budget IndexPilot always has, whatever max_index_size_fraction gives a small "
							"database.",
							"max_index_size still caps it.", &s_min_index_budget_mb, 64, 0, INT_MAX, PGC_SIGHUP,
							GUC_UNIT_MB, nullptr, nullptr, nullptr);
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

Settings
CurrentSettings()
{
	Settings s;
	s.stats_window_s = s_stats_window_s;
	s.min_calls = s_min_calls;
	s.min_call_share = s_min_call_share;
	s.min_time_share = s_min_time_share;
	s.horizon_s = s_horizon_s;
	s.min_improvement = s_min_improvement;
	s.max_index_size_mb = s_max_index_size_mb;
	s.min_index_budget_mb = s_min_index_budget_mb;
	s.max_index_fraction = s_max_index_fraction;
	s.max_per_table = s_max_per_table;
	s.max_partial_per_table = s_max_partial_per_table;
	s.replan_timeout_ms = s_replan_timeout_ms;
	// Capture's threshold (capture/hooks.cpp) also says which statements are slow for rarity.
	const char *slow = GetConfigOption("indexpilot.slow_statement_threshold", true, false);
	s.slow_statement_ms = slow == nullptr ? 10 : std::atoi(slow);
	s.max_busy_backends = s_max_busy_backends;
	s.min_free_space_mb = s_min_free_space_mb;
	s.maintenance_window = s_maintenance_window ? s_maintenance_window : "";
	s.max_build_failures = s_max_build_failures;
	s.data_directory = DataDir ? DataDir : "";
	return s;
}

} // namespace indexpilot::advisor
