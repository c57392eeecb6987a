/*
 * test_config_yaml.cpp — the YAML config file: the valid shape, and malformed files of many shapes, each
 * reported with file, line and key and applied all-or-nothing.
 */
#include "printers.hpp"
#include "indexpilot/core/config.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

using namespace indexpilot::core;

namespace
{

SourceConfig
Parse(const std::string &text)
{
	return ParseConfigYaml(text, "test.yaml");
}

bool
Contains(const std::string &haystack, const std::string &needle)
{
	return haystack.find(needle) != std::string::npos;
}

/* The one diagnostic a malformed file must produce, as text; fails the test if there is not exactly one. */
std::string
OnlyDiagnostic(const SourceConfig &c)
{
	BOOST_TEST_REQUIRE(c.diagnostics.size() == 1u);
	BOOST_TEST(c.layer.IsEmpty()); // nothing applies from a file with a problem
	BOOST_TEST(c.mode == BypassMode::None);
	return c.diagnostics[0].ToString();
}

} // namespace

BOOST_AUTO_TEST_SUITE(core_config_yaml)

BOOST_AUTO_TEST_CASE(full_valid_file)
{
	const SourceConfig c = Parse("# comment\n"
								 "bypass_mode: none\n"
								 "system_enabled: true\n"
								 "features:\n"
								 "  stats_collection: true\n"
								 "  advising: false\n"
								 "  index_building: off\n"
								 "  index_retirement: yes\n"
								 "modules:\n"
								 "  capture_hooks: true\n"
								 "  background_worker: false\n");
	BOOST_TEST(c.ok());
	BOOST_TEST(c.layer.Get(Switch::System) == Setting::On);
	BOOST_TEST(c.layer.Get(Switch::StatsCollection) == Setting::On);
	BOOST_TEST(c.layer.Get(Switch::Advising) == Setting::Off);
	BOOST_TEST(c.layer.Get(Switch::IndexBuilding) == Setting::Off);
	BOOST_TEST(c.layer.Get(Switch::IndexRetirement) == Setting::On);
	BOOST_TEST(c.layer.Get(Switch::CaptureHooks) == Setting::On);
	BOOST_TEST(c.layer.Get(Switch::BackgroundWorker) == Setting::Off);
}

BOOST_AUTO_TEST_CASE(empty_and_comment_only_files_set_nothing)
{
	for (const char *text : {"", "\n\n", "# only a comment\n", "---\n", "~\n", "features:\n", "modules: ~\n"}) {
		const SourceConfig c = Parse(text);
		BOOST_TEST(c.ok(), "text: " << text);
		BOOST_TEST(c.layer.IsEmpty());
	}
}

BOOST_AUTO_TEST_CASE(flow_style_is_fine)
{
	const SourceConfig c = Parse("{features: {advising: false}, modules: {capture_hooks: off}}");
	BOOST_TEST(c.ok());
	BOOST_TEST(c.layer.Get(Switch::Advising) == Setting::Off);
	BOOST_TEST(c.layer.Get(Switch::CaptureHooks) == Setting::Off);
}

BOOST_AUTO_TEST_CASE(mode_features_with_explicit_feature_on)
{
	const SourceConfig c = Parse("bypass_mode: features\nfeatures:\n  advising: true\n");
	BOOST_TEST(c.ok());
	BOOST_TEST(c.mode == BypassMode::Features);
	BOOST_TEST(c.layer.Get(Switch::Advising) == Setting::On);
	BOOST_TEST(c.layer.Get(Switch::StatsCollection) == Setting::Off);
	BOOST_TEST(c.layer.Get(Switch::CaptureHooks) == Setting::Unset);
}

BOOST_AUTO_TEST_CASE(mode_startup_and_system)
{
	BOOST_TEST(Parse("bypass_mode: startup").mode == BypassMode::Startup);
	const SourceConfig c = Parse("bypass_mode: system");
	BOOST_TEST(c.layer.Get(Switch::System) == Setting::Off);
}

