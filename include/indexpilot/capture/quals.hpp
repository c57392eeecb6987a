/*
 * capture/quals.hpp — classifies one plan node's quals into per-relation filter and join shapes.
 *
 * Backend-local, plain C-style, allocation-free (fixed arrays); catalog facts come from
 * capture/catalog_cache.hpp, whose lookups may raise an ERROR on a miss: the caller guards the call.
 */
#pragma once

#include "indexpilot/capture/catalog_cache.hpp"
#include "indexpilot/capture/store.hpp"

extern "C" {
#include "nodes/params.h"
#include "nodes/plannodes.h"
}

namespace indexpilot::capture
{

/* Everything the walker needs to know about the node whose quals it reads. */
struct NodeContext {
	const Plan *plan;
	const PlannedStmt *stmt;
	ParamListInfo params;
	Access access;
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

/*
 * Adds what `qual` (a qual list, or one condition) constrains to the shapes of the relations it names;
 * conditions that fit no shape (OR, NOT, non-equality joins) are skipped.
 */
void AddQual(NodeShapes *shapes, Node *qual, const NodeContext &ctx);

/*
 * Adds a sort key of `ORDER BY ... LIMIT` sorted right above the node (`key`: a Var of the Sort's target
 * list, traced to its base column) to that relation's filter shape as an `order` column; other
 * expressions are skipped.
 */
void AddOrderKey(NodeShapes *shapes, Node *key, const NodeContext &ctx);

} // namespace indexpilot::capture
