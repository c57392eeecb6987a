/*
 * worker/registry.cpp — the worker registry's part of shared memory (see worker/registry.hpp).
 */
#include "indexpilot/worker/registry.hpp"

#include "indexpilot/pg/shmem.hpp"
#include "indexpilot/worker/worker.hpp"

extern "C" {
#include "storage/shmem.h"
}

#include <cstddef>

namespace indexpilot::worker
{

WorkerRegistry *g_registry = nullptr;

static Size
RegistrySize()
{
	return add_size(offsetof(WorkerRegistry, slots), mul_size(sizeof(WorkerSlot), g_max_workers));
}

static void
RegistryInit(LWLockPadded *locks)
{
	bool found = false;
	auto *registry = static_cast<WorkerRegistry *>(ShmemInitStruct("indexpilot shared state", RegistrySize(), &found));
	if (!found) {
		MemSet(registry, 0, RegistrySize());
		registry->lock = &locks[0].lock;
		registry->nslots = g_max_workers;
	}
	g_registry = registry;
}

void
RequestRegistry()
{
	pg::ShmemAddPart(pg::ShmemPart{"indexpilot", RegistrySize, 1, RegistryInit});
}

WorkerRegistry *
RequireRegistry(const char *what)
{
	pg::RequirePreloaded(what);
	return g_registry;
}

} // namespace indexpilot::worker
