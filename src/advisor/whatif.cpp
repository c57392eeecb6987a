/*
 * advisor/whatif.cpp — what-if costing: plans a statement with hypothetical btree indexes visible to the
 * server's own planner, and estimates the size such an index would have. Its SQL face,
 * indexpilot_whatif(), is in advisor/sql.cpp.
 *
 * How the planner sees them: get_relation_info_hook (installed once by WhatIfInit, chained) appends an
 * IndexOptInfo marked `hypothetical` for each hypothetical index of the relation being planned, but only
 * while PlanWithHypotheticalIndexes runs in this backend (s_active, restored in PG_FINALLY). Normal
 * planning never sees them. selfuncs.c skips hypothetical indexes where it would open a real one
 * (get_actual_variable_range); nothing else in the planner opens an index by its OID.
 *
 * Fake index OIDs: hypothetical index i of a call gets kFakeOidBase + i. The range is the top of the
 * OIDs genbki assigns at initdb to catalog rows without an explicit OID ([FirstGenbkiObjectId,
 * FirstUnpinnedObjectId)): no relation, hence no real index, ever has one, and user indexes are always
 * >= FirstNormalObjectId. The OIDs live only inside one planner call, where they identify which
 * hypothetical index a plan node uses (PlanResult::used_mask).
 *
 * Errors and memory: the work runs in an internal subtransaction, in a child of the caller's memory
 * context; the subtransaction is always rolled back (an error is caught and reported; after success it
 * releases the locks planning took, e.g. RowExclusiveLock for an UPDATE) and the context deleted.
 * Plain C-style code: no C++ objects with destructors live across these PostgreSQL calls.
 */
#include "indexpilot/advisor/whatif.hpp"
#include "indexpilot/core/btree_size.hpp"
#include "indexpilot/core/error.hpp"
#include "indexpilot/pg/args.hpp"
#include "indexpilot/pg/guard.hpp"

extern "C" {
#include "access/amapi.h"
#include "access/htup_details.h"
#include "access/nbtree.h"
#include "access/relation.h"
#include "access/tableam.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_am.h"
#include "catalog/partition.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_class.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "executor/executor.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "nodes/plannodes.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/plancat.h"
#include "parser/analyze.h"
#include "parser/parse_coerce.h"
#include "parser/parse_collate.h"
#include "parser/parse_expr.h"
#include "parser/parse_node.h"
#include "parser/parse_relation.h"
#include "parser/parser.h"
#include "rewrite/rewriteManip.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timeout.h"
#include "storage/latch.h"
#include "utils/guc.h"
}

#include <cstring>
#include <string>

