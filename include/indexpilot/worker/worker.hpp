/*
 * worker/worker.hpp — the launcher and the per-database workers.
 *
 * The launcher (a static background worker, restarted by the postmaster after a crash) lists the
 * databases every indexpilot.naptime and starts one dynamic worker per database that is not served yet.
 * A database worker exits at once where the extension is not installed; the launcher retries later.
 */
#pragma once

#include "indexpilot/pg/postgres.hpp"

namespace indexpilot::worker
{

extern int g_naptime_ms;
extern int g_worker_statement_timeout_ms; /* indexpilot.worker_statement_timeout */
extern int g_worker_lock_timeout_ms;      /* indexpilot.worker_lock_timeout */
extern int g_max_workers;
extern char *g_databases;

/* Declares the worker GUCs (the PGC_POSTMASTER ones only while preloading). */
void DefineGucs();

/* Registers the launcher; only while shared_preload_libraries is being processed. */
void RegisterLauncher();

} // namespace indexpilot::worker

extern "C" {
PGDLLEXPORT void indexpilot_launcher_main(Datum arg);
PGDLLEXPORT void indexpilot_worker_main(Datum arg);
}
