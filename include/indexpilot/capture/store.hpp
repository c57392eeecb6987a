/*
 * capture/store.hpp — the bounded shared-memory store of captured predicate shapes and query texts.
 *
 * Locking (the pg_stat_statements discipline):
 *   - `lock` LW_SHARED to look an entry up and bump its counters under the entry's spinlock;
 *   - `lock` LW_EXCLUSIVE only to insert, evict or reset;
 *   - the store-wide counters are atomics, touched without the lock.
 * The store holds at most indexpilot.max_tracked shapes and indexpilot.max_queries texts. When full, the
 * least-used 5% are evicted in one go and counted. Per (relation, columns, operators) at most
 * indexpilot.max_tenants_per_shape tenants are kept apart; the rest are aggregated in one "other" entry.
 * All structs are plain data: they live in shared memory.
 *
 * The flush (capture/take.cpp) takes a database's shapes in two steps, so that they leave shared memory only
 * when its rows are committed: StoreTake moves each entry's counters into the entry's `inflight` part (new
 * calls count afresh meanwhile), then at commit StoreSettleTake forgets the in-flight counters, or at abort
 * adds them back. Only the transaction holding that database's flush lock has in-flight counters there, so
 * settling needs no per-backend bookkeeping; an entry with in-flight counters is never evicted.
 * No function here raises an ERROR or allocates memory while holding the lock.
 */
#pragma once

#include "indexpilot/core/shape.hpp"
#include "indexpilot/pg/postgres.hpp"

extern "C" {
#include "datatype/timestamp.h"
#include "port/atomics.h"
#include "storage/lwlock.h"
#include "storage/spin.h"
}

