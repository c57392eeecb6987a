/*
 * capture/catalog_cache.cpp — the backend caches behind capture's catalog facts (see catalog_cache.hpp).
 *
 * Caches (backend-local, TopMemoryContext): relation -> tracked?/tenant column, operator -> kind, function ->
 * volatile?. The relation cache is rebuilt after any relcache invalidation or a change of
 * indexpilot.tenant_column; the function cache when pg_proc changes. A relation's tenant key comes from
 * this database's genome (indexpilot.genome_tables), read in a subtransaction that never waits for a lock.
 */
#include "indexpilot/capture/catalog_cache.hpp"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
}

#include <cstring>

namespace indexpilot::capture
{

using core::OpKind;

static char *s_tenant_column = nullptr;

static HTAB *s_rel_cache = nullptr;
static HTAB *s_op_cache = nullptr;
static HTAB *s_func_cache = nullptr;
static bool s_rel_cache_stale = false;
static bool s_func_cache_stale = false;
static bool s_callback_registered = false;

/*
 * Direct-mapped fronts of the caches: the hot path usually meets the same few relations, operators and
 * functions, and a hit costs a compare instead of a hash lookup. They point into the dynahash tables,
 * whose entries never move; a front is cleared whenever its table is rebuilt.
 */
inline constexpr int kFront = 64;
static const RelInfo *s_rel_front[kFront];
static const OpInfo *s_op_front[kFront];

struct FuncInfo {
	Oid funcid; /* key */
	bool is_volatile;
};

/* This database's indexpilot.genome_tables, once looked up (InvalidOid: the extension is not created). */
static Oid s_genome_relid = InvalidOid;
static bool s_genome_known = false;
static uint64 s_rel_invalidations = 0; /* relcache invalidations seen, to notice one during a lookup */

/*
 * A relcache invalidation: one relation's entry goes; a cache reset, or a change to the genome (its trigger
 * invalidates the genome table), empties the whole cache. So does any invalidation while the genome table
 * is not known (this database may just have created it).
 */
static void
InvalidateRelCache(Datum, Oid relid)
{
	s_rel_invalidations++;
	if (!OidIsValid(relid) || !OidIsValid(s_genome_relid) || relid == s_genome_relid) {
		s_rel_cache_stale = true;
		s_genome_known = false;
		return;
	}
	if (s_rel_cache == nullptr || s_rel_cache_stale)
		return;
	const RelInfo *&front = s_rel_front[relid % kFront];
	if (front != nullptr && front->relid == relid)
		front = nullptr;
	hash_search(s_rel_cache, &relid, HASH_REMOVE, nullptr);
}

static void
InvalidateFuncCache(Datum, int, uint32)
{
	s_func_cache_stale = true;
}

static void
TenantColumnAssigned(const char *, void *)
{
	s_rel_cache_stale = true;
}

void
DefineTenantColumnGuc()
{
	DefineCustomStringVariable("indexpilot.tenant_column",
							   "Column that holds the tenant key in tables the genome does not describe.", nullptr,
							   &s_tenant_column, "tenant_id", PGC_SIGHUP, 0, nullptr, TenantColumnAssigned, nullptr);
}

static HTAB *
MakeCache(const char *name, Size keysize, Size entrysize)
{
	HASHCTL ctl;
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = keysize;
	ctl.entrysize = entrysize;
	ctl.hcxt = TopMemoryContext;
	return hash_create(name, 128, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

enum class GenomeKey { Managed, NotManaged, Unreadable };

/* This database's genome table: indexpilot.genome_tables, and only if it belongs to extension indexpilot. */
static Oid
GenomeRelid()
{
	if (!s_genome_known) {
		Oid nsp = get_namespace_oid("indexpilot", true);
		Oid rel = OidIsValid(nsp) ? get_relname_relid("genome_tables", nsp) : InvalidOid;
		Oid ext = OidIsValid(rel) ? get_extension_oid("indexpilot", true) : InvalidOid;
		if (!OidIsValid(ext) || getExtensionOfObject(RelationRelationId, rel) != ext)
			rel = InvalidOid; /* a look-alike table is not the genome */
		s_genome_relid = rel;
		s_genome_known = true;
	}
	return s_genome_relid;
}

/* Reads relid's tenant key from the genome table. Runs inside GenomeTenantKey's subtransaction. */
static GenomeKey
ReadGenome(Oid genome, Oid relid, AttrNumber *attnum)
{
	if (!ConditionalLockRelationOid(genome, AccessShareLock))
		return GenomeKey::Unreadable; /* ALTER, DROP EXTENSION: never wait in a user's statement */
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(genome))) {
		UnlockRelationOid(genome, AccessShareLock); /* dropped while we looked */
		return GenomeKey::Unreadable;
	}
	Relation rel = table_open(genome, NoLock);
	TupleDesc desc = RelationGetDescr(rel);
	AttrNumber relid_col = InvalidAttrNumber, key_col = InvalidAttrNumber;
	for (int i = 0; i < desc->natts; i++) {
		Form_pg_attribute att = TupleDescAttr(desc, i);
		if (att->attisdropped)
			continue;
		if (strcmp(NameStr(att->attname), "relid") == 0 && (att->atttypid == REGCLASSOID || att->atttypid == OIDOID))
			relid_col = att->attnum;
		else if (strcmp(NameStr(att->attname), "tenant_key") == 0 && att->atttypid == NAMEOID)
			key_col = att->attnum;
	}
	GenomeKey result = GenomeKey::Unreadable;
	if (relid_col != InvalidAttrNumber && key_col != InvalidAttrNumber) {
		ScanKeyData key;
		ScanKeyInit(&key, relid_col, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
		// SnapshotSelf: what is committed now (the lock has just taken in pending invalidations), whatever
		// the user's isolation level, and no serializable predicate locks on the genome.
		SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, SnapshotSelf, 1, &key);
		HeapTuple tuple = systable_getnext(scan);
		result = GenomeKey::NotManaged;
		if (HeapTupleIsValid(tuple)) {
			bool isnull = false;
			Datum name = heap_getattr(tuple, key_col, desc, &isnull);
			*attnum = isnull ? InvalidAttrNumber : get_attnum(relid, NameStr(*DatumGetName(name)));
			result = GenomeKey::Managed; /* with no tenant key (NULL), none: not indexpilot.tenant_column's */
		}
		systable_endscan(scan);
	}
	table_close(rel, AccessShareLock);
	return result;
}

/*
 * Whether the genome of this database manages `relid`, and if so its tenant key (`attnum`). Runs on a cache
 * miss only, inside a subtransaction: whatever goes wrong while reading a table from a user's statement
 * (a lock, a buffer, a snapshot conflict) is undone by its abort and the answer is Unreadable, which the
 * caller does not cache; a query cancel is passed on. Not in parallel mode (no subtransactions there).
 */
static GenomeKey
GenomeTenantKey(Oid relid, AttrNumber *attnum)
{
	*attnum = InvalidAttrNumber;
	Oid genome = GenomeRelid();
	if (!OidIsValid(genome))
		return GenomeKey::NotManaged;
	if (IsInParallelMode())
		return GenomeKey::Unreadable;
	MemoryContext context = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	GenomeKey result = GenomeKey::Unreadable;
	BeginInternalSubTransaction(nullptr);
	MemoryContextSwitchTo(context);
	PG_TRY();
	{
		result = ReadGenome(genome, relid, attnum);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(context);
		ErrorData *error = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(context);
		CurrentResourceOwner = owner;
		if (error->sqlerrcode == ERRCODE_QUERY_CANCELED)
			ReThrowError(error);
		FreeErrorData(error);
		*attnum = InvalidAttrNumber;
		result = GenomeKey::Unreadable;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(context);
	CurrentResourceOwner = owner;
	return result;
}

/*
 * The root of the partition tree of `relid` when it is a partition whose columns have the root's numbers,
 * names and types (CREATE TABLE ... PARTITION OF makes them so; a table attached with another column order
 * or dropped columns does not), else InvalidOid: then its shapes stay its own.
 */
static int
RelNatts(Oid relid)
{
	HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		return -1;
	int natts = reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple))->relnatts;
	ReleaseSysCache(tuple);
	return natts;
}

