/*
 * worker/lifecycle.hpp — what IndexPilot does with the indexes it built, after the build: validates each on
 * measured evidence, reverts what does not pay, retires what stopped paying (docs/architecture.md, "The
 * index lifecycle"). Run by the database's worker.
 */
#pragma once

#include "indexpilot/pg/postgres.hpp"

namespace indexpilot::worker
{

/* Declares indexpilot.validate_window, indexpilot.max_regression and indexpilot.retire_after. */
void DefineLifecycleGucs();

/*
 * One pass over IndexPilot's indexes (indexpilot._lifecycle_due()): brings their use up to date, records
 * index_validated for those that passed, and — in auto mode, with index_building on for a revert and
 * index_retirement on for a retirement — drops (DROP INDEX CONCURRENTLY, DropIndexOfTable) those to
 * revert or retire, recording index_reverted / index_retired with the evidence. An index another one covers
 * is retired only when the planner says its statements keep their cost without it. Only indexes whose OID
 * and name IndexPilot's lineage recorded as built are ever dropped. A failure is a WARNING; the next pass
 * tries again. Call outside a transaction. Returns how many indexes were dropped.
 */
int LookAfterIndexes();

} // namespace indexpilot::worker
