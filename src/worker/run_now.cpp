/*
 * worker/run_now.cpp — indexpilot_run_now(): the whole cycle (worker/cycle.hpp) in the calling session:
 * flush, cost model, lineage, and in auto mode the reservation of a build.
 *
 * A build is launched only when the caller's transaction commits: `BEGIN; SELECT indexpilot_run_now();
 * ROLLBACK;` starts none, and a build started from a transaction block waits for its COMMIT.
 */
#include "indexpilot/worker/cycle.hpp"

#include "indexpilot/advisor/sql.hpp"
#include "indexpilot/capture/hooks.hpp"
#include "indexpilot/control/bypass.hpp"
#include "indexpilot/pg/compat.hpp"
#include "indexpilot/pg/guard.hpp"
#include "indexpilot/pg/shmem.hpp"
#include "indexpilot/worker/builder.hpp"

extern "C" {
#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
}

#include <string>

namespace indexpilot::worker
{

static void
RunNow(FunctionCallInfo fcinfo)
{
	pg::Call([] { pg::RequirePreloaded("indexpilot_run_now()"); });
	pg::Call([fcinfo] { pg::InitMaterializedResult(fcinfo); });
	if (!control::FeatureEnabled(control::Feature::Advising)) {
		pg::Call([] {
			ereport(NOTICE, (errmsg("indexpilot advising is switched off; nothing was decided"),
							 errhint("See indexpilot_status().")));
		});
		return;
	}
	pg::Call([] { return SPI_connect(); });
	std::vector<advisor::Recommendation> recs;
	{
		const capture::OwnWork own; /* the cycle's own statements are not the workload it measures */
		recs = RunCycle(CycleSteps{true, true});
	}
	advisor::EmitRecommendations(fcinfo, recs);
	pg::Call([] { return SPI_finish(); });
}

} // namespace indexpilot::worker

/*
 * indexpilot_run_now() returns the same rows as indexpilot_recommendations(), after one whole cycle run
 * synchronously: flush, cost model, lineage, and in auto mode the reservation of a build, launched in its
 * own background worker when the calling transaction commits (CREATE INDEX CONCURRENTLY cannot run inside
 * it, and the builder must see the committed proposal).
 */
INDEXPILOT_FUNCTION(indexpilot_run_now)
{
	indexpilot::worker::RunNow(fcinfo);
	return (Datum)0;
}
