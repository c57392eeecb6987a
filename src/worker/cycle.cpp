/*
 * worker/cycle.cpp — the one cycle of work in a database (see worker/cycle.hpp).
 */
#include "indexpilot/worker/cycle.hpp"

#include "indexpilot/advisor/discovery.hpp"
#include "indexpilot/control/bypass.hpp"
#include "indexpilot/pg/guard.hpp"
#include "indexpilot/worker/builder.hpp"
#include "indexpilot/worker/flush.hpp"

extern "C" {
#include "access/xact.h"
#include "miscadmin.h"
}

#include <string>

namespace indexpilot::worker
{

std::vector<advisor::Recommendation>
RunCycle(const CycleSteps &steps)
{
	if (steps.flush)
		Flush();
	std::vector<advisor::Recommendation> recs;
	if (!steps.advise)
		return recs;
	advisor::Discover(); /* tables created, excluded or let go since the last run (indexpilot.manage) */
	recs = advisor::Advise(true);
	if (advisor::CurrentMode() == advisor::Mode::Off) {
		advisor::NoteBackoff(recs);
		return recs;
	}
	// Builds that keep failing or being reverted switch building off (in the worker, once per cycle).
	const bool building =
		advisor::CurrentMode() == advisor::Mode::Auto && control::FeatureEnabled(control::Feature::IndexBuilding);
	const bool switched_off = building && steps.worker && advisor::SwitchOffBuildingIfFailing();
	const bool allow = building && !switched_off && !pg::Call([] { return BuildRunning(MyDatabaseId); });
	ReserveChosenBuild(advisor::Act(recs, allow), recs);
	return recs;
}

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

} // namespace indexpilot::worker
