/*
 * capture/hooks.cpp — executor hooks that feed the capture store.
 *
 * Every statement with a query id is counted, walked or not: its executions and time go to its query id's
 * counters (the true counts the cost model estimates shapes from, as pg_stat_statements counts every
 * call). Sampling decides only whose plan is walked for shapes. Per top-level statement the random
 * decision is taken once (indexpilot.sample_rate) and followed by every statement nested in it; on top of
 * it a statement whose query id this backend has not seen counted before, or whose last execution ran at
 * least indexpilot.slow_statement_threshold, is always walked (the slow ones are those indexes are for,
 * and the fewest; fast, frequent ones are sampled). So is the decision whether a sampled statement also counts rows
 * (indexpilot.instrument_rate: counting costs per row, the shapes need none of it). Parallel workers take
 * no decision of their own: the leader adds INSTRUMENT_ROWS to the query's instrument options, which the
 * workers inherit, and reads the rows they counted, accumulated into its own plan states, at ExecutorEnd.
 *
 * A sampled statement's shapes are collected from its plan at ExecutorStart into a fixed backend-local
 * array. ExecutorEnd adds the rows its plan states counted and records them. A statement that never
 * reaches ExecutorEnd (an error, statement_timeout, a cancel) is recorded as cancelled, with the time it
 * ran, from the (sub)transaction abort callback: slow statements that were cut short count too.
 *
 * Hot path: with capture bypassed (indexpilot_status()), a statement costs one atomic load per hook and
 * the nesting counter; an unsampled statement adds one PRNG draw at top level. Nothing here may
 * raise an error into the user's statement: the capture work runs under PG_TRY, and a failure is counted
 * (indexpilot.capture_counters) and skipped. Plain C-style code: no C++ exceptions are possible here.
 */
#include "indexpilot/capture/hooks.hpp"

#include "indexpilot/capture/catalog_cache.hpp"
#include "indexpilot/capture/plan_walk.hpp"
#include "indexpilot/capture/store.hpp"
#include "indexpilot/control/bypass.hpp"
#include "indexpilot/pg/postgres.hpp"

extern "C" {
#include "access/parallel.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "common/pg_prng.h"
#include "executor/executor.h"
#include "executor/instrument.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "utils/guc.h"
#include "utils/queryjumble.h"
#include "utils/timestamp.h"
}

