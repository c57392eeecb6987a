/*
 * advisor/inputs.hpp — everything the cost model reads, in one transaction: managed tables with their
 * tenant key, size and write rate, the fields some tenant expresses, existing valid indexes, the shapes of
 * the statistics window and their representative statements with the role and search_path they ran with.
 * C++ only (no PostgreSQL headers).
 */
#pragma once

#include "indexpilot/core/costmodel.hpp"

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace indexpilot::advisor
{

/* A statement to re-plan, with the role and search_path it ran with. */
struct Sample {
	std::string text;
	std::uint32_t role = 0; /* the role's OID */
	std::string search_path;
};

struct Inputs {
	std::vector<core::TableInfo> tables;
	std::map<std::uint32_t, std::string> tenant_column;
	std::map<std::pair<std::uint32_t, std::int16_t>, std::string> attname;
	std::vector<core::ShapeStat> shapes;         /* per statement; calls and time estimated (core::EstimateShapes) */
	std::vector<core::StatementStat> statements; /* every statement's true counts in the window */
	std::map<std::int64_t, Sample> texts;
	std::map<std::int64_t, double> query_calls; /* the statements behind the shapes: their true calls */
	std::set<std::string> existing_names;       /* index names in the managed tables' schemas */
	std::set<std::string> unfinished_names;     /* indexes of the managed tables not usable yet (being built) */
	double window_seconds = 60;
	double budget_bytes = 0;
};

/* Reads everything the model needs; `record` also samples the tables' write counters (not for a dry run). */
Inputs ReadInputs(bool record);

} // namespace indexpilot::advisor
