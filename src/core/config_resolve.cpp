/*
 * core/config_resolve.cpp — precedence: which source decides each switch, and the one-line summary
 * (see core/config.hpp).
 */
#include "indexpilot/core/config.hpp"
#include "indexpilot/core/config_detail.hpp"

#include "indexpilot/core/error.hpp"

#include <cstdio>
#include <cstring>
#include <string>

namespace indexpilot::core
{

using config_detail::EqualsIgnoreCase;
using config_detail::kSwitches;
using config_detail::SwitchInfo;
using config_detail::Trim;

Resolution
Resolve(const Inputs &inputs) noexcept
{
	Resolution r;
	for (int i = 0; i < kSwitchCount; i++) {
		if (inputs.startup_bypass) {
			r.value[i] = false;
			r.source[i] = Source::Startup;
		} else if (inputs.sql.values[i] != Setting::Unset) {
			r.value[i] = inputs.sql.values[i] == Setting::On;
			r.source[i] = Source::Sql;
		} else if (inputs.environment.values[i] != Setting::Unset) {
			r.value[i] = inputs.environment.values[i] == Setting::On;
			r.source[i] = Source::Environment;
		} else if (inputs.file.values[i] != Setting::Unset) {
			r.value[i] = inputs.file.values[i] == Setting::On;
			r.source[i] = Source::ConfigFile;
		} else {
			r.value[i] = inputs.guc[i];
			r.source[i] = Source::Guc;
		}
	}
	const bool system = r.value[static_cast<int>(Switch::System)];
	r.effective = 0;
	for (int i = 0; i < kSwitchCount; i++) {
		if (r.value[i] && system)
			r.effective |= 1u << i;
	}
	return r;
}

std::size_t
WriteSummary(const Resolution &r, char *buf, std::size_t size) noexcept
{
	if (size == 0)
		return 0;
	std::size_t used = 0;
	buf[0] = '\0';
	for (const auto &info : kSwitches) {
		if (used >= size)
			break;
		const int n = std::snprintf(buf + used, size - used, "%s%s=%s(%s)", used ? " " : "", info.name,
									r.Value(info.id) ? "on" : "off", SourceName(r.SourceOf(info.id)));
		used += n > 0 ? static_cast<std::size_t>(n) : 0;
	}
	return used < size ? used : size - 1;
}

std::string
SummaryLine(const Resolution &r)
{
	char buf[512];
	WriteSummary(r, buf, sizeof(buf));
	return buf;
}

} // namespace indexpilot::core
