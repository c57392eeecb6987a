/*
 * catalog/genome_entry.cpp — the entry point of the genome and expression functions users call
 * (indexpilot_register(), indexpilot_sync(), indexpilot_mark_core(), indexpilot_express(), ...).
 *
 * Each of them is declared LANGUAGE C with this one symbol, SECURITY INVOKER and revoked from PUBLIC, so
 * EXECUTE is what a DBA grants to delegate them. The caller is checked here, as itself: it must be a
 * member of the owner of the table the call names (superusers are members of every role); a function
 * that names no table (indexpilot_sync_all()) is for superusers only. Then the body runs: the SQL function
 * indexpilot._do_<name>(the same arguments..., caller name), SECURITY DEFINER, so it may write IndexPilot's
 * catalog as the extension's owner. The check cannot live in the body: inside a SECURITY DEFINER function
 * current_user is the definer and the role that called it is not visible to SQL.
 *
 * Memory: plain C calls only (no C++ object is alive when PostgreSQL raises an ERROR).
 */
#include "indexpilot/pg/guard.hpp"

extern "C" {
#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

#include <cstring>

namespace indexpilot::catalog
{

static constexpr const char kPrefix[] = "indexpilot_";

/* Refuses the call unless the calling role may manage the table the call names. */
static void
CheckCaller(FunctionCallInfo fcinfo, const char *fname, const Oid *argtypes, int nargs)
{
	const Oid caller = GetUserId();
	if (superuser_arg(caller))
		return;
	int relarg = -1;
	for (int i = 0; i < nargs && relarg < 0; i++)
		if (argtypes[i] == REGCLASSOID)
			relarg = i;
	if (relarg < 0)
		ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						errmsg("%s: permission denied: it changes every managed table, so only superusers may run it",
							   fname)));
	if (PG_ARGISNULL(relarg))
		return; // the body refuses a NULL table
	const Oid relid = PG_GETARG_OID(relarg);
	HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		return; // the body reports a table that does not exist
	const Oid owner = reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	if (!is_member_of_role(caller, owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s: permission denied for table %s", fname,
						quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid))),
				 errdetail("Only the owner of a table (or a member of its owner role) may change what IndexPilot "
						   "does with it.")));
}

/* Checks the caller, then calls indexpilot._do_<name>(arguments..., caller) and returns its result. */
static Datum
GenomeEntry(FunctionCallInfo fcinfo)
{
	HeapTuple proc = SearchSysCache1(PROCOID, ObjectIdGetDatum(fcinfo->flinfo->fn_oid));
	if (!HeapTupleIsValid(proc))
		elog(ERROR, "cache lookup failed for function %u", fcinfo->flinfo->fn_oid);
	auto *form = reinterpret_cast<Form_pg_proc>(GETSTRUCT(proc));
	const char *fname = pstrdup(NameStr(form->proname));
	const int nargs = form->pronargs;
	if (std::strncmp(fname, kPrefix, sizeof(kPrefix) - 1) != 0 || nargs + 1 > FUNC_MAX_ARGS || nargs != fcinfo->nargs)
		elog(ERROR, "indexpilot: %s is not a genome function", fname);
	Oid *argtypes = static_cast<Oid *>(palloc(sizeof(Oid) * (nargs + 1)));
	std::memcpy(argtypes, form->proargtypes.values, sizeof(Oid) * nargs);
	ReleaseSysCache(proc);
	argtypes[nargs] = NAMEOID;

	CheckCaller(fcinfo, fname, argtypes, nargs);

	// Looked up without the caller's USAGE on schema indexpilot (a delegated role has none). The schema
	// belongs to the extension: nobody else can create a function there.
	const char *impl_name = psprintf("_do_%s", fname + sizeof(kPrefix) - 1);
	const Oid impl = GetSysCacheOid3(PROCNAMEARGSNSP, Anum_pg_proc_oid, CStringGetDatum(impl_name),
									 PointerGetDatum(buildoidvector(argtypes, nargs + 1)),
									 ObjectIdGetDatum(get_namespace_oid("indexpilot", false)));
	if (!OidIsValid(impl))
		elog(ERROR, "indexpilot: the body of %s, indexpilot.%s, does not exist", fname, impl_name);

	FmgrInfo flinfo;
	fmgr_info(impl, &flinfo); // a SECURITY DEFINER function: fmgr switches to its owner and back
	LOCAL_FCINFO(call, FUNC_MAX_ARGS);
	InitFunctionCallInfoData(*call, &flinfo, nargs + 1, fcinfo->fncollation, nullptr, nullptr);
	for (int i = 0; i < nargs; i++) {
		call->args[i].value = fcinfo->args[i].value;
		call->args[i].isnull = fcinfo->args[i].isnull;
	}
	call->args[nargs].value = DirectFunctionCall1(namein, CStringGetDatum(GetUserNameFromId(GetUserId(), false)));
	call->args[nargs].isnull = false;
	const Datum result = FunctionCallInvoke(call);
	fcinfo->isnull = call->isnull;
	return result;
}

} // namespace indexpilot::catalog

/* indexpilot_register(), indexpilot_sync(), ...: checks the caller, then runs the body (see the header). */
INDEXPILOT_FUNCTION(indexpilot_genome_entry)
{
	return indexpilot::catalog::GenomeEntry(fcinfo);
}
