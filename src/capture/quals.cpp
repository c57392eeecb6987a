/*
 * capture/quals.cpp — the qual classification: which columns of which relations a plan node's conditions
 * constrain, and how.
 *
 * The conjunction of a node's conditions on a relation is one "filter" shape (index conditions and filters
 * together); conditions that compare a column with another relation's column or with an outer parameter
 * (the inner side of a nested loop, a correlated subquery) form a "join" shape for that relation. Vars are
 * traced to their relation through varnosyn/varattnosyn, which survive set_plan_references, and through an
 * index-only scan's target list. Relations outside user schemas are skipped (catalog_cache.cpp decides).
 * Plain C-style, allocation-free: shapes accumulate in the caller's fixed NodeShapes.
 */
#include "indexpilot/capture/quals.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "mb/pg_wchar.h"
#include "nodes/nodeFuncs.h"
#include "parser/parsetree.h"
}

#include <cstring>

namespace indexpilot::capture
{

using core::OpKind;

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
	rel->info = *LookupRel(rte->relid);  /* a copy: a later lookup may rebuild the cache */
	rel->relid = rel->info.report_relid; /* a partition's shapes are its partitioned table's */
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

void
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

void
AddOrderKey(NodeShapes *shapes, Node *key, const NodeContext &ctx)
{
	key = StripOperand(key);
	int rtindex;
	AttrNumber attno;
	if (key != nullptr && IsA(key, Var) && ResolveVar(reinterpret_cast<Var *>(key), ctx, &rtindex, &attno)) {
		if (RelShapes *rel = RelFor(shapes, ctx, rtindex))
			core::ShapeAdd(&rel->filter, attno, OpKind::Order);
	}
}

} // namespace indexpilot::capture
