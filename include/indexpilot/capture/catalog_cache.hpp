/*
 * capture/catalog_cache.hpp — what capture needs to know of the catalog, from backend-local caches:
 * relation -> tracked?/tenant column (the genome's tenant key, or indexpilot.tenant_column), operator ->
 * kind, function -> volatile?.
 *
 * Memory: the caches live in TopMemoryContext and are rebuilt after invalidations; a returned pointer is
 * valid only until the next lookup. A cache miss reads the catalog and may raise an ERROR: callers in the
 * executor hooks guard it (capture/hooks.cpp).
 */
#pragma once

#include "indexpilot/core/shape.hpp"
#include "indexpilot/pg/postgres.hpp"

extern "C" {
#include "access/attnum.h"
}

namespace indexpilot::capture
{

/* What a relation is to capture. */
struct RelInfo {
	Oid relid;        /* key */
	Oid report_relid; /* whose shapes its scans give: itself, or the root of its partition tree */
	bool tracked;
	AttrNumber tenant_attnum;
};

/* What an operator can do for an index. */
struct OpInfo {
	Oid opno; /* key */
	core::OpKind kind;
	bool like;
};

/* The caller copies the result at once: the next lookup may rebuild the cache. */
const RelInfo *LookupRel(Oid relid);

/* The operator's kind; the entry stays valid (the operator cache is never rebuilt). */
const OpInfo *LookupOp(Oid opno);

/* Whether a function is volatile (a check_functions_in_node callback; `context` is unused). */
bool IsVolatileFunction(Oid funcid, void *context);

/* Declares indexpilot.tenant_column: the tenant key of tables the genome does not describe. */
void DefineTenantColumnGuc();

} // namespace indexpilot::capture
