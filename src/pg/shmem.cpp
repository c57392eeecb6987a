/*
 * pg/shmem.cpp — requests and creates every shared-memory part a module added (see pg/shmem.hpp).
 */
#include "indexpilot/pg/shmem.hpp"

extern "C" {
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
}

namespace indexpilot::pg
{

#if PG_VERSION_NUM >= 150000
static shmem_request_hook_type s_prev_shmem_request_hook = nullptr;
#endif
static shmem_startup_hook_type s_prev_shmem_startup_hook = nullptr;

static constexpr int kMaxParts = 8;
static ShmemPart s_parts[kMaxParts];
static int s_nparts = 0;
static bool s_attached = false;

void
ShmemAddPart(const ShmemPart &part)
{
	if (s_nparts >= kMaxParts)
		elog(ERROR, "indexpilot: too many shared memory parts");
	s_parts[s_nparts++] = part;
}

static void
RequestMemory()
{
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

/* Creates or attaches every part; runs in the postmaster and (EXEC_BACKEND) in each backend. */
static void
ShmemStartupHook(void)
{
	if (s_prev_shmem_startup_hook)
		s_prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	for (int i = 0; i < s_nparts; i++) {
		const ShmemPart &part = s_parts[i];
		part.init(part.nlocks > 0 ? GetNamedLWLockTranche(part.name) : nullptr);
	}
	LWLockRelease(AddinShmemInitLock);
	s_attached = true;
}

void
ShmemInit()
{
#if PG_VERSION_NUM >= 150000
	s_prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = ShmemRequestHook;
#else
	RequestMemory();
#endif
	s_prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = ShmemStartupHook;
}

bool
Preloaded()
{
	return s_attached;
}

void
RequirePreloaded(const char *what)
{
	if (!s_attached)
		ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						errmsg("%s requires indexpilot to be loaded via shared_preload_libraries", what),
						errhint("Add 'indexpilot' to shared_preload_libraries in postgresql.conf and restart "
								"the server.")));
}

} // namespace indexpilot::pg
