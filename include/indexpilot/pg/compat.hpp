/*
 * pg/compat.hpp — the few calls that differ between PostgreSQL versions, behind one name each.
 * We build and test on 15; the #if branches keep 13–17 possible.
 */
#pragma once

#include "indexpilot/pg/postgres.hpp"

extern "C" {
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/guc.h"
#if PG_VERSION_NUM < 150000
#include "utils/tuplestore.h"
#endif
}

namespace indexpilot::pg
{

/* Sets up a materialized set-returning function: rsinfo->setResult and setDesc are ready afterwards. */
inline void
InitMaterializedResult(FunctionCallInfo fcinfo)
{
#if PG_VERSION_NUM >= 150000
	InitMaterializedSRF(fcinfo, 0);
#else
	ReturnSetInfo *rsinfo = (ReturnSetInfo *)fcinfo->resultinfo;
	TupleDesc tupdesc;
	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) || !(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						errmsg("set-valued function called in context that cannot accept a set")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	MemoryContext old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = tuplestore_begin_heap(true, false, work_mem);
	rsinfo->setDesc = CreateTupleDescCopy(tupdesc);
	MemoryContextSwitchTo(old);
#endif
}

/* Reserves the "indexpilot." GUC prefix so misspelt settings are reported (15+). */
inline void
ReserveGucPrefix(const char *prefix)
{
#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved(prefix);
#else
	EmitWarningsOnPlaceholders(prefix);
#endif
}

} // namespace indexpilot::pg