namespace indexpilot::advisor
{

static_assert(kMaxHypoIndexes <= 32, "used_mask has 32 bits");
static_assert(kMaxHypoColumns <= INDEX_MAX_KEYS, "more key columns than PostgreSQL allows");

static constexpr Oid kFakeOidBase = FirstUnpinnedObjectId - kMaxHypoIndexes;
static_assert(kFakeOidBase >= FirstGenbkiObjectId, "fake OIDs stay in the genbki range");

/* Everything the hook needs about one hypothetical index, resolved before planning. */
struct PreparedColumn {
	AttrNumber attnum;
	Oid typid;
	int32 typmod;
	Oid collation;
	Oid opfamily;
	Oid opcintype;
};

struct PreparedIndex {
	Oid relid;
	Oid fake_oid;
	int ncols;
	int nkey; /* key columns; the rest are INCLUDE columns */
	PreparedColumn cols[kMaxHypoColumns];
	List *pred;     /* implicit-AND predicate with varno 1, or NIL */
	bool bitmap_ok; /* the table AM supports bitmap scans */
	HypoEstimate est;
	int tree_height;
};

struct ActiveSet {
	PreparedIndex *indexes;
	int count;
	IndexAmRoutine *am;
};

/* The hypothetical indexes of the PlanWithHypotheticalIndexes call running now, or nullptr. */
static ActiveSet *s_active = nullptr;
/* The real index PlanWithoutIndex hides from the planner while it runs, or InvalidOid. */
static Oid s_hidden = InvalidOid;
static get_relation_info_hook_type s_prev_get_relation_info = nullptr;
static bool s_installed = false;

/* ---- predicates -------------------------------------------------------------------------------- */

/* Reports an error position inside the predicate text rather than in the statement that passed it. */
static void
PredicateErrorCallback(void *arg)
{
	const char *text = static_cast<const char *>(arg);
	int pos = geterrposition();
	if (pos > 0) {
		errposition(0);
		internalerrposition(pos);
		internalerrquery(text);
	}
	errcontext("hypothetical index predicate");
}

/*
 * Parses a partial-index predicate over `rel` the way CREATE INDEX ... WHERE and the relcache do: one
 * boolean expression, immutable functions only; returned as an implicit-AND list with varno 1, in the
 * form RelationGetIndexPredicate gives the planner (so predicate_implied_by can prove it).
 */
static List *
ParsePredicate(Relation rel, const char *text)
{
	ErrorContextCallback errcb;
	errcb.callback = PredicateErrorCallback;
	errcb.arg = const_cast<char *>(text);
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	/* A PL/pgSQL expression is "SELECT <text>": accept exactly one bare target and nothing else. */
#if PG_VERSION_NUM >= 140000
	List *raw = raw_parser(text, RAW_PARSE_PLPGSQL_EXPR);
#else
	List *raw = raw_parser(psprintf("SELECT %s", text));
#endif
	SelectStmt *select = nullptr;
	if (list_length(raw) == 1 && IsA(linitial_node(RawStmt, raw)->stmt, SelectStmt))
		select = reinterpret_cast<SelectStmt *>(linitial_node(RawStmt, raw)->stmt);
	if (select == nullptr || select->op != SETOP_NONE || list_length(select->targetList) != 1 ||
		select->distinctClause != NIL || select->intoClause != nullptr || select->fromClause != NIL ||
		select->whereClause != nullptr || select->groupClause != NIL || select->havingClause != nullptr ||
		select->windowClause != NIL || select->valuesLists != NIL || select->sortClause != NIL ||
		select->limitOffset != nullptr || select->limitCount != nullptr || select->lockingClause != NIL ||
		select->withClause != nullptr || linitial_node(ResTarget, select->targetList)->name != nullptr)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("a hypothetical index predicate must be one boolean expression")));

	ParseState *pstate = make_parsestate(nullptr);
	pstate->p_sourcetext = text;
	ParseNamespaceItem *nsitem = addRangeTableEntryForRelation(pstate, rel, AccessShareLock, nullptr, false, true);
	addNSItemToQuery(pstate, nsitem, false, true, true);
	Node *expr = transformExpr(pstate, linitial_node(ResTarget, select->targetList)->val, EXPR_KIND_INDEX_PREDICATE);
	expr = coerce_to_boolean(pstate, expr, "WHERE");
	assign_expr_collations(pstate, expr);
	free_parsestate(pstate);
	if (contain_mutable_functions(expr))
		ereport(ERROR, (errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
						errmsg("functions in index predicate must be marked IMMUTABLE")));

	error_context_stack = errcb.previous;

	expr = eval_const_expressions(nullptr, expr);
	expr = reinterpret_cast<Node *>(canonicalize_qual(reinterpret_cast<Expr *>(expr), false));
	List *pred = make_ands_implicit(reinterpret_cast<Expr *>(expr));
	fix_opfuncids(reinterpret_cast<Node *>(pred));
	return pred;
}

/* The fraction of rel's rows that satisfy pred (varno 1), by the planner's own selectivity functions. */
static double
PredicateSelectivity(Relation rel, List *pred)
{
	Query *parse = makeNode(Query);
	parse->commandType = CMD_SELECT;
	RangeTblEntry *rte = makeNode(RangeTblEntry);
	rte->rtekind = RTE_RELATION;
	rte->relid = RelationGetRelid(rel);
	rte->relkind = rel->rd_rel->relkind;
	rte->rellockmode = AccessShareLock;
	rte->inh = false;
	rte->inFromCl = true;
	parse->rtable = list_make1(rte);

	PlannerInfo *root = makeNode(PlannerInfo);
	root->parse = parse;
	root->glob = makeNode(PlannerGlobal);
	root->query_level = 1;
	root->planner_cxt = CurrentMemoryContext;
	root->wt_param_id = -1;
	setup_simple_rel_arrays(root);
	build_simple_rel(root, 1, nullptr);
	return clauselist_selectivity(root, pred, 1, JOIN_INNER, nullptr);
}

/* ---- describing and sizing an index ------------------------------------------------------------ */

/*
 * Validates `index` and resolves everything about it: column types and default btree opclasses, the
 * parsed predicate, the size estimate. Raises an ERROR on bad input. Allocates in CurrentMemoryContext.
 */
