/*
 * worker/registry.hpp — the worker registry in shared memory: the launcher's pid and heartbeat and one
 * slot per database worker (indexpilot.max_workers slots). A part of IndexPilot's shared memory
 * (pg/shmem.hpp), owned by worker/.
 *
 * Locking: `lock` (the LWLock of tranche "indexpilot") protects everything in it.
 *   - LW_EXCLUSIVE to claim or release a worker slot, to set launcher_pid and to count workers_started.
 *   - LW_SHARED to read the registry (indexpilot_worker_status(), the launcher's "has a worker" check).
 *   - Heartbeat fields (a slot's last_activity and loops, the launcher's launcher_last_activity and
 *     launcher_loops) are written by their owner alone, under LW_SHARED: on a platform without 8-byte
 *     single-copy atomicity a reader may see a torn value, which is only ever displayed.
 * Everything here is plain data: no constructors run in shared memory.
 */
#pragma once

#include "indexpilot/pg/postgres.hpp"

extern "C" {
#include "datatype/timestamp.h"
#include "storage/lwlock.h"
}

namespace indexpilot::worker
{

/* One per running database worker. dboid == InvalidOid means the slot is free. */
struct WorkerSlot {
	Oid dboid;
	int pid;
	TimestampTz started_at;
	TimestampTz last_activity;
	uint64 loops;
};

struct WorkerRegistry {
	LWLock *lock;
	int launcher_pid; /* 0 when no launcher runs */
	TimestampTz launcher_started_at;
	TimestampTz launcher_last_activity;
	uint64 launcher_loops;
	uint64 workers_started; /* by the launcher, since server start */
	int nslots;
	WorkerSlot slots[FLEXIBLE_ARRAY_MEMBER];
};

/* Set at shared-memory startup in the postmaster (inherited by every backend); nullptr if not preloaded. */
extern WorkerRegistry *g_registry;

/* Adds the registry to IndexPilot's shared memory (while preloading), with indexpilot.max_workers slots. */
void RequestRegistry();

/* The registry, or the "add it to shared_preload_libraries" ERROR naming `what`. */
WorkerRegistry *RequireRegistry(const char *what);

} // namespace indexpilot::worker
