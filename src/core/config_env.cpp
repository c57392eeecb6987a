/*
 * core/config_env.cpp — the bypass environment variables: startup bypass, INDEXPILOT_BYPASS_MODE and
 * INDEXPILOT_BYPASS_<SWITCH>_ENABLED (see core/config.hpp).
 */
#include "indexpilot/core/config.hpp"
#include "indexpilot/core/config_detail.hpp"

#include "indexpilot/core/error.hpp"

#include <cstring>
#include <string>
#include <vector>

namespace indexpilot::core
{

using config_detail::EqualsIgnoreCase;
using config_detail::kSwitches;
using config_detail::SwitchInfo;
using config_detail::Trim;

bool
IsStartupBypass(const char *env_value) noexcept
{
	if (env_value == nullptr)
		return false;
	auto mode = ParseBypassMode(std::string_view(env_value, std::strlen(env_value)));
	return mode && *mode == BypassMode::Startup;
}

void
ApplyModeToLayer(BypassMode mode, Layer *layer) noexcept
{
	switch (mode) {
		case BypassMode::None:
			break;
		case BypassMode::Features:
			for (const auto &info : kSwitches) {
				if (info.kind == SwitchKind::Feature)
					layer->Set(info.id, Setting::Off);
			}
			break;
		case BypassMode::System:
		case BypassMode::Startup:
			layer->Set(Switch::System, Setting::Off);
			break;
	}
}

static const char kModeVar[] = "INDEXPILOT_BYPASS_MODE";
static const char kVarPrefix[] = "INDEXPILOT_BYPASS_";
static const char kVarSuffix[] = "_ENABLED";

SourceConfig
ParseEnvironment(const std::vector<std::string> &environment)
{
	SourceConfig out;
	Layer explicit_values = Layer::Empty();
	auto report = [&out](const std::string &key, const std::string &message) {
		out.diagnostics.push_back(Diagnostic{"environment", 0, key, message});
	};

	for (const std::string &entry : environment) {
		const std::size_t eq = entry.find('=');
		const std::string name = entry.substr(0, eq);
		const std::string value = eq == std::string::npos ? std::string() : entry.substr(eq + 1);
		if (name.compare(0, sizeof(kVarPrefix) - 1, kVarPrefix) != 0)
			continue;
		if (name == kModeVar) {
			if (auto mode = ParseBypassMode(value))
				out.mode = *mode;
			else
				report(name, "invalid value \"" + value + "\" (valid: none, features, system, startup); ignored");
			continue;
		}
		const std::size_t suffix_len = sizeof(kVarSuffix) - 1;
		const std::size_t prefix_len = sizeof(kVarPrefix) - 1;
		const SwitchInfo *match = nullptr;
		if (name.size() > prefix_len + suffix_len &&
			name.compare(name.size() - suffix_len, suffix_len, kVarSuffix) == 0) {
			const std::string middle = name.substr(prefix_len, name.size() - prefix_len - suffix_len);
			for (const auto &info : kSwitches) {
				if (middle == info.env_name)
					match = &info;
			}
		}
		if (match == nullptr) {
			std::string valid = std::string(kModeVar);
			for (const auto &info : kSwitches)
				valid += std::string(", ") + kVarPrefix + info.env_name + kVarSuffix;
			report(name, "unknown variable; ignored (valid: " + valid + ")");
			continue;
		}
		if (auto on = ParseBool(value))
			explicit_values.Set(match->id, *on);
		else
			report(name, "invalid value \"" + value + "\" (valid: true, false); ignored");
	}

	ApplyModeToLayer(out.mode, &out.layer);
	for (int i = 0; i < kSwitchCount; i++) {
		if (explicit_values.values[i] != Setting::Unset)
			out.layer.values[i] = explicit_values.values[i];
	}
	return out;
}

} // namespace indexpilot::core