static void
DescribeIndex(const HypoIndex &index, PreparedIndex *out)
{
	memset(out, 0, sizeof(*out));
	if (index.ncols < 1 || index.ncols > kMaxHypoColumns)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("a hypothetical index has 1 to %d columns, not %d", kMaxHypoColumns, index.ncols)));
	const int nkey = index.nkey > 0 ? index.nkey : index.ncols;
	if (nkey > index.ncols)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("a hypothetical index has at most %d key columns, not %d", index.ncols, nkey)));

	Relation rel = try_relation_open(index.relid, AccessShareLock);
	if (rel == nullptr)
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("relation with OID %u does not exist", index.relid)));
	const char relkind = rel->rd_rel->relkind;
	if (relkind == RELKIND_PARTITIONED_TABLE) /* OnLeaves gives each partition its own */
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
						errmsg("a hypothetical index on partitioned table \"%s\" is described per partition",
							   RelationGetRelationName(rel))));
	if (relkind != RELKIND_RELATION && relkind != RELKIND_MATVIEW)
		ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
						errmsg("\"%s\" is not a table or materialized view", RelationGetRelationName(rel))));

	BlockNumber curpages = 0;
	double rows = 0;
	double allvisfrac = 0;
	estimate_rel_size(rel, nullptr, &curpages, &rows, &allvisfrac);

	core::BtreeKeyColumn keys[kMaxHypoColumns];
	bool deduplicate = true;
	TupleDesc desc = RelationGetDescr(rel);
	for (int i = 0; i < index.ncols; i++) {
		const AttrNumber attnum = index.attnums[i];
		if (attnum < 1 || attnum > desc->natts || TupleDescAttr(desc, attnum - 1)->attisdropped)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN), errmsg("column number %d of relation \"%s\" does not exist",
															   attnum, RelationGetRelationName(rel))));
		Form_pg_attribute att = TupleDescAttr(desc, attnum - 1);
		PreparedColumn &col = out->cols[i];
		col.attnum = attnum;
		col.typid = att->atttypid;
		col.typmod = att->atttypmod;
		col.collation = att->attcollation;

		core::BtreeKeyColumn &key = keys[i];
		key.typlen = att->attlen;
		key.align = att->attalign;
		key.avg_width = get_attavgwidth(index.relid, attnum);
		if (key.avg_width <= 0)
			key.avg_width = get_typavgwidth(col.typid, col.typmod);
		key.null_frac = 0;
		key.distinct = 0;
		if (i >= nkey) {
			/* An INCLUDE column: stored, not ordered (no operator class); deduplication is off. */
			deduplicate = false;
			continue;
		}
		Oid opclass = GetDefaultOpClass(col.typid, BTREE_AM_OID);
		if (!OidIsValid(opclass))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("data type %s of column \"%s\" has no default operator class for access method \"btree\"",
							format_type_be(col.typid), NameStr(att->attname))));
		col.opfamily = get_opclass_family(opclass);
		col.opcintype = get_opclass_input_type(opclass);

		/* Deduplication needs every opclass to say equal means image-equal (_bt_allequalimage). */
		Oid equalimage = get_opfamily_proc(col.opfamily, col.opcintype, col.opcintype, BTEQUALIMAGE_PROC);
		if (!OidIsValid(equalimage) ||
			!DatumGetBool(OidFunctionCall1Coll(equalimage, col.collation, ObjectIdGetDatum(col.opcintype))))
			deduplicate = false;

		HeapTuple stats =
			SearchSysCache3(STATRELATTINH, ObjectIdGetDatum(index.relid), Int16GetDatum(attnum), BoolGetDatum(false));
		if (HeapTupleIsValid(stats)) {
			auto *s = reinterpret_cast<Form_pg_statistic>(GETSTRUCT(stats));
			key.null_frac = s->stanullfrac;
			/* stadistinct < 0: minus the number of distinct values divided by the rows */
			key.distinct = s->stadistinct >= 0 ? s->stadistinct : -s->stadistinct * rows;
			ReleaseSysCache(stats);
		}
	}

	out->relid = index.relid;
	out->ncols = index.ncols;
	out->nkey = nkey;
	out->bitmap_ok = rel->rd_tableam != nullptr && rel->rd_tableam->scan_bitmap_next_block != nullptr;
	double selectivity = 1.0;
	if (index.predicate != nullptr) {
		out->pred = ParsePredicate(rel, index.predicate);
		selectivity = PredicateSelectivity(rel, out->pred);
	}

	core::BtreeParams params;
	params.fillfactor = BTREE_DEFAULT_FILLFACTOR;
	params.block_size = BLCKSZ;
	params.deduplicate = deduplicate;
	params.selectivity = selectivity;
	core::BtreeEstimate e = core::EstimateBtree(keys, index.ncols, rows, params);
	out->est.pages = e.pages;
	out->est.tuples = e.index_rows;
	out->est.bytes = e.bytes;
	out->tree_height = e.tree_height;

	relation_close(rel, NoLock); /* the lock stays until the end of the transaction, as the planner's do */
}

