/*
 * advisor/sql.cpp — indexpilot_recommendations() and indexpilot_run_now().
 */
#include "indexpilot/advisor/advisor.hpp"
#include "indexpilot/control/bypass.hpp"
#include "indexpilot/core/error.hpp"
#include "indexpilot/pg/compat.hpp"
#include "indexpilot/pg/guard.hpp"
#include "indexpilot/shmem.hpp"

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

static void
Emit(ReturnSetInfo *rsinfo, const std::vector<Recommendation> &recs)
{
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

/* Runs the model (and, for run_now, the flush and the actions) and emits one row per candidate. */
static void
Run(FunctionCallInfo fcinfo, bool act)
{
	pg::Call([act] { RequireShared(act ? "indexpilot_run_now()" : "indexpilot_recommendations()"); });
	pg::Call([fcinfo] { pg::InitMaterializedResult(fcinfo); });
	auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
	if (act && !control::FeatureEnabled(control::Feature::Advising)) {
		pg::Call([] {
			ereport(NOTICE, (errmsg("indexpilot advising is switched off; nothing was decided"),
							 errhint("See indexpilot_status().")));
		});
		return;
	}
	pg::Call([] { return SPI_connect(); });
	if (act)
		Flush();
	std::vector<Recommendation> recs = Advise(act);
	if (act && CurrentMode() != Mode::Off)
		Act(recs, CurrentMode() == Mode::Auto && control::FeatureEnabled(control::Feature::IndexBuilding));
	Emit(rsinfo, recs);
	pg::Call([] { return SPI_finish(); });
}

} // namespace indexpilot::advisor

/*
 * indexpilot_recommendations() returns setof (table_name, columns, predicate, kind, index_name, verdict,
 * action, calls, cost_without, cost_with, benefit_per_second, write_cost_per_second, build_cost,
 * net_value, estimated_bytes, statement): what the cost model concludes now, changing nothing.
 */
INDEXPILOT_FUNCTION(indexpilot_recommendations)
{
	return indexpilot::pg::Entry([fcinfo] {
		indexpilot::advisor::Run(fcinfo, false);
		return (Datum)0;
	});
}

/*
 * indexpilot_run_now() returns the same rows as indexpilot_recommendations(), after one whole cycle run
 * synchronously: flush, cost model, lineage, and in auto mode the start of a build (which then runs in
 * its own background worker: CREATE INDEX CONCURRENTLY cannot run inside this transaction).
 */
INDEXPILOT_FUNCTION(indexpilot_run_now)
{
	return indexpilot::pg::Entry([fcinfo] {
		indexpilot::advisor::Run(fcinfo, true);
		return (Datum)0;
	});
}
