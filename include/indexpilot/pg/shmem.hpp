/*
 * pg/shmem.hpp — the registry of IndexPilot's shared-memory parts. Each module that needs shared memory
 * (the worker registry, the builder slots, the capture store, the bypass control state) adds one part from
 * _PG_init while preloading; this file requests every part's memory and LWLock tranche and creates them
 * at startup. Each part states its own locking rules where it is defined.
 *
 * PostgreSQL 15 requests memory in shmem_request_hook; older versions request it directly in _PG_init.
 * The request and startup code exists once, in pg/shmem.cpp: a part only says its size, its locks and its
 * init. Everything in shared memory is plain data: no constructors run there.
 */
#pragma once

#include "indexpilot/pg/postgres.hpp"

extern "C" {
#include "storage/lwlock.h"
}

namespace indexpilot::pg
{

/*
 * A part of IndexPilot's shared memory, owned by one module. `size()` is everything the part will allocate
 * (its structs and hash tables); it gets a named LWLock tranche of `nlocks` locks; `init(locks)` runs under
 * AddinShmemInitLock in the postmaster (and, with EXEC_BACKEND, in every backend) and allocates or attaches
 * its structures with ShmemInitStruct / ShmemInitHash.
 */
struct ShmemPart {
	const char *name;
	Size (*size)();
	int nlocks;
	void (*init)(LWLockPadded *locks);
};

/* Adds a part; from _PG_init while preloading, before ShmemInit. */
void ShmemAddPart(const ShmemPart &part);

/* Called from _PG_init while preloading, after every ShmemAddPart: installs the request and startup hooks. */
void ShmemInit();

/* True once the parts exist in this process: the library was loaded through shared_preload_libraries. */
bool Preloaded();

/* ERROR (object_not_in_prerequisite_state) telling how to preload the library, unless Preloaded(). */
void RequirePreloaded(const char *what);

} // namespace indexpilot::pg
