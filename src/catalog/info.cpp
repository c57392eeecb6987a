/*
 * catalog/info.cpp — indexpilot_version() and indexpilot_worker_status().
 */
#include "indexpilot/pg/compat.hpp"
#include "indexpilot/pg/guard.hpp"
#include "indexpilot/worker/registry.hpp"
#include "indexpilot/worker/builder.hpp"

extern "C" {
#include "access/htup_details.h"
#include "commands/dbcommands.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

namespace indexpilot::catalog
{

/* One row of indexpilot_worker_status(), copied out of shared memory under the lock. */
struct StatusRow {
	const char *role;
	Oid dboid;
	int pid;
	TimestampTz started_at;
	TimestampTz last_activity;
	uint64 loops;
};

static void
EmitStatusRow(ReturnSetInfo *rsinfo, const StatusRow &row)
{
	Datum values[6];
	bool nulls[6] = {false, false, false, false, false, false};
	values[0] = CStringGetTextDatum(row.role);
	char *dbname = OidIsValid(row.dboid) ? get_database_name(row.dboid) : nullptr;
	if (dbname != nullptr)
		values[1] = DirectFunctionCall1(namein, CStringGetDatum(dbname));
	else
		nulls[1] = true;
	values[2] = Int32GetDatum(row.pid);
	values[3] = TimestampTzGetDatum(row.started_at);
	nulls[3] = row.started_at == 0;
	values[4] = TimestampTzGetDatum(row.last_activity);
	nulls[4] = row.last_activity == 0;
	values[5] = Int64GetDatum(static_cast<int64>(row.loops));
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/* Copies the registry (bounded by the slot count) and emits it; all plain C calls, no C++ objects. */
static void
WorkerStatus(FunctionCallInfo fcinfo)
{
	worker::WorkerRegistry *shared = worker::RequireRegistry("indexpilot_worker_status()");
	pg::InitMaterializedResult(fcinfo);
	auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);

	auto *rows = static_cast<StatusRow *>(palloc0(sizeof(StatusRow) * (shared->nslots + 1)));
	int nrows = 0;
	LWLockAcquire(shared->lock, LW_SHARED);
	if (shared->launcher_pid != 0)
		rows[nrows++] = StatusRow{"launcher",
								  InvalidOid,
								  shared->launcher_pid,
								  shared->launcher_started_at,
								  shared->launcher_last_activity,
								  shared->launcher_loops};
	for (int i = 0; i < shared->nslots; i++) {
		const worker::WorkerSlot &slot = shared->slots[i];
		if (slot.dboid != InvalidOid)
			rows[nrows++] = StatusRow{"worker", slot.dboid, slot.pid, slot.started_at, slot.last_activity, slot.loops};
	}
	LWLockRelease(shared->lock);

	// Name lookups happen after the lock is released: they may read catalogs (and so raise errors).
	for (int i = 0; i < nrows; i++)
		EmitStatusRow(rsinfo, rows[i]);

	// Index builds in progress (a slot is held from the decision until the builder has exited).
	auto *builds = static_cast<worker::BuildInfo *>(palloc0(sizeof(worker::BuildInfo) * (shared->nslots + 1)));
	int nbuilds = worker::BuildSnapshot(builds, shared->nslots + 1);
	for (int i = 0; i < nbuilds; i++)
		EmitStatusRow(rsinfo, StatusRow{"builder", builds[i].dboid, builds[i].pid, builds[i].started_at, 0, 0});
}

} // namespace indexpilot::catalog

/* indexpilot_version() returns text: the version of the loaded library. */
INDEXPILOT_FUNCTION(indexpilot_version)
{
	return CStringGetTextDatum(INDEXPILOT_VERSION);
}

/* indexpilot_worker_status() returns setof (role, database, pid, started_at, last_activity, loops). */
INDEXPILOT_FUNCTION(indexpilot_worker_status)
{
	indexpilot::catalog::WorkerStatus(fcinfo);
	return (Datum)0;
}
