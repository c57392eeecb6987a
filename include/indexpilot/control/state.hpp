/*
 * control/state.hpp — the control module's shared memory and process-local state (internal to src/control).
 *
 * Locking: `lock` (tranche "indexpilot control") protects every field except the atomics.
 *   - LW_EXCLUSIVE to change a layer (SQL switch at commit, worker loading persisted switches or publishing
 *     the GUCs and the config file); the writer recomputes `effective` before releasing the lock.
 *   - LW_SHARED to read layers for indexpilot_status() and the status line.
 *   - `effective` is read without any lock (one atomic load on the hot path); it is only written under
 *     LW_EXCLUSIVE, so writers never race each other.
 *   - the capture counters are atomic adds, no lock.
 * Plain data only: no constructors run in shared memory.
 */
#pragma once

#include "indexpilot/core/config.hpp"
#include "indexpilot/pg/postgres.hpp"

extern "C" {
#include "datatype/timestamp.h"
#include "port/atomics.h"
#include "storage/lwlock.h"
}

namespace indexpilot::control
{

using core::kSwitchCount;

/* Where the startup bypass came from (process-local; set in the postmaster, inherited by every child). */
enum class StartupSource : std::uint8_t { None, Environment, ConfigFile };

/* What reading the config file gave: plain data, so it can be published and logged without C++ objects. */
struct FileSnapshot {
	bool configured; // indexpilot.config_file is set
	bool ok;         // read and valid (configured only)
	core::BypassMode mode;
	core::Layer layer;
	char path[MAXPGPATH];
	char problem[2048]; // diagnostics, one per line (configured && !ok)
	std::uint32_t fingerprint;
};

struct ControlState {
	LWLock *lock;
	pg_atomic_uint32 effective;

	core::Layer sql; // runtime SQL switches
	TimestampTz sql_changed_at[kSwitchCount];
	Oid sql_database[kSwitchCount];
	NameData sql_role[kSwitchCount];

	core::Layer environment; // read once at server start
	core::BypassMode env_mode;

	core::Layer file; // the last good config file
	core::BypassMode file_mode;
	bool file_configured;
	bool file_ok;              // the last read succeeded (else `file` is the one before, or empty)
	bool file_ever_loaded;     // `file` came from a successful read
	char file_path[MAXPGPATH]; // of the last read
	char file_problem[2048];   // of the last read
	std::uint32_t file_fingerprint;
	TimestampTz file_read_at;

	bool guc[kSwitchCount];

	TimestampTz last_status_log;
};

/* Set at shmem startup; nullptr when not preloaded or under the startup bypass. */
extern ControlState *g_control;

extern StartupSource g_startup_source;
extern char g_startup_file[MAXPGPATH];

/* GUC values, in switch order; the config file path; the status interval in seconds. */
extern bool g_guc_switch[kSwitchCount];
extern char *g_config_file;
extern int g_status_log_interval_s;

/* "indexpilot.stats_collection", ..., "indexpilot.system_enabled". */
const char *GucName(core::Switch s) noexcept;

/* Resolves the state's layers and stores the effective word. Caller holds lock exclusively. */
core::Resolution RecomputeLocked(ControlState *state) noexcept;

/* Resolves the state's layers without storing anything. Caller holds lock (shared is enough). */
core::Resolution ResolveLocked(const ControlState *state) noexcept;

/* The resolution under the startup bypass (no shared memory). */
core::Resolution StartupResolution() noexcept;

/*
 * What a module below the status line adds to it (capture: "; capture entries=... evictions=..."),
 * written into buf (size bytes, NUL-terminated). Registered while preloading; so control/ depends on no
 * module above it.
 */
using StatusDetail = void (*)(char *buf, size_t size) noexcept;
void SetStatusDetail(StatusDetail detail) noexcept;

/* "system=on(guc) ...; capture entries=0 evictions=0 internal_errors=0" into buf. */
void FormatStatusLine(const core::Resolution &r, const ControlState *state, char *buf, size_t size) noexcept;

} // namespace indexpilot::control
