/*
 * worker/db_worker.cpp — the worker that serves one database.
 *
 * Started by the launcher with the database OID as its argument. It claims a slot in the shared registry
 * (one worker per database), exits at once where the extension is not installed, and otherwise runs its
 * cycle every indexpilot.naptime until SIGTERM or until the extension is dropped. A cycle loads this
 * database's persisted switches and, while the background_worker module is on, records the lineage of
 * abandoned builds and drops the INVALID indexes they left, flushes the capture store every
 * indexpilot.flush_interval and runs the cost model every indexpilot.advise_interval, the flush and the
 * cost model each in a transaction of its own (in auto mode a build is reserved and launched when the
 * transaction that proposed it commits); then it stamps its slot (last_activity, loops).
 */
#include "indexpilot/worker/worker.hpp"

#include "indexpilot/control/bypass.hpp"
#include "indexpilot/control/control.hpp"
#include "indexpilot/advisor/advisor.hpp"
#include "indexpilot/capture/hooks.hpp"
#include "indexpilot/pg/guard.hpp"
#include "indexpilot/pg/spi.hpp"
#include "indexpilot/worker/builder.hpp"
#include "indexpilot/worker/lifecycle.hpp"
#include "indexpilot/worker/cycle.hpp"
#include "indexpilot/worker/flush.hpp"
#include "indexpilot/worker/registry.hpp"

extern "C" {
#include "access/xact.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/timestamp.h"
}