/*
 * The hypothetical indexes that stand for `index` in the plan: itself on a table, or on a partitioned table
 * the same index (columns matched by name, the predicate parsed against each) on every leaf partition, as a
 * partitioned index is one index per partition to the planner. Appends to *out (palloc'd in
 * CurrentMemoryContext); raises when a partition lacks a column.
 */
static List *
OnLeaves(const HypoIndex &index, List *out)
{
	if (get_rel_relkind(index.relid) != RELKIND_PARTITIONED_TABLE) {
		auto *copy = static_cast<HypoIndex *>(palloc(sizeof(HypoIndex)));
		*copy = index;
		return lappend(out, copy);
	}
	List *tree = find_all_inheritors(index.relid, AccessShareLock, nullptr);
	ListCell *lc;
	foreach (lc, tree) {
		const Oid leaf = lfirst_oid(lc);
		if (get_rel_relkind(leaf) == RELKIND_PARTITIONED_TABLE)
			continue;
		auto *copy = static_cast<HypoIndex *>(palloc(sizeof(HypoIndex)));
		*copy = index;
		copy->relid = leaf;
		for (int i = 0; i < index.ncols && i < kMaxHypoColumns; i++) {
			char *name = get_attname(index.relid, index.attnums[i], true);
			copy->attnums[i] = name != nullptr ? get_attnum(leaf, name) : InvalidAttrNumber;
			if (copy->attnums[i] == InvalidAttrNumber)
				ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
								errmsg("column number %d of \"%s\" has no counterpart in partition \"%s\"",
									   index.attnums[i], get_rel_name(index.relid), get_rel_name(leaf))));
		}
		out = lappend(out, copy);
	}
	return out;
}

/* The owner of relation relid, or InvalidOid if there is none. */
static Oid
RelationOwner(Oid relid)
{
	HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		return InvalidOid;
	Oid owner = reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return owner;
}

