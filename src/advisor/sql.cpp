/*
 * advisor/sql.cpp — the advisor's SQL functions: indexpilot_recommendations() (and the rows it shares with
 * indexpilot_run_now(), worker/run_now.cpp: the cycle, and so the start of builds, belongs to worker/) and
 * indexpilot_whatif() (advisor/whatif.hpp).
 */
#include "indexpilot/advisor/sql.hpp"

#include "indexpilot/advisor/advisor.hpp"
#include "indexpilot/advisor/whatif.hpp"
#include "indexpilot/capture/hooks.hpp"
#include "indexpilot/control/bypass.hpp"
#include "indexpilot/core/error.hpp"
#include "indexpilot/pg/args.hpp"
#include "indexpilot/pg/compat.hpp"
#include "indexpilot/pg/guard.hpp"
#include "indexpilot/pg/shmem.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "funcapi.h"
#include "utils/lsyscache.h"
#include "access/htup_details.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"
}

namespace indexpilot::advisor
{

static Datum
TextArray(const std::vector<std::string> &items)
{
	std::vector<Datum> elems;
	for (const auto &s : items)
		elems.push_back(pg::Call([&] { return CStringGetTextDatum(s.c_str()); }));
	Datum *data = elems.data();
	int n = static_cast<int>(elems.size());
	return pg::Call([=] { return PointerGetDatum(construct_array(data, n, TEXTOID, -1, false, TYPALIGN_INT)); });
}

static Datum
Text(const std::string &s)
{
	return pg::Call([&] { return CStringGetTextDatum(s.c_str()); });
}

void
EmitRecommendations(FunctionCallInfo fcinfo, const std::vector<Recommendation> &recs)
{
	auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
	for (const Recommendation &rec : recs) {
		const core::Evaluation &e = rec.evaluation;
		constexpr int kColumns = 16;
		Datum v[kColumns];
		bool isnull[kColumns] = {};
		v[0] = Text(rec.table);
		v[1] = TextArray(rec.columns);
		v[2] = Text(rec.predicate);
		isnull[2] = rec.predicate.empty();
		v[3] = Text(core::CandidateKindName(rec.candidate.kind));
		v[4] = Text(rec.index_name);
		v[5] = Text(rec.exists ? "exists" : core::VerdictName(e.verdict));
		v[6] = Text(rec.action);
		isnull[6] = rec.action.empty();
		v[7] = Float8GetDatum(rec.candidate.calls);
		v[8] = Float8GetDatum(e.benefit.cost_without);
		v[9] = Float8GetDatum(e.benefit.cost_with);
		v[10] = Float8GetDatum(e.benefit_per_second);
		v[11] = Float8GetDatum(e.write_cost_per_second);
		v[12] = Float8GetDatum(e.build_cost);
		v[13] = Float8GetDatum(e.net_value);
		v[14] = Float8GetDatum(e.size.bytes);
		v[15] = Text(rec.ddl);
		pg::Call([&] { tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, isnull); });
	}
}

/* Runs the model and emits one row per candidate, changing nothing. */
static void
Recommend(FunctionCallInfo fcinfo)
{
	pg::Call([] { pg::RequirePreloaded("indexpilot_recommendations()"); });
	pg::Call([fcinfo] { pg::InitMaterializedResult(fcinfo); });
	pg::Call([] { return SPI_connect(); });
	std::vector<Recommendation> recs;
	{
		const capture::OwnWork own; /* the model's own statements are not the workload it measures */
		recs = Advise(false);
		NoteBackoff(recs);
	}
	EmitRecommendations(fcinfo, recs);
	pg::Call([] { return SPI_finish(); });
}

/* ---- indexpilot_whatif() ------------------------------------------------------------------------ */

static void
RequirePlanned(const PlanResult &r, const char *which)
{
	if (r.ok)
		return;
	const char *state = r.sqlerrcode != 0 ? unpack_sql_state(r.sqlerrcode) : core::sqlstate::kInvalidParameterValue;
	throw core::Error(state, std::string("could not plan the query ") + which + ": " + r.error);
}

/*
 * indexpilot_whatif(query, relation, columns, predicate) plans `query` without and with a hypothetical
 * btree index on relation(columns) [WHERE predicate] and returns both costs, whether the plan uses it,
 * and its estimated size.
 */
