/*
 * capture/plan_walk.hpp — capture's face to the executor hooks: turns a plan into the predicate shapes a
 * statement constrains, and adds the rows its instrumented plan states saw. Backend-local, plain C-style,
 * allocation-free on the hot path (fixed arrays; catalog lookups go through capture/catalog_cache.hpp).
 */
#pragma once

#include "indexpilot/capture/store.hpp"

extern "C" {
#include "executor/execdesc.h"
#include "nodes/plannodes.h"
}

namespace indexpilot::capture
{

inline constexpr int kMaxPendingShapes = 128;

/* One shape found in a plan node, waiting for its statement to end (or to be cancelled). */
struct PendingShape {
	const QueryDesc *owner;
	const Plan *plan;
	Observation obs;
};

/*
 * Appends the shapes of queryDesc's plan to `out` (at most `room`); returns how many were added.
 * Catalog lookups may raise an ERROR: the caller guards the call.
 */
int CollectShapes(const QueryDesc *queryDesc, PendingShape *out, int room);

/* Adds the instrumented rows of queryDesc's plan states to its pending shapes. */
void AddInstrumentation(const QueryDesc *queryDesc, PendingShape *shapes, int count);

} // namespace indexpilot::capture
