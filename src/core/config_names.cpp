/*
 * core/config_names.cpp — switch, kind, source and mode names, and parsing them (see core/config.hpp).
 */
#include "indexpilot/core/config.hpp"
#include "indexpilot/core/config_detail.hpp"

#include "indexpilot/core/error.hpp"

#include <set>
#include <sstream>
#include <cstring>
#include <string>

namespace indexpilot::core
{

using config_detail::EqualsIgnoreCase;
using config_detail::kSwitches;
using config_detail::SwitchInfo;
using config_detail::Trim;

bool
Layer::IsEmpty() const noexcept
{
	for (auto v : values) {
		if (v != Setting::Unset)
			return false;
	}
	return true;
}

const char *
SwitchName(Switch s) noexcept
{
	return kSwitches[static_cast<int>(s)].name;
}

SwitchKind
KindOf(Switch s) noexcept
{
	return kSwitches[static_cast<int>(s)].kind;
}

const char *
KindName(SwitchKind k) noexcept
{
	switch (k) {
		case SwitchKind::System:
			return "system";
		case SwitchKind::Feature:
			return "feature";
		case SwitchKind::Module:
			return "module";
	}
	return "?";
}

const char *
SourceName(Source s) noexcept
{
	switch (s) {
		case Source::Guc:
			return "guc";
		case Source::ConfigFile:
			return "config_file";
		case Source::Environment:
			return "environment";
		case Source::Sql:
			return "sql";
		case Source::Startup:
			return "startup";
	}
	return "?";
}

const char *
BypassModeName(BypassMode m) noexcept
{
	switch (m) {
		case BypassMode::None:
			return "none";
		case BypassMode::Features:
			return "features";
		case BypassMode::System:
			return "system";
		case BypassMode::Startup:
			return "startup";
	}
	return "?";
}

std::optional<Switch>
SwitchFromName(std::string_view name) noexcept
{
	for (const auto &info : kSwitches) {
		if (name == info.name)
			return info.id;
	}
	return std::nullopt;
}

std::string
ValidNames(SwitchKind kind)
{
	std::string out;
	for (const auto &info : kSwitches) {
		if (info.kind != kind)
			continue;
		if (!out.empty())
			out += ", ";
		out += info.name;
	}
	return out;
}

Switch
ParseSwitchName(SwitchKind kind, std::string_view name)
{
	const std::string hint = std::string("Valid ") + KindName(kind) + " names are: " + ValidNames(kind) + ".";
	for (const auto &info : kSwitches) {
		if (info.kind == kind && name == info.name)
			return info.id;
	}
	const std::string message = std::string("unknown ") + KindName(kind) + " \"" + std::string(name) + "\"";
	// Say why a near miss failed: names are lower case, and features and modules are separate lists.
	std::string detail;
	for (const auto &info : kSwitches) {
		if (!EqualsIgnoreCase(name, info.name))
			continue;
		if (info.kind == kind)
			detail = std::string("Names are case-sensitive; did you mean \"") + info.name + "\"?";
		else if (info.kind == SwitchKind::System)
			detail = "\"system\" is the master switch: indexpilot_disable_system() and indexpilot_enable_system().";
		else
			detail =
				std::string("\"") + info.name + "\" is a " + KindName(info.kind) + ", not a " + KindName(kind) + ".";
	}
	throw Error(sqlstate::kInvalidParameterValue, message, detail, hint);
}

Switch
ParseAnySwitchName(std::string_view name)
{
	if (auto s = SwitchFromName(name))
		return *s;
	std::string valid;
	std::string detail;
	for (const auto &info : kSwitches) {
		valid += (valid.empty() ? "" : ", ") + std::string(info.name);
		if (EqualsIgnoreCase(name, info.name))
			detail = std::string("Names are case-sensitive; did you mean \"") + info.name + "\"?";
	}
	throw Error(sqlstate::kInvalidParameterValue, "unknown switch \"" + std::string(name) + "\"", detail,
				"Valid switch names are: " + valid + ".");
}

std::string
Diagnostic::ToString() const
{
	std::string out = file;
	if (line > 0)
		out += ":" + std::to_string(line);
	if (!key.empty())
		out += (out.empty() ? "" : ": ") + key;
	out += (out.empty() ? "" : ": ") + message;
	return out;
}

std::optional<BypassMode>
ParseBypassMode(std::string_view text) noexcept
{
	text = Trim(text);
	for (BypassMode m : {BypassMode::None, BypassMode::Features, BypassMode::System, BypassMode::Startup}) {
		if (EqualsIgnoreCase(text, BypassModeName(m)))
			return m;
	}
	return std::nullopt;
}

std::optional<bool>
ParseBool(std::string_view text) noexcept
{
	text = Trim(text);
	for (const char *t : {"true", "on", "yes", "1"}) {
		if (EqualsIgnoreCase(text, t))
			return true;
	}
	for (const char *f : {"false", "off", "no", "0"}) {
		if (EqualsIgnoreCase(text, f))
			return false;
	}
	return std::nullopt;
}

} // namespace indexpilot::core