BOOST_AUTO_TEST_CASE(unknown_top_level_key_has_line_and_key)
{
	const std::string d = OnlyDiagnostic(Parse("features:\n  advising: true\nteleport: true\n"));
	BOOST_TEST(d == "test.yaml:3: teleport: unknown key (valid: bypass_mode, system_enabled, features, modules)");
}

BOOST_AUTO_TEST_CASE(unknown_feature_has_line_and_dotted_key)
{
	const std::string d = OnlyDiagnostic(Parse("features:\n  stats_collection: true\n  advisng: false\n"));
	BOOST_TEST(Contains(d, "test.yaml:3: features.advisng: unknown feature (valid: stats_collection, advising"));
}

BOOST_AUTO_TEST_CASE(module_name_under_features_is_refused)
{
	BOOST_TEST(Contains(OnlyDiagnostic(Parse("features:\n  capture_hooks: false\n")), "features.capture_hooks"));
	BOOST_TEST(Contains(OnlyDiagnostic(Parse("modules:\n  system: false\n")), "modules.system: unknown module"));
}

BOOST_AUTO_TEST_CASE(wrong_case_is_refused)
{
	BOOST_TEST(Contains(OnlyDiagnostic(Parse("Features:\n  advising: false\n")), "Features: unknown key"));
	BOOST_TEST(Contains(OnlyDiagnostic(Parse("features:\n  Advising: false\n")), "features.Advising"));
}

BOOST_AUTO_TEST_CASE(bad_values)
{
	BOOST_TEST(OnlyDiagnostic(Parse("features:\n  advising: maybe\n")) ==
			   "test.yaml:2: features.advising: invalid value \"maybe\" (valid: true, false)");
	BOOST_TEST(Contains(OnlyDiagnostic(Parse("bypass_mode: everything\n")), "test.yaml:1: bypass_mode: invalid value"));
	BOOST_TEST(Contains(OnlyDiagnostic(Parse("system_enabled:\n")), "system_enabled: missing value"));
	BOOST_TEST(Contains(OnlyDiagnostic(Parse("system_enabled: [true]\n")), "expected a single value"));
	BOOST_TEST(
		Contains(OnlyDiagnostic(Parse("features:\n  advising: {a: 1}\n")), "features.advising: expected a single"));
	BOOST_TEST(Contains(OnlyDiagnostic(Parse("features: off\n")), "test.yaml:1: features: expected a mapping"));
	BOOST_TEST(Contains(OnlyDiagnostic(Parse("modules:\n  - capture_hooks\n")), "modules: expected a mapping"));
}

BOOST_AUTO_TEST_CASE(document_must_be_a_mapping)
{
	for (const char *text : {"just a string\n", "- a\n- b\n", "42\n", "[features]\n"})
		BOOST_TEST(Contains(OnlyDiagnostic(Parse(text)), "must be a mapping"), "text: " << text);
}

BOOST_AUTO_TEST_CASE(duplicate_keys)
{
	BOOST_TEST(Contains(OnlyDiagnostic(Parse("features:\n  advising: true\n  advising: false\n")),
						"test.yaml:3: features.advising: duplicate key"));
	BOOST_TEST(Contains(OnlyDiagnostic(Parse("modules: {}\nmodules: {}\n")), "modules: duplicate key"));
}

BOOST_AUTO_TEST_CASE(non_scalar_keys)
{
	BOOST_TEST(Contains(OnlyDiagnostic(Parse("? [a, b]\n: true\n")), "keys must be plain names"));
	BOOST_TEST(Contains(OnlyDiagnostic(Parse("features:\n  ? {x: 1}\n  : true\n")), "features: keys must be plain"));
}

BOOST_AUTO_TEST_CASE(syntax_errors_report_a_line)
{
	for (const char *text : {"features:\n  advising: true\n bad indent: [\n", "features: {advising: true\n",
							 "a: 'unterminated\n", "features:\n\tadvising: true\n", "key: value: other\n",
							 "- a\nb: c\n", "&anchor a: *undefined\n", "\"\\q\": 1\n"}) {
		const SourceConfig c = Parse(text);
		BOOST_TEST_REQUIRE(!c.ok(), "text: " << text);
		BOOST_TEST(c.layer.IsEmpty());
		BOOST_TEST(Contains(c.diagnostics[0].ToString(), "test.yaml:"));
	}
	BOOST_TEST(Contains(OnlyDiagnostic(Parse("features: {advising: true\n")), "invalid YAML"));
}

