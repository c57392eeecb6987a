/*
 * capture/predicates.cpp — predicate shapes from plan trees.
 *
 * For every scan node, the conjunction of its quals on the scanned relation is one "filter" shape
 * (index conditions and filters together; the node type says whether an index served it); conditions that
 * compare a column with another relation's column or with an outer parameter (the inner side of a nested
 * loop, a correlated subquery) form a "join" shape for that relation. Vars are traced to their relation
 * through varnosyn/varattnosyn, which survive set_plan_references, and through an index-only scan's
 * target list. Relations outside user schemas are skipped.
 *
 * Caches (backend-local, TopMemoryContext): relation -> tracked?/tenant column, operator -> kind. The
 * relation cache is rebuilt after any relcache invalidation or a change of indexpilot.tenant_column.
 */
#include "indexpilot/capture/predicates.hpp"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "common/hashfn.h"
#include "executor/instrument.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
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
#include <initializer_list>

namespace indexpilot::capture
{

using core::OpKind;

static char *s_tenant_column = nullptr;

/* ---- caches --------------------------------------------------------------------------------------------- */

struct RelInfo {
	Oid relid; /* key */
	bool tracked;
	AttrNumber tenant_attnum;
};

struct OpInfo {
	Oid opno; /* key */
	OpKind kind;
	bool like;
};

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
DefinePredicateGucs()
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
			if (!isnull) {
				*attnum = get_attnum(relid, NameStr(*DatumGetName(name)));
				result = GenomeKey::Managed;
			}
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

/* What a relation is to capture; false when the answer must not be cached (the genome was unreadable). */
static bool
ComputeRel(Oid relid, RelInfo *out)
{
	out->relid = relid;
	out->tracked = false;
	out->tenant_attnum = InvalidAttrNumber;
	char relkind = get_rel_relkind(relid);
	if (relid < FirstNormalObjectId ||
		!(relkind == RELKIND_RELATION || relkind == RELKIND_PARTITIONED_TABLE || relkind == RELKIND_MATVIEW))
		return true;
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
static const RelInfo *
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

static const OpInfo *
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

/* ---- expressions ---------------------------------------------------------------------------------------- */

/* Strips binary-compatible relabelling and implicit casts around an operand. */
static Node *
StripOperand(Node *node)
{
	for (;;) {
		if (node == nullptr)
			return nullptr;
		if (IsA(node, RelabelType))
			node = reinterpret_cast<Node *>(reinterpret_cast<RelabelType *>(node)->arg);
		else if (IsA(node, FuncExpr) && reinterpret_cast<FuncExpr *>(node)->funcformat == COERCE_IMPLICIT_CAST &&
				 list_length(reinterpret_cast<FuncExpr *>(node)->args) == 1)
			node = static_cast<Node *>(linitial(reinterpret_cast<FuncExpr *>(node)->args));
		else
			return node;
	}
}

/* Everything the walker needs to know about the node whose quals it reads. */
struct NodeContext {
	const Plan *plan;
	const PlannedStmt *stmt;
	ParamListInfo params;
	Access access;
	int level;
};

/* A relation's accumulating shapes within one plan node. */
struct RelShapes {
	int rtindex;
	Oid relid;
	RelInfo info;
	core::ShapeColumns filter;
	core::ShapeColumns join;
	TenantKind tenant_kind;
	int64 tenant;
	char tenant_text[kTenantTextBytes];
};

inline constexpr int kMaxRelsPerNode = 8;

struct NodeShapes {
	RelShapes rels[kMaxRelsPerNode];
	int count;
};

/* Resolves a Var to (range table index, attribute number) of a base relation column. */
static bool
ResolveVar(const Var *var, const NodeContext &ctx, int *rtindex, AttrNumber *attno)
{
	if (var->varno == INDEX_VAR) {
		if (!IsA(ctx.plan, IndexOnlyScan))
			return false;
		auto *ios = reinterpret_cast<const IndexOnlyScan *>(ctx.plan);
		if (var->varattno <= 0 || var->varattno > list_length(ios->indextlist))
			return false;
		auto *te = static_cast<TargetEntry *>(list_nth(ios->indextlist, var->varattno - 1));
		if (te->expr == nullptr || !IsA(te->expr, Var))
			return false;
		*rtindex = ios->scan.scanrelid;
		*attno = reinterpret_cast<Var *>(te->expr)->varattno;
	} else if (!IS_SPECIAL_VARNO(var->varno)) {
		*rtindex = var->varno;
		*attno = var->varattno;
	} else if (var->varnosyn > 0) {
		*rtindex = var->varnosyn;
		*attno = var->varattnosyn;
	} else {
		return false;
	}
	return *attno > 0 && *rtindex > 0 && *rtindex <= list_length(ctx.stmt->rtable);
}

static RelShapes *
RelFor(NodeShapes *shapes, const NodeContext &ctx, int rtindex)
{
	for (int i = 0; i < shapes->count; i++) {
		if (shapes->rels[i].rtindex == rtindex)
			return shapes->rels[i].info.tracked ? &shapes->rels[i] : nullptr;
	}
	if (shapes->count == kMaxRelsPerNode)
		return nullptr;
	RangeTblEntry *rte = rt_fetch(rtindex, ctx.stmt->rtable);
	if (rte->rtekind != RTE_RELATION)
		return nullptr;
	RelShapes *rel = &shapes->rels[shapes->count++];
	memset(rel, 0, sizeof(*rel));
	rel->rtindex = rtindex;
	rel->relid = rte->relid;
	rel->info = *LookupRel(rte->relid); /* a copy: a later lookup may rebuild the cache */
	return rel->info.tracked ? rel : nullptr;
}

/* The value behind a Const or an external parameter, if it is known. */
static bool
OperandValue(Node *node, const NodeContext &ctx, Oid *type, Datum *value)
{
	if (IsA(node, Const)) {
		auto *c = reinterpret_cast<Const *>(node);
		if (c->constisnull)
			return false;
		*type = c->consttype;
		*value = c->constvalue;
		return true;
	}
	if (IsA(node, Param) && reinterpret_cast<Param *>(node)->paramkind == PARAM_EXTERN) {
		int id = reinterpret_cast<Param *>(node)->paramid;
		ParamListInfo p = ctx.params;
		if (p == nullptr || p->paramFetch != nullptr || id <= 0 || id > p->numParams)
			return false;
		ParamExternData *prm = &p->params[id - 1];
		if (prm->isnull || !OidIsValid(prm->ptype))
			return false;
		*type = prm->ptype;
		*value = prm->value;
		return true;
	}
	return false;
}

/* Records the tenant when the tenant column is fixed to a known value. */
static void
NoteTenant(RelShapes *rel, Node *operand, const NodeContext &ctx)
{
	Oid type;
	Datum value;
	if (rel->tenant_kind != TenantKind::None || !OperandValue(operand, ctx, &type, &value))
		return;
	switch (type) {
		case INT2OID:
			rel->tenant = DatumGetInt16(value);
			break;
		case INT4OID:
			rel->tenant = DatumGetInt32(value);
			break;
		case INT8OID:
			rel->tenant = DatumGetInt64(value);
			break;
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID: {
			auto *v = reinterpret_cast<varlena *>(DatumGetPointer(value));
			if (VARATT_IS_EXTENDED(v) && !VARATT_IS_SHORT(v))
				return; /* compressed or external: not worth detoasting on the hot path */
			int len = VARSIZE_ANY_EXHDR(v);
			const char *data = VARDATA_ANY(v);
			rel->tenant =
				static_cast<int64>(hash_bytes_extended(reinterpret_cast<const unsigned char *>(data), len, 0));
			// The hash covers the whole value; the text kept beside it is clipped on a character boundary.
			int copy = pg_mbcliplen(data, len, kTenantTextBytes - 1);
			memcpy(rel->tenant_text, data, copy);
			rel->tenant_text[copy] = '\0';
			rel->tenant_kind = TenantKind::Text;
			return;
		}
		default:
			return;
	}
	rel->tenant_text[0] = '\0'; /* the store writes the digits when it keeps this tenant apart */
	rel->tenant_kind = TenantKind::Int;
}

static bool
IsOuterParam(Node *node)
{
	return node != nullptr && IsA(node, Param) && reinterpret_cast<Param *>(node)->paramkind == PARAM_EXEC;
}

/* Whether a function is volatile, from a backend cache (cleared when pg_proc changes). */
static bool
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

/*
 * True when the expression refers to the current row or an outer row (a Var, an outer parameter, a SubPlan)
 * or calls a volatile function (what contain_volatile_functions decides, with function volatility cached:
 * this runs for every sampled statement).
 */
static bool
NotAValue(Node *node, void *context)
{
	if (node == nullptr)
		return false;
	if (IsA(node, Var) || IsOuterParam(node) || IsA(node, SubPlan) || IsA(node, AlternativeSubPlan) ||
		IsA(node, NextValueExpr))
		return true;
	if (check_functions_in_node(node, IsVolatileFunction, nullptr))
		return true;
	return expression_tree_walker(node, reinterpret_cast<bool (*)()>(reinterpret_cast<void (*)(void)>(NotAValue)),
								  context);
}

/*
 * A value the planner could compare an index column with: a constant, a statement parameter, or any
 * expression of them that does not depend on rows and is not volatile ("now() - interval '1 day'",
 * "($1 % 997)::text").
 */
static bool
IsValueOperand(Node *node)
{
	if (node == nullptr)
		return false;
	if (IsA(node, Const) || (IsA(node, Param) && !IsOuterParam(node)))
		return true;
	return !NotAValue(node, nullptr);
}

static void AddQual(NodeShapes *shapes, Node *qual, const NodeContext &ctx);

static void
AddBinary(NodeShapes *shapes, Oid opno, Node *left, Node *right, const NodeContext &ctx)
{
	left = StripOperand(left);
	right = StripOperand(right);
	const OpInfo *op = LookupOp(opno);
	bool var_left = left != nullptr && IsA(left, Var);
	bool var_right = right != nullptr && IsA(right, Var);

	if (var_left && var_right) {
		int rt1, rt2;
		AttrNumber a1, a2;
		if (op->kind != OpKind::Eq || !ResolveVar(reinterpret_cast<Var *>(left), ctx, &rt1, &a1) ||
			!ResolveVar(reinterpret_cast<Var *>(right), ctx, &rt2, &a2) || rt1 == rt2)
			return;
		if (RelShapes *r1 = RelFor(shapes, ctx, rt1))
			core::ShapeAdd(&r1->join, a1, OpKind::Join);
		if (RelShapes *r2 = RelFor(shapes, ctx, rt2))
			core::ShapeAdd(&r2->join, a2, OpKind::Join);
		return;
	}
	Var *var = var_left ? reinterpret_cast<Var *>(left) : (var_right ? reinterpret_cast<Var *>(right) : nullptr);
	Node *other = var_left ? right : left;
	int rtindex;
	AttrNumber attno;
	if (var == nullptr || !ResolveVar(var, ctx, &rtindex, &attno))
		return;
	RelShapes *rel = RelFor(shapes, ctx, rtindex);
	if (rel == nullptr)
		return;
	if (IsOuterParam(other)) {
		if (op->kind == OpKind::Eq)
			core::ShapeAdd(&rel->join, attno, OpKind::Join);
		return;
	}
	if (!IsValueOperand(other))
		return;
	if (op->like) {
		OpKind kind = OpKind::Like;
		Oid type;
		Datum value;
		if (var_left && OperandValue(other, ctx, &type, &value) && type == TEXTOID) {
			auto *v = reinterpret_cast<varlena *>(DatumGetPointer(value));
			if (!VARATT_IS_EXTENDED(v) || VARATT_IS_SHORT(v))
				kind = core::LikePatternHasPrefix(VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v)) ? OpKind::LikePrefix
																						: OpKind::Like;
		}
		core::ShapeAdd(&rel->filter, attno, kind);
		return;
	}
	if (op->kind == OpKind::None)
		return;
	core::ShapeAdd(&rel->filter, attno, op->kind);
	if (op->kind == OpKind::Eq && attno == rel->info.tenant_attnum)
		NoteTenant(rel, other, ctx);
}

static void
AddQual(NodeShapes *shapes, Node *qual, const NodeContext &ctx)
{
	if (qual == nullptr)
		return;
	switch (nodeTag(qual)) {
		case T_List: {
			ListCell *lc;
			foreach (lc, reinterpret_cast<List *>(qual))
				AddQual(shapes, static_cast<Node *>(lfirst(lc)), ctx);
			break;
		}
		case T_BoolExpr: {
			auto *b = reinterpret_cast<BoolExpr *>(qual);
			if (b->boolop == AND_EXPR)
				AddQual(shapes, reinterpret_cast<Node *>(b->args), ctx);
			break; /* OR and NOT: no single column shape */
		}
		case T_OpExpr: {
			auto *op = reinterpret_cast<OpExpr *>(qual);
			if (list_length(op->args) == 2)
				AddBinary(shapes, op->opno, static_cast<Node *>(linitial(op->args)),
						  static_cast<Node *>(lsecond(op->args)), ctx);
			break;
		}
		case T_ScalarArrayOpExpr: {
			auto *sa = reinterpret_cast<ScalarArrayOpExpr *>(qual);
			Node *left = StripOperand(static_cast<Node *>(linitial(sa->args)));
			int rtindex;
			AttrNumber attno;
			if (sa->useOr && left != nullptr && IsA(left, Var) && LookupOp(sa->opno)->kind == OpKind::Eq &&
				ResolveVar(reinterpret_cast<Var *>(left), ctx, &rtindex, &attno)) {
				if (RelShapes *rel = RelFor(shapes, ctx, rtindex))
					core::ShapeAdd(&rel->filter, attno, OpKind::In);
			}
			break;
		}
		case T_NullTest: {
			auto *nt = reinterpret_cast<NullTest *>(qual);
			Node *arg = StripOperand(reinterpret_cast<Node *>(nt->arg));
			int rtindex;
			AttrNumber attno;
			if (nt->nulltesttype == IS_NULL && !nt->argisrow && arg != nullptr && IsA(arg, Var) &&
				ResolveVar(reinterpret_cast<Var *>(arg), ctx, &rtindex, &attno)) {
				if (RelShapes *rel = RelFor(shapes, ctx, rtindex))
					core::ShapeAdd(&rel->filter, attno, OpKind::IsNull);
			}
			break;
		}
		default:
			break;
	}
}

/* ---- plan walking --------------------------------------------------------------------------------------- */

struct Collector {
	const QueryDesc *queryDesc;
	int level;
	PendingShape *out;
	int room;
	int count;
};

static void
EmitShape(Collector *c, const NodeContext &ctx, const RelShapes &rel, const core::ShapeColumns &cols, ShapeKind kind)
{
	if (cols.count == 0 || c->count >= c->room)
		return;
	PendingShape *p = &c->out[c->count++];
	memset(p, 0, sizeof(*p));
	p->owner = c->queryDesc;
	p->plan = ctx.plan;
	p->level = c->level;
	ShapeKey &key = p->obs.key;
	key.dbid = MyDatabaseId;
	key.relid = rel.relid;
	key.shape_kind = static_cast<uint8>(kind);
	key.ncols = cols.count;
	memcpy(key.attnum, cols.attnum, sizeof(key.attnum));
	memcpy(key.opkind, cols.kind, sizeof(key.opkind));
	if (kind == ShapeKind::Filter && rel.tenant_kind != TenantKind::None) {
		key.tenant_kind = static_cast<uint8>(rel.tenant_kind);
		key.tenant = rel.tenant;
		memcpy(p->obs.tenant_text, rel.tenant_text, kTenantTextBytes);
	}
	p->obs.access = kind == ShapeKind::Join && ctx.access == Access::Other ? Access::Other : ctx.access;
}

static void
CollectNode(Collector *c, const NodeContext &base, const Plan *plan, Access access, std::initializer_list<Node *> quals)
{
	NodeShapes shapes;
	shapes.count = 0;
	NodeContext ctx = base;
	ctx.plan = plan;
	ctx.access = access;
	for (Node *q : quals)
		AddQual(&shapes, q, ctx);
	for (int i = 0; i < shapes.count; i++) {
		const RelShapes &rel = shapes.rels[i];
		if (!rel.info.tracked)
			continue;
		EmitShape(c, ctx, rel, rel.filter, ShapeKind::Filter);
		EmitShape(c, ctx, rel, rel.join, ShapeKind::Join);
	}
}

static void WalkPlan(Collector *c, const NodeContext &base, const Plan *plan);

static void
WalkList(Collector *c, const NodeContext &base, List *plans)
{
	ListCell *lc;
	foreach (lc, plans)
		WalkPlan(c, base, static_cast<const Plan *>(lfirst(lc)));
}

static void
WalkPlan(Collector *c, const NodeContext &base, const Plan *plan)
{
	if (plan == nullptr || c->count >= c->room)
		return;
	auto qual = [](List *l) { return reinterpret_cast<Node *>(l); };
	switch (nodeTag(plan)) {
		case T_SeqScan:
		case T_SampleScan:
			CollectNode(c, base, plan, Access::Seq, {qual(plan->qual)});
			break;
		case T_IndexScan: {
			auto *is = reinterpret_cast<const IndexScan *>(plan);
			CollectNode(c, base, plan, Access::Index, {qual(is->indexqualorig), qual(plan->qual)});
			break;
		}
		case T_IndexOnlyScan: {
			auto *ios = reinterpret_cast<const IndexOnlyScan *>(plan);
			CollectNode(c, base, plan, Access::Index, {qual(ios->indexqual), qual(plan->qual)});
			break;
		}
		case T_BitmapHeapScan: {
			auto *bhs = reinterpret_cast<const BitmapHeapScan *>(plan);
			CollectNode(c, base, plan, Access::Bitmap, {qual(bhs->bitmapqualorig), qual(plan->qual)});
			return; /* its BitmapIndexScan children repeat bitmapqualorig */
		}
		case T_ForeignScan:
		case T_CustomScan:
			CollectNode(c, base, plan, Access::Other, {qual(plan->qual)});
			break;
		case T_NestLoop: {
			auto *j = reinterpret_cast<const Join *>(plan);
			CollectNode(c, base, plan, Access::Other, {qual(j->joinqual)});
			break;
		}
		case T_HashJoin: {
			auto *hj = reinterpret_cast<const HashJoin *>(plan);
			CollectNode(c, base, plan, Access::Other, {qual(hj->hashclauses), qual(hj->join.joinqual)});
			break;
		}
		case T_MergeJoin: {
			auto *mj = reinterpret_cast<const MergeJoin *>(plan);
			CollectNode(c, base, plan, Access::Other, {qual(mj->mergeclauses), qual(mj->join.joinqual)});
			break;
		}
		case T_Append:
			WalkList(c, base, reinterpret_cast<const Append *>(plan)->appendplans);
			break;
		case T_MergeAppend:
			WalkList(c, base, reinterpret_cast<const MergeAppend *>(plan)->mergeplans);
			break;
		case T_SubqueryScan:
			WalkPlan(c, base, reinterpret_cast<const SubqueryScan *>(plan)->subplan);
			break;
		default:
			break;
	}
	if (IsA(plan, CustomScan))
		WalkList(c, base, reinterpret_cast<const CustomScan *>(plan)->custom_plans);
	WalkPlan(c, base, plan->lefttree);
	WalkPlan(c, base, plan->righttree);
}

int
CollectShapes(const QueryDesc *queryDesc, int level, PendingShape *out, int room)
{
	const PlannedStmt *stmt = queryDesc->plannedstmt;
	if (stmt == nullptr || stmt->commandType == CMD_UTILITY)
		return 0;
	Collector c{queryDesc, level, out, room, 0};
	NodeContext base{nullptr, stmt, queryDesc->params, Access::Other, level};
	WalkPlan(&c, base, stmt->planTree);
	WalkList(&c, base, stmt->subplans); /* SubPlans and InitPlans */
	return c.count;
}

/* ---- instrumentation ------------------------------------------------------------------------------------ */

static void WalkState(PlanState *ps, PendingShape *shapes, int count);

static void
WalkStateList(List *states, PendingShape *shapes, int count)
{
	ListCell *lc;
	foreach (lc, states) {
		auto *node = static_cast<Node *>(lfirst(lc));
		if (IsA(node, SubPlanState))
			WalkState(reinterpret_cast<SubPlanState *>(node)->planstate, shapes, count);
		else
			WalkState(reinterpret_cast<PlanState *>(node), shapes, count);
	}
}

static void
WalkState(PlanState *ps, PendingShape *shapes, int count)
{
	if (ps == nullptr)
		return;
	if (Instrumentation *instr = ps->instrument) {
		int64 returned = static_cast<int64>(instr->ntuples + instr->tuplecount);
		int64 filtered = static_cast<int64>(instr->nfiltered1 + instr->nfiltered2);
		for (int i = 0; i < count; i++) {
			if (shapes[i].plan != ps->plan)
				continue;
			shapes[i].obs.instrumented = true;
			shapes[i].obs.rows_returned += returned;
			shapes[i].obs.rows_scanned += returned + filtered;
		}
	}
	WalkStateList(ps->initPlan, shapes, count);
	WalkStateList(ps->subPlan, shapes, count);
	switch (nodeTag(ps)) {
		case T_AppendState: {
			auto *as = reinterpret_cast<AppendState *>(ps);
			for (int i = 0; i < as->as_nplans; i++)
				WalkState(as->appendplans[i], shapes, count);
			break;
		}
		case T_MergeAppendState: {
			auto *ms = reinterpret_cast<MergeAppendState *>(ps);
			for (int i = 0; i < ms->ms_nplans; i++)
				WalkState(ms->mergeplans[i], shapes, count);
			break;
		}
		case T_SubqueryScanState:
			WalkState(reinterpret_cast<SubqueryScanState *>(ps)->subplan, shapes, count);
			break;
		case T_CustomScanState:
			WalkStateList(reinterpret_cast<CustomScanState *>(ps)->custom_ps, shapes, count);
			break;
		default:
			break;
	}
	WalkState(outerPlanState(ps), shapes, count);
	WalkState(innerPlanState(ps), shapes, count);
}

void
AddInstrumentation(const QueryDesc *queryDesc, PendingShape *shapes, int count)
{
	if (queryDesc->planstate != nullptr && count > 0)
		WalkState(queryDesc->planstate, shapes, count);
}

} // namespace indexpilot::capture
