/*
 * core/config.cpp — switch names, environment and YAML parsing, precedence (see core/config.hpp).
 *
 * yaml-cpp throws (YAML::ParserException and friends, also for input it cannot represent): every call into
 * it is inside ParseConfigYaml's try block, which turns what it catches into diagnostics. Only
 * std::bad_alloc leaves this file, and the server-side callers run under pg::Entry.
 */
#include "indexpilot/core/config.hpp"

#include "indexpilot/core/error.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cstring>
#include <fstream>
#include <new>
#include <set>
#include <sstream>
#include <cerrno>

namespace indexpilot::core
{

namespace
{

struct SwitchInfo {
	Switch id;
	const char *name;
	const char *env_name; // the <SWITCH> part of INDEXPILOT_BYPASS_<SWITCH>_ENABLED
	SwitchKind kind;
};

constexpr SwitchInfo kSwitches[kSwitchCount] = {
	{Switch::System, "system", "SYSTEM", SwitchKind::System},
	{Switch::StatsCollection, "stats_collection", "STATS_COLLECTION", SwitchKind::Feature},
	{Switch::Advising, "advising", "ADVISING", SwitchKind::Feature},
	{Switch::IndexBuilding, "index_building", "INDEX_BUILDING", SwitchKind::Feature},
	{Switch::IndexRetirement, "index_retirement", "INDEX_RETIREMENT", SwitchKind::Feature},
	{Switch::CaptureHooks, "capture_hooks", "CAPTURE_HOOKS", SwitchKind::Module},
	{Switch::BackgroundWorker, "background_worker", "BACKGROUND_WORKER", SwitchKind::Module},
};

std::string_view
Trim(std::string_view s) noexcept
{
	while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
		s.remove_prefix(1);
	while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
		s.remove_suffix(1);
	return s;
}

bool
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

} // namespace

Layer
Layer::Empty() noexcept
{
	Layer layer;
	for (auto &v : layer.values)
		v = Setting::Unset;
	return layer;
}

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

namespace
{

/* Walks a parsed YAML document, collecting settings and diagnostics. */
class YamlReader
{
public:
	YamlReader(const std::string &filename, SourceConfig *out) : filename_(filename), out_(out) {}

	void ReadRoot(const YAML::Node &root)
	{
		if (!root || root.IsNull())
			return; // an empty file (or only comments) sets nothing
		if (!root.IsMap()) {
			Report(root, "",
				   "the document must be a mapping of keys (bypass_mode, system_enabled, features, "
				   "modules)");
			return;
		}
		std::set<std::string> seen;
		explicit_ = Layer::Empty();
		// Copies, not references: yaml-cpp's iterators hand out temporaries (it->second dangles).
		for (const auto &entry : root) {
			const YAML::Node key_node = entry.first;
			const YAML::Node value = entry.second;
			std::string key;
			if (!KeyOf(key_node, "", &seen, &key))
				continue;
			if (key == "bypass_mode") {
				std::string text;
				if (!ScalarOf(key_node, value, key, &text))
					continue;
				if (auto mode = ParseBypassMode(text))
					out_->mode = *mode;
				else
					Report(value, key, "invalid value \"" + text + "\" (valid: none, features, system, startup)");
			} else if (key == "system_enabled") {
				ReadBool(key_node, value, key, Switch::System);
			} else if (key == "features") {
				ReadSection(key_node, value, key, SwitchKind::Feature);
			} else if (key == "modules") {
				ReadSection(key_node, value, key, SwitchKind::Module);
			} else {
				Report(key_node, key, "unknown key (valid: bypass_mode, system_enabled, features, modules)");
			}
		}
		ApplyModeToLayer(out_->mode, &out_->layer);
		for (int i = 0; i < kSwitchCount; i++) {
			if (explicit_.values[i] != Setting::Unset)
				out_->layer.values[i] = explicit_.values[i];
		}
	}

	void Report(const YAML::Node &at, const std::string &key, const std::string &message)
	{
		out_->diagnostics.push_back(Diagnostic{filename_, LineOf(at), key, message});
	}

private:
	static int LineOf(const YAML::Node &node)
	{
		const YAML::Mark mark = node.Mark();
		return mark.line >= 0 ? mark.line + 1 : 0;
	}

	/* A mapping key: must be a unique scalar. `prefix` is the enclosing key ("features."). */
	bool KeyOf(const YAML::Node &node, const std::string &prefix, std::set<std::string> *seen, std::string *key)
	{
		if (!node.IsScalar()) {
			Report(node, prefix.empty() ? "" : prefix.substr(0, prefix.size() - 1), "keys must be plain names");
			return false;
		}
		*key = prefix + node.Scalar();
		if (!seen->insert(*key).second) {
			Report(node, *key, "duplicate key");
			return false;
		}
		return true;
	}

	bool ScalarOf(const YAML::Node &key_node, const YAML::Node &value, const std::string &key, std::string *text)
	{
		if (!value || value.IsNull()) {
			Report(key_node, key, "missing value");
			return false;
		}
		if (!value.IsScalar()) {
			Report(value, key, "expected a single value, not a list or mapping");
			return false;
		}
		*text = value.Scalar();
		return true;
	}

	void ReadBool(const YAML::Node &key_node, const YAML::Node &value, const std::string &key, Switch s)
	{
		std::string text;
		if (!ScalarOf(key_node, value, key, &text))
			return;
		if (auto on = ParseBool(text))
			explicit_.Set(s, *on);
		else
			Report(value, key, "invalid value \"" + text + "\" (valid: true, false)");
	}

