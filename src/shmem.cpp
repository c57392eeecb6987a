/*
 * shmem.cpp — requests and attaches IndexPilot's shared memory: the worker registry and every part a
 * module added (see shmem.hpp for the locking rules).
 *
 * PostgreSQL 15 requests memory in shmem_request_hook; older versions request it directly in _PG_init.
 * The request and startup code exists once, here: a part only says its size, its locks and its init.
 */
#include "indexpilot/shmem.hpp"

extern "C" {
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
}

#include <cstddef>

namespace indexpilot
{

SharedState *g_shared = nullptr;

static int s_max_workers = 0;
#if PG_VERSION_NUM >= 150000
static shmem_request_hook_type s_prev_shmem_request_hook = nullptr;
#endif
static shmem_startup_hook_type s_prev_shmem_startup_hook = nullptr;

static const char *const kTrancheName = "indexpilot";

static constexpr int kMaxParts = 8;
static ShmemPart s_parts[kMaxParts];
static int s_nparts = 0;

void
ShmemAddPart(const ShmemPart &part)
{
	if (s_nparts >= kMaxParts)
		elog(ERROR, "indexpilot: too many shared memory parts");
	s_parts[s_nparts++] = part;
}

static Size
SharedSize()
{
	return add_size(offsetof(SharedState, slots), mul_size(sizeof(WorkerSlot), s_max_workers));
}

static void
RequestMemory()
{
	RequestAddinShmemSpace(SharedSize());
	RequestNamedLWLockTranche(kTrancheName, 1);
	for (int i = 0; i < s_nparts; i++) {
		RequestAddinShmemSpace(s_parts[i].size());
		if (s_parts[i].nlocks > 0)
			RequestNamedLWLockTranche(s_parts[i].name, s_parts[i].nlocks);
	}
}

#if PG_VERSION_NUM >= 150000
static void
ShmemRequestHook(void)
{
	if (s_prev_shmem_request_hook)
		s_prev_shmem_request_hook();
	RequestMemory();
}
#endif

/* Creates or attaches the registry and every part; runs in the postmaster and (EXEC_BACKEND) in each backend. */
static void
ShmemStartupHook(void)
{
	if (s_prev_shmem_startup_hook)
		s_prev_shmem_startup_hook();

	bool found = false;
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	auto *state = static_cast<SharedState *>(ShmemInitStruct("indexpilot shared state", SharedSize(), &found));
	if (!found) {
		MemSet(state, 0, SharedSize());
		state->lock = &(GetNamedLWLockTranche(kTrancheName))->lock;
		state->nslots = s_max_workers;
	}
	for (int i = 0; i < s_nparts; i++) {
		const ShmemPart &part = s_parts[i];
		part.init(part.nlocks > 0 ? GetNamedLWLockTranche(part.name) : nullptr);
	}
	LWLockRelease(AddinShmemInitLock);
	g_shared = state;
}

void
ShmemInit(int max_workers)
{
	s_max_workers = max_workers;
#if PG_VERSION_NUM >= 150000
	s_prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = ShmemRequestHook;
#else
	RequestMemory();
#endif
	s_prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = ShmemStartupHook;
}

SharedState *
RequireShared(const char *what)
{
	if (g_shared == nullptr)
		ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						errmsg("%s requires indexpilot to be loaded via shared_preload_libraries", what),
						errhint("Add 'indexpilot' to shared_preload_libraries in postgresql.conf and restart "
								"the server.")));
	return g_shared;
}

} // namespace indexpilot
