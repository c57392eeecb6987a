/*
 * shmem.hpp — IndexPilot's shared-memory state (worker registry for now; the capture store joins it).
 *
 * Locking: `lock` (an LWLock from our named tranche) protects everything in SharedState.
 *   - LW_EXCLUSIVE to claim or release a worker slot and to set launcher_pid.
 *   - LW_SHARED to read the registry (indexpilot_worker_status()).
 *   - Heartbeat fields (last_activity, loops) are written by the slot's owner alone, under LW_SHARED:
 *     readers may see a torn 64-bit value only on platforms without atomic 8-byte stores, which
 *     PostgreSQL 15 does not support anyway.
 * Everything here is plain data: no constructors run in shared memory.
 */
#pragma once

#include "indexpilot/pg/postgres.hpp"

extern "C" {
#include "datatype/timestamp.h"
#include "storage/lwlock.h"
}

namespace indexpilot
{

/* One per running database worker. dboid == InvalidOid means the slot is free. */
struct WorkerSlot {
	Oid dboid;
	int pid;
	TimestampTz started_at;
	TimestampTz last_activity;
	uint64 loops;
};

struct SharedState {
	LWLock *lock;
	int launcher_pid; /* 0 when no launcher runs */
	TimestampTz launcher_started_at;
	TimestampTz launcher_last_activity;
	uint64 launcher_loops;
	uint64 workers_started; /* by the launcher, since server start */
	int nslots;
	WorkerSlot slots[FLEXIBLE_ARRAY_MEMBER];
};

/* Set in the postmaster's shmem startup (and inherited by every backend); nullptr if not preloaded. */
extern SharedState *g_shared;

/* Called from _PG_init while preloading: requests the memory and the lock, installs the startup hook. */
void ShmemInit(int max_workers);

/*
 * A further part of IndexPilot's shared memory, owned by one module. Parts are added from _PG_init while
 * preloading (before the request hook runs). `size()` is everything the part will allocate (its structs and
 * hash tables); it gets a named LWLock tranche of `nlocks` locks; `init(locks)` runs under
 * AddinShmemInitLock in the postmaster (and, with EXEC_BACKEND, in every backend) and allocates or attaches
 * its structures with ShmemInitStruct / ShmemInitHash.
 */
struct ShmemPart {
	const char *name;
	Size (*size)();
	int nlocks;
	void (*init)(LWLockPadded *locks);
};
void ShmemAddPart(const ShmemPart &part);

/* The shared state, or ERROR (object_not_in_prerequisite_state) telling how to preload the library. */
SharedState *RequireShared(const char *what);

} // namespace indexpilot
