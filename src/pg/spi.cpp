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
#include "utils/snapmgr.h"
}

namespace indexpilot::pg
{

void
BeginWork(const char *activity)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, activity);
}

void
EndWork()
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
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
