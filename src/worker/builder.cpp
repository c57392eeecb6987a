/*
 * worker/builder.cpp — the index builder (see worker/builder.hpp).
 *
 * A build is reserved by the transaction that proposed it (StartBuildAtCommit) and its builder is
 * launched only when that transaction commits (a transaction callback; an abort releases the slot). The
 * builder takes a session-level advisory lock on its table (so two builds never race on one table), checks
 * again that no index of that name appeared, and runs the statement at top level with
 * indexpilot.build_lock_timeout and indexpilot.build_statement_timeout. index_build_started is written in
 * the transaction of CREATE INDEX CONCURRENTLY that creates the (still INVALID) index, with the index's OID
 * (captured by an object-access hook), so the catalog entry and its lineage row commit together. Success
 * records index_build_finished, failure index_build_failed (both with the OID), and a failed build's INVALID
 * index is dropped (index_dropped). A builder killed before its outcome gets index_build_abandoned from the
 * database worker's next cycle (CleanupInvalidIndexes), which also drops the INVALID indexes whose OIDs
 * IndexPilot's own index_build_started rows recorded — never anything else. Every statement the builder
 * and the cleanup run has a lock_timeout and a statement_timeout.
 */
#include "indexpilot/worker/builder.hpp"

#include "indexpilot/pg/guard.hpp"
#include "indexpilot/pg/spi.hpp"
#include "indexpilot/pg/shmem.hpp"
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
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/portal.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_class.h"
}