static HypoEstimate
RawEstimateIndex(const HypoIndex &index)
{
	MemoryContext caller_cxt = CurrentMemoryContext;
	ResourceOwner caller_owner = CurrentResourceOwner;
	MemoryContext cxt = AllocSetContextCreate(caller_cxt, "indexpilot index estimate", ALLOCSET_SMALL_SIZES);
	PreparedIndex prepared;
	ErrorData *volatile error = nullptr;
	/* Like CREATE INDEX: the predicate (its types' functions) is evaluated as the table's owner, restricted. */
	Oid save_userid = InvalidOid;
	int save_sec = 0;
	GetUserIdAndSecContext(&save_userid, &save_sec);

	/* In a subtransaction always rolled back: the locks it takes end with it (the subtransaction's abort
	 * also restores the user id and security context after an error). */
	BeginInternalSubTransaction(nullptr);
	PG_TRY();
	{
		MemoryContextSwitchTo(cxt);
		const Oid owner = RelationOwner(index.relid);
		if (OidIsValid(owner))
			SetUserIdAndSecContext(owner, save_sec | SECURITY_RESTRICTED_OPERATION);
		// A partitioned table's index: the sum of its partitions' (the partitioned index itself has no pages).
		HypoEstimate sum = {0, 0, 0};
		ListCell *lc;
		foreach (lc, OnLeaves(index, NIL)) {
			DescribeIndex(*static_cast<HypoIndex *>(lfirst(lc)), &prepared);
			sum.pages += prepared.est.pages;
			sum.tuples += prepared.est.tuples;
			sum.bytes += prepared.est.bytes;
		}
		prepared.est = sum;
		SetUserIdAndSecContext(save_userid, save_sec);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(caller_cxt);
		error = CopyErrorData();
		FlushErrorState();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(caller_cxt);
	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(caller_cxt);
	CurrentResourceOwner = caller_owner;
	MemoryContextDelete(cxt);
	if (error != nullptr)
		ReThrowError(error);
	return prepared.est;
}

/* ---- the hook ---------------------------------------------------------------------------------- */

/* The planner's description of a hypothetical index on `rel`, as plancat.c builds it for a real one. */
static IndexOptInfo *
MakeIndexOptInfo(RelOptInfo *rel, const PreparedIndex &p, const IndexAmRoutine *am)
{
	const int n = p.ncols;
	IndexOptInfo *info = makeNode(IndexOptInfo);
	info->indexoid = p.fake_oid;
	info->reltablespace = rel->reltablespace;
	info->rel = rel;
	info->ncolumns = n;
	info->nkeycolumns = p.nkey; /* opfamily, opcintype, collations and sort order: key columns only */
	info->indexkeys = static_cast<int *>(palloc(sizeof(int) * n));
	info->indexcollations = static_cast<Oid *>(palloc(sizeof(Oid) * n));
	info->opfamily = static_cast<Oid *>(palloc(sizeof(Oid) * n));
	info->opcintype = static_cast<Oid *>(palloc(sizeof(Oid) * n));
	info->canreturn = static_cast<bool *>(palloc(sizeof(bool) * n));
	info->reverse_sort = static_cast<bool *>(palloc0(sizeof(bool) * n));
	info->nulls_first = static_cast<bool *>(palloc0(sizeof(bool) * n));
	info->opclassoptions = static_cast<bytea **>(palloc0(sizeof(bytea *) * n));
	List *tlist = NIL;
	for (int i = 0; i < n; i++) {
		const PreparedColumn &c = p.cols[i];
		info->indexkeys[i] = c.attnum;
		info->indexcollations[i] = type_is_collatable(c.typid) && i < p.nkey ? c.collation : InvalidOid;
		info->opfamily[i] = c.opfamily; /* InvalidOid for an INCLUDE column */
		info->opcintype[i] = c.opcintype;
		info->canreturn[i] = true; /* btree returns key and INCLUDE columns alike (index-only scans) */
		Var *var = makeVar(rel->relid, c.attnum, c.typid, c.typmod, c.collation, 0);
		tlist = lappend(tlist, makeTargetEntry(reinterpret_cast<Expr *>(var), i + 1, nullptr, false));
	}
	info->sortopfamily = info->opfamily; /* btree: ascending, NULLS LAST */
	info->relam = BTREE_AM_OID;
	info->indexprs = NIL;
	if (p.pred != NIL) {
		info->indpred = static_cast<List *>(copyObjectImpl(p.pred));
		if (rel->relid != 1)
			ChangeVarNodes(reinterpret_cast<Node *>(info->indpred), 1, rel->relid, 0);
	}
	info->indextlist = tlist;
	info->indrestrictinfo = NIL; /* set later by check_index_predicates */
	info->predOK = false;
	info->unique = false;
	info->immediate = true;
	info->hypothetical = true;

	/* Size: a partial index holds the rows its predicate selects, never more than the table. */
	info->pages = static_cast<BlockNumber>(p.est.pages);
	info->tuples = p.pred != NIL ? Min(p.est.tuples, rel->tuples) : rel->tuples;
	info->tree_height = p.tree_height;

	info->amcanorderbyop = am->amcanorderbyop;
	info->amoptionalkey = am->amoptionalkey;
	info->amsearcharray = am->amsearcharray;
	info->amsearchnulls = am->amsearchnulls;
	info->amcanparallel = am->amcanparallel;
	info->amhasgettuple = am->amgettuple != nullptr;
	info->amhasgetbitmap = am->amgetbitmap != nullptr && p.bitmap_ok;
	info->amcanmarkpos = am->ammarkpos != nullptr && am->amrestrpos != nullptr;
	info->amcostestimate = reinterpret_cast<void (*)()>(am->amcostestimate);
	return info;
}

static void
HookGetRelationInfo(PlannerInfo *root, Oid relid, bool inhparent, RelOptInfo *rel)
{
	if (s_prev_get_relation_info != nullptr)
		s_prev_get_relation_info(root, relid, inhparent, rel);
	if (OidIsValid(s_hidden) && !inhparent) {
		// A partitioned index is never planned itself: its partitions' indexes stand for it, hidden with it.
		ListCell *lc;
		foreach (lc, rel->indexlist) {
			const Oid index = static_cast<IndexOptInfo *>(lfirst(lc))->indexoid;
			if (index == s_hidden ||
				(get_rel_relispartition(index) && list_member_oid(get_partition_ancestors(index), s_hidden)))
				rel->indexlist = foreach_delete_current(rel->indexlist, lc);
		}
	}
	const ActiveSet *set = s_active;
	if (set == nullptr || inhparent)
		return;
	for (int i = 0; i < set->count; i++)
		if (set->indexes[i].relid == relid)
			rel->indexlist = lappend(rel->indexlist, MakeIndexOptInfo(rel, set->indexes[i], set->am));
}

void
WhatIfInit()
{
	if (s_installed)
		return;
	s_prev_get_relation_info = get_relation_info_hook;
	get_relation_info_hook = HookGetRelationInfo;
	s_installed = true;
}

/* ---- planning ---------------------------------------------------------------------------------- */

static void CollectUsedIndexes(Plan *plan, uint32 *mask);

static void
CollectUsedInList(List *plans, uint32 *mask)
{
	ListCell *lc;
	foreach (lc, plans)
		CollectUsedIndexes(static_cast<Plan *>(lfirst(lc)), mask);
}

/* Sets bit i of *mask for each scan of hypothetical index i in the plan tree. */
static void
CollectUsedIndexes(Plan *plan, uint32 *mask)
{
	if (plan == nullptr)
		return;
	check_stack_depth();
	Oid indexid = InvalidOid;
	switch (nodeTag(plan)) {
		case T_IndexScan:
			indexid = reinterpret_cast<IndexScan *>(plan)->indexid;
			break;
		case T_IndexOnlyScan:
			indexid = reinterpret_cast<IndexOnlyScan *>(plan)->indexid;
			break;
		case T_BitmapIndexScan:
			indexid = reinterpret_cast<BitmapIndexScan *>(plan)->indexid;
			break;
		case T_Append:
			CollectUsedInList(reinterpret_cast<Append *>(plan)->appendplans, mask);
			break;
		case T_MergeAppend:
			CollectUsedInList(reinterpret_cast<MergeAppend *>(plan)->mergeplans, mask);
			break;
		case T_BitmapAnd:
			CollectUsedInList(reinterpret_cast<BitmapAnd *>(plan)->bitmapplans, mask);
			break;
		case T_BitmapOr:
			CollectUsedInList(reinterpret_cast<BitmapOr *>(plan)->bitmapplans, mask);
			break;
		case T_SubqueryScan:
			CollectUsedIndexes(reinterpret_cast<SubqueryScan *>(plan)->subplan, mask);
			break;
		case T_CustomScan:
			CollectUsedInList(reinterpret_cast<CustomScan *>(plan)->custom_plans, mask);
			break;
		default:
			break;
	}
	if (indexid >= kFakeOidBase && indexid < kFakeOidBase + kMaxHypoIndexes)
		*mask |= 1u << (indexid - kFakeOidBase);
	CollectUsedIndexes(plan->lefttree, mask);
	CollectUsedIndexes(plan->righttree, mask);
}

/* Parse analysis with $n types inferred, as PREPARE does. */
static List *
AnalyzeVarParams(RawStmt *raw, const char *sql)
{
	Oid *param_types = nullptr;
	int nparams = 0;
#if PG_VERSION_NUM >= 150000
	return pg_analyze_and_rewrite_varparams(raw, sql, &param_types, &nparams, nullptr);
#else
	return pg_rewrite_query(parse_analyze_varparams(raw, sql, &param_types, &nparams));
#endif
}

/* The body of PlanWithHypotheticalIndexes, inside its subtransaction: raises on any failure. */
static void
PlanOrRaise(const char *sql, const HypoIndex *indexes, int count, PlanResult *result)
{
	// Hypothetical index i is one index per partition on a partitioned table: all with i's fake OID.
	List *described = NIL;
	List *owners = NIL;
	for (int i = 0; i < count; i++) {
		List *leaves = OnLeaves(indexes[i], NIL);
		described = list_concat(described, leaves);
		for (int k = 0; k < list_length(leaves); k++)
			owners = lappend_int(owners, i);
	}
	ActiveSet set;
	set.count = list_length(described);
	set.indexes = static_cast<PreparedIndex *>(palloc0(sizeof(PreparedIndex) * Max(set.count, 1)));
	set.am = set.count > 0 ? GetIndexAmRoutineByAmId(BTREE_AM_OID, false) : nullptr;
	for (int k = 0; k < set.count; k++) {
		DescribeIndex(*static_cast<HypoIndex *>(list_nth(described, k)), &set.indexes[k]);
		set.indexes[k].fake_oid = kFakeOidBase + list_nth_int(owners, k);
	}

	List *raw = pg_parse_query(sql);
	if (list_length(raw) != 1)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("what-if costing plans exactly one statement, not %d", list_length(raw))));
	RawStmt *stmt = linitial_node(RawStmt, raw);
	switch (nodeTag(stmt->stmt)) {
		case T_SelectStmt:
		case T_InsertStmt:
		case T_UpdateStmt:
		case T_DeleteStmt:
			break;
		default:
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("what-if costing plans SELECT, INSERT, UPDATE and DELETE statements only")));
	}
	List *queries = AnalyzeVarParams(stmt, sql);
	if (list_length(queries) != 1 || linitial_node(Query, queries)->commandType == CMD_UTILITY)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						errmsg("the statement is rewritten into %d statements; what-if costing plans one",
							   list_length(queries))));
	Query *query = linitial_node(Query, queries);
	/* Plan only what the caller may run: EXPLAIN checks the same privileges. */
