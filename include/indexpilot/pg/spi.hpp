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

/* In a background worker: start a transaction with a snapshot and connect SPI. */
void BeginWork(const char *activity);
/* ... and finish SPI, pop the snapshot and commit. */
void EndWork();

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
