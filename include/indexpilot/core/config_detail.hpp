/*
 * core/config_detail.hpp — what the config files (switch names, environment, YAML, resolution) share:
 * the table of switches and two string helpers. Internal to src/core/config_*.cpp.
 */
#pragma once

#include "indexpilot/core/config.hpp"

#include <cctype>
#include <string_view>

namespace indexpilot::core::config_detail
{

struct SwitchInfo {
	Switch id;
	const char *name;
	const char *env_name; // the <SWITCH> part of INDEXPILOT_BYPASS_<SWITCH>_ENABLED
	SwitchKind kind;
};

inline constexpr SwitchInfo kSwitches[kSwitchCount] = {
	{Switch::System, "system", "SYSTEM", SwitchKind::System},
	{Switch::StatsCollection, "stats_collection", "STATS_COLLECTION", SwitchKind::Feature},
	{Switch::Advising, "advising", "ADVISING", SwitchKind::Feature},
	{Switch::IndexBuilding, "index_building", "INDEX_BUILDING", SwitchKind::Feature},
	{Switch::IndexRetirement, "index_retirement", "INDEX_RETIREMENT", SwitchKind::Feature},
	{Switch::CaptureHooks, "capture_hooks", "CAPTURE_HOOKS", SwitchKind::Module},
	{Switch::BackgroundWorker, "background_worker", "BACKGROUND_WORKER", SwitchKind::Module},
};

inline std::string_view
Trim(std::string_view s) noexcept
{
	while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
		s.remove_prefix(1);
	while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
		s.remove_suffix(1);
	return s;
}

inline bool
EqualsIgnoreCase(std::string_view a, std::string_view b) noexcept
{
	if (a.size() != b.size())
		return false;
	for (std::size_t i = 0; i < a.size(); i++) {
		if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
			return false;
	}
	return true;
}

} // namespace indexpilot::core::config_detail
