/*
 * worker/launcher.cpp — the launcher: one per cluster, starts a worker for each database.
 *
 * It connects to no database (shared catalogs only), reads pg_database every indexpilot.naptime, and
 * registers a dynamic worker for each listed database that has none. Workers are started at most once per
 * naptime per database, so a database without the extension costs one short-lived process per naptime.
 * Memory: a loop context reset every iteration; worker handles live in TopMemoryContext.
 */
#include "indexpilot/worker/worker.hpp"

#include "indexpilot/pg/compat.hpp"
#include "indexpilot/pg/guard.hpp"
#include "indexpilot/worker/flush.hpp"
#include "indexpilot/worker/registry.hpp"

extern "C" {
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"
}

namespace indexpilot::worker
{

int g_naptime_ms = 10000;
int g_worker_statement_timeout_ms = 10 * 60 * 1000;
int g_worker_lock_timeout_ms = 5000;
int g_max_workers = 8;
char *g_databases = nullptr;

/* A database the launcher knows about, and the last worker it started there. */
struct LaunchedDb {
	Oid dboid; /* hash key */
	BackgroundWorkerHandle *handle;
	TimestampTz last_start;
};

struct DatabaseInfo {
	Oid oid;
	char name[NAMEDATALEN];
};

static HTAB *s_launched = nullptr;

/* GUC check hook: indexpilot.databases must parse as a list of names. */
static bool
CheckDatabases(char **newval, void **, GucSource)
{
	char *copy = pstrdup(*newval);
	List *names = NIL;
	bool ok = SplitIdentifierString(copy, ',', &names);
	list_free(names);
	pfree(copy);
	if (!ok)
		GUC_check_errdetail("List syntax is invalid: expected comma-separated database names.");
	return ok;
}

void
DefineGucs()
{
	DefineFlushGucs();
	DefineCustomIntVariable("indexpilot.naptime", "Time between two cycles of the launcher and the workers.", nullptr,
							&g_naptime_ms, 10000, 100, 3600 * 1000, PGC_SIGHUP, GUC_UNIT_MS, nullptr, nullptr, nullptr);
	DefineCustomIntVariable("indexpilot.worker_statement_timeout",
							"statement_timeout of each unit of work of IndexPilot's workers (flush, cost model, "
							"bookkeeping); index builds have indexpilot.build_statement_timeout.",
							nullptr, &g_worker_statement_timeout_ms, 10 * 60 * 1000, 100, INT_MAX, PGC_SIGHUP,
							GUC_UNIT_MS, nullptr, nullptr, nullptr);
	DefineCustomIntVariable("indexpilot.worker_lock_timeout",
							"lock_timeout of IndexPilot's workers: how long their statements may wait for a lock.",
							nullptr, &g_worker_lock_timeout_ms, 5000, 1, INT_MAX, PGC_SIGHUP, GUC_UNIT_MS, nullptr,
							nullptr, nullptr);
	// PostgreSQL refuses (FATAL) to define a PGC_POSTMASTER setting after startup, as when a backend
	// loads the library for CREATE EXTENSION without preloading: it only exists when preloaded.
	if (process_shared_preload_libraries_in_progress)
		DefineCustomIntVariable("indexpilot.max_workers", "Maximum number of databases served at once.",
								"Each served database uses one background worker from max_worker_processes.",
								&g_max_workers, 8, 1, 1024, PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
	DefineCustomStringVariable("indexpilot.databases",
							   "Comma-separated databases to serve; empty means every database that allows "
							   "connections and has the extension installed.",
							   nullptr, &g_databases, "", PGC_SIGHUP, GUC_LIST_INPUT, CheckDatabases, nullptr, nullptr);
}

void
RegisterLauncher()
{
	BackgroundWorker bgw;
	memset(&bgw, 0, sizeof(bgw));
	bgw.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	bgw.bgw_start_time = BgWorkerStart_RecoveryFinished;
	bgw.bgw_restart_time = 5; /* seconds; after a crash or an error exit */
	strlcpy(bgw.bgw_library_name, "indexpilot", BGW_MAXLEN);
	strlcpy(bgw.bgw_function_name, "indexpilot_launcher_main", BGW_MAXLEN);
	strlcpy(bgw.bgw_name, "indexpilot launcher", BGW_MAXLEN);
	strlcpy(bgw.bgw_type, "indexpilot launcher", BGW_MAXLEN);
	RegisterBackgroundWorker(&bgw);
}

/* Databases that allow connections and are not templates, copied into the current memory context. */
static List *
ListDatabases()
{
	MemoryContext resultContext = CurrentMemoryContext;
	List *result = NIL;

	StartTransactionCommand();
	Relation rel = table_open(DatabaseRelationId, AccessShareLock);
	TableScanDesc scan = table_beginscan_catalog(rel, 0, nullptr);
	HeapTuple tuple;
	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != nullptr) {
		auto *db = reinterpret_cast<Form_pg_database>(GETSTRUCT(tuple));
		if (!db->datallowconn || db->datistemplate)
			continue;
		MemoryContext old = MemoryContextSwitchTo(resultContext);
		auto *info = static_cast<DatabaseInfo *>(palloc(sizeof(DatabaseInfo)));
		info->oid = db->oid;
		strlcpy(info->name, NameStr(db->datname), NAMEDATALEN);
		result = lappend(result, info);
		MemoryContextSwitchTo(old);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	return result;
}

/* Names from indexpilot.databases, or NIL for "all". */
static List *
ConfiguredDatabaseNames()
{
	if (g_databases == nullptr || g_databases[0] == '\0')
		return NIL;
	char *copy = pstrdup(g_databases);
	List *names = NIL;
	(void)SplitIdentifierString(copy, ',', &names); /* validated by CheckDatabases */
	return names;
}

static bool
NameListed(List *names, const char *name)
{
	ListCell *lc;
	foreach (lc, names) {
		if (strcmp(static_cast<const char *>(lfirst(lc)), name) == 0)
			return true;
	}
	return false;
}

static bool
HasLiveWorker(Oid dboid)
{
	bool found = false;
	LWLockAcquire(g_registry->lock, LW_SHARED);
	for (int i = 0; i < g_registry->nslots && !found; i++)
		found = g_registry->slots[i].dboid == dboid && g_registry->slots[i].pid != 0;
	LWLockRelease(g_registry->lock);
	return found;
}

static void
StartWorker(const DatabaseInfo *db, LaunchedDb *entry, TimestampTz now)
{
	BackgroundWorker bgw;
	memset(&bgw, 0, sizeof(bgw));
	bgw.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	bgw.bgw_start_time = BgWorkerStart_RecoveryFinished;
	bgw.bgw_restart_time = BGW_NEVER_RESTART; /* the launcher restarts it */
	strlcpy(bgw.bgw_library_name, "indexpilot", BGW_MAXLEN);
	strlcpy(bgw.bgw_function_name, "indexpilot_worker_main", BGW_MAXLEN);
	snprintf(bgw.bgw_name, BGW_MAXLEN, "indexpilot worker for database %s", db->name);
	strlcpy(bgw.bgw_type, "indexpilot worker", BGW_MAXLEN);
	bgw.bgw_main_arg = ObjectIdGetDatum(db->oid);
	bgw.bgw_notify_pid = MyProcPid;

	entry->last_start = now;
	if (entry->handle != nullptr) {
		pfree(entry->handle);
		entry->handle = nullptr;
	}
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
	bool registered = RegisterDynamicBackgroundWorker(&bgw, &entry->handle);
	MemoryContextSwitchTo(old);
	if (!registered) {
		entry->handle = nullptr;
		ereport(WARNING, (errmsg("indexpilot launcher could not start a worker for database \"%s\"", db->name),
						  errhint("Raise max_worker_processes; each served database needs one worker.")));
		return;
	}
	LWLockAcquire(g_registry->lock, LW_EXCLUSIVE);
	g_registry->workers_started++;
	LWLockRelease(g_registry->lock);
}

/* One launcher cycle: start a worker for every listed database that has none. */
static void
LaunchWorkers()
{
	List *databases = ListDatabases();
	List *wanted = ConfiguredDatabaseNames();
	TimestampTz now = GetCurrentTimestamp();
	ListCell *lc;

	foreach (lc, databases) {
		auto *db = static_cast<DatabaseInfo *>(lfirst(lc));
		if (wanted != NIL && !NameListed(wanted, db->name))
			continue;

		bool found = false;
		auto *entry = static_cast<LaunchedDb *>(hash_search(s_launched, &db->oid, HASH_ENTER, &found));
		if (!found) {
			entry->handle = nullptr;
			entry->last_start = 0;
		}
		if (entry->handle != nullptr) {
			pid_t pid;
			BgwHandleStatus status = GetBackgroundWorkerPid(entry->handle, &pid);
			if (status == BGWH_NOT_YET_STARTED || status == BGWH_STARTED)
				continue;
		}
		if (HasLiveWorker(db->oid))
			continue;
		if (entry->last_start != 0 && !TimestampDifferenceExceeds(entry->last_start, now, g_naptime_ms))
			continue;
		StartWorker(db, entry, now);
	}
}

static void
ClearLauncherPid(int, Datum)
{
	if (g_registry == nullptr)
		return;
	LWLockAcquire(g_registry->lock, LW_EXCLUSIVE);
	if (g_registry->launcher_pid == MyProcPid)
		g_registry->launcher_pid = 0;
	LWLockRelease(g_registry->lock);
}

static void
LauncherMain()
{
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(nullptr, nullptr, 0);
	pgstat_report_appname("indexpilot launcher");

	WorkerRegistry *shared = RequireRegistry("the indexpilot launcher");
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	shared->launcher_pid = MyProcPid;
	shared->launcher_started_at = GetCurrentTimestamp();
	shared->launcher_loops = 0;
	LWLockRelease(shared->lock);
	before_shmem_exit(ClearLauncherPid, 0);

	HASHCTL ctl;
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(LaunchedDb);
	s_launched = hash_create("indexpilot launched databases", 64, &ctl, HASH_ELEM | HASH_BLOBS);

	MemoryContext loopContext =
		AllocSetContextCreate(TopMemoryContext, "indexpilot launcher loop", ALLOCSET_DEFAULT_SIZES);
	ereport(LOG, (errmsg("indexpilot launcher started"), errdetail("naptime is %d ms", g_naptime_ms)));

	for (;;) {
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending) {
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		MemoryContextReset(loopContext);
		MemoryContext old = MemoryContextSwitchTo(loopContext);
		pgstat_report_activity(STATE_RUNNING, "launching workers");
		LaunchWorkers();
		pgstat_report_activity(STATE_IDLE, nullptr);
		MemoryContextSwitchTo(old);

		LWLockAcquire(shared->lock, LW_SHARED);
		shared->launcher_last_activity = GetCurrentTimestamp();
		shared->launcher_loops++;
		LWLockRelease(shared->lock);

		(void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, g_naptime_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

} // namespace indexpilot::worker

/* Background worker entry point: the launcher. */
INDEXPILOT_WORKER_MAIN(indexpilot_launcher_main)
{
	indexpilot::worker::LauncherMain();
}