static Datum
WhatIf(FunctionCallInfo fcinfo)
{
	pg::RequireNotNull(fcinfo, 0, "query");
	pg::RequireNotNull(fcinfo, 1, "relation");
	pg::RequireNotNull(fcinfo, 2, "columns");
	const char *sql = pg::Call([&] { return text_to_cstring(PG_GETARG_TEXT_PP(0)); });
	const Oid relid = PG_GETARG_OID(1);
	const char *relname = pg::Call([&] { return get_rel_name(relid); });
	if (relname == nullptr)
		throw core::Error(core::sqlstate::kUndefinedTable,
						  "relation with OID " + std::to_string(relid) + " does not exist");
	const AclResult acl = pg::Call([&] { return pg_class_aclcheck(relid, GetUserId(), ACL_SELECT); });
	if (acl != ACLCHECK_OK)
		throw core::Error("42501", std::string("permission denied for table ") + relname);

	ArrayType *array = pg::Call([&] { return PG_GETARG_ARRAYTYPE_P(2); });
	if (ARR_NDIM(array) > 1)
		throw core::Error(core::sqlstate::kInvalidParameterValue, "columns must be a one-dimensional array");
	Datum *elems = nullptr;
	bool *nulls = nullptr;
	int n = 0;
	pg::Call([&] { deconstruct_array(array, NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR, &elems, &nulls, &n); });
	if (n < 1 || n > kMaxHypoColumns)
		throw core::Error(core::sqlstate::kInvalidParameterValue, "a hypothetical index has 1 to " +
																	  std::to_string(kMaxHypoColumns) +
																	  " columns, not " + std::to_string(n));

	HypoIndex index;
	memset(&index, 0, sizeof(index));
	index.relid = relid;
	index.ncols = n;
	for (int i = 0; i < n; i++) {
		if (nulls[i])
			throw core::Error(core::sqlstate::kNullValueNotAllowed, "columns must not contain NULL");
		const char *colname = NameStr(*DatumGetName(elems[i]));
		const AttrNumber attnum = pg::Call([&] { return get_attnum(relid, colname); });
		if (attnum == InvalidAttrNumber)
			throw core::Error(core::sqlstate::kUndefinedColumn,
							  std::string("column \"") + colname + "\" of relation \"" + relname + "\" does not exist");
		if (attnum < 0)
			throw core::Error(core::sqlstate::kInvalidParameterValue,
							  std::string("cannot index system column \"") + colname + "\"");
		index.attnums[i] = attnum;
	}
	index.predicate = PG_ARGISNULL(3) ? nullptr : pg::Call([&] { return text_to_cstring(PG_GETARG_TEXT_PP(3)); });

	/* Raises the precise error (bad predicate, unsupported type) before any planning. */
	const HypoEstimate estimate = EstimateIndex(index);
	const PlanResult without = PlanWithHypotheticalIndexes(sql, nullptr, nullptr, 0);
	RequirePlanned(without, "without the index");
	const PlanResult with = PlanWithHypotheticalIndexes(sql, nullptr, &index, 1);
	RequirePlanned(with, "with the index");

	Datum values[5];
	bool isnull[5] = {false, false, false, false, false};
	values[0] = Float8GetDatum(without.total_cost);
	values[1] = Float8GetDatum(with.total_cost);
	values[2] = BoolGetDatum((with.used_mask & 1u) != 0);
	values[3] = Float8GetDatum(estimate.pages);
	values[4] = Float8GetDatum(estimate.bytes);
	return pg::Call([&] {
		TupleDesc desc;
		if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "indexpilot_whatif must return a record");
		desc = BlessTupleDesc(desc);
		return HeapTupleGetDatum(heap_form_tuple(desc, values, isnull));
	});
}

} // namespace indexpilot::advisor

/*
 * indexpilot_recommendations() returns setof (table_name, columns, predicate, kind, index_name, verdict,
 * action, calls, cost_without, cost_with, benefit_per_second, write_cost_per_second, build_cost,
 * net_value, estimated_bytes, statement): what the cost model concludes now, changing nothing. action is
 * NULL, or "backoff until <time>" for a chosen index whose last builds failed.
 */
INDEXPILOT_FUNCTION(indexpilot_recommendations)
{
	indexpilot::advisor::Recommend(fcinfo);
	return (Datum)0;
}

INDEXPILOT_FUNCTION(indexpilot_whatif)
{
	return indexpilot::advisor::WhatIf(fcinfo);
}
