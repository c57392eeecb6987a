/*
 * worker/builder.hpp — index builds: CREATE INDEX CONCURRENTLY run at top level by a short-lived
 * background worker (no connection string or password needed), one build at a time per database.
 *
 * Shared memory: one slot per database (indexpilot.max_workers slots) under the part's LWLock; a slot is
 * reserved by StartBuildAtCommit, launched at that transaction's commit (or released at its abort) and
 * released when the builder exits (also on error).
 */
#pragma once

#include "indexpilot/pg/postgres.hpp"

extern "C" {
#include "datatype/timestamp.h"
}

namespace indexpilot::worker
{

inline constexpr int kMaxDdlBytes = 4096;

/* Adds the builder slots to IndexPilot's shared memory (while preloading). */
void RequestBuilder();

/* Declares the build GUCs (lock_timeout and statement_timeout of builds, retry backoff after failures). */
void DefineBuilderGucs();

/* A build slot in use, for indexpilot_worker_status(). */
struct BuildInfo {
	Oid dboid;
	int pid; /* 0 while the builder is starting */
	TimestampTz started_at;
	char index_name[NAMEDATALEN];
};
/* Copies the slots in use into out (at most max); returns how many. */
int BuildSnapshot(BuildInfo *out, int max);

/* True while a build runs (or is about to) for the database. */
bool BuildRunning(Oid dboid);

/* True while a build runs (or is about to) anywhere in the cluster (one at a time). */
bool BuildRunningAnywhere();

/*
 * Reserves this database's build slot for `ddl` (a CREATE INDEX CONCURRENTLY statement creating
 * `index_name` on `relid`, with `proposal_id` as the lineage parent) and launches the builder when the
 * current transaction commits, so the builder never runs before (or without) its proposal. An abort of the
 * transaction (or of the subtransaction that reserved) releases the slot; a PREPARE releases it too (with
 * a NOTICE). Returns false, with the reason in *why, when a build already runs (or is reserved) for the
 * database or no slot is free. Raises no ERROR.
 */
bool StartBuildAtCommit(Oid dboid, Oid relid, const char *index_name, const char *ddl, int64 proposal_id,
						const char **why);

/*
 * Runs one SQL statement the way a client's simple query would, at top level and outside any
 * transaction block, so CREATE/DROP INDEX CONCURRENTLY may run. Call outside a transaction.
 */
void ExecuteTopLevel(const char *sql);

/*
 * Drops index `qualified` (schema-qualified, quoted) of table `relid`, IF EXISTS, with DROP INDEX
 * CONCURRENTLY so that indexpilot.build_lock_timeout bounds only the waits that hold up others (the table's
 * ShareUpdateExclusiveLock, taken first as a session lock) and indexpilot.build_statement_timeout the rest
 * (the waits for older transactions, which hold up nobody). On a partitioned table, where PostgreSQL has
 * no concurrent form, a plain DROP INDEX under the lock timeout (the table and its partitions are locked
 * while it runs). An error is caught and returned in `error`; false then. Call outside a transaction.
 */
bool DropIndexOfTable(Oid relid, const char *qualified, char *error, size_t size);

/*
 * Records index_build_abandoned for every index_build_started row with no outcome whose builder is gone
 * (killed, or lost in a crash), then drops the INVALID indexes IndexPilot's own builds left: by the OID
 * their index_build_started row recorded, still INVALID, never a partitioned index, not while a builder
 * still owns them. Each drop runs with lock_timeout and statement_timeout and its own error handling (a
 * failure is a WARNING; the next cycle tries again); each is recorded as index_dropped. Call outside a
 * transaction, in the database's worker. Returns how many were dropped.
 */
int CleanupInvalidIndexes();

} // namespace indexpilot::worker

extern "C" {
PGDLLEXPORT void indexpilot_builder_main(Datum arg);
}
