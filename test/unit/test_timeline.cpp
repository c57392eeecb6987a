/*
 * test_timeline.cpp — the simulator's timeline (test/sim/timeline.cpp): latency windows, each index's
 * life from the lineage's events, the shift scenario's criteria (met and not met) and the plot, on hand-made
 * runs.
 */
#include "sim_logic.hpp"
#include "timeline.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

using nlohmann::json;

namespace
{

json
Event(double t, long id, const char *kind, const char *index, json details, json parent = 1)
{
	return {{"t_s", t},       {"id", id},           {"kind", kind},       {"table", "crm.contacts"},
			{"index", index}, {"details", details}, {"parent_id", parent}};
}

/* A shift run: phone's index built before the shift and retired after it, title's built after it. */
json
ShiftRun(bool retire_phone, double title_last_ms)
{
	json events = json::array({
		Event(20, 10, "index_proposed", "ip_phone", {{"columns", {"tenant_id", "phone"}}, {"calls_in_window", 500}},
			  nullptr),
		Event(21, 11, "index_build_started", "ip_phone", {{"x", 1}}),
		Event(25, 12, "index_build_finished", "ip_phone", {{"seconds", 3.5}, {"bytes", 40 << 20}}),
		Event(110, 13, "index_validated", "ip_phone",
			  {{"used", true},
			   {"calls_after", 900},
			   {"ms_per_call_before", 1.2},
			   {"ms_per_call_after", 0.1},
			   {"speedup", 12.0},
			   {"idx_scan", 950}}),
		Event(190, 20, "index_proposed", "ip_title", {{"columns", {"tenant_id", "title"}}, {"include", {"id"}}},
			  nullptr),
		Event(195, 22, "index_build_finished", "ip_title", {{"seconds", 3.0}, {"bytes", 30 << 20}}),
	});
	if (retire_phone)
		events.push_back(
			Event(250, 30, "index_retired", "ip_phone",
				  {{"reason", "unused"}, {"retire_after_s", 60}, {"stats_window_s", 60}, {"idx_scan", 999}}));
	json series = {{"contacts_by_title",
					{{{"t_s", 180}, {"n", 60}, {"avg_ms", 1.4}, {"p95_ms", 2.0}},
					 {{"t_s", 350}, {"n", 70}, {"avg_ms", title_last_ms}, {"p95_ms", 0.3}}}},
				   {"contacts_by_phone", {{{"t_s", 0}, {"n", 60}, {"avg_ms", 1.2}, {"p95_ms", 2.0}}}}};
	return {{"meta", {{"tenants", 100}, {"contacts", 1000}, {"form", "tenant"}, {"seed", 42}}},
			{"measured_seconds", 360},
			{"timeline",
			 {{"window_s", 10},
			  {"shift",
			   {{"at_s", 180},
				{"stopped", "contacts_by_phone"},
				{"started", "contacts_by_title"},
				{"stopped_field", "phone"},
				{"started_field", "title"},
				{"table", "crm.contacts"}}},
			  {"series", series},
			  {"events", events},
			  {"worker_settings", {{"indexpilot.flush_interval", "5s"}}}}}};
}

} // namespace

BOOST_AUTO_TEST_SUITE(sim_timeline)