namespace indexpilot::capture
{

static ExecutorStart_hook_type s_prev_start = nullptr;
static ExecutorRun_hook_type s_prev_run = nullptr;
static ExecutorFinish_hook_type s_prev_finish = nullptr;
static ExecutorEnd_hook_type s_prev_end = nullptr;

static int s_nesting_level = 0;
static int s_own_work = 0;      /* > 0 while IndexPilot's own SQL runs in this backend (OwnWork) */
static bool s_excluded = false; /* an IndexPilot process: not the workload */
static bool s_statement_sampled = false;
static bool s_statement_instrumented = false; /* sampled, and its plan nodes count rows */
static double s_statement_weight = 1.0;       /* 1 / sample_rate at the top-level decision */

static double s_sample_rate = 0.1;
static int s_slow_statement_ms = 10;
static double s_instrument_rate = 0.1;
static bool s_fault_injection = false;

/* Sampled statements still running in this backend, and the shapes they showed. */
inline constexpr int kMaxPendingStatements = 32;
struct PendingStatement {
	const QueryDesc *owner;
	int level;
	instr_time started; /* a monotonic clock: a wall clock stepped back must not make time negative */
	uint64 queryid;
	double weight;
	bool walked;  /* its plan was walked: its shapes are pending */
	bool counted; /* its execution goes to its query id's counters */
};
static PendingStatement s_statements[kMaxPendingStatements];
static int s_nstatements = 0;
static PendingShape s_shapes[kMaxPendingShapes];
static int s_nshapes = 0;

void
DefineCaptureGucs()
{
	DefineCustomRealVariable("indexpilot.sample_rate",
							 "Fraction of top-level statements whose predicates are captured.",
							 "Nested statements and parallel workers follow their top-level statement's decision.",
							 &s_sample_rate, 0.1, 0.0, 1.0, PGC_SUSET, 0, nullptr, nullptr, nullptr);
	DefineCustomIntVariable("indexpilot.slow_statement_threshold",
							"Statements whose query id last ran at least this long have their plan walked every time.",
							"Whatever indexpilot.sample_rate says; -1 turns it off. Query ids not seen before are "
							"always walked.",
							&s_slow_statement_ms, 10, -1, INT_MAX, PGC_SUSET, GUC_UNIT_MS, nullptr, nullptr, nullptr);
	DefineCustomRealVariable("indexpilot.instrument_rate",
							 "Fraction of sampled statements whose plan nodes also count rows (scanned vs returned).",
							 "Counting rows costs per row; the shapes of every sampled statement are captured anyway.",
							 &s_instrument_rate, 0.1, 0.0, 1.0, PGC_SUSET, 0, nullptr, nullptr, nullptr);
	DefineCustomBoolVariable(
		"indexpilot.capture_fault_injection", "Makes capture fail internally (for tests of the never-fail guarantee).",
		nullptr, &s_fault_injection, false, PGC_SUSET, GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE, nullptr, nullptr, nullptr);
	DefineTenantColumnGuc();
	DefineStoreGucs();
}

/* Milliseconds since `start`, on the monotonic clock of instr_time; never negative. */
static double
ElapsedMs(const instr_time &start, const instr_time &end)
{
	instr_time elapsed = end;
	INSTR_TIME_SUBTRACT(elapsed, start);
	double ms = INSTR_TIME_GET_MILLISEC(elapsed);
	return ms > 0 ? ms : 0;
}

/* Drops the pending shapes of `owner`. */
static void
DropShapes(const QueryDesc *owner)
{
	int keep = 0;
	for (int i = 0; i < s_nshapes; i++)
		if (s_shapes[i].owner != owner)
			s_shapes[keep++] = s_shapes[i];
	s_nshapes = keep;
}

inline constexpr int kTextUsageEvery = 8;

/*
 * Query ids this backend counted, with how long their last execution here ran, as of a store generation:
 * whether a statement must be walked (new or slow) is decided without the store's lock. Direct-mapped by
 * query id; a miss, or entries evicted meanwhile, asks the store.
 */
inline constexpr int kKnownStatements = 256;
struct KnownStatement {
	uint64 queryid;
	uint64 generation;
	double last_ms;
};
static KnownStatement s_known_statements[kKnownStatements];

static void
NoteStatementTime(uint64 queryid, double ms)
{
	KnownStatement &known = s_known_statements[queryid % kKnownStatements];
	known.queryid = queryid;
	known.generation = StoreEntryGeneration();
	known.last_ms = ms;
}

/* Whether the statement with `queryid` is walked whatever the sampling: not counted before, or slow. */
static bool
MustWalk(uint64 queryid)
{
	KnownStatement &known = s_known_statements[queryid % kKnownStatements];
	uint64 generation = StoreEntryGeneration();
	if (known.queryid != queryid || known.generation != generation) {
		double last_ms = 0;
		if (!StoreStatementLastMs(MyDatabaseId, queryid, &last_ms))
			return true; /* the first time the store sees it (or since a flush emptied it) */
		known.queryid = queryid;
		known.generation = generation;
		known.last_ms = last_ms;
	}
	return s_slow_statement_ms >= 0 && known.last_ms >= s_slow_statement_ms;
}
static_assert(kMaxStatementObservations >= kMaxPendingShapes, "a statement's shapes are recorded in one call");

/*
 * This backend's counts of statements not yet in the store, direct-mapped by query id (0: a free slot), as
 * pgstat keeps a backend's pending statistics: an execution that is not walked costs an addition here.
 * They are published (one shared acquisition of the store's lock for all of them) with the next walked
 * statement's shapes, when a slot is wanted by another query id, at a statement's end a second after the
 * last publication, when this backend reads the store from SQL, and when it exits.
 */
static StatementCounts s_counts[kMaxPendingCounts];
static int s_used[kMaxPendingCounts]; /* the slots in use, in the order they were taken */
static int s_nused = 0;
static instr_time s_published; /* when the counts were last published (zero: never) */
static bool s_exit_callback = false;
inline constexpr double kPublishEveryMs = 1000;

/* Publishes the pending counts, with one statement's observations (batch may be empty). */
static void
Publish(const Observation *const *batch, int nbatch, uint64 text_queryid, const instr_time &clock)
{
	StatementCounts counts[kMaxPendingCounts];
	for (int i = 0; i < s_nused; i++) {
		counts[i] = s_counts[s_used[i]];
		s_counts[s_used[i]].queryid = 0;
	}
	const int ncounts = s_nused;
	s_nused = 0;
	s_published = clock;
	if (nbatch > 0 || ncounts > 0)
		StoreRecordStatement(batch, nbatch, MyDatabaseId, text_queryid, kTextUsageEvery, GetCurrentTimestamp(), counts,
							 ncounts);
}

static void
PublishAtExit(int, Datum)
{
	if (s_nused > 0 && StoreAvailable()) {
		instr_time clock;
		INSTR_TIME_SET_CURRENT(clock);
		Publish(nullptr, 0, 0, clock);
	}
}

/* Adds one execution of `queryid` to this backend's pending counts. */
static void
CountExecution(uint64 queryid, double ms, bool walked, bool cancelled, const instr_time &clock)
{
	if (!s_exit_callback) {
		before_shmem_exit(PublishAtExit, 0);
		s_exit_callback = true;
	}
	const int slot = static_cast<int>(queryid % kMaxPendingCounts);
	StatementCounts *c = &s_counts[slot];
	if (c->queryid != queryid && c->queryid != 0)
		Publish(nullptr, 0, 0, clock); /* frees every slot */
	if (c->queryid == 0) {
		memset(c, 0, sizeof(*c));
		c->queryid = queryid;
		s_used[s_nused++] = slot;
	}
	c->calls++;
	if (walked)
		c->sampled_calls++;
	if (cancelled) {
		c->cancelled_calls++;
		c->cancelled_ms += ms;
	}
	c->total_ms += ms;
	if (ms > c->max_ms)
		c->max_ms = ms;
	c->last_ms = ms;
}

/*
 * One execution shows a shape once: the scans of several partitions of one partitioned table (or of one
 * table twice) that give the same shape add their rows to the first; a sequential scan among them makes it
 * one. True when `obs` was merged into an observation of `batch`.
 */
static bool
MergedInto(Observation *const *batch, int nbatch, const Observation &obs)
{
	for (int k = 0; k < nbatch; k++) {
		Observation *seen = batch[k];
		if (seen->key.relid != obs.key.relid || memcmp(&seen->key, &obs.key, sizeof(obs.key)) != 0)
			continue;
		seen->rows_scanned += obs.rows_scanned;
		seen->rows_returned += obs.rows_returned;
		seen->instrumented = seen->instrumented || obs.instrumented;
		if (obs.access == Access::Seq)
			seen->access = Access::Seq;
		return true;
	}
	return false;
}

/*
 * Counts and records the statements for which `done(statement)` holds, and forgets them. Raises no
 * ERROR of its own (the store never does): a statement that was only counted needs no guard.
 */
template <typename Pred>
static void
FlushStatements(Pred done, bool cancelled)
{
	instr_time clock;
	INSTR_TIME_SET_CURRENT(clock);
	int keep_statements = 0;
	for (int s = 0; s < s_nstatements; s++) {
		PendingStatement stmt = s_statements[s];
		if (!done(stmt)) {
			s_statements[keep_statements++] = stmt;
			continue;
		}
		double ms = ElapsedMs(stmt.started, clock);
		if (stmt.counted) {
			CountExecution(stmt.queryid, ms, stmt.walked, cancelled, clock);
			NoteStatementTime(stmt.queryid, ms);
		}
		if (stmt.walked) {
			Observation *batch[kMaxStatementObservations];
			int nbatch = 0;
			for (int i = 0; i < s_nshapes && nbatch < kMaxStatementObservations; i++) {
				if (s_shapes[i].owner != stmt.owner)
					continue;
				Observation &obs = s_shapes[i].obs;
				obs.cancelled = cancelled;
				obs.elapsed_ms = ms;
				obs.queryid = stmt.queryid;
				obs.weight = stmt.weight;
				if (!MergedInto(batch, nbatch, obs))
					batch[nbatch++] = &obs;
			}
			// A text's usage is bumped for one walked statement in kTextUsageEvery (drawn), by that much.
			bool bump = pg_prng_uint32(&pg_global_prng_state) % kTextUsageEvery == 0;
			Publish(batch, nbatch, bump ? stmt.queryid : 0, clock);
			DropShapes(stmt.owner);
		} else if (s_nused > 0 &&
				   (INSTR_TIME_IS_ZERO(s_published) || ElapsedMs(s_published, clock) >= kPublishEveryMs)) {
			Publish(nullptr, 0, 0, clock);
		}
	}
	s_nstatements = keep_statements;
}

void
PublishPendingCounts()
{
	if (s_nused > 0 && StoreAvailable()) {
		instr_time clock;
		INSTR_TIME_SET_CURRENT(clock);
		Publish(nullptr, 0, 0, clock);
	}
}

/*
 * Query ids whose text the store is known to keep, as of a text generation: a hit skips the store's lock
 * at ExecutorStart. Direct-mapped by query id; a miss or a changed generation asks the store again.
 */
inline constexpr int kKnownTexts = 64;
struct KnownText {
	uint64 queryid;
	uint64 generation;
};
static KnownText s_known_texts[kKnownTexts];

static void
RememberText(const QueryDesc *queryDesc, uint64 queryid)
{
	KnownText &known = s_known_texts[queryid % kKnownTexts];
	uint64 generation = StoreTextGeneration(); /* read first: an eviction after it invalidates the slot */
	if (known.queryid == queryid && known.generation == generation)
		return;
	const PlannedStmt *ps = queryDesc->plannedstmt;
	const char *text = queryDesc->sourceText;
	int length = static_cast<int>(strlen(text));
	if (ps->stmt_location >= 0 && ps->stmt_location < length) {
		text += ps->stmt_location;
		length = ps->stmt_len > 0 ? Min(ps->stmt_len, length - ps->stmt_location) : length - ps->stmt_location;
	}
	if (StoreRememberQuery(MyDatabaseId, queryid, text, length, GetUserId(), namespace_search_path)) {
		known.queryid = queryid;
		known.generation = generation;
	}
}

/* Drops everything pending for `owner` without recording it (after an internal failure). */
static void
Forget(const QueryDesc *owner)
{
	DropShapes(owner);
	int keep = 0;
	for (int s = 0; s < s_nstatements; s++)
		if (s_statements[s].owner != owner)
			s_statements[keep++] = s_statements[s];
	s_nstatements = keep;
}

/*
 * Runs `work` so that no error of capture's escapes into the user's statement; a failure is counted. A
 * query cancel (statement_timeout, pg_cancel_backend) that capture's catalog lookups happened to notice is
 * the user's, not capture's: from the executor hooks (`pass_cancel`) it is passed on.
 */
template <typename Work>
static void
Guarded(const QueryDesc *owner, bool pass_cancel, Work work)
{
	MemoryContext context = CurrentMemoryContext;
	PG_TRY();
	{
		work();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(context);
		Forget(owner);
		if (pass_cancel && geterrcode() == ERRCODE_QUERY_CANCELED)
			PG_RE_THROW();
		FlushErrorState();
		StoreCountInternalError();
	}
	PG_END_TRY();
}

/* Starts following a statement: counted (it has a query id), walked for shapes, or both. */
static void
CaptureStart(QueryDesc *queryDesc, bool walk, bool count, double weight)
{
	if (s_nstatements >= kMaxPendingStatements)
		return;
	int added = 0;
	if (walk) {
		added = CollectShapes(queryDesc, &s_shapes[s_nshapes], kMaxPendingShapes - s_nshapes);
		s_nshapes += added;
		StoreCountSampled();
	}
	if (added == 0 && !count)
		return;
	PendingStatement &stmt = s_statements[s_nstatements++];
	stmt.owner = queryDesc;
	stmt.level = s_nesting_level;
	INSTR_TIME_SET_CURRENT(stmt.started);
	stmt.queryid = queryDesc->plannedstmt->queryId;
	stmt.weight = weight;
	stmt.walked = walk;
	stmt.counted = count;
	if (walk && added > 0 && stmt.queryid != 0 && queryDesc->sourceText != nullptr)
		RememberText(queryDesc, stmt.queryid);
}

static void
CaptureEnd(QueryDesc *queryDesc)
{
	if (s_fault_injection)
		elog(ERROR, "indexpilot: injected capture fault");
	AddInstrumentation(queryDesc, s_shapes, s_nshapes);
	FlushStatements([queryDesc](const PendingStatement &s) { return s.owner == queryDesc; }, false);
}

static const PendingStatement *
FindPending(const QueryDesc *queryDesc)
{
	for (int s = 0; s < s_nstatements; s++)
		if (s_statements[s].owner == queryDesc)
			return &s_statements[s];
	return nullptr;
}

static void
HookExecutorStart(QueryDesc *queryDesc, int eflags)
{
	bool walk = false;
	bool count = false;
	bool forced = false; /* walked whatever the draw: it stands for itself only */
	// The bypass switches (system, capture hooks module, stats collection feature) are one atomic load.
	if (control::CaptureActive() && StoreAvailable() && !IsParallelWorker() && !s_excluded && s_own_work == 0) {
		if (s_nesting_level == 0) {
			s_statement_sampled = core::SampleStatement(s_sample_rate, pg_prng_double(&pg_global_prng_state));
			s_statement_weight = s_sample_rate > 0 ? 1.0 / s_sample_rate : 1.0;
			s_statement_instrumented =
				s_statement_sampled && core::SampleStatement(s_instrument_rate, pg_prng_double(&pg_global_prng_state));
		}
		if ((eflags & EXEC_FLAG_EXPLAIN_ONLY) == 0) {
			const uint64 queryid = queryDesc->plannedstmt->queryId;
			count = queryid != 0 && s_nstatements < kMaxPendingStatements;
			forced = count && MustWalk(queryid);
			walk = s_statement_sampled || forced;
		}
	}
	if (walk && s_statement_sampled && s_statement_instrumented)
		queryDesc->instrument_options |= INSTRUMENT_ROWS;

	if (s_prev_start)
		s_prev_start(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);

	const double weight = forced ? 1.0 : s_statement_weight;
	if (walk) /* walking the plan reads the catalogs: it may fail, never into the user's statement */
		Guarded(queryDesc, true, [queryDesc, count, weight] { CaptureStart(queryDesc, true, count, weight); });
	else if (count) /* counting only raises nothing */
		CaptureStart(queryDesc, false, true, weight);
}

static void
HookExecutorRun(QueryDesc *queryDesc, ScanDirection direction, uint64 count, bool execute_once)
{
	s_nesting_level++;
	PG_TRY();
	{
		if (s_prev_run)
			s_prev_run(queryDesc, direction, count, execute_once);
		else
			standard_ExecutorRun(queryDesc, direction, count, execute_once);
	}
	PG_FINALLY();
	{
		s_nesting_level--;
	}
	PG_END_TRY();
}

static void
HookExecutorFinish(QueryDesc *queryDesc)
{
	s_nesting_level++;
	PG_TRY();
	{
		if (s_prev_finish)
			s_prev_finish(queryDesc);
		else
			standard_ExecutorFinish(queryDesc);
	}
	PG_FINALLY();
	{
		s_nesting_level--;
	}
	PG_END_TRY();
}

static void
HookExecutorEnd(QueryDesc *queryDesc)
{
	if (s_nstatements > 0) {
		if (const PendingStatement *stmt = FindPending(queryDesc)) {
			if (stmt->walked)
				Guarded(queryDesc, true, [queryDesc] { CaptureEnd(queryDesc); });
			else
				FlushStatements([queryDesc](const PendingStatement &s) { return s.owner == queryDesc; }, false);
		}
	}
	if (s_prev_end)
		s_prev_end(queryDesc);
	else
		standard_ExecutorEnd(queryDesc);
}

/* Statements cut short by an error or a cancel are recorded as cancelled, with the time they ran. */
static void
XactCallback(XactEvent event, void *)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT || event == XACT_EVENT_COMMIT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PREPARE)
		s_own_work = 0; /* no OwnWork outlives its transaction, even one an error left without its destructor */
	if (s_nstatements == 0)
		return;
	bool aborted = event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT;
	bool committed = event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PREPARE;
	if (!aborted && !committed)
		return;
	Guarded(nullptr, false, [aborted] { FlushStatements([](const PendingStatement &) { return true; }, aborted); });
	s_nstatements = 0;
	s_nshapes = 0;
}