static Oid
PartitionRoot(Oid relid)
{
	if (!get_rel_relispartition(relid))
		return InvalidOid;
	List *ancestors = get_partition_ancestors(relid);
	Oid root = ancestors != NIL ? llast_oid(ancestors) : InvalidOid;
	list_free(ancestors);
	const int natts = RelNatts(relid);
	if (!OidIsValid(root) || natts < 0 || RelNatts(root) != natts)
		return InvalidOid;
	for (AttrNumber a = 1; a <= natts; a++) {
		HeapTuple leaf = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid), Int16GetDatum(a));
		HeapTuple top = SearchSysCache2(ATTNUM, ObjectIdGetDatum(root), Int16GetDatum(a));
		bool same = HeapTupleIsValid(leaf) && HeapTupleIsValid(top);
		if (same) {
			auto *l = reinterpret_cast<Form_pg_attribute>(GETSTRUCT(leaf));
			auto *t = reinterpret_cast<Form_pg_attribute>(GETSTRUCT(top));
			same = l->attisdropped == t->attisdropped && l->atttypid == t->atttypid &&
				   strcmp(NameStr(l->attname), NameStr(t->attname)) == 0;
		}
		if (HeapTupleIsValid(leaf))
			ReleaseSysCache(leaf);
		if (HeapTupleIsValid(top))
			ReleaseSysCache(top);
		if (!same)
			return InvalidOid;
	}
	return root;
}

