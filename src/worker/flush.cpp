/*
 * worker/flush.cpp — the flush and its settings (see worker/flush.hpp).
 */
#include "indexpilot/worker/flush.hpp"

#include "indexpilot/pg/guard.hpp"
#include "indexpilot/pg/spi.hpp"

extern "C" {
#include "utils/guc.h"
}

#include <cstdio>
#include <cstdlib>

namespace indexpilot::worker
{

static int s_flush_interval_s = 60;
static int s_stats_retention_min = 7 * 24 * 60;

void
DefineFlushGucs()
{
	DefineCustomIntVariable("indexpilot.flush_interval", "Time between two flushes of captured statistics.", nullptr,
							&s_flush_interval_s, 60, 1, 86400, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr, nullptr);
	DefineCustomIntVariable("indexpilot.stats_retention", "How long flushed statistics are kept.", nullptr,
							&s_stats_retention_min, 7 * 24 * 60, 60, 366 * 24 * 60, PGC_SIGHUP, GUC_UNIT_MIN, nullptr,
							nullptr, nullptr);
}

int
FlushIntervalMs()
{
	return s_flush_interval_s * 1000;
}

long long
Flush()
{
	char retention[32];
	snprintf(retention, sizeof(retention), "%d minutes", s_stats_retention_min);
	const char *args[2] = {"1 minute", retention}; /* minute buckets, rolled up into hours after an hour */
	const char *flushed = pg::Call(
		[&] { return pg::SpiText("SELECT indexpilot._flush($1::interval, $2::interval, '1 hour')", 2, args); });
	return flushed == nullptr ? 0 : std::atoll(flushed);
}

} // namespace indexpilot::worker
