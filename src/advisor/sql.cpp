/*
 * advisor/sql.cpp — indexpilot_recommendations(), and the rows it shares with indexpilot_run_now()
 * (worker/run_now.cpp: the cycle, and so the start of builds, belongs to worker/).
 */
#include "indexpilot/advisor/sql.hpp"

#include "indexpilot/advisor/advisor.hpp"
#include "indexpilot/control/bypass.hpp"
#include "indexpilot/core/error.hpp"
#include "indexpilot/pg/compat.hpp"
#include "indexpilot/pg/guard.hpp"
#include "indexpilot/pg/shmem.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
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
	std::vector<Recommendation> recs = Advise(false);
	NoteBackoff(recs);
	EmitRecommendations(fcinfo, recs);
	pg::Call([] { return SPI_finish(); });
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
