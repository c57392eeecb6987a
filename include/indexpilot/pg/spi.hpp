/*
 * pg/spi.hpp — small SPI helpers for background workers and SQL functions. C-style: they may raise an
 * ERROR (callers holding C++ objects with destructors wrap them in pg::Call).
 *
 * Parameters are passed as text ($1..$n, cast in the SQL as needed: "$1::regclass"); a nullptr is NULL.
 */
#pragma once

#include "indexpilot/pg/postgres.hpp"

namespace indexpilot::pg
{

/*
 * In a background worker, once after connecting: names resolve in pg_catalog first, and nothing else
 * unqualified (search_path = pg_catalog, pg_temp, whatever the database's or role's default); lock waits
 * end after lock_timeout_ms; each unit of work (BeginWork..EndWork) is cancelled after
 * statement_timeout_ms. Call again after a reload to apply new values.
 */
void PinWorkerSession(int statement_timeout_ms, int lock_timeout_ms);

/* In a background worker: start a transaction with a snapshot and connect SPI; arms the work timeout. */
void BeginWork(const char *activity);
/* ... and finish SPI, pop the snapshot and commit; disarms the work timeout. */
void EndWork();
/* After aborting a unit of work instead of EndWork: disarms the work timeout. */
void AbandonWork();

/* Runs `sql`; returns the number of rows processed. */
uint64 SpiExec(const char *sql, int nargs = 0, const char *const *args = nullptr);
/* Runs `sql`; the first column of the first row as text (palloc'd), or nullptr. */
char *SpiText(const char *sql, int nargs = 0, const char *const *args = nullptr);
/* Runs `sql`; the first column of the first row as int64 (0 when NULL or no row). */
int64 SpiInt64(const char *sql, int nargs = 0, const char *const *args = nullptr);

/*
 * Appends to indexpilot.mutation_log through indexpilot._log_mutation(); returns the new id. details is a
 * JSON text; nullptr arguments are NULL; parent 0 means none. Needs SPI connected.
 */
int64 LogMutation(const char *kind, const char *target_table, const char *target_column, const char *target_index,
				  const char *tenant, const char *details, int64 parent);

} // namespace indexpilot::pg
