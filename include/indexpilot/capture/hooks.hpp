/*
 * capture/hooks.hpp — executor hooks (chained, nesting-aware) that capture predicate shapes.
 */
#pragma once

namespace indexpilot::capture
{

/* Declares the capture GUCs (sampling, store sizes, tenant column). */
void DefineCaptureGucs();

/* Installs the executor hooks and transaction callbacks, saving the previous hooks. Only while preloading. */
void InstallHooks();

/* IndexPilot's own processes (the database worker) are not the workload: nothing they run is captured. */
void ExcludeThisProcess();

/*
 * While one lives, the statements this backend runs are IndexPilot's own (indexpilot_run_now()'s and
 * indexpilot_recommendations()' flush, cost model and lineage), not the workload: none is counted or walked,
 * nor the statements running when it starts (the call). Nests; the end of the transaction ends them all.
 */
class OwnWork
{
public:
	OwnWork();
	~OwnWork();
	OwnWork(const OwnWork &) = delete;
	OwnWork &operator=(const OwnWork &) = delete;
};

/* Publishes this backend's pending counts of statements to the store (before reading it from SQL). */
void PublishPendingCounts();

} // namespace indexpilot::capture
