/*
 * worker/flush.hpp — the flush: this database's captured shapes into indexpilot.query_stats (through
 * indexpilot._flush(), which takes them from the capture store so that they leave shared memory only when
 * the transaction commits), and its settings indexpilot.flush_interval and indexpilot.stats_retention.
 */
#pragma once

namespace indexpilot::worker
{

/* indexpilot.flush_interval and indexpilot.stats_retention. */
void DefineFlushGucs();
int FlushIntervalMs();

/* Flushes in the current transaction (SPI connected); returns the rows written. C++: failures throw. */
long long Flush();

} // namespace indexpilot::worker