	void ReadSection(const YAML::Node &key_node, const YAML::Node &section, const std::string &name, SwitchKind kind)
	{
		if (!section || section.IsNull())
			return; // "features:" with nothing under it sets nothing
		if (!section.IsMap()) {
			Report(section.IsScalar() ? section : key_node, name,
				   "expected a mapping of " + std::string(KindName(kind)) + " names to true or false");
			return;
		}
		std::set<std::string> seen;
		for (const auto &entry : section) {
			const YAML::Node key_node = entry.first;
			const YAML::Node value = entry.second;
			std::string key;
			if (!KeyOf(key_node, name + ".", &seen, &key))
				continue;
			const std::string bare = key.substr(name.size() + 1);
			auto s = SwitchFromName(bare);
			if (!s || KindOf(*s) != kind) {
				Report(key_node, key, "unknown " + std::string(KindName(kind)) + " (valid: " + ValidNames(kind) + ")");
				continue;
			}
			ReadBool(key_node, value, key, *s);
		}
	}

	const std::string &filename_;
	SourceConfig *out_;
	Layer explicit_ = Layer::Empty();
};

/* Thrown by EventBudget when a document produces more parse events than its size can explain. */
struct TooManyEvents {
};

/*
 * Counts parse events and gives up past a budget. yaml-cpp 0.7 can loop forever on some malformed input
 * (found by test/fuzz/fuzz_config.cpp), emitting events and allocating until memory runs out; a file we read
 * in the postmaster must never do that. A real document has at most a few events per byte.
 */
class EventBudget : public YAML::EventHandler
{
public:
	explicit EventBudget(std::size_t budget) : left_(budget) {}
	void OnDocumentStart(const YAML::Mark &) override { Spend(); }
	void OnDocumentEnd() override { Spend(); }
	void OnNull(const YAML::Mark &, YAML::anchor_t) override { Spend(); }
	void OnAlias(const YAML::Mark &, YAML::anchor_t) override { Spend(); }
	void OnScalar(const YAML::Mark &, const std::string &, YAML::anchor_t, const std::string &) override { Spend(); }
	void OnSequenceStart(const YAML::Mark &, const std::string &, YAML::anchor_t, YAML::EmitterStyle::value) override
	{
		Spend();
	}
	void OnSequenceEnd() override { Spend(); }
	void OnMapStart(const YAML::Mark &, const std::string &, YAML::anchor_t, YAML::EmitterStyle::value) override
	{
		Spend();
	}
	void OnMapEnd() override { Spend(); }

private:
	void Spend()
	{
		if (left_ == 0)
			throw TooManyEvents();
		left_--;
	}
	std::size_t left_;
};

/* Runs the event parser over text within a budget; false if the budget ran out. Throws yaml-cpp's errors. */
bool
WithinEventBudget(const std::string &text)
{
	std::istringstream in(text);
	YAML::Parser parser(in);
	EventBudget budget(8 * text.size() + 64);
	try {
		while (parser.HandleNextDocument(budget)) {
		}
	} catch (const TooManyEvents &) {
		return false;
	}
	return true;
}

} // namespace

SourceConfig
ParseConfigYaml(std::string_view text, const std::string &filename)
{
	SourceConfig out;
	try {
		YamlReader reader(filename, &out);
		const std::string copy(text);
		if (!WithinEventBudget(copy)) {
			out.diagnostics.push_back(Diagnostic{filename, 0, "",
												 "invalid YAML: the parser does not terminate on this "
												 "input (more events than the text can hold)"});
			out.layer = Layer::Empty();
			return out;
		}
		const std::vector<YAML::Node> docs = YAML::LoadAll(copy);
		if (docs.size() > 1)
			reader.Report(docs[1], "", "only one YAML document is allowed");
		else if (docs.size() == 1)
			reader.ReadRoot(docs[0]);
	} catch (const std::bad_alloc &) {
		throw;
	} catch (const YAML::Exception &e) {
		const int line = e.mark.line >= 0 ? e.mark.line + 1 : 0;
		out.diagnostics.push_back(
			Diagnostic{filename, line, "", "invalid YAML: " + (e.msg.empty() ? e.what() : e.msg)});
	} catch (const std::exception &e) {
		out.diagnostics.push_back(Diagnostic{filename, 0, "", std::string("invalid YAML: ") + e.what()});
	} catch (...) {
		out.diagnostics.push_back(Diagnostic{filename, 0, "", "invalid YAML: unknown parser error"});
	}
	if (!out.ok()) {
		// All or nothing: a file with any problem sets nothing.
		out.mode = BypassMode::None;
		out.layer = Layer::Empty();
	}
	return out;
}

SourceConfig
LoadConfigFile(const std::string &path)
{
	SourceConfig out;
	errno = 0;
	std::ifstream in(path, std::ios::in | std::ios::binary);
	if (!in) {
		out.diagnostics.push_back(Diagnostic{
			path, 0, "", std::string("cannot open file: ") + (errno ? std::strerror(errno) : "unknown error")});
		return out;
	}
	std::string text;
	char buf[4096];
	while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
		text.append(buf, static_cast<std::size_t>(in.gcount()));
		if (text.size() > kMaxConfigFileBytes) {
			out.diagnostics.push_back(
				Diagnostic{path, 0, "", "file is larger than " + std::to_string(kMaxConfigFileBytes) + " bytes"});
			return out;
		}
	}
	if (in.bad()) {
		out.diagnostics.push_back(Diagnostic{path, 0, "", "read error"});
		return out;
	}
	return ParseConfigYaml(text, path);
}

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

std::string
SummaryLine(const Resolution &r)
{
	std::string out;
	for (const auto &info : kSwitches) {
		if (!out.empty())
			out += ' ';
		out += info.name;
		out += r.Value(info.id) ? "=on(" : "=off(";
		out += SourceName(r.SourceOf(info.id));
		out += ')';
	}
	return out;
}

} // namespace indexpilot::core
