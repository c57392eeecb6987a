/*
 * worker/builder.hpp — index builds: CREATE INDEX CONCURRENTLY run at top level by a short-lived
 * background worker (no connection string or password needed), one build at a time per database.
 *
 * Shared memory: one slot per database (indexpilot.max_workers slots) under the part's LWLock; a slot is
 * claimed by StartBuild and released when the builder exits (also on error).
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

/* Declares the build GUCs (lock_timeout and statement_timeout of builds). */
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

/*
 * Starts a builder for `ddl` (a CREATE INDEX CONCURRENTLY statement creating `index_name` on `relid`)
 * with `proposal_id` as the lineage parent. Returns false, with the reason in *why, when a build already
 * runs for the database or no background worker could be started.
 */
bool StartBuild(Oid dboid, Oid relid, const char *index_name, const char *ddl, int64 proposal_id, const char **why);

/*
 * Runs one SQL statement the way a client's simple query would, at top level and outside any
 * transaction block, so CREATE/DROP INDEX CONCURRENTLY may run. Call outside a transaction.
 */
void ExecuteTopLevel(const char *sql);

/*
 * Drops INVALID indexes IndexPilot left behind (a build interrupted by a crash, a restart or a cancel)
 * when no build runs for them, and records each in mutation_log. Call outside a transaction, in the
 * database's worker. Returns how many were dropped.
 */
int CleanupInvalidIndexes();

} // namespace indexpilot::worker

extern "C" {
PGDLLEXPORT void indexpilot_builder_main(Datum arg);
}
