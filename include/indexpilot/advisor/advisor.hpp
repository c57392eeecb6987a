/*
 * advisor/advisor.hpp — the cost model at work in one database: read the statistics and the catalog,
 * generate candidates, cost them with the planner (what-if), choose, record, and say what to build. The
 * advisor never starts a build itself: its caller (worker/) does, once the proposal has committed.
 *
 * Everything here runs in a transaction with an active snapshot and SPI connected (the database worker's
 * cycle, or indexpilot_run_now() / indexpilot_recommendations()). C++ code: PostgreSQL calls go through
 * pg::Call; failures arrive as exceptions (core::Error, pg::PgError).
 */
#pragma once

#include "indexpilot/core/costmodel.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace indexpilot::advisor
{

enum class Mode { Off = 0, Advise = 1, Auto = 2 };

/* The advisor's GUCs (indexpilot.mode, the statistics window, thresholds, budgets, advise_interval). */
void DefineAdvisorGucs();
Mode CurrentMode();
int AdviseIntervalMs();

struct Recommendation {
	core::Candidate candidate;
	core::Evaluation evaluation;
	std::string table;                /* qualified and quoted, as regclass prints it */
	std::vector<std::string> columns; /* names, index order */
	std::vector<std::string> include; /* a covering index's INCLUDE columns, by name */
	std::string predicate;            /* "" or the partial index's WHERE clause */
	std::string index_name;
	std::string ddl;
	std::string rival;       /* "" or the chosen index that serves its statements (superseded, redundant, kept out) */
	bool exists = false;     /* an index of that name is there already */
	std::string action;      /* what Act did: proposed, build_started, exists, skipped, backoff until ... */
	std::string retry_after; /* "" or, after failed builds of this index, when the next may start */
	std::string reverted_until; /* "" or, after a revert of this index or for its statements, when it may be
								   proposed again */
	/* Its statements' true counts in the window, as the decision saw them: (query id, calls, total ms). */
	std::vector<std::tuple<std::int64_t, double, double>> statements;
};

/*
 * Reads, generates, costs and chooses. Chosen ones come first, in build order (highest standalone net value
 * first). `record` samples the
 * tables' write counters (indexpilot.table_activity); a dry run (indexpilot_recommendations()) does not.
 */
std::vector<Recommendation> Advise(bool record);

/*
 * Fills retry_after of the chosen recommendations whose last builds failed (or were abandoned) and whose
 * backoff has not passed: indexpilot.build_retry_backoff doubled per consecutive failure, capped at
 * indexpilot.build_retry_backoff_max. Sets their action to "backoff until <time>" when it is empty. Fills
 * reverted_until of those reverted within the statistics window before (doubled per further revert): Act
 * neither proposes nor builds them meanwhile.
 */
void NoteBackoff(std::vector<Recommendation> &recommendations);

/* A build Act chose: the caller starts it only after the transaction holding its proposal commits. */
struct BuildRequest {
	std::uint32_t relid = 0;
	std::string index_name;
	std::string ddl;
	long long proposal_id = 0;  /* the lineage parent of index_build_started */
	std::size_t recommendation; /* which of the recommendations it is (to report what became of it) */
};

/*
 * Records the chosen candidates as index_proposed (once each while open) and the skipped ones with their
 * reason (once per reason per statistics window). When allow_build (auto mode, index building enabled, no
 * build running in this database), returns the best chosen candidate that is not in its retry backoff.
 */
std::optional<BuildRequest> Act(std::vector<Recommendation> &recommendations, bool allow_build);

/*
 * Why a build (of about build_bytes; a drop: -1) must wait now, or "" when it need not: outside
 * indexpilot.maintenance_window, more than indexpilot.max_busy_backends active client backends, or (a
 * build) less free space on the data directory's file system than twice its size plus
 * indexpilot.min_free_space.
 */
std::string WorkHold(double build_bytes);

/*
 * When the latest indexpilot.max_build_failures outcomes of IndexPilot's builds in this database since
 * building was last switched on were all failures (failed, abandoned, reverted), switches index_building
 * off (indexpilot_disable_feature) and records index_building_self_disabled with them; true then. A
 * superuser switches it on again.
 */
bool SwitchOffBuildingIfFailing();

/*
 * What the planner says of dropping a real index for the statements `queryids`: each is planned (as the
 * role that ran it, with its search_path, like the cost model) as it runs today and with the index hidden
 * (PlanWithoutIndex). Statements without a stored text, or that cannot be planned either way, are left
 * out of the sums and counted in `statements` only.
 */
struct DropCost {
	int statements = 0;
	int planned = 0;
	double cost_with = 0;    /* sum of per-call plan costs as the statements run today */
	double cost_without = 0; /* the same with the index hidden */
};
DropCost CostOfDropping(std::uint32_t index_oid, const std::vector<std::int64_t> &queryids);

} // namespace indexpilot::advisor
