/*
 * control/control.cpp — the bypass levels: GUCs, environment, config file, shared state, worker duties.
 *
 * Who writes what (locking rules in control/state.hpp):
 *   - the postmaster, at shmem startup: the environment, the config file read in _PG_init, its GUCs;
 *   - database workers, at start and after each SIGHUP: the config file (read again) and their GUCs;
 *     every cycle: the persisted SQL switches of their own database (latest change wins, see below);
 *   - backends, at commit of a transaction that called a switch function (control/switches.cpp).
 * Several workers publishing the same file and GUCs write the same values; a fingerprint of what was read
 * keeps the log to one message per change.
 *
 * Multiple databases: switches are cluster-wide. Each database with the extension keeps the switches set
 * from it in indexpilot.bypass_switches, with the time of the change; a worker applies a row only if it is
 * newer than what shared memory holds for that switch, so after a restart the latest change made in any
 * served database wins, whatever order the workers start in.
 *
 * Memory: C++ objects (config parsing) live only inside ReadConfigFile and ParseEnvironmentLayer, which
 * return plain data; everything that may raise a PostgreSQL ERROR runs after they are gone.
 */
#include "indexpilot/control/bypass.hpp"
#include "indexpilot/control/control.hpp"
#include "indexpilot/pg/shmem.hpp"
#include "indexpilot/control/state.hpp"

#include "indexpilot/core/naming.hpp"
#include "indexpilot/pg/guard.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

#include <climits>
#include <cstring>
#include <string>
#include <vector>

extern char **environ;