#if PG_VERSION_NUM >= 160000
	ExecCheckPermissions(query->rtable, query->rteperminfos, true);
#else
	ExecCheckRTPerms(query->rtable, true);
#endif

	// The columns the statement reads of each table it names (its top level), for covering candidates:
	// read from the analyzed query, before the planner rewrites it in place.
	result->nread = 0;
	ListCell *lc;
	int rtindex = 0;
	foreach (lc, query->rtable) {
		rtindex++;
		auto *rte = static_cast<RangeTblEntry *>(lfirst(lc));
		if (rte->rtekind != RTE_RELATION || result->nread >= kMaxReadTables)
			continue;
		Bitmapset *attrs = nullptr;
		pull_varattnos(reinterpret_cast<Node *>(query->targetList), rtindex, &attrs);
		pull_varattnos(reinterpret_cast<Node *>(query->jointree), rtindex, &attrs);
		pull_varattnos(reinterpret_cast<Node *>(query->returningList), rtindex, &attrs);
		pull_varattnos(query->havingQual, rtindex, &attrs);
		uint64 mask = 0;
		bool whole_row = false;
		int member = -1;
		while ((member = bms_next_member(attrs, member)) >= 0) {
			const int attnum = member + FirstLowInvalidHeapAttributeNumber;
			if (attnum == 0)
				whole_row = true; /* t.* as a row: every column */
			else if (attnum > 0 && attnum < 64)
				mask |= UINT64_C(1) << attnum;
			else if (attnum >= 64)
				whole_row = true; /* beyond the mask: not coverable */
		}
		if (whole_row)
			continue;
		result->read[result->nread].relid = rte->relid;
		result->read[result->nread].attnums = mask;
		result->nread++;
	}

	ActiveSet *previous = s_active;
	PlannedStmt *planned = nullptr;
	s_active = set.count > 0 ? &set : nullptr;
	PG_TRY();
	{
		planned = pg_plan_query(query, sql, CURSOR_OPT_PARALLEL_OK, nullptr);
	}
	PG_FINALLY();
	{
		s_active = previous;
	}
	PG_END_TRY();

	result->total_cost = planned->planTree->total_cost;
	result->startup_cost = planned->planTree->startup_cost;
	uint32 mask = 0;
	CollectUsedIndexes(planned->planTree, &mask);
	CollectUsedInList(planned->subplans, &mask);
	result->used_mask = mask;
	result->ok = true;
}

