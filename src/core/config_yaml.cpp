/*
 * core/config_yaml.cpp — the YAML config file (indexpilot.config_file), read with yaml-cpp (see core/config.hpp).
 *
 * yaml-cpp throws (YAML::ParserException and friends, also for input it cannot represent): every call into
 * it is inside ParseConfigYaml's try block, which turns what it catches into diagnostics. Only
 * std::bad_alloc leaves this file, and the server-side callers run under pg::Entry.
 */
#include "indexpilot/core/config.hpp"
#include "indexpilot/core/config_detail.hpp"

#include "indexpilot/core/error.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <new>
#include <set>
#include <sstream>

namespace indexpilot::core
{

using config_detail::EqualsIgnoreCase;
using config_detail::kSwitches;
using config_detail::SwitchInfo;
using config_detail::Trim;

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

} // namespace indexpilot::core
