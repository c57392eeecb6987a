/*
 * core/config.hpp — the bypass switches, where their values come from, and how the sources combine.
 *
 * Pure C++ (no PostgreSQL headers), covered by test/unit/test_config*.cpp and the fuzz target
 * test/fuzz/fuzz_config.cpp. yaml-cpp reports errors by throwing: every exception stays inside
 * src/core/config_yaml.cpp and comes back as a Diagnostic, so callers never see one from the parsers.
 *
 * Seven switches: the system, four features and two modules. Each source contributes a Layer in which a
 * switch is set (on or off) or unset; Resolve() takes, for each switch, the strongest layer that sets it:
 *
 *     startup bypass  >  runtime SQL  >  environment  >  YAML file  >  GUCs (always set)
 *
 * The resolved values fit in one 32-bit word (one bit per switch), which the server keeps in shared memory
 * so the executor hooks can test "is capture active" with a single load.
 */
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace indexpilot::core
{

/* Every switch, in the order status reports them. Values are bit positions in the effective word. */
enum class Switch : std::uint8_t {
	System = 0,
	StatsCollection,
	Advising,
	IndexBuilding,
	IndexRetirement,
	CaptureHooks,
	BackgroundWorker,
};
inline constexpr int kSwitchCount = 7;

enum class SwitchKind : std::uint8_t { System, Feature, Module };

/* Where a switch's value came from, weakest first. */
enum class Source : std::uint8_t { Guc, ConfigFile, Environment, Sql, Startup };

/* INDEXPILOT_BYPASS_MODE and the YAML key bypass_mode. */
enum class BypassMode : std::uint8_t { None, Features, System, Startup };

/* A switch's state inside one layer: plain data so layers can live in shared memory. */
enum class Setting : std::int8_t { Unset = -1, Off = 0, On = 1 };

struct Layer {
	Setting values[kSwitchCount];

	/* Every switch unset. constexpr: a Layer initialised with it needs no dynamic initialisation. */
	static constexpr Layer Empty() noexcept
	{
		Layer layer{};
		for (auto &v : layer.values)
			v = Setting::Unset;
		return layer;
	}
	Setting Get(Switch s) const noexcept { return values[static_cast<int>(s)]; }
	void Set(Switch s, Setting v) noexcept { values[static_cast<int>(s)] = v; }
	void Set(Switch s, bool on) noexcept { Set(s, on ? Setting::On : Setting::Off); }
	bool IsEmpty() const noexcept;
};

/* Names as users write them: "system", "stats_collection", ..., "background_worker" (lower case). */
const char *SwitchName(Switch s) noexcept;
SwitchKind KindOf(Switch s) noexcept;
const char *KindName(SwitchKind k) noexcept;
const char *SourceName(Source s) noexcept;
const char *BypassModeName(BypassMode m) noexcept;

/* Exact (case-sensitive) lookup of a switch name; nullopt when unknown. */
std::optional<Switch> SwitchFromName(std::string_view name) noexcept;

/* Comma-separated valid names of one kind, for error messages: "stats_collection, advising, ...". */
std::string ValidNames(SwitchKind kind);

/*
 * The switch named `name` of kind `kind`, or core::Error (invalid_parameter_value) whose message names the
 * bad value and whose hint lists the valid names. Names are case-sensitive: "Advising" is refused with a
 * hint pointing at "advising".
 */
Switch ParseSwitchName(SwitchKind kind, std::string_view name);

/* Any switch by name ("system" or a feature or module name), or core::Error listing every valid name. */
Switch ParseAnySwitchName(std::string_view name);

/* Bit of a switch in the effective word. */
constexpr std::uint32_t
SwitchBit(Switch s) noexcept
{
	return 1u << static_cast<unsigned>(s);
}
/* Capture runs only when the system, the capture hooks module and the stats collection feature are on. */
inline constexpr std::uint32_t kCaptureMask =
	SwitchBit(Switch::System) | SwitchBit(Switch::CaptureHooks) | SwitchBit(Switch::StatsCollection);

/* A problem found in the environment or a config file: where, which key, what. */
struct Diagnostic {
	std::string file; // "environment" for environment variables
	int line;         // 1-based; 0 when unknown
	std::string key;  // "features.advising", "INDEXPILOT_BYPASS_MODE", or empty
	std::string message;

	/* "file:line: key: message" (parts that are unknown are left out). */
	std::string ToString() const;
};

/* What one source (environment or file) asks for. */
struct SourceConfig {
	BypassMode mode = BypassMode::None;
	Layer layer = Layer::Empty();
	std::vector<Diagnostic> diagnostics;
	bool ok() const noexcept { return diagnostics.empty(); }
};

/* Case-insensitive, surrounding blanks ignored: none, features, system, startup. */
std::optional<BypassMode> ParseBypassMode(std::string_view text) noexcept;

/* Case-insensitive, surrounding blanks ignored: true/false, on/off, yes/no, 1/0. */
std::optional<bool> ParseBool(std::string_view text) noexcept;

/*
 * True when the raw value of INDEXPILOT_BYPASS_MODE asks for the startup bypass. Allocates nothing and
 * cannot throw: _PG_init calls it before anything else.
 */
bool IsStartupBypass(const char *env_value) noexcept;

/*
 * The mode's effect on a layer, before the layer's own per-switch settings: features -> every feature off;
 * system and startup -> the system off; none -> nothing.
 */
void ApplyModeToLayer(BypassMode mode, Layer *layer) noexcept;

/*
 * Reads INDEXPILOT_BYPASS_MODE and INDEXPILOT_BYPASS_<SWITCH>_ENABLED (SWITCH in upper case: SYSTEM,
 * STATS_COLLECTION, ..., BACKGROUND_WORKER) from `environ`-style "NAME=value" strings. The mode applies
 * first; a per-switch variable then wins over it (so MODE=features with ADVISING_ENABLED=true leaves only
 * advising on). Unknown INDEXPILOT_BYPASS_* variables and bad values are diagnostics; bad values are
 * ignored, everything valid applies. Other variables are ignored. Never throws except std::bad_alloc.
 */
SourceConfig ParseEnvironment(const std::vector<std::string> &environment);

/*
 * Parses YAML text (see indexpilot_config.yaml for the shape). All or nothing: when any diagnostic is
 * reported the returned mode is None and the layer empty, and the caller keeps what it had. Never throws
 * except std::bad_alloc: yaml-cpp's exceptions are turned into diagnostics here.
 */
SourceConfig ParseConfigYaml(std::string_view text, const std::string &filename);

/* Largest config file read; a bigger one is refused (a diagnostic), never parsed. */
inline constexpr std::size_t kMaxConfigFileBytes = 64 * 1024;

/* Reads and parses a file: a missing, unreadable or oversized file is a diagnostic. */
SourceConfig LoadConfigFile(const std::string &path);

/* Every input of a resolution. Plain data. */
struct Inputs {
	bool startup_bypass = false; // the library installed nothing: everything is off
	Layer sql = Layer::Empty();
	Layer environment = Layer::Empty();
	Layer file = Layer::Empty();
	bool guc[kSwitchCount] = {true, true, true, true, true, true, true};
};

/* The outcome: each switch's own value and its source, and the effective word. */
struct Resolution {
	bool value[kSwitchCount];
	Source source[kSwitchCount];
	std::uint32_t effective; // bit set = switch on AND (for features and modules) the system on

	bool Value(Switch s) const noexcept { return value[static_cast<int>(s)]; }
	Source SourceOf(Switch s) const noexcept { return source[static_cast<int>(s)]; }
	bool Effective(Switch s) const noexcept { return (effective & SwitchBit(s)) != 0; }
};

/* Applies the precedence rule. Allocates nothing, cannot throw. */
Resolution Resolve(const Inputs &inputs) noexcept;

/* "system=on(guc) stats_collection=off(environment) ..." for the server log. Fits in 512 bytes. */
std::string SummaryLine(const Resolution &r);
/* The same line into buf (allocation-free, for the server log); returns its length (clipped to size - 1). */
std::size_t WriteSummary(const Resolution &r, char *buf, std::size_t size) noexcept;

} // namespace indexpilot::core
