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

/* Publishes this backend's pending counts of statements to the store (before reading it from SQL). */
void PublishPendingCounts();

} // namespace indexpilot::capture
