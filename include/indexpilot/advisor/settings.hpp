/*
 * advisor/settings.hpp — the advisor's settings (GUCs, defined in advisor/settings.cpp) as plain values, so
 * the C++-only files of the advisor read them without PostgreSQL headers.
 */
#pragma once

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
	double max_index_fraction;
	int max_per_table;
	int max_partial_per_table;
	int replan_timeout_ms;
	int slow_statement_ms; /* indexpilot.slow_statement_threshold (a capture GUC); -1: off */
};
Settings CurrentSettings();

} // namespace indexpilot::advisor
