/*
 * control/control.hpp — the bypass control module's entry points for _PG_init and the database worker.
 *
 * Order in _PG_init: StartupBypassFromEnvironment() first of all (when it says yes, nothing else runs);
 * then ControlInit() (GUCs); then, while preloading, ControlLoad() (environment and config file; false
 * means the file asked for the startup bypass) and ControlShmemInit().
 */
#pragma once

namespace indexpilot::control
{

/* True when INDEXPILOT_BYPASS_MODE=startup: the caller must install nothing. Plain C, cannot fail. */
bool StartupBypassFromEnvironment() noexcept;

/* Declares the indexpilot.* bypass GUCs (all reloadable: PGC_SIGHUP). */
void ControlInit();

/* While preloading: reads the environment and the config file. False when the file asks for startup bypass. */
bool ControlLoad();

/* While preloading: requests the control struct in shared memory and sets it up at shmem startup. */
void ControlShmemInit();

/* Database worker: after it started, and after each ProcessConfigFile: re-read the file, publish the GUCs. */
void ReloadConfig();

/* Database worker, each cycle (and at start): load persisted switches of this database; periodic status line. */
void WorkerCycle();

} // namespace indexpilot::control
