/*
 * worker/lifecycle.cpp — the index lifecycle (see worker/lifecycle.hpp and docs/architecture.md, "The index
 * lifecycle"). What is due is decided in SQL (indexpilot._lifecycle_due(), sql/parts/87_lifecycle.sql) from
 * IndexPilot's own lineage, the statements' true counts before and after each build and each index's use;
 * here it is acted on: validations are recorded, reverts and retirements dropped at top level and recorded.
 */
#include "indexpilot/worker/lifecycle.hpp"

#include "indexpilot/advisor/advisor.hpp"
#include "indexpilot/advisor/settings.hpp"
#include "indexpilot/control/bypass.hpp"
#include "indexpilot/pg/guard.hpp"
#include "indexpilot/pg/spi.hpp"
#include "indexpilot/worker/builder.hpp"
#include "indexpilot/worker/flush.hpp"

extern "C" {
#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/guc.h"
}

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace indexpilot::worker
{

static int s_validate_window_s = 15 * 60;
static double s_max_regression = 0.25;
static int s_retire_after_s = 7 * 86400;

/* A statement may cost this much more without an index another one covers and still "keep its cost". */
static constexpr double kKeepCostTolerance = 0.05;

void
DefineLifecycleGucs()
{
	DefineCustomIntVariable("indexpilot.validate_window",
							"How long after its build an index's statements are measured before it is validated "
							"or reverted.",
							nullptr, &s_validate_window_s, 15 * 60, 1, 30 * 86400, PGC_SIGHUP, GUC_UNIT_S, nullptr,
							nullptr, nullptr);
	DefineCustomRealVariable("indexpilot.max_regression",
							 "How much slower per call (a fraction) one of an index's statements may get before the "
							 "index is reverted.",
							 nullptr, &s_max_regression, 0.25, 0.0, 100.0, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
	DefineCustomIntVariable(
		"indexpilot.retire_after", "How long an index IndexPilot built may go unused before it is retired.", nullptr,
		&s_retire_after_s, 7 * 86400, 1, 365 * 86400, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr, nullptr);
}

namespace
{

/* One row of indexpilot._lifecycle_due(), copied out of SPI's memory. */
struct Due {
	std::string action; /* validate, revert, retire */
	Oid index_oid = InvalidOid;
	Oid relid = InvalidOid;
	std::string qualified, name, table, details, reason, superseded_by;
	int64 parent = 0;
	std::vector<std::int64_t> queryids;
};

std::vector<std::int64_t>
ParseIds(const std::string &text)
{
	std::vector<std::int64_t> ids;
	for (const char *p = text.c_str(); *p != '\0';) {
		char *end = nullptr;
		long long v = std::strtoll(p, &end, 10);
		if (end == p) {
			p++;
			continue;
		}
		ids.push_back(v);
		p = end;
	}
	return ids;
}

/* A JSON object's text with more fields added before its closing brace. */
std::string
WithFields(const std::string &object, const std::string &fields)
{
	const std::size_t close = object.rfind('}');
	if (close == std::string::npos || fields.empty())
		return object;
	return object.substr(0, close) + fields + object.substr(close);
}

} // namespace

/* Reads what is due and records the validations, in one unit of work. Throws PgError on failure. */
static void
ReadDue(std::vector<Due> *out)
{
	char validate[32], regression[32], retire[32], flush[32], window[32], gain[32];
	snprintf(validate, sizeof(validate), "%d seconds", s_validate_window_s);
	snprintf(regression, sizeof(regression), "%g", s_max_regression);
	snprintf(retire, sizeof(retire), "%d seconds", s_retire_after_s);
	snprintf(flush, sizeof(flush), "%d seconds", FlushIntervalMs() / 1000);
	snprintf(window, sizeof(window), "%d seconds", advisor::CurrentSettings().stats_window_s);
	snprintf(gain, sizeof(gain), "%g", advisor::CurrentSettings().min_improvement);
	const char *args[6] = {validate, regression, retire, flush, window, gain};

	pg::Call([] { pg::BeginWork("indexpilot: looking after IndexPilot's indexes"); });
	pg::Call([] { pg::SpiExec("SELECT indexpilot._track_index_usage()"); });
	const uint64 n = pg::Call([&] {
		return pg::SpiExec("SELECT action, index_oid, relid, qualified_name, index_name, target_table, parent_id, "
						   "queryids::text, details::text, details->>'reason', details->>'superseded_by' "
						   "FROM indexpilot._lifecycle_due($1::interval, $2::float8, $3::interval, $4::interval, "
						   "$5::interval, $6::float8)",
						   6, args);
	});
	SPITupleTable *rows = SPI_tuptable;
	for (uint64 i = 0; i < n; i++) {
		auto text = [&](int col) {
			const char *v = pg::Call([&] { return SPI_getvalue(rows->vals[i], rows->tupdesc, col); });
			return std::string(v ? v : "");
		};
		Due d;
		d.action = text(1);
		d.index_oid = static_cast<Oid>(std::strtoul(text(2).c_str(), nullptr, 10));
		d.relid = static_cast<Oid>(std::strtoul(text(3).c_str(), nullptr, 10));
		d.qualified = text(4);
		d.name = text(5);
		d.table = text(6);
		d.parent = std::strtoll(text(7).c_str(), nullptr, 10);
		d.queryids = ParseIds(text(8));
		d.details = text(9);
		d.reason = text(10);
		d.superseded_by = text(11);
		out->push_back(std::move(d));
	}
	for (const Due &d : *out) {
		if (d.action != "validate")
			continue;
		pg::Call([&] {
			pg::LogMutation("index_validated", d.table.c_str(), nullptr, d.name.c_str(), nullptr, d.details.c_str(),
							d.parent);
		});
		pg::Call([&] { ereport(LOG, (errmsg("indexpilot validated index %s", d.qualified.c_str()))); });
	}
	pg::Call([] { pg::EndWork(); });
}

/* The planner's word on dropping an index another one serves: its statements keep their cost without it
 * (go), cost more (needed), or could not all be planned (none). */
enum class PlannerWord { Go, Needed, None };

/* Asks the planner about dropping an index, in one unit of work. Throws PgError. */
static PlannerWord
AskPlanner(const Due &due, std::string *evidence)
{
	pg::Call([] { pg::BeginWork("indexpilot: costing a retirement"); });
	const advisor::DropCost c = advisor::CostOfDropping(due.index_oid, due.queryids);
	pg::Call([] { pg::EndWork(); });
	*evidence =
		", \"statements\": " + std::to_string(c.statements) + ", \"statements_planned\": " + std::to_string(c.planned) +
		", \"cost_with\": " + std::to_string(c.cost_with) + ", \"cost_without\": " + std::to_string(c.cost_without);
	if (c.planned == 0 || c.planned != c.statements)
		return PlannerWord::None;
	return c.cost_without <= c.cost_with * (1 + kKeepCostTolerance) + 1e-9 ? PlannerWord::Go : PlannerWord::Needed;
}

/* Records the validation of an index the planner says its statements need, in one unit of work. */
static void
RecordValidation(const Due &due, const std::string &details)
{
	pg::Call([] { pg::BeginWork("indexpilot: recording a validation"); });
	pg::Call([&] {
		pg::LogMutation("index_validated", due.table.c_str(), nullptr, due.name.c_str(), nullptr, details.c_str(),
						due.parent);
	});
	pg::Call([] { pg::EndWork(); });
	pg::Call([&] {
		ereport(LOG, (errmsg("indexpilot validated index %s (%s did not make it redundant)", due.qualified.c_str(),
							 due.superseded_by.c_str())));
	});
}

/* Drops one index and records it; false (a WARNING said why) when the drop failed. Throws PgError. */
static bool
DropAndRecord(const Due &due, const char *kind, const std::string &details)
{
	char error[1024] = "";
	if (!pg::Call([&] { return DropIndexOfTable(due.relid, due.qualified.c_str(), error, sizeof(error)); })) {
		pg::Call([&] {
			ereport(WARNING, (errmsg("indexpilot could not drop index %s (%s): %s", due.qualified.c_str(),
									 due.reason.c_str(), error),
							  errdetail("A later pass tries again.")));
		});
		return false;
	}
	pg::Call([] { pg::BeginWork("indexpilot: recording a drop"); });
	pg::Call([&] {
		pg::LogMutation(kind, due.table.c_str(), nullptr, due.name.c_str(), nullptr, details.c_str(), due.parent);
	});
	pg::Call([] { pg::EndWork(); });
	const char *verb = strcmp(kind, "index_reverted") == 0 ? "reverted" : "retired";
	pg::Call([&] {
		ereport(LOG, (errmsg("indexpilot %s index %s (%s)", verb, due.qualified.c_str(), due.reason.c_str())));
	});
	return true;
}

/* One pass; false with the error when it failed (the caller aborts what it left open). */
static bool
LifecyclePass(int *dropped, pg::detail::PendingError *error) noexcept
{
	try {
		std::vector<Due> due;
		ReadDue(&due);
		const bool auto_mode = advisor::CurrentMode() == advisor::Mode::Auto;
		for (const Due &d : due) {
			pg::Call([] { CHECK_FOR_INTERRUPTS(); });
			if (d.action == "validate")
				continue;
			// Drops wait like builds: while one runs anywhere, the server is busy, or outside the window.
			if (pg::Call([] { return BuildRunningAnywhere(); }))
				break;
			pg::Call([] { pg::BeginWork("indexpilot: may a drop run now"); });
			const std::string hold = advisor::WorkHold(-1);
			pg::Call([] { pg::EndWork(); });
			if (!hold.empty())
				break;
			if (d.action == "revert" && d.reason == "superseded") {
				// No clean measurement: a later build of ours for the same statements began before any came.
				// The planner decides: it goes only if its statements keep their cost without it; without a
				// word (they could not all be planned), it is validated on its use.
				std::string evidence;
				const PlannerWord word = AskPlanner(d, &evidence);
				if (word != PlannerWord::Go)
					RecordValidation(
						d, WithFields(d.details, evidence + ", \"reason\": null, \"judged_by\": " +
													 (word == PlannerWord::Needed ? "\"planner\"" : "\"use\"")));
				else if (auto_mode && control::FeatureEnabled(control::Feature::IndexBuilding))
					*dropped += DropAndRecord(d, "index_reverted", WithFields(d.details, evidence)) ? 1 : 0;
			} else if (d.action == "revert" && auto_mode && control::FeatureEnabled(control::Feature::IndexBuilding))
				*dropped += DropAndRecord(d, "index_reverted", d.details) ? 1 : 0;
			else if (d.action == "retire" && auto_mode && control::FeatureEnabled(control::Feature::IndexRetirement)) {
				std::string evidence;
				if (d.reason == "covered" && AskPlanner(d, &evidence) != PlannerWord::Go)
					continue; /* the planner does not say its statements keep their cost: kept */
				*dropped += DropAndRecord(d, "index_retired", WithFields(d.details, evidence)) ? 1 : 0;
			}
		}
		return true;
	} catch (...) {
		pg::detail::CaptureCurrentException(error);
	}
	pg::detail::Flatten(error);
	return false;
}

int
LookAfterIndexes()
{
	if (!control::ModuleEnabled(control::Module::BackgroundWorker))
		return 0;
	int dropped = 0;
	pg::detail::PendingError error;
	if (LifecyclePass(&dropped, &error))
		return dropped;
	if (IsTransactionState() || IsAbortedTransactionBlockState()) {
		AbortCurrentTransaction();
		pg::AbandonWork();
	}
	ereport(WARNING,
			(errcode(error.sqlerrcode), errmsg("indexpilot could not look after its indexes: %s", error.message),
			 error.detail[0] ? errdetail_internal("%s", error.detail) : 0, errhint("A later pass tries again.")));
	return dropped;
}

} // namespace indexpilot::worker