namespace indexpilot::control
{

pg_atomic_uint32 *g_effective = nullptr;
ControlState *g_control = nullptr;
StartupSource g_startup_source = StartupSource::None;
char g_startup_file[MAXPGPATH];
bool g_guc_switch[kSwitchCount] = {true, true, true, true, true, true, true};
char *g_config_file = nullptr;
int g_status_log_interval_s = 3600;

/* Read in _PG_init (postmaster), copied into shared memory at startup. */
static core::Layer s_env_layer = core::Layer::Empty();
static core::BypassMode s_env_mode = core::BypassMode::None;
static FileSnapshot s_start_file;

static const char *const kGucNames[kSwitchCount] = {
	"indexpilot.system_enabled",    "indexpilot.stats_collection", "indexpilot.advising",
	"indexpilot.index_building",    "indexpilot.index_retirement", "indexpilot.capture_hooks",
	"indexpilot.background_worker",
};

static const char *const kGucDescriptions[kSwitchCount] = {
	"Master switch: off turns every IndexPilot feature and module off.",
	"Feature: capture predicates from queries and keep statistics.",
	"Feature: cost candidate indexes with the planner and record recommendations.",
	"Feature: build recommended indexes.",
	"Feature: drop indexes IndexPilot built that no longer pay for themselves.",
	"Module: executor hooks (off: they pass straight through).",
	"Module: database workers (off: they idle).",
};

const char *
GucName(core::Switch s) noexcept
{
	return kGucNames[static_cast<int>(s)];
}

/* ---- hot-path helpers --------------------------------------------------------------------------------- */

/* ---- resolution ----------------------------------------------------------------------------------------- */

core::Resolution
ResolveLocked(const ControlState *state) noexcept
{
	core::Inputs in;
	in.sql = state->sql;
	in.environment = state->environment;
	in.file = state->file;
	for (int i = 0; i < kSwitchCount; i++)
		in.guc[i] = state->guc[i];
	return core::Resolve(in);
}

core::Resolution
RecomputeLocked(ControlState *state) noexcept
{
	core::Resolution r = ResolveLocked(state);
	pg_atomic_write_u32(&state->effective, r.effective);
	return r;
}

core::Resolution
StartupResolution() noexcept
{
	core::Inputs in;
	in.startup_bypass = true;
	return core::Resolve(in);
}

static StatusDetail s_status_detail = nullptr;

void
SetStatusDetail(StatusDetail detail) noexcept
{
	s_status_detail = detail;
}

void
FormatStatusLine(const core::Resolution &r, const ControlState *state, char *buf, size_t size) noexcept
{
	size_t used = core::WriteSummary(r, buf, size);
	if (state != nullptr && used + 1 < size && s_status_detail != nullptr)
		s_status_detail(buf + used, size - used);
}

/* ---- environment and config file ------------------------------------------------------------------------ */

bool
StartupBypassFromEnvironment() noexcept
{
	if (!core::IsStartupBypass(getenv("INDEXPILOT_BYPASS_MODE")))
		return false;
	g_startup_source = StartupSource::Environment;
	ereport(process_shared_preload_libraries_in_progress ? LOG : DEBUG1,
			(errmsg("indexpilot: startup bypass (INDEXPILOT_BYPASS_MODE=startup): nothing is installed"),
			 errdetail("No hooks, no background workers, no shared memory, no settings.")));
	return true;
}

/* Copies up to `size` bytes of s into dst, always terminated. */
static void
CopyTruncated(char *dst, size_t size, const std::string &s) noexcept
{
	strlcpy(dst, s.c_str(), size);
}

/* Reads indexpilot.config_file into a plain snapshot (C++ objects live only in here). */
static void
ReadConfigFile(FileSnapshot *out)
{
	memset(out, 0, sizeof(*out));
	out->layer = core::Layer::Empty();
	out->mode = core::BypassMode::None;
	const char *path = g_config_file != nullptr ? g_config_file : "";
	out->configured = path[0] != '\0';
	strlcpy(out->path, path, sizeof(out->path));
	std::string fingerprint_input(path);
	if (out->configured) {
		const core::SourceConfig config = core::LoadConfigFile(path);
		out->ok = config.ok();
		out->mode = config.mode;
		out->layer = config.layer;
		std::string problems;
		for (const auto &d : config.diagnostics)
			problems += (problems.empty() ? "" : "\n") + d.ToString();
		CopyTruncated(out->problem, sizeof(out->problem), problems);
		fingerprint_input += '\0' + problems + '\0' + core::BypassModeName(config.mode);
		for (auto v : config.layer.values)
			fingerprint_input += static_cast<char>('1' + static_cast<int>(v));
	}
	out->fingerprint = core::Fnv1a32(fingerprint_input);
}

/* Logs what a read of the config file found. */
static void
LogFileSnapshot(const FileSnapshot *snap, bool at_start)
{
	if (!snap->configured)
		return;
	if (snap->ok)
		ereport(LOG, (errmsg("indexpilot: read configuration file \"%s\"", snap->path),
					  errdetail("bypass_mode: %s", core::BypassModeName(snap->mode))));
	else
		ereport(WARNING,
				(errmsg("indexpilot: configuration file \"%s\" is not usable; %s", snap->path,
						at_start ? "its settings are ignored and the GUCs decide"
								 : "the settings read before stay in force"),
				 errdetail("%s", snap->problem),
				 errhint("Fix the file and reload (SELECT pg_reload_conf()), or set indexpilot.config_file = ''.")));
}

/* Parses the environment into plain statics; logs problems. */
static void
ParseEnvironmentLayer()
{
	std::vector<std::string> vars;
	for (char **e = environ; e != nullptr && *e != nullptr; e++) {
		if (strncmp(*e, "INDEXPILOT_", 11) == 0)
			vars.emplace_back(*e);
	}
	const core::SourceConfig env = core::ParseEnvironment(vars);
	s_env_mode = env.mode;
	s_env_layer = env.layer;
	for (const auto &d : env.diagnostics) {
		const std::string text = d.ToString();
		const char *ctext = text.c_str();
		pg::Call([ctext] { ereport(WARNING, (errmsg("indexpilot: %s", ctext))); });
	}
}

void
ControlInit()
{
	for (int i = 0; i < kSwitchCount; i++)
		DefineCustomBoolVariable(kGucNames[i], kGucDescriptions[i],
								 "The weakest source: the config file, the environment and the SQL switches "
								 "override it (see docs/bypass.md).",
								 &g_guc_switch[i], true, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
	DefineCustomStringVariable("indexpilot.config_file", "YAML file with IndexPilot's bypass switches (empty: none).",
							   "A relative path is relative to the data directory. Read at server start and "
							   "on reload; a missing or invalid file is logged and ignored.",
							   &g_config_file, "", PGC_SIGHUP, GUC_SUPERUSER_ONLY, nullptr, nullptr, nullptr);
	DefineCustomIntVariable("indexpilot.status_log_interval",
							"Time between two IndexPilot status lines in the server log (0: only at start).", nullptr,
							&g_status_log_interval_s, 3600, 0, INT_MAX / 1000, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr,
							nullptr);
}

bool
ControlLoad()
{
	ParseEnvironmentLayer();
	ReadConfigFile(&s_start_file);
	LogFileSnapshot(&s_start_file, true);
	if (s_start_file.configured && s_start_file.ok && s_start_file.mode == core::BypassMode::Startup) {
		g_startup_source = StartupSource::ConfigFile;
		strlcpy(g_startup_file, s_start_file.path, sizeof(g_startup_file));
		ereport(LOG, (errmsg("indexpilot: startup bypass (bypass_mode: startup in \"%s\"): nothing is installed",
							 s_start_file.path),
					  errdetail("No hooks, no background workers, no shared memory.")));
		return false;
	}
	return true;
}

/* ---- shared memory ---------------------------------------------------------------------------------------- */

/* Stores a config file read into the state: a failed read keeps the last good layer. Lock held exclusively. */
static bool
PublishFileLocked(ControlState *state, const FileSnapshot *snap)
{
	const bool changed = state->file_fingerprint != snap->fingerprint;
	state->file_configured = snap->configured;
	state->file_ok = snap->configured && snap->ok;
	strlcpy(state->file_path, snap->path, sizeof(state->file_path));
	strlcpy(state->file_problem, snap->problem, sizeof(state->file_problem));
	state->file_fingerprint = snap->fingerprint;
	state->file_read_at = GetCurrentTimestamp();
	if (!snap->configured) {
		state->file = core::Layer::Empty();
		state->file_mode = core::BypassMode::None;
		state->file_ever_loaded = false;
	} else if (snap->ok) {
		state->file = snap->layer;
		state->file_mode = snap->mode;
		state->file_ever_loaded = true;
	}
	return changed;
}

static void
PublishGucsLocked(ControlState *state)
{
	for (int i = 0; i < kSwitchCount; i++)
		state->guc[i] = g_guc_switch[i];
}

static Size
ControlSize()
{
	return sizeof(ControlState);
}

/* Creates the state in the postmaster (and attaches to it under EXEC_BACKEND); AddinShmemInitLock is held. */
static void
ControlPartInit(LWLockPadded *locks)
{
	bool found = false;
	auto *state = static_cast<ControlState *>(ShmemInitStruct("indexpilot control", sizeof(ControlState), &found));
	if (!found) {
		MemSet(state, 0, sizeof(ControlState));
		state->lock = &locks[0].lock;
		pg_atomic_init_u32(&state->effective, 0);
		state->sql = core::Layer::Empty();
		state->environment = s_env_layer;
		state->env_mode = s_env_mode;
		state->file = core::Layer::Empty();
		state->file_mode = core::BypassMode::None;
		state->file_fingerprint = ~s_start_file.fingerprint;
		(void)PublishFileLocked(state, &s_start_file);
		PublishGucsLocked(state);
		state->last_status_log = GetCurrentTimestamp();
		(void)RecomputeLocked(state); // nobody else can see the state yet
	}
	g_control = state;
	g_effective = &state->effective;

	if (!found) {
		char line[512];
		FormatStatusLine(ResolveLocked(state), state, line, sizeof(line));
		ereport(LOG, (errmsg("indexpilot status at start: %s", line)));
	}
}

void
ControlShmemInit()
{
	pg::ShmemAddPart(pg::ShmemPart{"indexpilot control", ControlSize, 1, ControlPartInit});
}

/* ---- database worker duties ------------------------------------------------------------------------------ */

void
ReloadConfig()
{
	if (g_control == nullptr)
		return;
	FileSnapshot snap;
	ReadConfigFile(&snap);

	LWLockAcquire(g_control->lock, LW_EXCLUSIVE);
	const bool changed = PublishFileLocked(g_control, &snap);
	PublishGucsLocked(g_control);
	const core::Resolution r = RecomputeLocked(g_control);
	LWLockRelease(g_control->lock);

	if (changed) {
		LogFileSnapshot(&snap, false);
		char line[512];
		FormatStatusLine(r, g_control, line, sizeof(line));
		ereport(LOG, (errmsg("indexpilot status after reload: %s", line)));
	}
}

/* One row of indexpilot.bypass_switches, copied out of SPI. */
struct PersistedRow {
	core::Switch sw;
	core::Setting value;
	TimestampTz changed_at;
	NameData role;
};

/* Reads this database's persisted switches; returns how many rows went into rows[]. Inside a transaction. */
static int
ReadPersistedRows(PersistedRow *rows, int max_rows)
{
	Oid nsp = get_namespace_oid("indexpilot", true);
	if (!OidIsValid(nsp) || !OidIsValid(get_relname_relid("bypass_switches", nsp)))
		return 0;
	int nrows = 0;
	SPI_connect();
	if (SPI_execute("SELECT switch, enabled, changed_at, changed_by FROM indexpilot.bypass_switches", true, 0) !=
		SPI_OK_SELECT)
		elog(ERROR, "indexpilot: could not read indexpilot.bypass_switches");
	for (uint64 i = 0; i < SPI_processed && nrows < max_rows; i++) {
		HeapTuple tuple = SPI_tuptable->vals[i];
		TupleDesc desc = SPI_tuptable->tupdesc;
		bool isnull = false;
		char *name = SPI_getvalue(tuple, desc, 1);
		auto sw = core::SwitchFromName(name != nullptr ? name : "");
		if (!sw)
			continue;
		PersistedRow &row = rows[nrows];
		row.sw = *sw;
		Datum enabled = SPI_getbinval(tuple, desc, 2, &isnull);
		row.value = isnull ? core::Setting::Unset : (DatumGetBool(enabled) ? core::Setting::On : core::Setting::Off);
		row.changed_at = DatumGetTimestampTz(SPI_getbinval(tuple, desc, 3, &isnull));
		char *role = SPI_getvalue(tuple, desc, 4);
		namestrcpy(&row.role, role != nullptr ? role : "");
		nrows++;
	}
	SPI_finish();
	return nrows;
}

/* Applies rows newer than what shared memory holds; logs each switch that changed. */
static void
ApplyPersistedRows(const PersistedRow *rows, int nrows)
{
	bool applied[kSwitchCount] = {};
	bool any = false;
	LWLockAcquire(g_control->lock, LW_EXCLUSIVE);
	for (int i = 0; i < nrows; i++) {
		const int s = static_cast<int>(rows[i].sw);
		if (rows[i].changed_at <= g_control->sql_changed_at[s])
			continue;
		g_control->sql.values[s] = rows[i].value;
		g_control->sql_changed_at[s] = rows[i].changed_at;
		g_control->sql_database[s] = MyDatabaseId;
		g_control->sql_role[s] = rows[i].role;
		applied[s] = any = true;
	}
	if (any)
		(void)RecomputeLocked(g_control);
	LWLockRelease(g_control->lock);

	for (int i = 0; i < nrows; i++) {
		const int s = static_cast<int>(rows[i].sw);
		if (!applied[s])
			continue;
		applied[s] = false;
		ereport(LOG,
				(errmsg("indexpilot: persisted switch %s %s loaded from database \"%s\"", core::SwitchName(rows[i].sw),
						rows[i].value == core::Setting::Unset ? "reset"
						: rows[i].value == core::Setting::On  ? "on"
															  : "off",
						get_database_name(MyDatabaseId)),
				 errdetail("Changed by %s at %s.", NameStr(rows[i].role), timestamptz_to_str(rows[i].changed_at))));
	}
}

/* Loads this database's persisted switches; an error is logged and the worker goes on. */
static void
LoadPersistedSwitches()
{
	PersistedRow rows[2 * kSwitchCount];
	volatile int nrows = 0;
	MemoryContext caller = CurrentMemoryContext;
	volatile bool failed = false;

	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	PG_TRY();
	{
		nrows = ReadPersistedRows(rows, lengthof(rows));
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(caller);
		EmitErrorReport();
		FlushErrorState();
		failed = true;
	}
	PG_END_TRY();
	if (failed) {
		AbortCurrentTransaction();
		return;
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
	if (nrows > 0) {
		StartTransactionCommand(); // get_database_name needs one
		ApplyPersistedRows(rows, nrows);
		CommitTransactionCommand();
	}
}

/* Writes the status line when indexpilot.status_log_interval has passed since the last one (any worker). */
static void
MaybeLogStatus()
{
	if (g_status_log_interval_s <= 0)
		return;
	const TimestampTz now = GetCurrentTimestamp();
	bool due = false;
	core::Resolution r;
	LWLockAcquire(g_control->lock, LW_EXCLUSIVE);
	if (TimestampDifferenceExceeds(g_control->last_status_log, now, g_status_log_interval_s * 1000)) {
		g_control->last_status_log = now;
		r = ResolveLocked(g_control);
		due = true;
	}
	LWLockRelease(g_control->lock);
	if (due) {
		char line[512];
		FormatStatusLine(r, g_control, line, sizeof(line));
		ereport(LOG, (errmsg("indexpilot status: %s", line)));
	}
}

void
WorkerCycle()
{
	if (g_control == nullptr)
		return;
	LoadPersistedSwitches();
	MaybeLogStatus();
}

} // namespace indexpilot::control
