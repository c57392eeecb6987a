/*
 * indexpilot.cpp — the library's entry: module magic and _PG_init.
 *
 * Without shared_preload_libraries only the GUCs and the (inert) what-if planner hook are set up: SQL functions that
 * need shared memory say how to preload. With it, _PG_init requests shared memory, installs the executor hooks and
 * registers the launcher. Everything here runs in the postmaster: no global objects with constructors anywhere.
 */
#include "indexpilot/advisor/discovery.hpp"
#include "indexpilot/advisor/whatif.hpp"
#include "indexpilot/advisor/advisor.hpp"
#include "indexpilot/capture/hooks.hpp"
#include "indexpilot/capture/store.hpp"
#include "indexpilot/control/control.hpp"
#include "indexpilot/pg/compat.hpp"
#include "indexpilot/pg/guard.hpp"
#include "indexpilot/pg/shmem.hpp"
#include "indexpilot/worker/registry.hpp"
#include "indexpilot/worker/builder.hpp"
#include "indexpilot/worker/lifecycle.hpp"
#include "indexpilot/worker/worker.hpp"

extern "C" {
PG_MODULE_MAGIC;
PGDLLEXPORT void _PG_init(void);
}

extern "C" void
_PG_init(void)
{
	// Startup bypass (docs/bypass.md): checked before anything else, so a faulty build cannot hurt startup.
	if (indexpilot::control::StartupBypassFromEnvironment())
		return;

	indexpilot::pg::Entry([] {
		indexpilot::worker::DefineGucs();
		indexpilot::capture::DefineCaptureGucs();
		indexpilot::control::ControlInit();
		indexpilot::advisor::DefineAdvisorGucs();
		indexpilot::worker::DefineBuilderGucs();
		indexpilot::worker::DefineLifecycleGucs();
		indexpilot::advisor::DefineDiscoveryGucs();
		indexpilot::pg::ReserveGucPrefix("indexpilot");
		// What-if costing works in any backend, preloaded or not: its hook is inert outside a what-if call.
		indexpilot::advisor::WhatIfInit();

		if (!process_shared_preload_libraries_in_progress)
			return;
		if (!indexpilot::control::ControlLoad())
			return; // the config file asked for the startup bypass

		indexpilot::capture::RequestStore();
		indexpilot::control::ControlShmemInit();
		indexpilot::worker::RequestBuilder();
		indexpilot::worker::RequestRegistry();
		indexpilot::pg::ShmemInit();
		indexpilot::capture::InstallHooks();
		indexpilot::worker::RegisterLauncher();
	});
}
