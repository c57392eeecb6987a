/*
 * catalog/status.cpp — indexpilot_status(): every switch, its value, whether it is in effect and which
 * source decided it; the bypass mode and the config file; the capture counters. A report over control/
 * and capture/, so it lives above both (catalog/ holds the SQL functions that report).
 *
 * The shared state is copied under LW_SHARED and everything else (name lookups, text) happens after the
 * lock is released. Plain C-style code: no C++ objects alive when PostgreSQL may raise an ERROR.
 */
#include "indexpilot/capture/store.hpp"
#include "indexpilot/control/bypass.hpp"
#include "indexpilot/control/state.hpp"

#include "indexpilot/pg/compat.hpp"
#include "indexpilot/pg/guard.hpp"
#include "indexpilot/pg/shmem.hpp"

extern "C" {
#include "commands/dbcommands.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

namespace indexpilot::catalog
{

using namespace control;

static constexpr int kColumns = 6;

/* Appends one row; a NULL pointer is SQL NULL, `enabled` < 0 is NULL. */
static void
EmitRow(ReturnSetInfo *rsinfo, const char *kind, const char *name, const char *setting, int enabled, const char *source,
		const char *detail)
{
	Datum values[kColumns];
	bool nulls[kColumns] = {false, false, false, false, false, false};
	const char *texts[kColumns] = {kind, name, setting, nullptr, source, detail};
	for (int i = 0; i < kColumns; i++) {
		if (i == 3)
			continue;
		nulls[i] = texts[i] == nullptr;
		values[i] = nulls[i] ? (Datum)0 : CStringGetTextDatum(texts[i]);
	}
	nulls[3] = enabled < 0;
	values[3] = BoolGetDatum(enabled > 0);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/* Why a switch has its value, in words. */
static const char *
SourceDetail(const ControlState *state, core::Switch sw, core::Source source)
{
	const int s = static_cast<int>(sw);
	switch (source) {
		case core::Source::Startup:
			return g_startup_source == StartupSource::ConfigFile
					   ? psprintf("bypass_mode: startup in %s (read at server start)", g_startup_file)
					   : "INDEXPILOT_BYPASS_MODE=startup (read at server start)";
		case core::Source::Sql: {
			const char *db = get_database_name(state->sql_database[s]);
			return psprintf("set by %s at %s in database %s", NameStr(state->sql_role[s]),
							timestamptz_to_str(state->sql_changed_at[s]), db != nullptr ? db : "(dropped)");
		}
		case core::Source::Environment:
			return state->env_mode != core::BypassMode::None
					   ? psprintf("server environment at start (INDEXPILOT_BYPASS_MODE=%s)",
								  core::BypassModeName(state->env_mode))
					   : "server environment at start (INDEXPILOT_BYPASS_*_ENABLED)";
		case core::Source::ConfigFile:
			return psprintf("%s%s", state->file_path, state->file_ok ? "" : " (last good read)");
		case core::Source::Guc:
			return GucName(sw);
	}
	return nullptr;
}

static void
EmitSwitches(ReturnSetInfo *rsinfo, const ControlState *state, const core::Resolution &r)
{
	for (int i = 0; i < core::kSwitchCount; i++) {
		const auto sw = static_cast<core::Switch>(i);
		const char *detail = SourceDetail(state, sw, r.SourceOf(sw));
		if (r.Value(sw) && !r.Effective(sw))
			detail = psprintf("%s; not in effect while the system is off", detail);
		EmitRow(rsinfo, core::KindName(core::KindOf(sw)), core::SwitchName(sw), r.Value(sw) ? "on" : "off",
				r.Effective(sw) ? 1 : 0, core::SourceName(r.SourceOf(sw)), detail);
	}
}

static void
EmitConfig(ReturnSetInfo *rsinfo, const ControlState *state)
{
	if (g_startup_source != StartupSource::None)
		EmitRow(rsinfo, "config", "bypass_mode", "startup", -1,
				g_startup_source == StartupSource::Environment ? "environment" : "config_file", nullptr);
	else if (state->env_mode != core::BypassMode::None)
		EmitRow(rsinfo, "config", "bypass_mode", core::BypassModeName(state->env_mode), -1, "environment", nullptr);
	else if (state->file_mode != core::BypassMode::None)
		EmitRow(rsinfo, "config", "bypass_mode", core::BypassModeName(state->file_mode), -1, "config_file",
				state->file_mode == core::BypassMode::Startup ? "read on reload: takes effect at the next server start"
															  : nullptr);
	else
		EmitRow(rsinfo, "config", "bypass_mode", "none", -1, "default", nullptr);

	if (g_startup_source != StartupSource::None || state == nullptr)
		return;
	if (!state->file_configured)
		EmitRow(rsinfo, "config", "config_file", nullptr, -1, "guc", "indexpilot.config_file is empty");
	else if (state->file_ok)
		EmitRow(rsinfo, "config", "config_file", state->file_path, 1, "guc",
				psprintf("read at %s", timestamptz_to_str(state->file_read_at)));
	else
		EmitRow(rsinfo, "config", "config_file", state->file_path, 0, "guc",
				psprintf("%s; %s", state->file_problem,
						 state->file_ever_loaded ? "the settings read before stay in force" : "ignored"));
}

/* The capture store's counters (capture/store.hpp); zeros when the store is not attached. */
static void
EmitCounters(ReturnSetInfo *rsinfo)
{
	capture::StoreCounters c;
	memset(&c, 0, sizeof(c));
	if (capture::StoreAvailable())
		capture::StoreReadCounters(&c);
	const char *names[5] = {"capture_entries", "capture_evictions", "capture_dropped", "capture_internal_errors",
							"capture_statements_sampled"};
	const uint64 values[5] = {static_cast<uint64>(c.entries), c.evictions, c.dropped, c.internal_errors,
							  c.statements_sampled};
	for (int i = 0; i < 5; i++)
		EmitRow(rsinfo, "counter", names[i], psprintf(UINT64_FORMAT, values[i]), -1, nullptr, nullptr);
}

static void
Status(FunctionCallInfo fcinfo)
{
	if (g_control == nullptr && g_startup_source == StartupSource::None)
		pg::RequirePreloaded("indexpilot_status()");
	pg::InitMaterializedResult(fcinfo);
	auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);

	auto *copy = static_cast<ControlState *>(palloc0(sizeof(ControlState)));
	core::Resolution r;
	if (g_control != nullptr) {
		LWLockAcquire(g_control->lock, LW_SHARED);
		memcpy(copy, g_control, sizeof(ControlState));
		r = ResolveLocked(g_control);
		LWLockRelease(g_control->lock);
	} else {
		r = StartupResolution();
	}
	EmitSwitches(rsinfo, copy, r);
	EmitConfig(rsinfo, g_control != nullptr ? copy : nullptr);
	EmitCounters(rsinfo);
}

} // namespace indexpilot::catalog

/* indexpilot_status() returns setof (kind, name, setting, enabled, source, detail). */
INDEXPILOT_FUNCTION(indexpilot_status)
{
	indexpilot::catalog::Status(fcinfo);
	return (Datum)0;
}
