/*
 * pg/spi.cpp — SPI helpers (see pg/spi.hpp).
 */
#include "indexpilot/pg/spi.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "pgstat.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"
}

namespace indexpilot::pg
{

static int s_work_timeout_ms = 0; /* 0: not pinned (a SQL function's caller keeps its own timeouts) */

void
PinWorkerSession(int statement_timeout_ms, int lock_timeout_ms)
{
	// PGC_S_SESSION outranks the database's and the role's defaults (ALTER DATABASE ... SET search_path).
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_SESSION);
	char value[32];
	snprintf(value, sizeof(value), "%d", lock_timeout_ms);
	SetConfigOption("lock_timeout", value, PGC_SUSET, PGC_S_SESSION);
	s_work_timeout_ms = statement_timeout_ms;
}

void
BeginWork(const char *activity)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, activity);
	// postgres.c arms statement_timeout for each client statement; in a worker nothing does: arm it here.
	if (s_work_timeout_ms > 0)
		enable_timeout_after(STATEMENT_TIMEOUT, s_work_timeout_ms);
}

void
AbandonWork()
{
	if (s_work_timeout_ms > 0)
		disable_timeout(STATEMENT_TIMEOUT, false);
}

void
EndWork()
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	AbandonWork();
	pgstat_report_activity(STATE_IDLE, nullptr);
}

static int
Run(const char *sql, int nargs, const char *const *args)
{
	Oid types[16];
	Datum values[16];
	char nulls[17] = {0};
	if (nargs > 16)
		elog(ERROR, "indexpilot: too many SPI arguments");
	for (int i = 0; i < nargs; i++) {
		types[i] = TEXTOID;
		values[i] = args[i] ? CStringGetTextDatum(args[i]) : (Datum)0;
		nulls[i] = args[i] ? ' ' : 'n';
	}
	int rc = SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0);
	if (rc < 0)
		elog(ERROR, "indexpilot: SPI failed (%s) for: %s", SPI_result_code_string(rc), sql);
	return rc;
}

uint64
SpiExec(const char *sql, int nargs, const char *const *args)
{
	Run(sql, nargs, args);
	return SPI_processed;
}

char *
SpiText(const char *sql, int nargs, const char *const *args)
{
	Run(sql, nargs, args);
	if (SPI_processed == 0 || SPI_tuptable == nullptr)
		return nullptr;
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

int64
SpiInt64(const char *sql, int nargs, const char *const *args)
{
	char *text = SpiText(sql, nargs, args);
	return text ? strtoll(text, nullptr, 10) : 0;
}

int64
LogMutation(const char *kind, const char *target_table, const char *target_column, const char *target_index,
			const char *tenant, const char *details, int64 parent)
{
	char parent_text[32];
	snprintf(parent_text, sizeof(parent_text), INT64_FORMAT, parent);
	const char *args[7] = {kind,
						   target_table,
						   target_column,
						   target_index,
						   tenant,
						   details ? details : "{}",
						   parent > 0 ? parent_text : nullptr};
	return SpiInt64("SELECT indexpilot._log_mutation($1, $2, $3, $4, $5, $6::jsonb, $7::bigint)", 7, args);
}

} // namespace indexpilot::pg
