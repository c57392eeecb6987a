/*
 * test_config.cpp — switch names, the environment variables and the precedence rule.
 */
#include "printers.hpp"
#include "indexpilot/core/config.hpp"
#include "indexpilot/core/error.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace indexpilot::core;

namespace
{

/* The message, detail and hint of the Error fn throws, joined ("" if it throws nothing). */
template <typename Fn>
std::string
ErrorText(Fn fn)
{
	try {
		fn();
	} catch (const Error &e) {
		BOOST_TEST(std::string(e.sqlstate()) == "22023");
		return std::string(e.what()) + " | " + e.detail() + " | " + e.hint();
	}
	return "";
}

bool
Contains(const std::string &haystack, const std::string &needle)
{
	return haystack.find(needle) != std::string::npos;
}

} // namespace

BOOST_AUTO_TEST_SUITE(core_config)

BOOST_AUTO_TEST_CASE(names_round_trip)
{
	for (int i = 0; i < kSwitchCount; i++) {
		const auto s = static_cast<Switch>(i);
		BOOST_TEST(SwitchFromName(SwitchName(s)).value() == s);
	}
	BOOST_TEST(!SwitchFromName("Advising").has_value());
	BOOST_TEST(!SwitchFromName("").has_value());
	BOOST_TEST(ValidNames(SwitchKind::Feature) == "stats_collection, advising, index_building, index_retirement");
	BOOST_TEST(ValidNames(SwitchKind::Module) == "capture_hooks, background_worker");
	BOOST_TEST(KindOf(Switch::System) == SwitchKind::System);
	BOOST_TEST(KindOf(Switch::IndexRetirement) == SwitchKind::Feature);
	BOOST_TEST(KindOf(Switch::BackgroundWorker) == SwitchKind::Module);
}

BOOST_AUTO_TEST_CASE(parse_switch_name_refuses_bad_names_listing_valid_ones)
{
	BOOST_TEST(ParseSwitchName(SwitchKind::Feature, "advising") == Switch::Advising);
	BOOST_TEST(ParseSwitchName(SwitchKind::Module, "capture_hooks") == Switch::CaptureHooks);

	const std::string unknown = ErrorText([] { ParseSwitchName(SwitchKind::Feature, "teleport"); });
	BOOST_TEST(Contains(unknown, "unknown feature \"teleport\""));
	BOOST_TEST(Contains(unknown, "stats_collection, advising, index_building, index_retirement"));

	const std::string wrong_case = ErrorText([] { ParseSwitchName(SwitchKind::Feature, "Advising"); });
	BOOST_TEST(Contains(wrong_case, "case-sensitive"));
	BOOST_TEST(Contains(wrong_case, "\"advising\""));

	const std::string wrong_kind = ErrorText([] { ParseSwitchName(SwitchKind::Feature, "capture_hooks"); });
	BOOST_TEST(Contains(wrong_kind, "is a module, not a feature"));
	BOOST_TEST(Contains(wrong_kind, "Valid feature names"));

	BOOST_TEST(Contains(ErrorText([] { ParseSwitchName(SwitchKind::Module, "system"); }), "capture_hooks"));
	BOOST_TEST(!ErrorText([] { ParseSwitchName(SwitchKind::Module, ""); }).empty());
	BOOST_TEST(!ErrorText([] { ParseSwitchName(SwitchKind::Module, std::string("capture_hooks\0x", 15)); }).empty());
}

BOOST_AUTO_TEST_CASE(parse_any_switch_name)
{
	BOOST_TEST(ParseAnySwitchName("system") == Switch::System);
	BOOST_TEST(ParseAnySwitchName("background_worker") == Switch::BackgroundWorker);
	const std::string bad = ErrorText([] { ParseAnySwitchName("SYSTEM"); });
	BOOST_TEST(Contains(bad, "unknown switch \"SYSTEM\""));
	BOOST_TEST(Contains(bad, "did you mean \"system\""));
	BOOST_TEST(Contains(bad, "system, stats_collection, advising, index_building, index_retirement, capture_hooks, "
							 "background_worker"));
}