namespace indexpilot::capture
{

enum class TenantKind : uint8 { None = 0, Int = 1, Text = 2, Other = 3 };
/* Statement: not a shape but one query id's counters (every execution counted, see StoreRecordStatement). */
enum class ShapeKind : uint8 { Filter = 0, Join = 1, Statement = 2 };
enum class Access : uint8 { Seq = 0, Index = 1, Bitmap = 2, Other = 3 };

inline constexpr int kTenantTextBytes = 40;
inline constexpr int kQueryTextBytes = 2048;
inline constexpr int kSearchPathBytes = 256;

/*
 * Hash key of a shape. Always memset to zero before filling: padding bytes are hashed too. A shape is kept
 * per statement (query id) that showed it, so that its calls can be estimated from that statement's true
 * count; a Statement entry has relid InvalidOid and no columns.
 */
struct ShapeKey {
	Oid dbid;
	Oid relid;
	uint64 queryid;
	int64 tenant; /* integer value, or a hash of the text value */
	uint8 tenant_kind;
	uint8 shape_kind;
	uint8 ncols;
	uint8 unused;
	int16 attnum[core::kMaxShapeColumns];
	uint8 opkind[core::kMaxShapeColumns];
};

/* One statement's observation of one shape. */
struct Observation {
	ShapeKey key;
	char tenant_text[kTenantTextBytes];
	Access access;
	bool cancelled;
	bool instrumented;
	int64 rows_scanned;
	int64 rows_returned;
	double elapsed_ms;
	uint64 queryid;
	double weight; /* statements this sampled one stands for: 1 / sample_rate */
};

/* A backend's counts of one statement (query id) since it last published them (the true count). */
struct StatementCounts {
	uint64 queryid;
	int64 calls;         /* executions, walked or not */
	int64 sampled_calls; /* executions whose plan was walked for shapes */
	int64 cancelled_calls;
	double total_ms;
	double max_ms;
	double cancelled_ms;
	double last_ms; /* the latest execution's time */
};

struct ShapeCounters {
	int64 calls;            /* a shape: sampled calls that showed it; a statement: every execution */
	int64 sampled_calls;    /* a statement: executions whose plan was walked (0 for shapes) */
	double estimated_calls; /* calls scaled by the sampling rate: the traffic they stand for */
	int64 access_calls[4];  /* by Access */
	int64 cancelled_calls;
	int64 instrumented_calls;
	int64 rows_scanned;
	int64 rows_returned;
	double total_ms;
	double max_ms;
	double cancelled_ms;
	TimestampTz first_seen;
	TimestampTz last_seen;
};

struct ShapeEntry {
	ShapeKey key; /* must be first */
	slock_t mutex;
	ShapeCounters counters;
	ShapeCounters inflight; /* taken by a flush not yet committed (changed under the exclusive lock only) */
	double usage;           /* decays at each eviction; drives which entries go */
	int32 ntenants;         /* in an Other entry: the tenant entries kept apart for the same shape */
	uint64 queryid;         /* the statement that showed this shape (key.queryid; see QueryEntry) */
	double last_ms;         /* a statement: how long its last execution ran */
	char tenant_text[kTenantTextBytes];
};

struct QueryKey {
	Oid dbid;
	uint32 unused;
	uint64 queryid;
};

struct QueryEntry {
	QueryKey key; /* must be first */
	TimestampTz last_seen;
	double usage;
	Oid userid;                         /* the role that ran it: it is re-planned with no more rights */
	char search_path[kSearchPathBytes]; /* the search_path it ran with; empty if it did not fit */
	char text[kQueryTextBytes];         /* a representative statement, with its constants */
};

struct StoreCounters {
	int64 entries;
	int64 max_entries;
	int64 queries;
	int64 max_queries;
	uint64 evictions;
	uint64 query_evictions;
	uint64 dropped;
	uint64 internal_errors;
	uint64 statements_sampled;
	TimestampTz reset_at;
};

/* Declares the store's GUCs (the PGC_POSTMASTER sizes only while preloading). */
void DefineStoreGucs();

/* Adds the store to IndexPilot's shared memory (while preloading). */
void RequestStore();

/* True once the store is attached (the library was preloaded). */
bool StoreAvailable();

/* Most observations one statement records at once (StoreRecordStatement). */
inline constexpr int kMaxStatementObservations = 128;

/*
 * Adds one statement's observations (at most kMaxStatementObservations) and a backend's pending counts of
 * statements (`counts`, `ncounts` of them, at most kMaxPendingCounts) to the store, under one shared
 * acquisition of the lock; `now` is when the statement ended. Entries seen for the first time are
 * inserted under the exclusive lock afterwards. With
 * queryid not 0, also adds `text_usage` to the usage of the text kept for (dbid, queryid), if any (callers
 * may bump every k-th statement by k: usage only steers eviction).
 * Never raises an ERROR; a full store evicts, an impossible insert is counted.
 */
inline constexpr int kMaxPendingCounts = 64;
void StoreRecordStatement(const Observation *const *obs, int n, Oid dbid, uint64 queryid, double text_usage,
						  TimestampTz now, const StatementCounts *counts, int ncounts);

/*
 * Whether the store counts executions of (dbid, queryid) now, and if so how long the last one ran. Takes
 * the lock shared; never raises an ERROR.
 */
bool StoreStatementLastMs(Oid dbid, uint64 queryid, double *last_ms);

/* Bumped whenever entries are evicted or the store is reset: a backend's cache of known statements is stale. */
uint64 StoreEntryGeneration();

/*
 * Remembers a representative text for (dbid, queryid) unless one is kept already, with the role that ran it
 * and its search_path (a path that does not fit is kept empty: such a text is never re-planned); returns
 * whether one is kept now. A backend may skip calling again for the same query id while StoreTextGeneration() has not
 * changed (it changes whenever texts are evicted or reset).
 */
bool StoreRememberQuery(Oid dbid, uint64 queryid, const char *text, int length, Oid userid, const char *search_path);
uint64 StoreTextGeneration();

/* Bumps the internal-error counter (capture failed and was skipped). */
void StoreCountInternalError();
void StoreCountSampled();

/*
 * Copies every shape (or those of `dbid` unless InvalidOid) into a palloc'd array; returns the count. Each
 * copy's counters include the in-flight ones, except in database `own_flush_db`, whose in-flight counters
 * are the caller's own uncommitted flush (already in query_stats as the caller sees it).
 */
int StoreSnapshot(Oid dbid, ShapeEntry **out, Oid own_flush_db);
int StoreSnapshotQueries(Oid dbid, QueryEntry **out);
void StoreReadCounters(StoreCounters *out);

/* Number of shapes in the store now (all databases): an upper bound for StoreTake's `capacity`. */
long StoreShapeCount();

/*
 * The flush's take, for the holder of `dbid`'s flush lock: moves the counters of up to `capacity` of
 * `dbid`'s shapes with calls into their in-flight part and copies what it moved into `out` (the caller's
 * memory: nothing is allocated here); returns the count. Shapes beyond `capacity` wait for the next flush.
 */
int StoreTake(Oid dbid, ShapeEntry *out, int capacity);

/*
 * Ends the take of `dbid` by the transaction holding its flush lock: committed, the in-flight counters are
 * forgotten and emptied entries removed; aborted, they are added back to the live counters.
 */
void StoreSettleTake(Oid dbid, bool committed);

/* Adds back exactly the `n` taken copies in `taken` (a subtransaction that took them rolled back). */
void StoreReturnTaken(const ShapeEntry *taken, int n);

/* Removes the texts of `dbid` that `userid` ran (every role's with InvalidOid); returns how many. */
int64 StoreForgetQueries(Oid dbid, Oid userid);

/* Removes every entry and text; returns how many shapes were removed. */
int64 StoreReset();

} // namespace indexpilot::capture