/* What a relation is to capture; false when the answer must not be cached (the genome was unreadable). */
static bool
ComputeRel(Oid relid, RelInfo *out)
{
	out->relid = relid;
	out->report_relid = relid;
	out->tracked = false;
	out->tenant_attnum = InvalidAttrNumber;
	char relkind = get_rel_relkind(relid);
	if (relid < FirstNormalObjectId ||
		!(relkind == RELKIND_RELATION || relkind == RELKIND_PARTITIONED_TABLE || relkind == RELKIND_MATVIEW))
		return true;
	if (Oid root = PartitionRoot(relid); OidIsValid(root)) {
		bool cacheable = ComputeRel(root, out); /* as its partitioned table: tracked, tenant key */
		out->relid = relid;
		return cacheable;
	}
	Oid nsp = get_rel_namespace(relid);
	char *nspname = get_namespace_name(nsp);
	out->tracked =
		nspname != nullptr && strcmp(nspname, "indexpilot") != 0 && !IsToastNamespace(nsp) && !isAnyTempNamespace(nsp);
	if (!out->tracked)
		return true;
	switch (GenomeTenantKey(relid, &out->tenant_attnum)) {
		case GenomeKey::Managed:
			return true;
		case GenomeKey::NotManaged:
			if (s_tenant_column != nullptr && s_tenant_column[0] != '\0')
				out->tenant_attnum = get_attnum(relid, s_tenant_column);
			return true;
		case GenomeKey::Unreadable:
			out->tenant_attnum = InvalidAttrNumber; /* a managed table's key is unknown: no tenant */
			return false;
	}
	return false;
}

/* The invalidation callbacks of the relation and function caches, once per backend. */
static void
RegisterCallbacks()
{
	if (!s_callback_registered) {
		CacheRegisterRelcacheCallback(InvalidateRelCache, (Datum)0);
		CacheRegisterSyscacheCallback(PROCOID, InvalidateFuncCache, (Datum)0);
		s_callback_registered = true;
	}
}

static void
EnsureRelCache()
{
	RegisterCallbacks();
	if (s_rel_cache == nullptr || s_rel_cache_stale) {
		if (s_rel_cache != nullptr)
			hash_destroy(s_rel_cache);
		memset(s_rel_front, 0, sizeof(s_rel_front));
		s_rel_cache = MakeCache("indexpilot relations", sizeof(Oid), sizeof(RelInfo));
		s_rel_cache_stale = false;
	}
}