BOOST_AUTO_TEST_CASE(bools_and_modes)
{
	BOOST_TEST(ParseBool(" TRUE ").value() == true);
	BOOST_TEST(ParseBool("off").value() == false);
	BOOST_TEST(ParseBool("0").value() == false);
	BOOST_TEST(!ParseBool("").has_value());
	BOOST_TEST(!ParseBool("truthy").has_value());
	BOOST_TEST(ParseBypassMode("Features").value() == BypassMode::Features);
	BOOST_TEST(!ParseBypassMode("everything").has_value());
	BOOST_TEST(IsStartupBypass("startup"));
	BOOST_TEST(IsStartupBypass(" STARTUP\n"));
	BOOST_TEST(!IsStartupBypass(nullptr));
	BOOST_TEST(!IsStartupBypass("system"));
	BOOST_TEST(!IsStartupBypass(""));
}

BOOST_AUTO_TEST_CASE(environment_mode_features_turns_features_off_keeps_modules)
{
	const SourceConfig env = ParseEnvironment({"PATH=/bin", "INDEXPILOT_BYPASS_MODE=features"});
	BOOST_TEST(env.ok());
	BOOST_TEST(env.mode == BypassMode::Features);
	BOOST_TEST(env.layer.Get(Switch::StatsCollection) == Setting::Off);
	BOOST_TEST(env.layer.Get(Switch::IndexRetirement) == Setting::Off);
	BOOST_TEST(env.layer.Get(Switch::CaptureHooks) == Setting::Unset);
	BOOST_TEST(env.layer.Get(Switch::System) == Setting::Unset);
}

BOOST_AUTO_TEST_CASE(environment_per_switch_variable_wins_over_mode)
{
	const SourceConfig env =
		ParseEnvironment({"INDEXPILOT_BYPASS_ADVISING_ENABLED=true", "INDEXPILOT_BYPASS_MODE=features",
						  "INDEXPILOT_BYPASS_BACKGROUND_WORKER_ENABLED=false"});
	BOOST_TEST(env.ok());
	BOOST_TEST(env.layer.Get(Switch::Advising) == Setting::On);
	BOOST_TEST(env.layer.Get(Switch::IndexBuilding) == Setting::Off);
	BOOST_TEST(env.layer.Get(Switch::BackgroundWorker) == Setting::Off);
}

BOOST_AUTO_TEST_CASE(environment_system_mode)
{
	const SourceConfig env = ParseEnvironment({"INDEXPILOT_BYPASS_MODE=system"});
	BOOST_TEST(env.layer.Get(Switch::System) == Setting::Off);
	BOOST_TEST(env.layer.Get(Switch::Advising) == Setting::Unset);
}

BOOST_AUTO_TEST_CASE(environment_bad_values_are_reported_and_ignored)
{
	const SourceConfig env =
		ParseEnvironment({"INDEXPILOT_BYPASS_MODE=sometimes", "INDEXPILOT_BYPASS_ADVISING_ENABLED=maybe",
						  "INDEXPILOT_BYPASS_TELEPORT_ENABLED=true", "INDEXPILOT_BYPASS_advising_ENABLED=1",
						  "INDEXPILOT_BYPASS_STATS_COLLECTION_ENABLED=no", "INDEXPILOT_BYPASS_"});
	BOOST_TEST(env.diagnostics.size() == 5u);
	BOOST_TEST(env.mode == BypassMode::None);
	BOOST_TEST(env.layer.Get(Switch::Advising) == Setting::Unset);
	BOOST_TEST(env.layer.Get(Switch::StatsCollection) == Setting::Off); // the valid one still applies
	BOOST_TEST(env.diagnostics[0].key == "INDEXPILOT_BYPASS_MODE");
	BOOST_TEST(
		Contains(env.diagnostics[0].ToString(), "environment: INDEXPILOT_BYPASS_MODE: invalid value \"sometimes\""));
	BOOST_TEST(Contains(env.diagnostics[2].message, "INDEXPILOT_BYPASS_CAPTURE_HOOKS_ENABLED"));
}