namespace indexpilot::worker
{

static int s_slot = -1;
static TimestampTz s_last_flush = 0;
static TimestampTz s_last_advise = 0;
static int s_chosen_left = 0; /* chosen indexes the last cost model run left to build, after starting one */
static char s_dbname[NAMEDATALEN];

/* Claims a free slot for dboid; false if another worker already serves it or all slots are taken. */
static bool
ClaimSlot(Oid dboid, bool *duplicate)
{
	int free_slot = -1;
	*duplicate = false;
	LWLockAcquire(g_registry->lock, LW_EXCLUSIVE);
	for (int i = 0; i < g_registry->nslots; i++) {
		WorkerSlot &slot = g_registry->slots[i];
		if (slot.dboid == dboid)
			*duplicate = true;
		else if (slot.dboid == InvalidOid && free_slot < 0)
			free_slot = i;
	}
	if (!*duplicate && free_slot >= 0) {
		WorkerSlot &slot = g_registry->slots[free_slot];
		slot.dboid = dboid;
		slot.pid = MyProcPid;
		slot.started_at = GetCurrentTimestamp();
		slot.last_activity = slot.started_at;
		slot.loops = 0;
		s_slot = free_slot;
	}
	LWLockRelease(g_registry->lock);
	return s_slot >= 0;
}

static void
ReleaseSlot(int, Datum)
{
	if (s_slot < 0 || g_registry == nullptr)
		return;
	LWLockAcquire(g_registry->lock, LW_EXCLUSIVE);
	memset(&g_registry->slots[s_slot], 0, sizeof(WorkerSlot));
	LWLockRelease(g_registry->lock);
	s_slot = -1;
}

static bool
ExtensionInstalled()
{
	StartTransactionCommand();
	bool installed = OidIsValid(get_extension_oid("indexpilot", true));
	CommitTransactionCommand();
	return installed;
}

/* Catalog lookups need a transaction: the name is read once and kept for log messages. */
static void
RememberDatabaseName(Oid dboid)
{
	StartTransactionCommand();
	char *name = get_database_name(dboid);
	strlcpy(s_dbname, name ? name : "?", NAMEDATALEN);
	CommitTransactionCommand();
}

/*
 * The C++ part of a cycle. Returns false, with the message, when it failed: the caller aborts the
 * transaction. A build the advisor chose is reserved here and launched when the caller commits.
 */
static bool
AdvisorCycle(bool flush, bool advise, pg::detail::PendingError *error, int *chosen_left) noexcept
{
	try {
		// Chosen indexes left to build after this run, counted only when it started one (progress): a
		// choice that cannot start must not make the worker re-run the model at every naptime.
		*chosen_left = 0;
		bool started = false;
		for (const advisor::Recommendation &rec : RunCycle(CycleSteps{flush, advise, true})) {
			if (rec.action == "build_started" || rec.action == "build_at_commit")
				started = true;
			else if (!rec.exists && rec.evaluation.verdict == core::Verdict::Chosen && rec.retry_after.empty() &&
					 rec.reverted_until.empty())
				(*chosen_left)++;
		}
		if (!started)
			*chosen_left = 0;
		return true;
	} catch (...) {
		pg::detail::CaptureCurrentException(error);
	}
	pg::detail::Flatten(error); /* its memory goes with the transaction the caller aborts */
	return false;
}

/*
 * Runs part of a cycle in a transaction of its own; a failure rolls it back (a flush's shapes go back) and
 * is logged as a WARNING with its SQLSTATE, detail and hint.
 */
static void
CycleTransaction(const char *activity, bool flush, bool advise, int *chosen_left = nullptr)
{
	pg::BeginWork(activity);
	pg::detail::PendingError error;
	int left = 0;
	if (chosen_left != nullptr)
		*chosen_left = 0;
	if (AdvisorCycle(flush, advise, &error, &left)) {
		pg::EndWork();
		if (chosen_left != nullptr)
			*chosen_left = left;
		return;
	}
	AbortCurrentTransaction();
	pg::AbandonWork();
	ereport(WARNING, (errcode(error.sqlerrcode),
					  errmsg("indexpilot worker for database \"%s\": cycle failed: %s", s_dbname, error.message),
					  error.detail[0] ? errdetail_internal("%s", error.detail) : 0,
					  error.hint[0] ? errhint("%s", error.hint) : 0));
}

/* One cycle's work: clean up after interrupted builds, flush when due, run the cost model when due. */
static void
WorkCycle()
{
	if (!control::ModuleEnabled(control::Module::BackgroundWorker))
		return;
	CleanupInvalidIndexes();
	TimestampTz now = GetCurrentTimestamp();
	bool flush = TimestampDifferenceExceeds(s_last_flush, now, FlushIntervalMs());
	// Builds proceed in order of value until the chosen set exists: while the last run left chosen
	// indexes unbuilt, the next run comes as soon as the build in progress ends, not an interval later.
	bool advise = advisor::CurrentMode() != advisor::Mode::Off && control::FeatureEnabled(control::Feature::Advising) &&
				  (TimestampDifferenceExceeds(s_last_advise, now, advisor::AdviseIntervalMs()) ||
				   (s_chosen_left > 0 && advisor::CurrentMode() == advisor::Mode::Auto)) &&
				  !BuildRunning(MyDatabaseId);
	// The flush commits on its own: a cost model run that fails must not hold the statistics back.
	if (flush) {
		CycleTransaction("indexpilot: flush", true, false);
		// With the statistics just stored: validate, revert, retire what IndexPilot built.
		LookAfterIndexes();
	}
	if (advise)
		CycleTransaction("indexpilot: cost model", false, true, &s_chosen_left);
	if (flush)
		s_last_flush = now;
	if (advise)
		s_last_advise = now;
}

static void
WorkerMain(Oid dboid)
{
	capture::ExcludeThisProcess(); /* its flushes and costing are not the workload */
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	pgstat_report_appname("indexpilot worker");
	pg::PinWorkerSession(g_worker_statement_timeout_ms, g_worker_lock_timeout_ms);
	RememberDatabaseName(dboid);

	RequireRegistry("the indexpilot worker");
	bool duplicate = false;
	if (!ClaimSlot(dboid, &duplicate)) {
		if (!duplicate)
			ereport(LOG, (errmsg("indexpilot worker for database \"%s\" found no free slot", s_dbname),
						  errhint("Raise indexpilot.max_workers (now %d).", g_max_workers)));
		proc_exit(0);
	}
	before_shmem_exit(ReleaseSlot, 0);

	if (!ExtensionInstalled())
		proc_exit(0); /* nothing to serve here; the launcher looks again after a naptime */

	ereport(LOG, (errmsg("indexpilot worker started for database \"%s\"", s_dbname)));
	// The first flush and the first cost model run come one interval after start, with something to see.
	s_last_flush = s_last_advise = GetCurrentTimestamp();
	control::ReloadConfig(); // publish the config file and GUCs as they are now

	for (;;) {
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending) {
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			pg::PinWorkerSession(g_worker_statement_timeout_ms, g_worker_lock_timeout_ms);
			control::ReloadConfig();
			ereport(LOG, (errmsg("indexpilot worker for database \"%s\" reloaded its configuration", s_dbname),
						  errdetail("naptime is %d ms", g_naptime_ms)));
		}

		pgstat_report_activity(STATE_RUNNING, "indexpilot cycle");
		if (!ExtensionInstalled()) {
			ereport(LOG, (errmsg("indexpilot worker for database \"%s\" exits: the extension was dropped", s_dbname)));
			proc_exit(0);
		}
		control::WorkerCycle(); // persisted switches of this database, periodic status line
		WorkCycle();
		// The cycle's work (later modules) runs only while the system and this module are on; else it idles.
		pgstat_report_activity(STATE_IDLE, control::ModuleEnabled(control::Module::BackgroundWorker)
											   ? nullptr
											   : "idle: background_worker module or system switched off");

		LWLockAcquire(g_registry->lock, LW_SHARED);
		g_registry->slots[s_slot].last_activity = GetCurrentTimestamp();
		g_registry->slots[s_slot].loops++;
		LWLockRelease(g_registry->lock);

		(void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, g_naptime_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

} // namespace indexpilot::worker

/* Background worker entry point: one database's worker. */
INDEXPILOT_WORKER_MAIN(indexpilot_worker_main)
{
	indexpilot::worker::WorkerMain(DatumGetObjectId(arg));
}