BOOST_AUTO_TEST_CASE(several_documents_are_refused)
{
	BOOST_TEST(Contains(OnlyDiagnostic(Parse("features: {}\n---\nmodules: {}\n")), "only one YAML document"));
}

BOOST_AUTO_TEST_CASE(all_problems_are_reported_and_nothing_applies)
{
	const SourceConfig c = Parse("features:\n  advising: false\n  teleport: true\nmodules:\n  capture_hooks: sure\n"
								 "extra: 1\n");
	BOOST_TEST(c.diagnostics.size() == 3u);
	BOOST_TEST(c.layer.IsEmpty()); // advising: false is valid, but a file with problems sets nothing
	BOOST_TEST(c.diagnostics[0].line == 3);
	BOOST_TEST(c.diagnostics[1].line == 5);
	BOOST_TEST(c.diagnostics[2].line == 6);
}

BOOST_AUTO_TEST_CASE(hostile_input_does_not_crash)
{
	const std::string deep_flow = std::string(5000, '[') + std::string(5000, ']');
	BOOST_TEST(!Parse(deep_flow).ok());
	const std::string deep_block = [] {
		std::string s;
		for (int i = 0; i < 300; i++)
			s += std::string(i, ' ') + "k:\n";
		return s;
	}();
	BOOST_TEST(!Parse(deep_block).ok());
	BOOST_TEST(!Parse(std::string("features:\0advising: true\n", 25)).ok());
	BOOST_CHECK_NO_THROW(Parse(std::string("\xff\xfe\x00garbage", 10))); // UTF-16 byte order mark
	BOOST_CHECK_NO_THROW(Parse("\xc3\x28: \xa0\xa1\n"));
	BOOST_TEST(!Parse("a: &a [*a]\n").ok());
	// Aliases to a valid mapping are fine.
	BOOST_TEST(Parse("x_: &f {advising: false}\n").diagnostics.size() == 1u);
}

BOOST_AUTO_TEST_CASE(input_that_makes_yaml_cpp_loop_is_refused)
{
	// Found by the fuzzer: yaml-cpp 0.7 emits events forever on this file (and allocates until memory runs out).
	const SourceConfig c = LoadConfigFile("test/unit/data/yaml_cpp_loop.yaml");
	BOOST_TEST(Contains(OnlyDiagnostic(c), "the parser does not terminate"));
}

BOOST_AUTO_TEST_CASE(files_missing_too_large_and_fine)
{
	const SourceConfig missing = LoadConfigFile("/nonexistent/indexpilot.yaml");
	BOOST_TEST(Contains(OnlyDiagnostic(missing), "/nonexistent/indexpilot.yaml: cannot open file"));

	char path[] = "/tmp/indexpilot-unit-XXXXXX";
	const int fd = mkstemp(path);
	BOOST_TEST_REQUIRE(fd >= 0);
	close(fd);
	{
		std::ofstream out(path);
		out << "features:\n  index_building: false\n";
	}
	const SourceConfig ok = LoadConfigFile(path);
	BOOST_TEST(ok.ok());
	BOOST_TEST(ok.layer.Get(Switch::IndexBuilding) == Setting::Off);
	{
		std::ofstream out(path);
		out << "# " << std::string(kMaxConfigFileBytes, 'x') << "\n";
	}
	BOOST_TEST(Contains(OnlyDiagnostic(LoadConfigFile(path)), "larger than"));
	std::remove(path);
}

BOOST_AUTO_TEST_CASE(example_file_at_the_top_level_is_valid)
{
	const SourceConfig c = LoadConfigFile("indexpilot_config.yaml");
	BOOST_TEST(c.ok(), (c.ok() ? "" : c.diagnostics[0].ToString()));
}

BOOST_AUTO_TEST_SUITE_END()
