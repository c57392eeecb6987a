/*
 * capture/take.hpp — the flush's transactional take from the capture store.
 */
#pragma once

#include "indexpilot/capture/store.hpp"

namespace indexpilot::capture
{

/*
 * Takes this database's shapes for a flush in the current transaction: waits for the database's flush
 * lock (held to the end of the transaction: one flush per database at a time; a background worker does not
 * wait but takes nothing, 0), then moves the shapes' counters in flight and returns a copy of them
 * (palloc'd for the transaction). They leave shared memory
 * when the transaction commits; if it, or the subtransaction that took them, aborts, they go back.
 */
int TakeForFlush(ShapeEntry **out);

/* Whether this transaction holds taken shapes of this database not yet committed. */
bool FlushInProgress();

} // namespace indexpilot::capture