/* The caller copies the result at once: the next lookup may rebuild the cache or reuse `uncached`. */
const RelInfo *
LookupRel(Oid relid)
{
	EnsureRelCache();
	const RelInfo *front = s_rel_front[relid % kFront];
	if (front != nullptr && front->relid == relid)
		return front;
	auto *info = static_cast<RelInfo *>(hash_search(s_rel_cache, &relid, HASH_FIND, nullptr));
	if (info != nullptr)
		return s_rel_front[relid % kFront] = info;

	static RelInfo uncached;
	for (int attempt = 0; attempt < 3; attempt++) {
		uint64 invalidations = s_rel_invalidations;
		bool cacheable = ComputeRel(relid, &uncached);
		if (s_rel_invalidations != invalidations)
			continue; /* the lookups took in an invalidation: what they read may be out of date */
		if (!cacheable)
			break;
		EnsureRelCache();
		bool found = false;
		info = static_cast<RelInfo *>(hash_search(s_rel_cache, &relid, HASH_ENTER, &found));
		*info = uncached;
		return s_rel_front[relid % kFront] = info;
	}
	return &uncached; /* not kept: the next statement asks again */
}

const OpInfo *
LookupOp(Oid opno)
{
	if (s_op_cache == nullptr)
		s_op_cache = MakeCache("indexpilot operators", sizeof(Oid), sizeof(OpInfo));
	const OpInfo *&front = s_op_front[opno % kFront];
	if (front != nullptr && front->opno == opno)
		return front;
	auto *info = static_cast<OpInfo *>(hash_search(s_op_cache, &opno, HASH_FIND, nullptr));
	if (info != nullptr)
		return front = info;

	OpKind kind = OpKind::None;
	bool like = false;
	RegProcedure code = get_opcode(opno);
	if (code == F_TEXTLIKE || code == F_BPCHARLIKE || code == F_NAMELIKE) {
		like = true;
	} else {
		List *interpretations = get_op_btree_interpretation(opno);
		ListCell *lc;
		foreach (lc, interpretations) {
			auto *interp = static_cast<OpBtreeInterpretation *>(lfirst(lc));
			if (interp->strategy == BTEqualStrategyNumber)
				kind = core::MergeOpKind(kind, OpKind::Eq);
			else if (interp->strategy >= BTLessStrategyNumber && interp->strategy <= BTGreaterStrategyNumber)
				kind = core::MergeOpKind(kind, OpKind::Range);
		}
		list_free_deep(interpretations);
	}
	bool found = false;
	info = static_cast<OpInfo *>(hash_search(s_op_cache, &opno, HASH_ENTER, &found));
	info->kind = kind;
	info->like = like;
	return s_op_front[opno % kFront] = info;
}

/* Whether a function is volatile, from a backend cache (cleared when pg_proc changes). */
bool
IsVolatileFunction(Oid funcid, void *)
{
	RegisterCallbacks();
	if (s_func_cache == nullptr || s_func_cache_stale) {
		if (s_func_cache != nullptr)
			hash_destroy(s_func_cache);
		s_func_cache = MakeCache("indexpilot functions", sizeof(Oid), sizeof(FuncInfo));
		s_func_cache_stale = false;
	}
	auto *info = static_cast<FuncInfo *>(hash_search(s_func_cache, &funcid, HASH_FIND, nullptr));
	if (info != nullptr)
		return info->is_volatile;
	bool is_volatile = func_volatile(funcid) == PROVOLATILE_VOLATILE;
	if (!s_func_cache_stale) {
		bool found = false;
		info = static_cast<FuncInfo *>(hash_search(s_func_cache, &funcid, HASH_ENTER, &found));
		info->is_volatile = is_volatile;
	}
	return is_volatile;
}

} // namespace indexpilot::capture