BOOST_AUTO_TEST_CASE(latency_windows)
{
	std::vector<sim::TimedSample> s;
	for (int i = 0; i < 20; i++)
		s.push_back({float(i) * 0.5f, uint8_t(sim::kContactsByEmail), float(i < 10 ? 2.0 : 1.0)}); // 0..9.5 s
	s.push_back({25.0f, uint8_t(sim::kContactsByTitle), 7.0f});
	s.push_back({-1.0f, uint8_t(sim::kContactsByTitle), 9.0f}); // before the run: left out
	json t = sim::TimelineSeries(s, 5, 30);
	BOOST_REQUIRE(t.contains("contacts_by_email"));
	BOOST_TEST(t["contacts_by_email"].size() == 2u);
	BOOST_TEST(t["contacts_by_email"][0]["n"].get<int>() == 10);
	BOOST_TEST(t["contacts_by_email"][0]["avg_ms"].get<double>() == 2.0);
	BOOST_TEST(t["contacts_by_email"][1]["t_s"].get<double>() == 5.0);
	BOOST_TEST(t["contacts_by_email"][1]["avg_ms"].get<double>() == 1.0);
	BOOST_TEST(t["contacts_by_title"].size() == 1u); // empty windows are left out
	BOOST_TEST(t["contacts_by_title"][0]["t_s"].get<double>() == 25.0);
	BOOST_TEST(!t.contains("orgs_by_industry"));
	// a sample at the very end falls into the last window
	s.push_back({30.0f, uint8_t(sim::kOrgsByIndustry), 1.0f});
	BOOST_TEST(sim::TimelineSeries(s, 5, 30)["orgs_by_industry"][0]["t_s"].get<double>() == 25.0);
	BOOST_TEST(sim::TimelineSeries(s, 0, 30).empty());
}

BOOST_AUTO_TEST_CASE(index_lives_and_evidence)
{
	json run = ShiftRun(true, 0.2);
	json lives = sim::IndexLifetimes(run["timeline"]["events"]);
	BOOST_REQUIRE(lives.size() == 2u);
	BOOST_TEST(lives[0]["index"].get<std::string>() == "ip_phone");
	BOOST_TEST(lives[0]["columns"].get<std::string>() == "(tenant_id, phone)");
	BOOST_TEST(lives[0]["built_s"].get<double>() == 25.0);
	BOOST_TEST(lives[0]["validated_s"].get<double>() == 110.0);
	BOOST_TEST(lives[0]["retired_s"].get<double>() == 250.0);
	BOOST_TEST(lives[0]["reason"].get<std::string>() == "unused");
	BOOST_TEST(lives[1]["columns"].get<std::string>() == "(tenant_id, title) INCLUDE (id)");
	BOOST_TEST(lives[1]["validated_s"].is_null());
	// evidence is readable text, not JSON
	std::string v = sim::EvidenceText(run["timeline"]["events"][3]);
	BOOST_TEST(v.find("12.0x faster") != std::string::npos);
	BOOST_TEST(v.find('{') == std::string::npos);
	BOOST_TEST(sim::EvidenceText(run["timeline"]["events"][6]).find("unused") != std::string::npos);
	json superseded =
		Event(37, 50, "index_reverted", "ip_x",
			  {{"reason", "superseded"}, {"superseded_by", "ip_y"}, {"cost_with", 10.0}, {"cost_without", 10.2}});
	json measured =
		Event(37, 51, "index_validated", "ip_x", {{"measured_until", "t"}, {"speedup", 3.0}, {"calls_after", 9}});
	BOOST_TEST(sim::EvidenceText(measured).find("3.0x faster") != std::string::npos); // a measured validation
	json planner = Event(37, 52, "index_validated", "ip_x", {{"judged_by", "planner"}, {"superseded_by", "ip_y"}});
	BOOST_TEST(sim::EvidenceText(planner).find("on the planner's word") != std::string::npos);
	BOOST_TEST(sim::EvidenceText(superseded).find("ip_y was built for the same statements") != std::string::npos);
	BOOST_TEST(sim::EvidenceText(superseded).find("10.00 with it, 10.20 without") != std::string::npos);
	BOOST_TEST(std::string(sim::EventLabel("index_retired")) == "retired");
	BOOST_TEST(std::string(sim::EventLabel("index_proposed")).empty());
}

BOOST_AUTO_TEST_CASE(worker_settings_text)
{
	json ws = {{"indexpilot.flush_interval", "5s"}, {"indexpilot.naptime", "1s"}};
	BOOST_TEST(sim::WorkerSettingsText(ws) == "`indexpilot.flush_interval = 5s`, `indexpilot.naptime = 1s`");
	BOOST_TEST(sim::WorkerSettingsText(json::object()) == "the server's own");
	BOOST_TEST(sim::WorkerSettingsText(json()) == "the server's own"); // missing from the JSON
}

