/*
 * shmem.hpp — IndexPilot's shared memory: the worker registry (SharedState) and the registry of parts
 * through which other modules add their own structs and LWLocks (the capture store, the bypass control
 * state, the builder slots; see ShmemPart). Each part states its own locking rules.
 *
 * Locking of SharedState: `lock` (the LWLock of tranche "indexpilot") protects everything in it.
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

/* Set by the shmem startup hook in the postmaster (inherited by every backend); nullptr if not preloaded. */
extern SharedState *g_shared;

/*
 * Called from _PG_init while preloading, after every ShmemAddPart: requests the memory and the locks of the
 * registry and of every part (from shmem_request_hook on PostgreSQL 15), installs the startup hook.
 */
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