static void
SubXactCallback(SubXactEvent event, SubTransactionId, SubTransactionId, void *)
{
	if (event != SUBXACT_EVENT_ABORT_SUB || s_nstatements == 0)
		return;
	// Statements started at or below the current executor depth ran inside the aborted subtransaction.
	int level = s_nesting_level;
	Guarded(nullptr, false, [level] {
		FlushStatements([level](const PendingStatement &s) { return s.level >= level && s.level > 0; }, true);
	});
}

void
ExcludeThisProcess()
{
	s_excluded = true;
}

OwnWork::OwnWork()
{
	s_own_work++;
	// The statements running now called IndexPilot's cycle (SELECT indexpilot_run_now()): their time is the
	// cycle's, not the workload's. They are neither counted nor walked.
	for (int s = 0; s < s_nstatements; s++) {
		s_statements[s].counted = false;
		s_statements[s].walked = false;
	}
}

OwnWork::~OwnWork()
{
	if (s_own_work > 0)
		s_own_work--;
}

void
InstallHooks()
{
	s_prev_start = ExecutorStart_hook;
	ExecutorStart_hook = HookExecutorStart;
	s_prev_run = ExecutorRun_hook;
	ExecutorRun_hook = HookExecutorRun;
	s_prev_finish = ExecutorFinish_hook;
	ExecutorFinish_hook = HookExecutorFinish;
	s_prev_end = ExecutorEnd_hook;
	ExecutorEnd_hook = HookExecutorEnd;
	RegisterXactCallback(XactCallback, nullptr);
	RegisterSubXactCallback(SubXactCallback, nullptr);
	// Representative texts are kept per query id: have the server compute one.
	EnableQueryId();
}

} // namespace indexpilot::capture
