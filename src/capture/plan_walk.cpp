/*
 * capture/plan_walk.cpp — predicate shapes from plan trees, and the rows their plan states counted.
 *
 * At ExecutorStart every scan node of the plan (and of its SubPlans and InitPlans) gives its quals to the
 * qual classification (quals.cpp): one "filter" shape per relation it scans (the node type says whether an
 * index served it), one "join" shape per relation a join condition names. At ExecutorEnd the
 * instrumented plan states add the rows they returned and removed to the shapes of their plan nodes.
 * Backend-local, plain C-style, allocation-free: shapes go into the caller's fixed array.
 */
#include "indexpilot/capture/plan_walk.hpp"

#include "indexpilot/capture/quals.hpp"

extern "C" {
#include "executor/instrument.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
}

#include <cstring>
#include <initializer_list>

namespace indexpilot::capture
{

/* ---- plan walking --------------------------------------------------------------------------------------- */

struct Collector {
	const QueryDesc *queryDesc;
	PendingShape *out;
	int room;
	int count;
	const Plan *sorted_scan; /* a scan whose rows `ORDER BY ... LIMIT` sorts right above it */
	Node *sort_key;          /* the first sort key, a Var of the Sort's target list */
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
	ShapeKey &key = p->obs.key;
	key.dbid = MyDatabaseId;
	key.relid = rel.relid;
	key.queryid = c->queryDesc->plannedstmt->queryId;
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
	if (plan == c->sorted_scan && c->sort_key != nullptr)
		AddOrderKey(&shapes, c->sort_key, ctx);
	for (int i = 0; i < shapes.count; i++) {
		const RelShapes &rel = shapes.rels[i];
		if (!rel.info.tracked)
			continue;
		EmitShape(c, ctx, rel, rel.filter, ShapeKind::Filter);
		EmitShape(c, ctx, rel, rel.join, ShapeKind::Join);
	}
}

static void WalkPlan(Collector *c, const NodeContext &base, const Plan *plan);

/*
 * `ORDER BY ... LIMIT` over one scan: a Limit whose input is a Sort (or an incremental sort) of a scan's
 * rows. The first sort key becomes an `order` column of that scan's filter shape: an index in that order
 * after the equality columns returns the first rows without sorting them all. Only the first key is
 * kept (shapes are column sets; the key order of several would be lost).
 */
static void
NoteSortedScan(Collector *c, const Plan *child)
{
	if (child == nullptr || (!IsA(child, Sort) && !IsA(child, IncrementalSort)))
		return;
	auto *sort = reinterpret_cast<const Sort *>(child); /* IncrementalSort begins with a Sort */
	const Plan *scan = child->lefttree;
	if (scan == nullptr || sort->numCols < 1 || sort->sortColIdx[0] < 1 ||
		sort->sortColIdx[0] > list_length(child->targetlist))
		return;
	switch (nodeTag(scan)) {
		case T_SeqScan:
		case T_IndexScan:
		case T_IndexOnlyScan:
		case T_BitmapHeapScan:
			break;
		default:
			return;
	}
	auto *te = static_cast<TargetEntry *>(list_nth(child->targetlist, sort->sortColIdx[0] - 1));
	c->sorted_scan = scan;
	c->sort_key = reinterpret_cast<Node *>(te->expr);
}

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
		case T_Limit:
			NoteSortedScan(c, plan->lefttree);
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
CollectShapes(const QueryDesc *queryDesc, PendingShape *out, int room)
{
	const PlannedStmt *stmt = queryDesc->plannedstmt;
	if (stmt == nullptr || stmt->commandType == CMD_UTILITY)
		return 0;
	Collector c{queryDesc, out, room, 0, nullptr, nullptr};
	NodeContext base{nullptr, stmt, queryDesc->params, Access::Other};
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
