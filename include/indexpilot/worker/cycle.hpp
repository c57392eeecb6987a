/*
 * worker/cycle.hpp — what the database worker's cycle and indexpilot_run_now() share: the advisor decides
 * (advisor::Act returns the build it chose), the worker starts it once the decision has committed.
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
void ReserveChosenBuild(const std::optional<advisor::BuildRequest> &request,
						std::vector<advisor::Recommendation> &recommendations) noexcept;

} // namespace indexpilot::worker
