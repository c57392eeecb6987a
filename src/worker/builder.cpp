/*
 * worker/builder.cpp — the index builder (see worker/builder.hpp).
 *
 * A builder takes a session-level advisory lock on its table (so two builds never race on one table, even
 * from two clusters' worth of workers), checks again that no index of that name or with the same leading
 * columns appeared, records index_build_started, and runs the statement at top level with
 * indexpilot.build_lock_timeout and indexpilot.build_statement_timeout. Success records
 * index_build_finished with the index's size and the time taken; failure records index_build_failed with
 * the error and drops the INVALID index the failed CREATE INDEX CONCURRENTLY leaves behind
 * (index_dropped). A builder killed before it can clean up leaves its INVALID index to
 * CleanupInvalidIndexes, which the database worker runs every cycle.
 */
#include "indexpilot/worker/builder.hpp"

#include "indexpilot/pg/guard.hpp"
#include "indexpilot/pg/spi.hpp"
#include "indexpilot/shmem.hpp"
#include "indexpilot/worker/worker.hpp"

extern "C" {
#include "access/xact.h"
#include "executor/spi.h"
#include "parser/analyze.h"
#include "storage/shmem.h"
#include "utils/json.h"
#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/portal.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"
}

namespace indexpilot::worker
{

enum class BuildState : int { Free = 0, Starting = 1, Running = 2 };

struct BuildSlot {
	Oid dboid;
	Oid relid;
	int state;
	int pid;
	int64 proposal_id;
	TimestampTz started_at;
	char index_name[NAMEDATALEN];
	char ddl[kMaxDdlBytes];
};

struct BuilderShared {
	LWLock *lock;
	int nslots;
	BuildSlot slots[FLEXIBLE_ARRAY_MEMBER];
};

static BuilderShared *s_builder = nullptr;
static int s_build_lock_timeout_ms = 5000;
static int s_build_statement_timeout_ms = 3600 * 1000;
static int s_my_slot = -1;

void
DefineBuilderGucs()
{
	DefineCustomIntVariable("indexpilot.build_lock_timeout",
							"lock_timeout of IndexPilot's index builds: how long a build may wait for a lock.", nullptr,
							&s_build_lock_timeout_ms, 5000, 1, INT_MAX, PGC_SIGHUP, GUC_UNIT_MS, nullptr, nullptr,
							nullptr);
	DefineCustomIntVariable("indexpilot.build_statement_timeout", "statement_timeout of IndexPilot's index builds.",
							nullptr, &s_build_statement_timeout_ms, 3600 * 1000, 1, INT_MAX, PGC_SIGHUP, GUC_UNIT_MS,
							nullptr, nullptr, nullptr);
}

static Size
BuilderSize()
{
	return add_size(offsetof(BuilderShared, slots), mul_size(sizeof(BuildSlot), g_max_workers));
}

static void
BuilderInit(LWLockPadded *locks)
{
	bool found = false;
	auto *state = static_cast<BuilderShared *>(ShmemInitStruct("indexpilot builds", BuilderSize(), &found));
	if (!found) {
		memset(state, 0, BuilderSize());
		state->lock = &locks[0].lock;
		state->nslots = g_max_workers;
	}
	s_builder = state;
}

void
RequestBuilder()
{
	ShmemAddPart(ShmemPart{"indexpilot builds", BuilderSize, 1, BuilderInit});
}

int
BuildSnapshot(BuildInfo *out, int max)
{
	if (s_builder == nullptr)
		return 0;
	int n = 0;
	LWLockAcquire(s_builder->lock, LW_SHARED);
	for (int i = 0; i < s_builder->nslots && n < max; i++) {
		const BuildSlot &slot = s_builder->slots[i];
		if (slot.state == static_cast<int>(BuildState::Free))
			continue;
		out[n].dboid = slot.dboid;
		out[n].pid = slot.pid;
		out[n].started_at = slot.started_at;
		strlcpy(out[n].index_name, slot.index_name, NAMEDATALEN);
		n++;
	}
	LWLockRelease(s_builder->lock);
	return n;
}

bool
BuildRunning(Oid dboid)
{
	if (s_builder == nullptr)
		return false;
	bool running = false;
	LWLockAcquire(s_builder->lock, LW_SHARED);
	for (int i = 0; i < s_builder->nslots && !running; i++)
		running = s_builder->slots[i].state != static_cast<int>(BuildState::Free) && s_builder->slots[i].dboid == dboid;
	LWLockRelease(s_builder->lock);
	return running;
}

static bool
BuildRunningFor(Oid dboid, const char *index_name)
{
	bool running = false;
	LWLockAcquire(s_builder->lock, LW_SHARED);
	for (int i = 0; i < s_builder->nslots && !running; i++) {
		const BuildSlot &slot = s_builder->slots[i];
		running = slot.state != static_cast<int>(BuildState::Free) && slot.dboid == dboid &&
				  strcmp(slot.index_name, index_name) == 0;
	}
	LWLockRelease(s_builder->lock);
	return running;
}

bool
StartBuild(Oid dboid, Oid relid, const char *index_name, const char *ddl, int64 proposal_id, const char **why)
{
	if (s_builder == nullptr) {
		*why = "indexpilot is not loaded via shared_preload_libraries";
		return false;
	}
	if (strlen(ddl) >= kMaxDdlBytes) {
		*why = "the index definition is too long";
		return false;
	}
	int slot_index = -1;
	LWLockAcquire(s_builder->lock, LW_EXCLUSIVE);
	for (int i = 0; i < s_builder->nslots; i++) {
		const BuildSlot &slot = s_builder->slots[i];
		if (slot.state != static_cast<int>(BuildState::Free) && slot.dboid == dboid) {
			LWLockRelease(s_builder->lock);
			*why = "a build is already running in this database";
			return false;
		}
		if (slot.state == static_cast<int>(BuildState::Free) && slot_index < 0)
			slot_index = i;
	}
	if (slot_index < 0) {
		LWLockRelease(s_builder->lock);
		*why = "no free build slot (raise indexpilot.max_workers)";
		return false;
	}
	BuildSlot &slot = s_builder->slots[slot_index];
	memset(&slot, 0, sizeof(slot));
	slot.dboid = dboid;
	slot.relid = relid;
	slot.state = static_cast<int>(BuildState::Starting);
	slot.proposal_id = proposal_id;
	slot.started_at = GetCurrentTimestamp();
	strlcpy(slot.index_name, index_name, NAMEDATALEN);
	strlcpy(slot.ddl, ddl, kMaxDdlBytes);
	LWLockRelease(s_builder->lock);

	BackgroundWorker bgw;
	memset(&bgw, 0, sizeof(bgw));
	bgw.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	bgw.bgw_start_time = BgWorkerStart_RecoveryFinished;
	bgw.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(bgw.bgw_library_name, "indexpilot", BGW_MAXLEN);
	strlcpy(bgw.bgw_function_name, "indexpilot_builder_main", BGW_MAXLEN);
	snprintf(bgw.bgw_name, BGW_MAXLEN, "indexpilot builder for %s", index_name);
	strlcpy(bgw.bgw_type, "indexpilot builder", BGW_MAXLEN);
	bgw.bgw_main_arg = Int32GetDatum(slot_index);
	bgw.bgw_notify_pid = 0;
	if (!RegisterDynamicBackgroundWorker(&bgw, nullptr)) {
		LWLockAcquire(s_builder->lock, LW_EXCLUSIVE);
		memset(&slot, 0, sizeof(slot));
		LWLockRelease(s_builder->lock);
		*why = "no background worker slot is free (raise max_worker_processes)";
		return false;
	}
	return true;
}

void
ExecuteTopLevel(const char *sql)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	MemoryContext context =
		AllocSetContextCreate(TopMemoryContext, "indexpilot top-level statement", ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(context);
	List *parsetrees = pg_parse_query(sql);
	if (list_length(parsetrees) != 1)
		elog(ERROR, "indexpilot: expected exactly one statement: %s", sql);
	auto *parsetree = static_cast<RawStmt *>(linitial(parsetrees));
	bool snapshot = analyze_requires_snapshot(parsetree);
	if (snapshot)
		PushActiveSnapshot(GetTransactionSnapshot());
#if PG_VERSION_NUM >= 150000
	List *queries = pg_analyze_and_rewrite_fixedparams(parsetree, sql, nullptr, 0, nullptr);
#else
	List *queries = pg_analyze_and_rewrite(parsetree, sql, nullptr, 0, nullptr);
#endif
	List *plans = pg_plan_queries(queries, sql, CURSOR_OPT_PARALLEL_OK, nullptr);
	if (snapshot)
		PopActiveSnapshot();

	Portal portal = CreatePortal("indexpilot", true, true);
	portal->visible = false;
	PortalDefineQuery(portal, nullptr, sql, CreateCommandTag(parsetree->stmt), plans, nullptr);
	PortalStart(portal, nullptr, 0, InvalidSnapshot);
	DestReceiver *receiver = CreateDestReceiver(DestNone);
	QueryCompletion qc;
	InitializeQueryCompletion(&qc);
	// isTopLevel = true: CREATE INDEX CONCURRENTLY commits and starts transactions itself, as for a client.
	(void)PortalRun(portal, FETCH_ALL, true, true, receiver, receiver, &qc);
	receiver->rDestroy(receiver);
	PortalDrop(portal, false);
	MemoryContextSwitchTo(old);
	CommitTransactionCommand();
	MemoryContextDelete(context);
}

/* The table's qualified name for messages and lineage. Needs SPI connected. */
static char *
QualifiedTable(Oid relid)
{
	char oid_text[16];
	snprintf(oid_text, sizeof(oid_text), "%u", relid);
	const char *args[1] = {oid_text};
	return pg::SpiText("SELECT indexpilot._qualified_name($1::oid)", 1, args);
}

static char *
QualifiedIndex(Oid relid, const char *index_name)
{
	char oid_text[16];
	snprintf(oid_text, sizeof(oid_text), "%u", relid);
	const char *args[2] = {oid_text, index_name};
	return pg::SpiText("SELECT format('%I.%I', n.nspname, $2) FROM pg_catalog.pg_class c "
					   "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::oid",
					   2, args);
}

int
CleanupInvalidIndexes()
{
	pg::BeginWork("indexpilot: looking for interrupted builds");
	uint64 n = pg::SpiExec("SELECT format('%I.%I', n.nspname, c.relname), c.relname, indexpilot._qualified_name(t.oid) "
						   "FROM pg_catalog.pg_index i "
						   "JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid "
						   "JOIN pg_catalog.pg_class t ON t.oid = i.indrelid "
						   "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
						   "WHERE NOT i.indisvalid AND c.relname LIKE 'indexpilot\\_%'");
	struct Leftover {
		char qualified[2 * NAMEDATALEN + 8];
		char name[NAMEDATALEN];
		char table[2 * NAMEDATALEN + 8];
	};
	auto *leftovers = static_cast<Leftover *>(MemoryContextAllocZero(TopMemoryContext, sizeof(Leftover) * Max(n, 1)));
	int count = 0;
	for (uint64 i = 0; i < n; i++) {
		HeapTuple row = SPI_tuptable->vals[i];
		TupleDesc desc = SPI_tuptable->tupdesc;
		const char *name = SPI_getvalue(row, desc, 2);
		if (BuildRunningFor(MyDatabaseId, name))
			continue;
		strlcpy(leftovers[count].qualified, SPI_getvalue(row, desc, 1), sizeof(leftovers[count].qualified));
		strlcpy(leftovers[count].name, name, NAMEDATALEN);
		strlcpy(leftovers[count].table, SPI_getvalue(row, desc, 3), sizeof(leftovers[count].table));
		count++;
	}
	pg::EndWork();

	for (int i = 0; i < count; i++) {
		char sql[3 * NAMEDATALEN + 64];
		snprintf(sql, sizeof(sql), "DROP INDEX CONCURRENTLY IF EXISTS %s", leftovers[i].qualified);
		ExecuteTopLevel(sql);
		pg::BeginWork("indexpilot: recording cleanup");
		pg::LogMutation("index_dropped", leftovers[i].table, nullptr, leftovers[i].name, nullptr,
						"{\"reason\": \"left INVALID by an interrupted build\"}", 0);
		pg::EndWork();
		ereport(LOG,
				(errmsg("indexpilot dropped INVALID index %s left by an interrupted build", leftovers[i].qualified)));
	}
	pfree(leftovers);
	return count;
}

static void
ReleaseSlot(int, Datum)
{
	if (s_builder == nullptr || s_my_slot < 0)
		return;
	LWLockAcquire(s_builder->lock, LW_EXCLUSIVE);
	memset(&s_builder->slots[s_my_slot], 0, sizeof(BuildSlot));
	LWLockRelease(s_builder->lock);
	s_my_slot = -1;
}

/* A JSON string literal for `text` (palloc'd). */
static char *
JsonString(const char *text)
{
	StringInfoData buf;
	initStringInfo(&buf);
	escape_json(&buf, text);
	return buf.data;
}

static void
BuilderMain(int slot_index)
{
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	if (s_builder == nullptr || slot_index < 0 || slot_index >= s_builder->nslots)
		proc_exit(1);
	BuildSlot job;
	LWLockAcquire(s_builder->lock, LW_EXCLUSIVE);
	BuildSlot &slot = s_builder->slots[slot_index];
	slot.pid = MyProcPid;
	slot.state = static_cast<int>(BuildState::Running);
	job = slot;
	LWLockRelease(s_builder->lock);
	s_my_slot = slot_index;
	before_shmem_exit(ReleaseSlot, 0);

	BackgroundWorkerInitializeConnectionByOid(job.dboid, InvalidOid, 0);
	pgstat_report_appname("indexpilot builder");
	pg::PinWorkerSession(g_worker_statement_timeout_ms, g_worker_lock_timeout_ms);

	// 1. Lock the table for builds, check again, record the start.
	pg::BeginWork("indexpilot: preparing an index build");
	char relid_text[16];
	snprintf(relid_text, sizeof(relid_text), "%u", job.relid);
	const char *lock_args[1] = {relid_text};
	bool locked =
		pg::SpiInt64("SELECT pg_catalog.pg_try_advisory_lock(1768189248, $1::oid::int)::int", 1, lock_args) == 1;
	// Copied out of SPI's memory, which EndWork frees: both are used across transactions below.
	char table[3 * NAMEDATALEN];
	char qualified_index[3 * NAMEDATALEN];
	char *table_text = QualifiedTable(job.relid);
	char *index_text = QualifiedIndex(job.relid, job.index_name);
	if (table_text == nullptr || index_text == nullptr) { /* the table was dropped since the decision */
		pg::EndWork();
		proc_exit(0);
	}
	strlcpy(table, table_text, sizeof(table));
	strlcpy(qualified_index, index_text, sizeof(qualified_index));
	const char *exists_args[2] = {relid_text, job.index_name};
	bool exists = pg::SpiInt64("SELECT count(*) FROM pg_catalog.pg_class c, pg_catalog.pg_class t "
							   "WHERE t.oid = $1::oid AND c.relname = $2 AND c.relnamespace = t.relnamespace",
							   2, exists_args) > 0;
	int64 started_id = 0;
	if (!locked || exists) {
		char details[256];
		snprintf(details, sizeof(details), "{\"reason\": %s}",
				 JsonString(!locked ? "another build holds the table" : "an index of that name exists already"));
		pg::LogMutation("index_skipped", table, nullptr, job.index_name, nullptr, details, job.proposal_id);
		pg::EndWork();
		proc_exit(0);
	}
	{
		StringInfoData details;
		initStringInfo(&details);
		appendStringInfo(&details, "{\"statement\": %s, \"lock_timeout_ms\": %d, \"statement_timeout_ms\": %d}",
						 JsonString(job.ddl), s_build_lock_timeout_ms, s_build_statement_timeout_ms);
		started_id = pg::LogMutation("index_build_started", table, nullptr, job.index_name, nullptr, details.data,
									 job.proposal_id);
	}
	pg::EndWork();

	// 2. Build, at top level, with the build timeouts.
	char value[32];
	snprintf(value, sizeof(value), "%d", s_build_lock_timeout_ms);
	SetConfigOption("lock_timeout", value, PGC_SUSET, PGC_S_SESSION);
	snprintf(value, sizeof(value), "%d", s_build_statement_timeout_ms);
	SetConfigOption("statement_timeout", value, PGC_SUSET, PGC_S_SESSION);
	pgstat_report_activity(STATE_RUNNING, job.ddl);
	TimestampTz t0 = GetCurrentTimestamp();
	char error[1024] = "";
	MemoryContext context = CurrentMemoryContext;
	PG_TRY();
	{
		// postgres.c arms statement_timeout for each client statement; outside it, nothing does: arm it here.
		enable_timeout_after(STATEMENT_TIMEOUT, s_build_statement_timeout_ms);
		ExecuteTopLevel(job.ddl);
		disable_timeout(STATEMENT_TIMEOUT, false);
	}
	PG_CATCH();
	{
		// Like a backend's error recovery: report, abort the transaction CIC had open, go on.
		HOLD_INTERRUPTS();
		MemoryContextSwitchTo(context);
		ErrorData *edata = CopyErrorData();
		strlcpy(error, edata->message ? edata->message : "unknown error", sizeof(error));
		FlushErrorState();
		disable_all_timeouts(false);
		QueryCancelPending = false;
		AbortOutOfAnyTransaction();
		RESUME_INTERRUPTS();
	}
	PG_END_TRY();
	SetConfigOption("statement_timeout", "0", PGC_SUSET, PGC_S_SESSION);
	double seconds = static_cast<double>(GetCurrentTimestamp() - t0) / 1e6;

	// 3. Record the outcome; a failed build leaves an INVALID index: drop it.
	if (error[0] == '\0') {
		pg::BeginWork("indexpilot: recording a finished build");
		const char *args[1] = {qualified_index};
		int64 bytes = pg::SpiInt64("SELECT pg_catalog.pg_relation_size($1::regclass)", 1, args);
		char details[256];
		snprintf(details, sizeof(details), "{\"seconds\": %.3f, \"bytes\": " INT64_FORMAT "}", seconds, bytes);
		pg::LogMutation("index_build_finished", table, nullptr, job.index_name, nullptr, details, started_id);
		pg::EndWork();
		ereport(LOG, (errmsg("indexpilot built index %s in %.1f s", qualified_index, seconds)));
		proc_exit(0);
	}
	ereport(LOG, (errmsg("indexpilot could not build index %s: %s", qualified_index, error)));
	pg::BeginWork("indexpilot: recording a failed build");
	StringInfoData details;
	initStringInfo(&details);
	appendStringInfo(&details, "{\"error\": %s, \"seconds\": %.3f}", JsonString(error), seconds);
	int64 failed_id =
		pg::LogMutation("index_build_failed", table, nullptr, job.index_name, nullptr, details.data, started_id);
	const char *args[1] = {qualified_index};
	bool invalid_left =
		pg::SpiInt64("SELECT count(*) FROM pg_catalog.pg_class WHERE oid = pg_catalog.to_regclass($1)", 1, args) > 0;
	pg::EndWork();
	if (invalid_left) {
		char sql[3 * NAMEDATALEN + 64];
		snprintf(sql, sizeof(sql), "DROP INDEX CONCURRENTLY IF EXISTS %s", qualified_index);
		ExecuteTopLevel(sql);
		pg::BeginWork("indexpilot: recording cleanup");
		pg::LogMutation("index_dropped", table, nullptr, job.index_name, nullptr,
						"{\"reason\": \"INVALID after a failed build\"}", failed_id);
		pg::EndWork();
	}
	proc_exit(0);
}

} // namespace indexpilot::worker

/* Background worker entry point: one index build. */
extern "C" void
indexpilot_builder_main(Datum arg)
{
	indexpilot::pg::Entry([arg] { indexpilot::worker::BuilderMain(DatumGetInt32(arg)); });
}
