/*
 * advisor/advisor.hpp — the cost model at work in one database: read the statistics and the catalog,
 * generate candidates, cost them with the planner (what-if), choose, record, build.
 *
 * Everything here runs in a transaction with an active snapshot and SPI connected (the database worker's
 * cycle, or indexpilot_run_now() / indexpilot_recommendations()). C++ code: PostgreSQL calls go through
 * pg::Call; failures arrive as exceptions (core::Error, pg::PgError).
 */
#pragma once

#include "indexpilot/core/costmodel.hpp"

#include <string>
#include <vector>

namespace indexpilot::advisor
{

enum class Mode { Off = 0, Advise = 1, Auto = 2 };

/* The advisor's GUCs (indexpilot.mode, windows, thresholds, budgets, intervals). */
void DefineAdvisorGucs();
Mode CurrentMode();
int FlushIntervalMs();
int AdviseIntervalMs();

/* Moves this database's captured shapes into query_stats; returns the rows written. */
long long Flush();

struct Recommendation {
	core::Candidate candidate;
	core::Evaluation evaluation;
	std::string table;                /* qualified and quoted, as regclass prints it */
	std::vector<std::string> columns; /* names, index order */
	std::string predicate;            /* "" or the partial index's WHERE clause */
	std::string index_name;
	std::string ddl;
	bool exists = false; /* an index of that name is there already */
	std::string action;  /* what Act did: proposed, build_started, exists, skipped, ... */
};

/*
 * Reads, generates, costs and chooses. Chosen ones come first, in the order picked. `record` samples the
 * tables' write counters (indexpilot.table_activity); a dry run (indexpilot_recommendations()) does not.
 */
std::vector<Recommendation> Advise(bool record);

/*
 * Records the chosen candidates as index_proposed (once each while open) and the skipped ones with their
 * reason (once per reason per statistics window), and starts a build of the best chosen one when
 * allow_build (auto mode, index building enabled) and no build runs in this database.
 */
void Act(std::vector<Recommendation> &recommendations, bool allow_build);

} // namespace indexpilot::advisor
