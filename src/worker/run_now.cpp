/*
 * worker/run_now.cpp — indexpilot_run_now(): one whole cycle in the calling session (flush, cost model,
 * lineage, and in auto mode the reservation of a build), and ReserveChosenBuild, which the database
 * worker's cycle uses too (see worker/cycle.hpp).
 *
 * A build is launched only when the caller's transaction commits: `BEGIN; SELECT indexpilot_run_now();
 * ROLLBACK;` starts none, and a build started from a transaction block waits for its COMMIT.
 */
#include "indexpilot/worker/cycle.hpp"

#include "indexpilot/advisor/sql.hpp"
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

void
ReserveChosenBuild(const std::optional<advisor::BuildRequest> &request,
				   std::vector<advisor::Recommendation> &recs) noexcept
{
	if (!request || request->recommendation >= recs.size())
		return;
	const char *why = nullptr;
	bool reserved = StartBuildAtCommit(MyDatabaseId, request->relid, request->index_name.c_str(), request->ddl.c_str(),
									   request->proposal_id, &why);
	try {
		advisor::Recommendation &rec = recs[request->recommendation];
		if (!reserved)
			rec.action = std::string("build_not_started: ") + (why ? why : "");
		else
			rec.action = IsTransactionBlock() ? "build_at_commit" : "build_started";
	} catch (...) {
		/* only the label is lost (out of memory); the reservation stands */
	}
}

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
	advisor::Flush();
	std::vector<advisor::Recommendation> recs = advisor::Advise(true);
	if (advisor::CurrentMode() != advisor::Mode::Off) {
		bool allow = advisor::CurrentMode() == advisor::Mode::Auto &&
					 control::FeatureEnabled(control::Feature::IndexBuilding) &&
					 !pg::Call([] { return BuildRunning(MyDatabaseId); });
		ReserveChosenBuild(advisor::Act(recs, allow), recs);
	} else {
		advisor::NoteBackoff(recs);
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