BOOST_AUTO_TEST_CASE(shift_criteria_met_and_not_met)
{
	auto met = sim::ShiftCriteria(ShiftRun(true, 0.2));
	BOOST_REQUIRE(met.size() == 4u);
	for (const auto &c : met)
		BOOST_TEST(c.met, c.name << ": " << c.detail);
	BOOST_TEST(met[0].detail.find("built 15 s after the shift") != std::string::npos);
	BOOST_TEST(met[1].detail.find("retired 70 s after the shift (unused)") != std::string::npos);

	// the abandoned pattern's index still there; the new pattern not faster
	auto not_met = sim::ShiftCriteria(ShiftRun(false, 1.0));
	BOOST_TEST(not_met[0].met);
	BOOST_TEST(!not_met[1].met);
	BOOST_TEST(not_met[1].detail.find("still there") != std::string::npos);
	BOOST_TEST(!not_met[2].met);

	// a new index reverted later does not count; an event without a parent is not traced
	json r = ShiftRun(true, 0.2);
	r["timeline"]["events"].push_back(Event(300, 40, "index_reverted", "ip_title", {{"reason", "not_faster"}}));
	r["timeline"]["events"].push_back(Event(301, 41, "index_retired", "ip_other", {{"reason", "unused"}}, nullptr));
	auto reverted = sim::ShiftCriteria(r);
	BOOST_TEST(!reverted[0].met);
	BOOST_TEST(reverted[0].detail.find("then dropped (not_faster)") != std::string::npos);
	BOOST_TEST(!reverted[3].met);

	// built seconds after the shift: no 10 s window before it, the per-second series has them
	json quick = ShiftRun(true, 0.2);
	for (auto &e : quick["timeline"]["events"])
		if (e["index"] == "ip_title" && e["kind"] == "index_build_finished")
			e["t_s"] = 184.0;
	quick["timeline"]["series"]["contacts_by_title"][0]["t_s"] = 190.0; // no 10 s window ends before 184
	BOOST_TEST(!sim::ShiftCriteria(quick)[2].met);
	BOOST_TEST(sim::ShiftCriteria(quick)[2].detail.find("too few statements") != std::string::npos);
	quick["timeline"]["started_per_second"] = json::array();
	for (int t = 180; t < 186; t++)
		quick["timeline"]["started_per_second"].push_back({{"t_s", t}, {"n", 70}, {"avg_ms", t < 184 ? 20.0 : 0.3}});
	auto fast = sim::ShiftCriteria(quick);
	BOOST_TEST(fast[2].met, fast[2].detail);
	BOOST_TEST(fast[2].detail.find("over 280 statements before the build") != std::string::npos);

	// a run without a shift
	auto none = sim::ShiftCriteria(json{{"timeline", json::object()}});
	BOOST_TEST(!none[0].met);
	BOOST_TEST(!none[1].met);
}

BOOST_AUTO_TEST_CASE(plot_and_documents)
{
	json run = ShiftRun(true, 0.2);
	std::string svg = sim::TimelineSvg(run);
	BOOST_TEST(svg.rfind("<svg", 0) == 0);
	BOOST_TEST(svg.find("contacts_by_title") != std::string::npos);
	BOOST_TEST(svg.find("250 s retired: ip_phone") != std::string::npos); // every mark has a legend line
	BOOST_TEST(svg.find(">shift<") != std::string::npos);
	BOOST_TEST(sim::TimelineSvg(json::object()).find("no data") != std::string::npos);
	auto criteria = sim::ShiftCriteria(run);
	std::string md = sim::TimelineMarkdown(run, criteria);
	BOOST_TEST(md.find("| ip_phone | crm.contacts | `(tenant_id, phone)` |") != std::string::npos);
	BOOST_TEST(md.find("indexpilot.flush_interval = 5s") != std::string::npos);
	BOOST_TEST(md.find("![timeline](timeline.svg)") != std::string::npos);
	std::string html = sim::TimelineHtml(run, criteria);
	BOOST_TEST(html.find("<svg") != std::string::npos);
	BOOST_TEST(html.find("![") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
