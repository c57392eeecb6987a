/*
 * advisor/settings.hpp — the advisor's settings (GUCs, defined in advisor/settings.cpp) as plain values, so
 * the C++-only files of the advisor read them without PostgreSQL headers.
 */
#pragma once

#include <string>

namespace indexpilot::advisor
{

/* The values of the advisor's GUCs now (see docs/reference.md); units as in the field names. */
struct Settings {
	int stats_window_s;
	int min_calls;
	double min_call_share;
	double min_time_share;
	int horizon_s;
	double min_improvement;
	int max_index_size_mb;
	int min_index_budget_mb; /* the fraction's budget is never below this (small databases) */
	double max_index_fraction;
	int max_per_table;
	int max_partial_per_table;
	int replan_timeout_ms;
	int slow_statement_ms;          /* indexpilot.slow_statement_threshold (a capture GUC); -1: off */
	int max_busy_backends;          /* 0: no limit */
	int min_free_space_mb;          /* free space a build must leave on the data directory's file system */
	std::string maintenance_window; /* "" (always) or "HH:MM-HH:MM" UTC, checked when set */
	int max_build_failures;         /* consecutive failed or reverted builds before building switches off; 0: never */
	std::string data_directory;
};
Settings CurrentSettings();

} // namespace indexpilot::advisor
