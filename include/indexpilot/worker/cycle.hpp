/*
 * worker/cycle.hpp — the one cycle of IndexPilot's work in a database, run by the database worker (on its
 * intervals) and by indexpilot_run_now() (all of it, now): flush, cost model, lineage, and in auto mode the
 * reservation of a build. The advisor decides (advisor::Act returns the build it chose); the cycle starts it
 * once the decision has committed. worker/ calls advisor/, never the other way.
 */
#pragma once

#include "indexpilot/advisor/advisor.hpp"

#include <optional>
#include <vector>

namespace indexpilot::worker
{

/*
 * Reserves the build Act chose (if any), to be launched when the current transaction commits, and sets
 * its recommendation's action: build_started (outside a transaction block: the statement's commit follows
 * at once), build_at_commit (inside one), or build_not_started: <why>. Raises no ERROR.
 */
/* Which steps of the cycle to run. */
struct CycleSteps {
	bool flush = false;
	bool advise = false;
	bool worker = false; /* the database's worker (may switch index building off after repeated failures) */
};

/*
 * Runs the steps in the current transaction (a snapshot set, SPI connected): the flush, then the cost model
 * with its lineage and, in auto mode with index building on and no build running in this database, the
 * reservation of the best build (launched when the transaction commits). Returns the recommendations of
 * the cost model (none without `advise`). C++: failures throw; the caller rolls the transaction back.
 */
std::vector<advisor::Recommendation> RunCycle(const CycleSteps &steps);

void ReserveChosenBuild(const std::optional<advisor::BuildRequest> &request,
						std::vector<advisor::Recommendation> &recommendations) noexcept;

} // namespace indexpilot::worker