static void
SetError(PlanResult *result, int sqlerrcode, const char *message)
{
	result->ok = false;
	result->sqlerrcode = sqlerrcode;
	strlcpy(result->error, message != nullptr ? message : "unknown error", sizeof(result->error));
}

/* ---- planning with a statement's own rights ------------------------------------------------------ */

/*
 * The re-planning timeout: a timeout of our own (USER_TIMEOUT), so that a caller's statement_timeout stays
 * armed as it was. Registered on first use in each process (timeouts are per process, set up at start).
 */
static TimeoutId s_replan_timeout = MAX_TIMEOUTS;
static volatile sig_atomic_t s_replan_timed_out = false;

static void
ReplanTimeoutHandler()
{
	s_replan_timed_out = true;
	InterruptPending = true;
	QueryCancelPending = true;
	SetLatch(MyLatch);
}

static TimeoutId
ReplanTimeout()
{
	if (s_replan_timeout == MAX_TIMEOUTS)
		s_replan_timeout = RegisterTimeout(USER_TIMEOUT, ReplanTimeoutHandler);
	return s_replan_timeout;
}

static bool
RoleExists(Oid role)
{
	return OidIsValid(role) && SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(role));
}

static PlanResult
RawPlan(const char *sql, const PlanAs *as, const HypoIndex *indexes, int count)
{
	PlanResult result;
	memset(&result, 0, sizeof(result));
	if (sql == nullptr || count < 0 || count > kMaxHypoIndexes || (count > 0 && indexes == nullptr)) {
		SetError(&result, ERRCODE_INVALID_PARAMETER_VALUE, "what-if costing needs a statement and 0 to 32 indexes");
		return result;
	}
	if (as != nullptr && (as->search_path == nullptr || as->search_path[0] == '\0' || as->timeout_ms <= 0)) {
		SetError(&result, ERRCODE_INVALID_PARAMETER_VALUE,
				 "the statement's search_path was not recorded: it is not re-planned");
		return result;
	}
	if (as != nullptr && !RoleExists(as->role)) {
		SetError(&result, ERRCODE_UNDEFINED_OBJECT, "the role that ran the statement no longer exists");
		return result;
	}
	if (!IsTransactionState() || !ActiveSnapshotSet() || IsInParallelMode()) {
		SetError(&result, ERRCODE_INVALID_TRANSACTION_STATE,
				 "what-if costing needs a transaction with an active snapshot, outside parallel mode");
		return result;
	}

	MemoryContext caller_cxt = CurrentMemoryContext;
	ResourceOwner caller_owner = CurrentResourceOwner;
	MemoryContext volatile work_cxt = nullptr;
	volatile bool timer = false;
	bool foreign_cancel = false;
	Oid save_userid = InvalidOid;
	int save_sec = 0;
	GetUserIdAndSecContext(&save_userid, &save_sec);

	BeginInternalSubTransaction(nullptr);
	PG_TRY();
	{
		work_cxt = AllocSetContextCreate(caller_cxt, "indexpilot what-if", ALLOCSET_DEFAULT_SIZES);
		MemoryContextSwitchTo(work_cxt);
		int nest = -1;
		if (as != nullptr) {
			/* As vacuum.c and indexcmds.c run user code: the role's rights, restricted, its own search_path. */
			SetUserIdAndSecContext(as->role, save_sec | SECURITY_RESTRICTED_OPERATION);
			nest = NewGUCNestLevel();
			(void)set_config_option("search_path", as->search_path, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true,
									0, false);
			s_replan_timed_out = false;
			enable_timeout_after(ReplanTimeout(), as->timeout_ms);
			timer = true;
		}
		PlanOrRaise(sql, indexes, count, &result);
		if (timer) {
			disable_timeout(ReplanTimeout(), false);
			timer = false;
			if (s_replan_timed_out)
				QueryCancelPending = false; /* fired after planning ended: nothing to cancel */
		}
		if (nest >= 0)
			AtEOXact_GUC(false, nest);
		SetUserIdAndSecContext(save_userid, save_sec);
	}
	PG_CATCH();
	{
		/* The subtransaction's abort below restores the user id, the security context and the GUCs. */
		if (timer)
			disable_timeout(ReplanTimeout(), false);
		MemoryContextSwitchTo(caller_cxt);
		ErrorData *edata = CopyErrorData();
		FlushErrorState();
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED && timer && s_replan_timed_out) {
			char message[128];
			snprintf(message, sizeof(message),
					 "planning the statement took longer than indexpilot.replan_timeout (%d ms)", as->timeout_ms);
			SetError(&result, ERRCODE_QUERY_CANCELED, message);
		} else {
			SetError(&result, edata->sqlerrcode, edata->message);
			foreign_cancel = edata->sqlerrcode == ERRCODE_QUERY_CANCELED;
		}
		FreeErrorData(edata);
	}
	PG_END_TRY();

	/* Always roll back: after an error that is required; after success it releases planning's locks. */
	MemoryContextSwitchTo(caller_cxt);
	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(caller_cxt);
	CurrentResourceOwner = caller_owner;
	if (work_cxt != nullptr)
		MemoryContextDelete(work_cxt);
	/* A cancel that is not our timeout's (statement_timeout, pg_cancel_backend) belongs to the caller. */
	if (foreign_cancel)
		ereport(ERROR, (errcode(ERRCODE_QUERY_CANCELED), errmsg("%s", result.error)));
	return result;
}