namespace indexpilot::worker
{

/* Reserved: claimed by a transaction that has not committed yet; Starting: launched; Running: connected. */
/*
 * The first key of the session-level advisory lock a builder holds on its table (the second is the table's
 * OID), so two builds never race on one table: an arbitrary constant, IndexPilot's own.
 */
#define INDEXPILOT_BUILD_LOCK_KEY "1768189248"

enum class BuildState : int { Free = 0, Reserved = 1, Starting = 2, Running = 3 };

struct BuildSlot {
	Oid dboid;
	Oid relid;
	int state;
	int pid;
	int64 proposal_id;
	int64 started_id; /* its index_build_started row, once written (0 before) */
	Oid index_oid;    /* the index CREATE INDEX CONCURRENTLY made, once it exists */
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
static int s_retry_backoff_s = 300;
static int s_retry_backoff_max_s = 86400;
static int s_my_slot = -1;

/* statement_timeout of the builder's and the cleanup's bookkeeping transactions (at most the build's). */
static constexpr int kBookkeepingTimeoutMs = 60 * 1000;

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
	// Read by the advisor through current_setting() (advisor::NoteBackoff), so it never calls into worker/.
	DefineCustomIntVariable("indexpilot.build_retry_backoff",
							"Wait before retrying an index build that failed; doubled after each further failure.",
							nullptr, &s_retry_backoff_s, 300, 1, 30 * 86400, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr,
							nullptr);
	DefineCustomIntVariable("indexpilot.build_retry_backoff_max", "The longest wait before retrying a failed build.",
							nullptr, &s_retry_backoff_max_s, 86400, 1, 30 * 86400, PGC_SIGHUP, GUC_UNIT_S, nullptr,
							nullptr, nullptr);
}

static int
BookkeepingTimeoutMs()
{
	return Min(kBookkeepingTimeoutMs, s_build_statement_timeout_ms);
}

/* A bookkeeping transaction: pg::BeginWork with statement_timeout armed (nothing arms it in a worker). */
static void
BeginBookkeeping(const char *activity)
{
	pg::BeginWork(activity);
	enable_timeout_after(STATEMENT_TIMEOUT, BookkeepingTimeoutMs());
}

static void
EndBookkeeping()
{
	disable_timeout(STATEMENT_TIMEOUT, false);
	pg::EndWork();
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
	pg::ShmemAddPart(pg::ShmemPart{"indexpilot builds", BuilderSize, 1, BuilderInit});
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

bool
BuildRunningAnywhere()
{
	if (s_builder == nullptr)
		return false;
	bool running = false;
	LWLockAcquire(s_builder->lock, LW_SHARED);
	for (int i = 0; i < s_builder->nslots && !running; i++)
		running = s_builder->slots[i].state != static_cast<int>(BuildState::Free);
	LWLockRelease(s_builder->lock);
	return running;
}

/* True while a builder of dboid runs (or is about to) whose index_build_started row is started_id. */
static bool
BuildRunningForStart(Oid dboid, int64 started_id)
{
	bool running = false;
	LWLockAcquire(s_builder->lock, LW_SHARED);
	for (int i = 0; i < s_builder->nslots && !running; i++) {
		const BuildSlot &slot = s_builder->slots[i];
		running =
			slot.state != static_cast<int>(BuildState::Free) && slot.dboid == dboid && slot.started_id == started_id;
	}
	LWLockRelease(s_builder->lock);
	return running;
}

/* True while a builder of dboid runs that made the index index_oid (it may be dropping it itself). */
static bool
BuildRunningForIndex(Oid dboid, Oid index_oid)
{
	bool running = false;
	LWLockAcquire(s_builder->lock, LW_SHARED);
	for (int i = 0; i < s_builder->nslots && !running; i++) {
		const BuildSlot &slot = s_builder->slots[i];
		running =
			slot.state != static_cast<int>(BuildState::Free) && slot.dboid == dboid && slot.index_oid == index_oid;
	}
	LWLockRelease(s_builder->lock);
	return running;
}

static void
FreeSlot(int slot_index)
{
	LWLockAcquire(s_builder->lock, LW_EXCLUSIVE);
	memset(&s_builder->slots[slot_index], 0, sizeof(BuildSlot));
	LWLockRelease(s_builder->lock);
}

/* Launches the builder of a reserved slot; on failure frees the slot and says why. No ERROR is raised. */
static bool
LaunchBuilder(int slot_index, const char **why)
{
	BuildSlot &slot = s_builder->slots[slot_index];
	BackgroundWorker bgw;
	memset(&bgw, 0, sizeof(bgw));
	bgw.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	bgw.bgw_start_time = BgWorkerStart_RecoveryFinished;
	bgw.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(bgw.bgw_library_name, "indexpilot", BGW_MAXLEN);
	strlcpy(bgw.bgw_function_name, "indexpilot_builder_main", BGW_MAXLEN);
	LWLockAcquire(s_builder->lock, LW_EXCLUSIVE);
	snprintf(bgw.bgw_name, BGW_MAXLEN, "indexpilot builder for %s", slot.index_name);
	slot.state = static_cast<int>(BuildState::Starting);
	LWLockRelease(s_builder->lock);
	strlcpy(bgw.bgw_type, "indexpilot builder", BGW_MAXLEN);
	bgw.bgw_main_arg = Int32GetDatum(slot_index);
	bgw.bgw_notify_pid = 0;
	if (!RegisterDynamicBackgroundWorker(&bgw, nullptr)) {
		FreeSlot(slot_index);
		*why = "no background worker slot is free (raise max_worker_processes)";
		return false;
	}
	return true;
}

/*
 * The reservation of this backend's current transaction: the slot, and the subtransaction that made it
 * (its abort releases the reservation). At most one per transaction.
 */
static int s_reserved_slot = -1;
static SubTransactionId s_reserved_subid = InvalidSubTransactionId;
static bool s_callbacks_registered = false;

static void
ReleaseReservation()
{
	if (s_reserved_slot >= 0)
		FreeSlot(s_reserved_slot);
	s_reserved_slot = -1;
	s_reserved_subid = InvalidSubTransactionId;
}

/* At commit the proposal is visible to everyone: launch the builder. At abort or PREPARE: release. */
static void
ReservationXactCallback(XactEvent event, void *)
{
	if (s_reserved_slot < 0)
		return;
	switch (event) {
		case XACT_EVENT_COMMIT: {
			int slot_index = s_reserved_slot;
			s_reserved_slot = -1;
			s_reserved_subid = InvalidSubTransactionId;
			const char *why = nullptr;
			if (!LaunchBuilder(slot_index, &why))
				ereport(WARNING, (errmsg("indexpilot could not start an index build: %s", why),
								  errdetail("The proposal stays open; a later cycle tries again.")));
			break;
		}
		case XACT_EVENT_PREPARE:
			// Its commit may come from another session: the build is left to a later cycle.
			ReleaseReservation();
			ereport(NOTICE, (errmsg("indexpilot does not start index builds from a prepared transaction"),
							 errdetail("The proposal stays open; a later cycle starts its build.")));
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			ReleaseReservation();
			break;
		default:
			break;
	}
}

static void
ReservationSubXactCallback(SubXactEvent event, SubTransactionId mySubid, SubTransactionId parentSubid, void *)
{
	if (s_reserved_slot < 0 || mySubid != s_reserved_subid)
		return;
	if (event == SUBXACT_EVENT_ABORT_SUB)
		ReleaseReservation();
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
		s_reserved_subid = parentSubid;
}

bool
StartBuildAtCommit(Oid dboid, Oid relid, const char *index_name, const char *ddl, int64 proposal_id, const char **why)
{
	if (s_builder == nullptr) {
		*why = "indexpilot is not loaded via shared_preload_libraries";
		return false;
	}
	if (strlen(ddl) >= kMaxDdlBytes) {
		*why = "the index definition is too long";
		return false;
	}
	if (s_reserved_slot >= 0) {
		*why = "this transaction has reserved a build already";
		return false;
	}
	if (!s_callbacks_registered) {
		RegisterXactCallback(ReservationXactCallback, nullptr);
		RegisterSubXactCallback(ReservationSubXactCallback, nullptr);
		s_callbacks_registered = true;
	}
	int slot_index = -1;
	LWLockAcquire(s_builder->lock, LW_EXCLUSIVE);
	for (int i = 0; i < s_builder->nslots; i++) {
		const BuildSlot &slot = s_builder->slots[i];
		// One build at a time in the whole cluster: builds read whole tables and sort them.
		if (slot.state != static_cast<int>(BuildState::Free)) {
			LWLockRelease(s_builder->lock);
			*why = slot.dboid == dboid ? "a build is already running in this database"
									   : "a build is running in another database (one at a time in the cluster)";
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
	slot.state = static_cast<int>(BuildState::Reserved);
	slot.proposal_id = proposal_id;
	slot.started_at = GetCurrentTimestamp();
	strlcpy(slot.index_name, index_name, NAMEDATALEN);
	strlcpy(slot.ddl, ddl, kMaxDdlBytes);
	LWLockRelease(s_builder->lock);
	s_reserved_slot = slot_index;
	s_reserved_subid = GetCurrentSubTransactionId();
	return true;
}

/* The memory of the statement ExecuteTopLevel runs, kept so that an error can free it. */
static MemoryContext s_statement_context = nullptr;

void
ExecuteTopLevel(const char *sql)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	s_statement_context =
		AllocSetContextCreate(TopMemoryContext, "indexpilot top-level statement", ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(s_statement_context);
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
	MemoryContextDelete(s_statement_context);
	s_statement_context = nullptr;
}

/*
 * In PG_CATCH, with interrupts held: the caught ERROR's message into `error`, the error state flushed, the
 * timeouts disarmed and every open transaction aborted, as a backend's error recovery does.
 */
static void
AbortCaughtError(MemoryContext context, char *error, size_t size)
{
	MemoryContextSwitchTo(context);
	ErrorData *edata = CopyErrorData();
	strlcpy(error, edata->message ? edata->message : "unknown error", size);
	FreeErrorData(edata);
	FlushErrorState();
	disable_all_timeouts(false);
	QueryCancelPending = false;
	AbortOutOfAnyTransaction();
}

/*
 * Runs one statement at top level with lock_timeout = indexpilot.build_lock_timeout (or lock_timeout_ms) and
 * the given statement_timeout. An error is caught, like a backend's error recovery (its transaction aborted), and
 * returned in `error`: the caller goes on. Call outside a transaction.
 */
static bool
RunTopLevel(const char *sql, int statement_timeout_ms, char *error, size_t size, int lock_timeout_ms = -1)
{
	char *old_lock_timeout = pstrdup(GetConfigOption("lock_timeout", false, false));
	char value[32];
	snprintf(value, sizeof(value), "%d", lock_timeout_ms >= 0 ? lock_timeout_ms : s_build_lock_timeout_ms);
	SetConfigOption("lock_timeout", value, PGC_SUSET, PGC_S_SESSION);
	MemoryContext context = CurrentMemoryContext;
	volatile bool ok = true;
	PG_TRY();
	{
		// postgres.c arms statement_timeout for each client statement; outside it, nothing does: arm it here.
		enable_timeout_after(STATEMENT_TIMEOUT, statement_timeout_ms);
		ExecuteTopLevel(sql);
		disable_timeout(STATEMENT_TIMEOUT, false);
	}
	PG_CATCH();
	{
		HOLD_INTERRUPTS();
		AbortCaughtError(context, error, size);
		if (s_statement_context != nullptr)
			MemoryContextDelete(s_statement_context);
		s_statement_context = nullptr;
		RESUME_INTERRUPTS();
		ok = false;
	}
	PG_END_TRY();
	SetConfigOption("lock_timeout", old_lock_timeout, PGC_SUSET, PGC_S_SESSION);
	pfree(old_lock_timeout);
	return ok;
}

/*
 * Runs CREATE INDEX CONCURRENTLY or DROP INDEX CONCURRENTLY on an index of table `relid` so that
 * indexpilot.build_lock_timeout bounds only the waits that hold up others. Both statements take the table's
 * ShareUpdateExclusiveLock first (indexcmds.c, DefineIndex and index_drop); while a request for it waits in
 * the lock's queue, every later request that conflicts with it (VACUUM, ANALYZE, DDL, another build) waits
 * behind it. That lock is taken here first, as a session lock, with the lock timeout; the statement then
 * gets it at once (a backend's own locks never conflict) and runs with lock_timeout off. Its other waits —
 * for the transactions that could still write the table or see it without the index (WaitForLockers,
 * WaitForOlderSnapshots: the virtualxid waits of a long read-only query) — take no lock on the table and hold
 * up nobody: only the statement timeout bounds them. Call outside a transaction.
 */
static bool
RunConcurrently(Oid relid, const char *sql, char *error, size_t size)
{
	LockRelId table;
	table.relId = relid;
	table.dbId = MyDatabaseId;
	MemoryContext context = CurrentMemoryContext;
	volatile bool locked = false;
	char *old_lock_timeout = pstrdup(GetConfigOption("lock_timeout", false, false));
	char value[32];
	snprintf(value, sizeof(value), "%d", s_build_lock_timeout_ms);
	SetConfigOption("lock_timeout", value, PGC_SUSET, PGC_S_SESSION);
	PG_TRY();
	{
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		LockRelationIdForSession(&table, ShareUpdateExclusiveLock);
		locked = true;
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		HOLD_INTERRUPTS();
		AbortCaughtError(context, error, size); /* releases the session lock too, had it been granted */
		RESUME_INTERRUPTS();
	}
	PG_END_TRY();
	SetConfigOption("lock_timeout", old_lock_timeout, PGC_SUSET, PGC_S_SESSION);
	pfree(old_lock_timeout);
	if (!locked)
		return false;
	bool ok = RunTopLevel(sql, s_build_statement_timeout_ms, error, size, 0);
	// A failed statement's abort released every lock of the session, ours with it.
	LOCKTAG tag;
	SET_LOCKTAG_RELATION(tag, MyDatabaseId, relid);
	StartTransactionCommand();
	if (LockHeldByMe(&tag, ShareUpdateExclusiveLock))
		UnlockRelationIdForSession(&table, ShareUpdateExclusiveLock);
	CommitTransactionCommand();
	return ok;
}

/*
 * DROP INDEX IF EXISTS `qualified`, an index of table `relid`: CONCURRENTLY for a plain index; a partitioned
 * index has no concurrent form, so a plain DROP (its attached partitions' indexes go with it) under the lock
 * timeout and `plain_timeout_ms`. Call outside a transaction.
 */
static bool
DropIndex(Oid relid, const char *qualified, bool partitioned, int plain_timeout_ms, char *error, size_t size)
{
	char sql[8 * NAMEDATALEN]; /* two quoted names of up to 63 bytes with every quote doubled fit */
	snprintf(sql, sizeof(sql), "DROP INDEX %sIF EXISTS %s", partitioned ? "" : "CONCURRENTLY ", qualified);
	return partitioned ? RunTopLevel(sql, plain_timeout_ms, error, size) : RunConcurrently(relid, sql, error, size);
}

bool
DropIndexOfTable(Oid relid, const char *qualified, char *error, size_t size)
{
	StartTransactionCommand();
	const bool partitioned = get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE;
	CommitTransactionCommand();
	return DropIndex(relid, qualified, partitioned, s_build_statement_timeout_ms, error, size);
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
	return pg::SpiText("SELECT pg_catalog.format('%I.%I', n.nspname, $2) FROM pg_catalog.pg_class c "
					   "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::oid",
					   2, args);
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

/* Started rows without an outcome whose builder is gone: record index_build_abandoned for each. */
static void
RecordAbandonedBuilds()
{
	BeginBookkeeping("indexpilot: looking for abandoned builds");
	uint64 n = pg::SpiExec("SELECT indexpilot._builds_without_outcome()");
	int count = 0;
	auto *ids = static_cast<int64 *>(palloc0(sizeof(int64) * Max(n, 1)));
	for (uint64 i = 0; i < n; i++) {
		char *text = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		int64 id = strtoll(text, nullptr, 10);
		// A live builder publishes its start in its slot before the row commits: skip those.
		if (!BuildRunningForStart(MyDatabaseId, id))
			ids[count++] = id;
	}
	for (int i = 0; i < count; i++) {
		// Checked again with a snapshot taken after the slots were: a builder that exited in between has
		// committed its outcome before it released its slot.
		char id_text[32];
		snprintf(id_text, sizeof(id_text), INT64_FORMAT, ids[i]);
		const char *args[1] = {id_text};
		int64 abandoned = pg::SpiInt64("SELECT indexpilot._record_build_abandoned($1::bigint)", 1, args);
		if (abandoned > 0)
			ereport(LOG,
					(errmsg("indexpilot recorded build " INT64_FORMAT " as abandoned: its builder is gone", ids[i])));
	}
	EndBookkeeping();
}

int
CleanupInvalidIndexes()
{
	if (s_builder == nullptr)
		return 0;
	RecordAbandonedBuilds();

	// IndexPilot's own leftovers only: the OID (and name) an index_build_started row recorded, still an
	// INVALID index, whose build has ended as failed or abandoned; and the partitions' indexes such a
	// partitioned build recorded that were never attached.
	BeginBookkeeping("indexpilot: looking for INVALID indexes of ended builds");
	uint64 n =
		pg::SpiExec("SELECT l.*, (SELECT i.indrelid FROM pg_catalog.pg_index i WHERE i.indexrelid = l.index_oid) "
					"FROM indexpilot._leftover_indexes() l");
	struct Leftover {
		char qualified[2 * NAMEDATALEN + 8];
		char name[NAMEDATALEN];
		char table[2 * NAMEDATALEN + 8];
		int64 outcome_id;
		bool abandoned;
		bool concurrently;
		Oid relid;
	};
	auto *leftovers = static_cast<Leftover *>(MemoryContextAllocZero(TopMemoryContext, sizeof(Leftover) * Max(n, 1)));
	int count = 0;
	for (uint64 i = 0; i < n; i++) {
		HeapTuple row = SPI_tuptable->vals[i];
		TupleDesc desc = SPI_tuptable->tupdesc;
		Oid index_oid = static_cast<Oid>(strtoul(SPI_getvalue(row, desc, 1), nullptr, 10));
		if (BuildRunningForIndex(MyDatabaseId, index_oid))
			continue; /* a builder of this database may still be cleaning up after itself */
		const char *table_oid = SPI_getvalue(row, desc, 8);
		if (table_oid == nullptr)
			continue; /* gone since */
		Leftover &l = leftovers[count++];
		l.relid = static_cast<Oid>(strtoul(table_oid, nullptr, 10));
		strlcpy(l.qualified, SPI_getvalue(row, desc, 2), sizeof(l.qualified));
		strlcpy(l.name, SPI_getvalue(row, desc, 3), sizeof(l.name));
		strlcpy(l.table, SPI_getvalue(row, desc, 4), sizeof(l.table));
		l.outcome_id = strtoll(SPI_getvalue(row, desc, 5), nullptr, 10);
		l.abandoned = strcmp(SPI_getvalue(row, desc, 6), "index_build_abandoned") == 0;
		l.concurrently = strcmp(SPI_getvalue(row, desc, 7), "t") == 0;
	}
	EndBookkeeping();

	int dropped = 0;
	for (int i = 0; i < count; i++) {
		char error[1024] = "";
		// Each drop on its own: one that fails (a lock it cannot get in time) leaves the others to be done.
		if (!DropIndex(leftovers[i].relid, leftovers[i].qualified, !leftovers[i].concurrently, BookkeepingTimeoutMs(),
					   error, sizeof(error))) {
			ereport(WARNING, (errmsg("indexpilot could not drop INVALID index %s: %s", leftovers[i].qualified, error),
							  errdetail("A later cycle tries again.")));
			continue;
		}
		BeginBookkeeping("indexpilot: recording cleanup");
		pg::LogMutation("index_dropped", leftovers[i].table, nullptr, leftovers[i].name, nullptr,
						leftovers[i].abandoned ? "{\"reason\": \"left INVALID by an interrupted build\"}"
											   : "{\"reason\": \"INVALID after a failed build\"}",
						leftovers[i].outcome_id);
		EndBookkeeping();
		ereport(LOG, (errmsg("indexpilot dropped INVALID index %s left by a build that did not finish",
							 leftovers[i].qualified)));
		dropped++;
	}
	pfree(leftovers);
	return dropped;
}

static void
ReleaseSlot(int, Datum)
{
	if (s_builder == nullptr || s_my_slot < 0)
		return;
	FreeSlot(s_my_slot);
	s_my_slot = -1;
}

/*
 * The build being run by this builder: the index CREATE INDEX CONCURRENTLY creates is captured by the
 * object-access hook, and index_build_started is written at the pre-commit of that same transaction.
 */
static struct {
	bool armed;
	Oid index_oid;
	int64 started_id;
	char table[3 * NAMEDATALEN];
	const BuildSlot *job;
} s_build;
static object_access_hook_type s_prev_object_access = nullptr;

static void
BuilderObjectAccess(ObjectAccessType access, Oid classId, Oid objectId, int subId, void *arg)
{
	if (s_prev_object_access)
		s_prev_object_access(access, classId, objectId, subId, arg);
	// CREATE INDEX CONCURRENTLY creates exactly one relation: the index.
	if (s_build.armed && access == OAT_POST_CREATE && classId == RelationRelationId && subId == 0 &&
		s_build.index_oid == InvalidOid)
		s_build.index_oid = objectId;
}

/* Details of index_build_started (palloc'd). */
static char *
StartedDetails(const BuildSlot &job, Oid index_oid)
{
	StringInfoData details;
	initStringInfo(&details);
	appendStringInfo(&details,
					 "{\"statement\": %s, \"lock_timeout_ms\": %d, \"statement_timeout_ms\": %d, \"relid\": %u",
					 JsonString(job.ddl), s_build_lock_timeout_ms, s_build_statement_timeout_ms, job.relid);
	if (OidIsValid(index_oid))
		appendStringInfo(&details, ", \"index_oid\": %u", index_oid);
	appendStringInfoString(&details, "}");
	return details.data;
}

static void
BuilderXactCallback(XactEvent event, void *)
{
	if (event != XACT_EVENT_PRE_COMMIT || !s_build.armed || s_build.index_oid == InvalidOid || s_build.started_id != 0)
		return;
	// Still inside the transaction that created the INVALID index: the row and the index commit together.
	PushActiveSnapshot(GetTransactionSnapshot());
	SPI_connect();
	int64 id = pg::LogMutation("index_build_started", s_build.table, nullptr, s_build.job->index_name, nullptr,
							   StartedDetails(*s_build.job, s_build.index_oid), s_build.job->proposal_id);
	SPI_finish();
	PopActiveSnapshot();
	s_build.started_id = id;
	// Published before the commit, so whoever sees the row committed sees the build as running.
	LWLockAcquire(s_builder->lock, LW_EXCLUSIVE);
	s_builder->slots[s_my_slot].started_id = id;
	s_builder->slots[s_my_slot].index_oid = s_build.index_oid;
	LWLockRelease(s_builder->lock);
}

/* ---- a partitioned table's index ----------------------------------------------------------------------- */

/*
 * CREATE INDEX CONCURRENTLY does not work on a partitioned table. Its index is built as PostgreSQL's
 * documentation describes (CREATE INDEX, "ON ONLY"): the partitioned index is created ON ONLY the table (a
 * catalog entry, INVALID; its index_build_started row commits with it), each leaf partition gets its own
 * index with CREATE INDEX CONCURRENTLY (index_partition_built per partition), a sub-partitioned partition
 * an ON ONLY index of its own, and each is attached to its parent's index, deepest first: the partitioned
 * index becomes valid with its last attachment. A failure anywhere drops all of it again (DropPartitioned).
 * Partitions added later get their index from PostgreSQL itself (CREATE TABLE ... PARTITION OF and ATTACH
 * PARTITION create or attach a matching index).
 */
struct PartNode {
	Oid relid;
	bool leaf;
	int level;
	char table[3 * NAMEDATALEN]; /* qualified partition */
	char index[3 * NAMEDATALEN]; /* qualified index of it */
	char parent_index[3 * NAMEDATALEN];
	char name[NAMEDATALEN]; /* the index's bare name */
	bool built;             /* its CREATE INDEX ran (so what has the name is this build's) */
};

static struct {
	PartNode *nodes;
	int count;
} s_parts;

/* The partition tree below job.relid, with the names their indexes get. Bookkeeping transaction. */
static bool
ReadPartitionTree(const BuildSlot &job, const char *qualified_index, char *error, size_t size)
{
	BeginBookkeeping("indexpilot: reading a partition tree");
	char relid_text[16];
	snprintf(relid_text, sizeof(relid_text), "%u", job.relid);
	const char *args[2] = {relid_text, job.index_name};
	// Index names: the build's name with "_p" and the partition's OID; shortened to fit NAMEDATALEN, it
	// keeps its last 8 characters (core::IndexName's hash), so two indexes' partition names never meet.
	uint64 n = pg::SpiExec(
		"WITH t AS (SELECT t.*, '_p' || t.relid::oid AS suffix FROM pg_catalog.pg_partition_tree($1::oid::regclass) t "
		"           WHERE t.level > 0), "
		"     named AS (SELECT t.*, CASE WHEN pg_catalog.length($2) + pg_catalog.length(t.suffix) <= 63 "
		"                                THEN $2 || t.suffix "
		"                                ELSE pg_catalog.left($2, 63 - pg_catalog.length(t.suffix) - 9) || '_' "
		"                                     || pg_catalog.right($2, 8) || t.suffix END AS name FROM t) "
		"SELECT t.relid::oid, t.isleaf, t.level, indexpilot._qualified_name(t.relid), "
		"       pg_catalog.format('%I.%I', n.nspname, t.name), t.name, t.parentrelid::oid, c.relkind "
		"FROM named t JOIN pg_catalog.pg_class c ON c.oid = t.relid "
		"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace ORDER BY t.level, t.relid::oid",
		2, args);
	s_parts.nodes = static_cast<PartNode *>(MemoryContextAllocZero(TopMemoryContext, sizeof(PartNode) * Max(n, 1)));
	s_parts.count = 0;
	bool ok = true;
	for (uint64 i = 0; i < n && ok; i++) {
		HeapTuple row = SPI_tuptable->vals[i];
		TupleDesc desc = SPI_tuptable->tupdesc;
		PartNode &p = s_parts.nodes[s_parts.count++];
		p.relid = static_cast<Oid>(strtoul(SPI_getvalue(row, desc, 1), nullptr, 10));
		p.leaf = strcmp(SPI_getvalue(row, desc, 2), "t") == 0;
		p.level = atoi(SPI_getvalue(row, desc, 3));
		strlcpy(p.table, SPI_getvalue(row, desc, 4), sizeof(p.table));
		strlcpy(p.index, SPI_getvalue(row, desc, 5), sizeof(p.index));
		strlcpy(p.name, SPI_getvalue(row, desc, 6), sizeof(p.name));
		const Oid parent = static_cast<Oid>(strtoul(SPI_getvalue(row, desc, 7), nullptr, 10));
		if (strcmp(SPI_getvalue(row, desc, 8), "f") == 0) {
			snprintf(error, size, "partition %s is a foreign table: it cannot have an index", p.table);
			ok = false;
		}
		if (parent == job.relid)
			strlcpy(p.parent_index, qualified_index, sizeof(p.parent_index));
		else
			for (int k = 0; k < s_parts.count - 1; k++)
				if (s_parts.nodes[k].relid == parent)
					strlcpy(p.parent_index, s_parts.nodes[k].index, sizeof(p.parent_index));
	}
	EndBookkeeping();
	return ok;
}

/* The part of the advisor's statement after "ON <table>": the columns, INCLUDE and WHERE. */
static const char *
IndexDefinitionTail(const BuildSlot &job, const char *table)
{
	StringInfoData prefix;
	initStringInfo(&prefix);
	appendStringInfo(&prefix, "CREATE INDEX CONCURRENTLY %s ON %s ", quote_identifier(job.index_name), table);
	if (strncmp(job.ddl, prefix.data, prefix.len) != 0)
		return nullptr;
	return job.ddl + prefix.len;
}

/* Builds job's index on partitioned table job.relid; false with the reason in `error`. */
static bool
BuildPartitioned(const BuildSlot &job, const char *qualified_index, char *error, size_t size)
{
	const char *tail = IndexDefinitionTail(job, s_build.table);
	if (tail == nullptr) {
		snprintf(error, size, "the statement is not the form IndexPilot builds: %s", job.ddl);
		return false;
	}
	if (!ReadPartitionTree(job, qualified_index, error, size))
		return false;
	StringInfoData sql;
	initStringInfo(&sql);
	// 1. The partitioned index, ON ONLY the table: INVALID until its partitions' indexes are attached.
	appendStringInfo(&sql, "CREATE INDEX %s ON ONLY %s %s", quote_identifier(job.index_name), s_build.table, tail);
	if (!RunTopLevel(sql.data, s_build_statement_timeout_ms, error, size))
		return false;
	s_build.armed = false; /* the partitions' indexes are not the build's index */
	// 2. Each partition's index: ON ONLY for a sub-partitioned one, concurrently for a leaf.
	for (int i = 0; i < s_parts.count; i++) {
		PartNode &p = s_parts.nodes[i];
		resetStringInfo(&sql);
		appendStringInfo(&sql, "CREATE INDEX %s%s ON %s%s %s", p.leaf ? "CONCURRENTLY " : "", quote_identifier(p.name),
						 p.leaf ? "" : "ONLY ", p.table, tail);
		// The name must be free: then whatever has it after the statement (a failed CREATE INDEX
		// CONCURRENTLY leaves an INVALID index) is this build's, for DropPartitioned to drop.
		const char *name_arg[1] = {p.index};
		BeginBookkeeping("indexpilot: checking a partition's index name");
		const bool taken = pg::SpiInt64("SELECT (pg_catalog.to_regclass($1) IS NOT NULL)::int", 1, name_arg) == 1;
		EndBookkeeping();
		if (taken) {
			snprintf(error, size, "an index named %s exists already", p.index);
			return false;
		}
		p.built = true;
		TimestampTz t0 = GetCurrentTimestamp();
		if (!(p.leaf ? RunConcurrently(p.relid, sql.data, error, size)
					 : RunTopLevel(sql.data, s_build_statement_timeout_ms, error, size)))
			return false;
		BeginBookkeeping("indexpilot: recording a partition's index");
		const int64 oid = pg::SpiInt64("SELECT coalesce(pg_catalog.to_regclass($1)::oid::bigint, 0)", 1, name_arg);
		StringInfoData details;
		initStringInfo(&details);
		appendStringInfo(&details,
						 "{\"partition\": %s, \"index\": %s, \"name\": %s, \"index_oid\": " INT64_FORMAT
						 ", \"seconds\": %.3f}",
						 JsonString(p.table), JsonString(p.index), JsonString(p.name), oid,
						 static_cast<double>(GetCurrentTimestamp() - t0) / 1e6);
		pg::LogMutation("index_partition_built", s_build.table, nullptr, job.index_name, nullptr, details.data,
						s_build.started_id);
		EndBookkeeping();
	}
	// 3. Attach, deepest first (a sub-partitioned partition's index is valid once its own are attached).
	for (int i = s_parts.count - 1; i >= 0; i--) {
		resetStringInfo(&sql);
		appendStringInfo(&sql, "ALTER INDEX %s ATTACH PARTITION %s", s_parts.nodes[i].parent_index,
						 s_parts.nodes[i].index);
		if (!RunTopLevel(sql.data, s_build_statement_timeout_ms, error, size))
			return false;
	}
	// 4. Valid now, unless a partition was added while it ran (before its ON ONLY index existed, so it got
	// none): then it fails, and the failure path drops it.
	BeginBookkeeping("indexpilot: checking a partitioned index");
	char oid_text[16];
	snprintf(oid_text, sizeof(oid_text), "%u", s_build.index_oid);
	const char *oid_arg[1] = {oid_text};
	const bool valid =
		pg::SpiInt64("SELECT count(*) FROM pg_catalog.pg_index WHERE indexrelid = $1::oid AND indisvalid", 1,
					 oid_arg) == 1;
	EndBookkeeping();
	if (!valid)
		snprintf(error, size,
				 "the partitioned index is not valid after attaching %d partitions' indexes "
				 "(a partition was added while it was built)",
				 s_parts.count);
	return valid;
}

/*
 * After a failed partitioned build: drops the partitioned index with the indexes attached to it (a plain
 * DROP INDEX: a partitioned index cannot be dropped concurrently; the table is locked briefly), then each
 * partition's index not attached yet (a leaf's concurrently). True when nothing is left.
 */
static bool
DropPartitioned(Oid relid, Oid index_oid, char *error, size_t size)
{
	bool ok = true;
	if (OidIsValid(index_oid)) { /* the index this build created, by its OID (nothing if step 1 failed) */
		BeginBookkeeping("indexpilot: naming a partitioned index");
		char oid_text[16];
		snprintf(oid_text, sizeof(oid_text), "%u", index_oid);
		const char *oid_arg[1] = {oid_text};
		char *name = pg::SpiText("SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) FROM pg_catalog.pg_class c "
								 "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::oid",
								 1, oid_arg);
		char qualified[3 * NAMEDATALEN] = "";
		if (name != nullptr)
			strlcpy(qualified, name, sizeof(qualified));
		EndBookkeeping();
		if (qualified[0] != '\0')
			ok = DropIndex(relid, qualified, true, s_build_statement_timeout_ms, error, size);
	}
	for (int i = 0; i < s_parts.count; i++) {
		const PartNode &p = s_parts.nodes[i];
		if (p.built) /* a leaf's index is plain; a sub-partitioned partition's is partitioned */
			ok = DropIndex(p.relid, p.index, !p.leaf, s_build_statement_timeout_ms, error, size) && ok;
	}
	return ok;
}

static void
BuilderMain(int slot_index)
{
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	if (s_builder == nullptr || slot_index < 0 || slot_index >= s_builder->nslots)
		proc_exit(1);
	static BuildSlot job;
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
	// Every statement of this process waits for a lock at most this long (the build and its bookkeeping).
	char value[32];
	snprintf(value, sizeof(value), "%d", s_build_lock_timeout_ms);
	SetConfigOption("lock_timeout", value, PGC_SUSET, PGC_S_SESSION);

	// 1. Lock the table for builds, check again.
	BeginBookkeeping("indexpilot: preparing an index build");
	char relid_text[16];
	snprintf(relid_text, sizeof(relid_text), "%u", job.relid);
	const char *lock_args[1] = {relid_text};
	bool locked =
		pg::SpiInt64("SELECT pg_catalog.pg_try_advisory_lock(" INDEXPILOT_BUILD_LOCK_KEY ", $1::oid::int)::int", 1,
					 lock_args) == 1;
	// Copied out of SPI's memory, which EndWork frees: both are used across transactions below.
	char qualified_index[3 * NAMEDATALEN];
	char *table_text = QualifiedTable(job.relid);
	char *index_text = QualifiedIndex(job.relid, job.index_name);
	if (table_text == nullptr || index_text == nullptr) { /* the table was dropped since the decision */
		EndBookkeeping();
		proc_exit(0);
	}
	strlcpy(s_build.table, table_text, sizeof(s_build.table));
	strlcpy(qualified_index, index_text, sizeof(qualified_index));
	const char *exists_args[2] = {relid_text, job.index_name};
	bool exists = pg::SpiInt64("SELECT pg_catalog.count(*) FROM pg_catalog.pg_class c, pg_catalog.pg_class t "
							   "WHERE t.oid = $1::oid AND c.relname = $2 AND c.relnamespace = t.relnamespace",
							   2, exists_args) > 0;
	bool partitioned = pg::SpiInt64("SELECT pg_catalog.count(*) FROM pg_catalog.pg_class c "
									"WHERE c.oid = $1::oid AND c.relkind = 'p'",
									1, lock_args) > 0;
	if (!locked || exists) {
		char details[256];
		snprintf(details, sizeof(details), "{\"reason\": %s}",
				 JsonString(!locked ? "another build holds the table" : "an index of that name exists already"));
		pg::LogMutation("index_skipped", s_build.table, nullptr, job.index_name, nullptr, details, job.proposal_id);
		EndBookkeeping();
		proc_exit(0);
	}
	EndBookkeeping();

	// 2. Build, at top level, with the build timeouts; index_build_started is written by BuilderXactCallback.
	s_build.job = &job;
	s_prev_object_access = object_access_hook;
	object_access_hook = BuilderObjectAccess;
	RegisterXactCallback(BuilderXactCallback, nullptr);
	s_build.armed = true;
	pgstat_report_activity(STATE_RUNNING, job.ddl);
	TimestampTz t0 = GetCurrentTimestamp();
	char error[1024] = "";
	bool built = partitioned ? BuildPartitioned(job, qualified_index, error, sizeof(error))
							 : RunConcurrently(job.relid, job.ddl, error, sizeof(error));
	s_build.armed = false;
	double seconds = static_cast<double>(GetCurrentTimestamp() - t0) / 1e6;
	int64 started_id = s_build.started_id;
	Oid index_oid = started_id != 0 ? s_build.index_oid : InvalidOid;
	char oid_text[16];
	snprintf(oid_text, sizeof(oid_text), "%u", index_oid);

	// 3. Record the outcome; a failed build may leave an INVALID index: drop it.
	if (built) {
		BeginBookkeeping("indexpilot: recording a finished build");
		const char *args[1] = {oid_text};
		int64 bytes = pg::SpiInt64("SELECT indexpilot._index_bytes($1::oid)", 1, args);
		char details[256];
		snprintf(details, sizeof(details), "{\"seconds\": %.3f, \"bytes\": " INT64_FORMAT ", \"index_oid\": %u}",
				 seconds, bytes, index_oid);
		pg::LogMutation("index_build_finished", s_build.table, nullptr, job.index_name, nullptr, details, started_id);
		EndBookkeeping();
		ereport(LOG, (errmsg("indexpilot built index %s in %.1f s", qualified_index, seconds)));
		proc_exit(0);
	}
	ereport(LOG, (errmsg("indexpilot could not build index %s: %s", qualified_index, error)));
	BeginBookkeeping("indexpilot: recording a failed build");
	if (started_id == 0) {
		// It failed before its index existed (a lock it could not get): the start and the failure together.
		started_id = pg::LogMutation("index_build_started", s_build.table, nullptr, job.index_name, nullptr,
									 StartedDetails(job, InvalidOid), job.proposal_id);
	}
	StringInfoData details;
	initStringInfo(&details);
	appendStringInfo(&details, "{\"error\": %s, \"seconds\": %.3f", JsonString(error), seconds);
	if (OidIsValid(index_oid))
		appendStringInfo(&details, ", \"index_oid\": %u", index_oid);
	appendStringInfoString(&details, "}");
	int64 failed_id = pg::LogMutation("index_build_failed", s_build.table, nullptr, job.index_name, nullptr,
									  details.data, started_id);
	if (partitioned) {
		EndBookkeeping();
		char drop_error[1024] = "";
		if (!DropPartitioned(job.relid, index_oid, drop_error, sizeof(drop_error))) {
			ereport(WARNING, (errmsg("indexpilot could not drop what the failed build of %s left: %s", qualified_index,
									 drop_error),
							  errdetail("The database worker's next cycle tries again.")));
			proc_exit(0);
		}
		if (OidIsValid(index_oid)) {
			BeginBookkeeping("indexpilot: recording cleanup");
			pg::LogMutation("index_dropped", s_build.table, nullptr, job.index_name, nullptr,
							"{\"reason\": \"a partitioned build failed: its partitioned index and the partitions' "
							"indexes were dropped\"}",
							failed_id);
			EndBookkeeping();
		}
		proc_exit(0);
	}
	// Its own INVALID index only: by the OID it created, still invalid, a plain index.
	const char *args[1] = {oid_text};
	char *leftover = OidIsValid(index_oid)
						 ? pg::SpiText("SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) "
									   "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid "
									   "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
									   "WHERE c.oid = $1::oid AND c.relkind = 'i' AND NOT i.indisvalid",
									   1, args)
						 : nullptr;
	char leftover_name[3 * NAMEDATALEN] = "";
	if (leftover != nullptr)
		strlcpy(leftover_name, leftover, sizeof(leftover_name));
	EndBookkeeping();
	if (leftover_name[0] != '\0') {
		char sql[3 * NAMEDATALEN + 64];
		snprintf(sql, sizeof(sql), "DROP INDEX CONCURRENTLY IF EXISTS %s", leftover_name);
		if (!RunConcurrently(job.relid, sql, error, sizeof(error))) {
			ereport(WARNING, (errmsg("indexpilot could not drop INVALID index %s: %s", leftover_name, error),
							  errdetail("The database worker's next cycle tries again.")));
			proc_exit(0);
		}
		BeginBookkeeping("indexpilot: recording cleanup");
		pg::LogMutation("index_dropped", s_build.table, nullptr, job.index_name, nullptr,
						"{\"reason\": \"INVALID after a failed build\"}", failed_id);
		EndBookkeeping();
	}
	proc_exit(0);
}

} // namespace indexpilot::worker

/* Background worker entry point: one index build. */
INDEXPILOT_WORKER_MAIN(indexpilot_builder_main)
{
	indexpilot::worker::BuilderMain(DatumGetInt32(arg));
}