BOOST_AUTO_TEST_CASE(precedence_strongest_layer_wins_per_switch)
{
	Inputs in;
	in.guc[static_cast<int>(Switch::Advising)] = false;
	in.file.Set(Switch::Advising, true);
	in.file.Set(Switch::IndexBuilding, false);
	in.environment.Set(Switch::IndexBuilding, true);
	in.environment.Set(Switch::CaptureHooks, false);
	in.sql.Set(Switch::CaptureHooks, true);

	Resolution r = Resolve(in);
	BOOST_TEST(r.Value(Switch::Advising));
	BOOST_TEST(r.SourceOf(Switch::Advising) == Source::ConfigFile);
	BOOST_TEST(r.Value(Switch::IndexBuilding));
	BOOST_TEST(r.SourceOf(Switch::IndexBuilding) == Source::Environment);
	BOOST_TEST(r.Value(Switch::CaptureHooks));
	BOOST_TEST(r.SourceOf(Switch::CaptureHooks) == Source::Sql);
	BOOST_TEST(r.Value(Switch::StatsCollection));
	BOOST_TEST(r.SourceOf(Switch::StatsCollection) == Source::Guc);
	BOOST_TEST((r.effective & kCaptureMask) == kCaptureMask);

	// Removing the SQL override lets the environment decide again.
	in.sql = Layer::Empty();
	r = Resolve(in);
	BOOST_TEST(!r.Value(Switch::CaptureHooks));
	BOOST_TEST(r.SourceOf(Switch::CaptureHooks) == Source::Environment);
	BOOST_TEST((r.effective & kCaptureMask) != kCaptureMask);
}

BOOST_AUTO_TEST_CASE(system_off_makes_every_switch_ineffective_but_keeps_values)
{
	Inputs in;
	in.environment.Set(Switch::System, false);
	Resolution r = Resolve(in);
	BOOST_TEST(r.effective == 0u);
	BOOST_TEST(r.Value(Switch::Advising)); // its own value, reported by status
	BOOST_TEST(!r.Effective(Switch::Advising));

	in.sql.Set(Switch::System, true); // SQL beats the environment
	r = Resolve(in);
	BOOST_TEST(r.Effective(Switch::System));
	BOOST_TEST(r.Effective(Switch::Advising));
	BOOST_TEST(r.SourceOf(Switch::System) == Source::Sql);
}

BOOST_AUTO_TEST_CASE(startup_bypass_beats_everything)
{
	Inputs in;
	in.startup_bypass = true;
	in.sql.Set(Switch::System, true);
	const Resolution r = Resolve(in);
	BOOST_TEST(r.effective == 0u);
	for (int i = 0; i < kSwitchCount; i++)
		BOOST_TEST(r.source[i] == Source::Startup);
}

BOOST_AUTO_TEST_CASE(capture_mask_needs_all_three)
{
	for (Switch off : {Switch::System, Switch::CaptureHooks, Switch::StatsCollection}) {
		Inputs in;
		in.guc[static_cast<int>(off)] = false;
		BOOST_TEST((Resolve(in).effective & kCaptureMask) != kCaptureMask);
	}
	Inputs in;
	in.guc[static_cast<int>(Switch::Advising)] = false; // unrelated to capture
	BOOST_TEST((Resolve(in).effective & kCaptureMask) == kCaptureMask);
}

BOOST_AUTO_TEST_CASE(summary_line_names_every_switch_and_source)
{
	Inputs in;
	in.file.Set(Switch::Advising, false);
	const std::string line = SummaryLine(Resolve(in));
	BOOST_TEST(line == "system=on(guc) stats_collection=on(guc) advising=off(config_file) index_building=on(guc) "
					   "index_retirement=on(guc) capture_hooks=on(guc) background_worker=on(guc)");
}

BOOST_AUTO_TEST_SUITE_END()
