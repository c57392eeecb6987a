/*
 * capture/sql.cpp — SQL access to the capture store: indexpilot._live_stats(), indexpilot._live_queries(),
 * indexpilot._capture_counters() (behind the views in schema indexpilot), indexpilot._take_live_stats()
 * (the flush's take, capture/take.cpp), indexpilot._forget_live_queries() and indexpilot_reset_live_stats(),
 * and indexpilot._genome_changed(), the trigger that tells capture the genome's tenant keys changed.
 */
#include "indexpilot/capture/hooks.hpp"
#include "indexpilot/capture/store.hpp"
#include "indexpilot/capture/take.hpp"
#include "indexpilot/pg/compat.hpp"
#include "indexpilot/pg/guard.hpp"
#include "indexpilot/pg/shmem.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

namespace indexpilot::capture
{

static void
RequireStore(const char *what)
{
	if (!StoreAvailable())
		pg::RequirePreloaded(what); /* raises the "add it to shared_preload_libraries" error */
	if (!StoreAvailable())
		elog(ERROR, "indexpilot capture store is not attached");
}

static Datum
Int16Array(const ShapeKey &key)
{
	Datum elems[core::kMaxShapeColumns];
	for (int i = 0; i < key.ncols; i++)
		elems[i] = Int16GetDatum(key.attnum[i]);
	return PointerGetDatum(construct_array(elems, key.ncols, INT2OID, 2, true, TYPALIGN_SHORT));
}

static Datum
OperatorArray(const ShapeKey &key)
{
	Datum elems[core::kMaxShapeColumns];
	for (int i = 0; i < key.ncols; i++)
		elems[i] = CStringGetTextDatum(core::OpKindName(static_cast<core::OpKind>(key.opkind[i])));
	return PointerGetDatum(construct_array(elems, key.ncols, TEXTOID, -1, false, TYPALIGN_INT));
}

static const char *
TenantScope(uint8 kind)
{
	switch (static_cast<TenantKind>(kind)) {
		case TenantKind::Int:
		case TenantKind::Text:
			return "tenant";
		case TenantKind::Other:
			return "other_tenants";
		case TenantKind::None:
			break;
	}
	return "none";
}

static const char *
KindName(uint8 kind)
{
	switch (static_cast<ShapeKind>(kind)) {
		case ShapeKind::Join:
			return "join";
		case ShapeKind::Statement:
			return "statement";
		case ShapeKind::Filter:
			break;
	}
	return "filter";
}

/*
 * Emits shapes and statements' counters (kind 'statement', no relation, no columns); `take` takes this database's
 * shapes for the flush in this transaction (capture/take.cpp: they leave the store when it commits). A transaction that
 * flushed does not see what it took again.
 */
static void
LiveStats(FunctionCallInfo fcinfo, bool take)
{
	RequireStore(take ? "indexpilot._take_live_stats()" : "indexpilot._live_stats()");
	PublishPendingCounts(); /* this backend's own executions show at once */
	pg::InitMaterializedResult(fcinfo);
	auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
	ShapeEntry *entries = nullptr;
	int n = take ? TakeForFlush(&entries)
				 : StoreSnapshot(InvalidOid, &entries, FlushInProgress() ? MyDatabaseId : InvalidOid);
	for (int i = 0; i < n; i++) {
		const ShapeEntry &e = entries[i];
		const ShapeCounters &c = e.counters;
		if (c.calls == 0)
			continue; /* an aggregate created only to count the tenants kept apart */
		constexpr int kColumns = 24;
		Datum v[kColumns];
		bool isnull[kColumns];
		memset(isnull, 0, sizeof(isnull));
		v[0] = ObjectIdGetDatum(e.key.dbid);
		v[1] = ObjectIdGetDatum(e.key.relid);
		v[2] = CStringGetTextDatum(KindName(e.key.shape_kind));
		v[3] = Int16Array(e.key);
		v[4] = OperatorArray(e.key);
		v[5] = CStringGetTextDatum(TenantScope(e.key.tenant_kind));
		// A text tenant shows as it was seen, even empty (the flush counts that one with the other tenants).
		if (e.tenant_text[0] != '\0' || e.key.tenant_kind == static_cast<uint8>(TenantKind::Text))
			v[6] = CStringGetTextDatum(e.tenant_text);
		else
			isnull[6] = true;
		v[7] = Int64GetDatum(c.calls);
		v[8] = Int64GetDatum(c.access_calls[static_cast<int>(Access::Seq)]);
		v[9] = Int64GetDatum(c.access_calls[static_cast<int>(Access::Index)]);
		v[10] = Int64GetDatum(c.access_calls[static_cast<int>(Access::Bitmap)]);
		v[11] = Int64GetDatum(c.access_calls[static_cast<int>(Access::Other)]);
		v[12] = Int64GetDatum(c.cancelled_calls);
		v[13] = Int64GetDatum(c.instrumented_calls);
		v[14] = Int64GetDatum(c.rows_scanned);
		v[15] = Int64GetDatum(c.rows_returned);
		v[16] = Float8GetDatum(c.total_ms);
		v[17] = Float8GetDatum(c.max_ms);
		v[18] = Float8GetDatum(c.cancelled_ms);
		v[19] = Int64GetDatum(static_cast<int64>(e.key.queryid));
		isnull[19] = e.key.queryid == 0;
		v[20] = TimestampTzGetDatum(c.last_seen);
		v[21] = TimestampTzGetDatum(c.first_seen);
		v[22] = Float8GetDatum(c.estimated_calls);
		v[23] = Int64GetDatum(c.sampled_calls);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, isnull);
	}
}

