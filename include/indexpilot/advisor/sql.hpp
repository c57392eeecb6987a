/*
 * advisor/sql.hpp — the rows of indexpilot_recommendations() and indexpilot_run_now().
 */
#pragma once

#include "indexpilot/advisor/advisor.hpp"
#include "indexpilot/pg/postgres.hpp"

#include <vector>

namespace indexpilot::advisor
{

/* Puts one row per recommendation into the materialized result of fcinfo (pg::InitMaterializedResult first). */
void EmitRecommendations(FunctionCallInfo fcinfo, const std::vector<Recommendation> &recommendations);

} // namespace indexpilot::advisor