/* ---- the C++ API ------------------------------------------------------------------------------- */

HypoEstimate
EstimateIndex(const HypoIndex &index)
{
	return pg::Call([&] { return RawEstimateIndex(index); });
}

bool
TryEstimateIndex(const HypoIndex &index, HypoEstimate *out, std::string *error)
{
	// RawEstimateIndex raises only after rolling back its own subtransaction: the transaction holds nothing
	// of the failed call, so its error may end here (a cancel is the caller's and goes on up).
	try {
		*out = EstimateIndex(index);
		return true;
	} catch (const pg::PgError &e) {
		if (e.cancelled())
			throw;
		*error = e.what();
		return false;
	}
}

PlanResult
PlanWithHypotheticalIndexes(const char *sql, const PlanAs *as, const HypoIndex *indexes, int count)
{
	return pg::Call([=] { return RawPlan(sql, as, indexes, count); });
}

PlanResult
PlanWithoutIndex(const char *sql, const PlanAs *as, std::uint32_t hidden_index)
{
	struct Hide {
		Oid previous;
		explicit Hide(Oid index) noexcept : previous(s_hidden) { s_hidden = index; }
		~Hide() { s_hidden = previous; }
	} hide(static_cast<Oid>(hidden_index));
	return pg::Call([=] { return RawPlan(sql, as, nullptr, 0); });
}

} // namespace indexpilot::advisor