static void
LiveQueries(FunctionCallInfo fcinfo)
{
	RequireStore("indexpilot._live_queries()");
	pg::InitMaterializedResult(fcinfo);
	auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
	QueryEntry *entries = nullptr;
	int n = StoreSnapshotQueries(InvalidOid, &entries);
	for (int i = 0; i < n; i++) {
		Datum v[6];
		bool isnull[6] = {false, false, false, false, false, false};
		v[0] = ObjectIdGetDatum(entries[i].key.dbid);
		v[1] = Int64GetDatum(static_cast<int64>(entries[i].key.queryid));
		v[2] = CStringGetTextDatum(entries[i].text);
		v[3] = TimestampTzGetDatum(entries[i].last_seen);
		v[4] = ObjectIdGetDatum(entries[i].userid);
		isnull[4] = !OidIsValid(entries[i].userid);
		v[5] = CStringGetTextDatum(entries[i].search_path);
		isnull[5] = entries[i].search_path[0] == '\0';
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, isnull);
	}
}

static void
CaptureCounters(FunctionCallInfo fcinfo)
{
	RequireStore("indexpilot._capture_counters()");
	pg::InitMaterializedResult(fcinfo);
	auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
	StoreCounters c;
	StoreReadCounters(&c);
	Datum v[10];
	bool isnull[10];
	memset(isnull, 0, sizeof(isnull));
	v[0] = Int64GetDatum(c.entries);
	v[1] = Int64GetDatum(c.max_entries);
	v[2] = Int64GetDatum(c.queries);
	v[3] = Int64GetDatum(c.max_queries);
	v[4] = Int64GetDatum(static_cast<int64>(c.evictions));
	v[5] = Int64GetDatum(static_cast<int64>(c.query_evictions));
	v[6] = Int64GetDatum(static_cast<int64>(c.dropped));
	v[7] = Int64GetDatum(static_cast<int64>(c.internal_errors));
	v[8] = Int64GetDatum(static_cast<int64>(c.statements_sampled));
	v[9] = TimestampTzGetDatum(c.reset_at);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, isnull);
}

} // namespace indexpilot::capture

/* indexpilot._live_stats(): every shape the store holds, all databases. */
INDEXPILOT_FUNCTION(indexpilot_live_stats)
{
	indexpilot::capture::LiveStats(fcinfo, false);
	return (Datum)0;
}

/* indexpilot._take_live_stats(): this database's shapes, taken for the flush in this transaction. */
INDEXPILOT_FUNCTION(indexpilot_take_live_stats)
{
	indexpilot::capture::LiveStats(fcinfo, true);
	return (Datum)0;
}

/* indexpilot._live_queries(): the representative statement texts, all databases. */
INDEXPILOT_FUNCTION(indexpilot_live_queries)
{
	indexpilot::capture::LiveQueries(fcinfo);
	return (Datum)0;
}

/* indexpilot._capture_counters(): sizes, evictions, drops and internal errors of the store. */
INDEXPILOT_FUNCTION(indexpilot_capture_counters)
{
	indexpilot::capture::CaptureCounters(fcinfo);
	return (Datum)0;
}

/* indexpilot_reset_live_stats() returns bigint: empties the store; the number of shapes removed. */
INDEXPILOT_FUNCTION(indexpilot_reset_live_stats)
{
	indexpilot::capture::RequireStore("indexpilot_reset_live_stats()");
	return Int64GetDatum(indexpilot::capture::StoreReset());
}

/* indexpilot._forget_live_queries(role oid) returns bigint: this database's texts of `role` (all: NULL) removed. */
INDEXPILOT_FUNCTION(indexpilot_forget_live_queries)
{
	indexpilot::capture::RequireStore("indexpilot._forget_live_queries()");
	const Oid role = PG_ARGISNULL(0) ? InvalidOid : PG_GETARG_OID(0);
	return Int64GetDatum(indexpilot::capture::StoreForgetQueries(MyDatabaseId, role));
}

/*
 * indexpilot._genome_changed(): statement trigger on indexpilot.genome_tables. Capture caches each table's
 * tenant key per backend (capture/predicates.cpp) and empties that cache on any relcache invalidation; this
 * sends one for the genome table, at commit, so every backend reads the new tenant keys.
 */
INDEXPILOT_FUNCTION(indexpilot_genome_changed)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
						errmsg("indexpilot._genome_changed() may only be called as a trigger")));
	CacheInvalidateRelcache(reinterpret_cast<TriggerData *>(fcinfo->context)->tg_relation);
	return PointerGetDatum(nullptr);
}
