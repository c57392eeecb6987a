/*
 * test_sim.cpp — the CRM simulator's pure logic: random numbers, Zipf sampling, the query mix, the seeded
 * data's formulas (both forms of the CRM), percentiles, the run JSON, the report's tables, criteria and
 * plots, and make bench-advisor's comparison (ratios, median, index sets, verdicts).
 */
#include "bench.hpp"
#include "report.hpp"
#include "sim_logic.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <string>

using nlohmann::json;
using namespace sim;

/* A run document as crmsim writes it, with the given p95 for every hot pattern. */
static json
FakeRun(double hot_p95, const json &indexes, const json &mutations = json::array())
{
	std::array<LatencySummary, kPatternCount> s{};
	for (int p = 0; p < kPatternCount; p++) {
		double v = kPatterns[p].cls == PatternClass::Hot ? hot_p95 : 2.0;
		s[p] = Summarize({v / 2, v / 2, v, v}, 0);
	}
	json j = RunJson({{"scenario", "steady"}, {"clients", 4}, {"tenants", 10}}, s, 10.0);
	j["indexes"] = indexes;
	j["mutations"] = mutations;
	j["recommendations"] = {{"available", false}, {"reason", "not in this version"}};
	return j;
}

BOOST_AUTO_TEST_SUITE(sim_logic)

BOOST_AUTO_TEST_CASE(rng_is_deterministic_and_uniform)
{
	Rng a(7), b(7), c(8);
	for (int i = 0; i < 100; i++) {
		uint64_t x = a.Next();
		BOOST_TEST(x == b.Next());
		(void)c;
	}
	BOOST_TEST(Rng(7).Next() != Rng(8).Next());
	Rng r(1);
	std::array<int, 10> buckets{};
	for (int i = 0; i < 100000; i++) {
		double u = r.Uniform();
		BOOST_REQUIRE(u >= 0.0);
		BOOST_REQUIRE(u < 1.0);
		buckets[size_t(u * 10)]++;
	}
	for (int n : buckets)
		BOOST_TEST(std::abs(n - 10000) < 500);
	BOOST_TEST(r.Below(1) == 0u);
}

BOOST_AUTO_TEST_CASE(zipf_probabilities_and_sampling)
{
	Zipf z(100, 1.0);
	double sum = 0;
	for (uint64_t k = 1; k <= 100; k++)
		sum += z.Probability(k);
	BOOST_TEST(sum == 1.0, boost::test_tools::tolerance(1e-9));
	// P(1) / P(2) = 2^s
	BOOST_TEST(z.Probability(1) / z.Probability(2) == 2.0, boost::test_tools::tolerance(1e-9));
	BOOST_TEST(z.Probability(0) == 0.0);
	BOOST_TEST(z.Probability(101) == 0.0);
	BOOST_TEST(z.Sample(0.0) == 1u);
	BOOST_TEST(z.Sample(0.999999999) == 100u);
	// empirical frequency of rank 1 matches its probability
	Rng r(3);
	int ones = 0, n = 200000;
	for (int i = 0; i < n; i++) {
		uint64_t k = z.Sample(r.Uniform());
		BOOST_REQUIRE(k >= 1u);
		BOOST_REQUIRE(k <= 100u);
		ones += k == 1;
	}
	BOOST_TEST(double(ones) / n == z.Probability(1), boost::test_tools::tolerance(0.03));
	// a larger exponent concentrates more on the head
	BOOST_TEST(Zipf(100, 2.0).Probability(1) > z.Probability(1));
	BOOST_CHECK_THROW(Zipf(0, 1.0), std::invalid_argument);
	BOOST_CHECK_THROW(Zipf(10, 0.0), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(mix_follows_weights)
{
	Mix mix(true);
	double total = 0;
	for (int p = 0; p < kPatternCount; p++) {
		BOOST_TEST(mix.Share(PatternId(p)) > 0.0);
		total += mix.Share(PatternId(p));
	}
	BOOST_TEST(total == 1.0, boost::test_tools::tolerance(1e-9));
	Rng r(5);
	std::map<int, int> seen;
	const int n = 200000;
	for (int i = 0; i < n; i++)
		seen[mix.Pick(r.Uniform())]++;
	for (int p = 0; p < kPatternCount; p++)
		BOOST_TEST(double(seen[p]) / n == mix.Share(PatternId(p)), boost::test_tools::tolerance(0.1));
	// hot patterns dominate, rare ones are rare
	BOOST_TEST(mix.Share(kContactsByEmail) > 20 * mix.Share(kContactsByTitle));
	BOOST_TEST(mix.Pick(0.0) == kContactsByEmail);
	BOOST_TEST(mix.Pick(0.9999999999) == kUpdateContact);
}

BOOST_AUTO_TEST_CASE(mix_without_custom_tenants_never_picks_custom)
{
	Mix mix(false);
	BOOST_TEST(mix.Share(kContactsByCustom1) == 0.0);
	Rng r(9);
	for (int i = 0; i < 50000; i++)
		BOOST_REQUIRE(mix.Pick(r.Uniform()) != kContactsByCustom1);
	std::array<double, kPatternCount> zero{};
	BOOST_CHECK_THROW(Mix(true, zero), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(patterns_classes_and_params)
{
	int hot = 0, rare = 0;
	for (const auto &p : kPatterns) {
		hot += p.cls == PatternClass::Hot;
		rare += p.cls == PatternClass::Rare;
		if (p.cls != PatternClass::Write || std::string(p.name) == "update_contact")
			BOOST_TEST(std::string(p.sql).find("tenant_id = $1") != std::string::npos);
	}
	BOOST_TEST(hot == 4);
	BOOST_TEST(rare == 2);
	Scale s;
	s.tenants = 10;
	s.contacts_per_tenant = 20;
	Rng r(1);
	for (int p = 0; p < kPatternCount; p++) {
		auto params = PatternParams(PatternId(p), s, 3, r);
		// $1 is the tenant, so the statement has params.size() + 1 placeholders
		std::string sql = kPatterns[p].sql;
		BOOST_TEST(sql.find("$" + std::to_string(params.size() + 1)) != std::string::npos);
		BOOST_TEST(sql.find("$" + std::to_string(params.size() + 2)) == std::string::npos);
	}
	// an email the workload asks for is one the seeding wrote for that tenant
	Rng r2(2);
	auto email = PatternParams(kContactsByEmail, s, 4, r2)[0];
	BOOST_TEST(email.find("@t4.example") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_two_forms)
{
	BOOST_TEST((ParseForm("tenant") == Form::Tenant));
	BOOST_TEST((ParseForm("surrogate") == Form::Surrogate));
	BOOST_CHECK_THROW(ParseForm("Surrogate"), std::invalid_argument);
	BOOST_TEST(std::string(FormName(Form::Surrogate)) == "surrogate");
	for (int p = 0; p < kPatternCount; p++) {
		std::string t = PatternSql(PatternId(p), Form::Tenant), u = PatternSql(PatternId(p), Form::Surrogate);
		BOOST_TEST(t == kPatterns[p].sql);
		// the same placeholders and filters; no key column of the tenant form in the surrogate statement
		for (int n = 1; n <= 7; n++) {
			std::string ph = "$" + std::to_string(n);
			BOOST_TEST((t.find(ph) != std::string::npos) == (u.find(ph) != std::string::npos));
		}
		if (p != kInsertInteraction)
			BOOST_TEST(u.find("tenant_id = $1") != std::string::npos);
		for (const char *key : {"org_id", "interaction_id"})
			BOOST_TEST(u.find(key) == std::string::npos);
		if (p != kInsertInteraction && p != kInteractionsByTypeDate)
			BOOST_TEST(u.find("contact_id") == std::string::npos);
	}
	// tenant form: an address names its tenant; surrogate: the k-th contact of every tenant shares one
	BOOST_TEST(ContactEmail(3, 7) != ContactEmail(4, 7));
	BOOST_TEST(ContactEmail(3, 7, Form::Surrogate) == ContactEmail(4, 7, Form::Surrogate));
	BOOST_TEST(ContactEmail(3, 7, Form::Surrogate) != ContactEmail(3, 8, Form::Surrogate));
	Scale s;
	s.tenants = 5;
	s.contacts_per_tenant = 4;
	s.form = Form::Surrogate;
	std::string rows;
	for (uint64_t g = 0; g < s.Contacts(); g++)
		AppendContactRow(rows, s, 42, g);
	BOOST_TEST(rows.find("c0@shared.example") != std::string::npos);
	BOOST_TEST(rows.find("@t1.example") == std::string::npos);
	Rng r(3);
	BOOST_TEST(PatternParams(kContactsByEmail, s, 2, r)[0].find("@shared.example") != std::string::npos);
	// the column lists name the same columns in the same order, only the keys differ
	auto count = [](const char *cols) { return std::count(cols, cols + strlen(cols), ','); };
	CopyColumns a = FormColumns(Form::Tenant), b = FormColumns(Form::Surrogate);
	BOOST_TEST(count(a.tenants) == count(b.tenants));
	BOOST_TEST(count(a.orgs) == count(b.orgs));
	BOOST_TEST(count(a.contacts) == count(b.contacts));
	BOOST_TEST(count(a.interactions) == count(b.interactions));
	BOOST_TEST(std::string(b.contacts).find("tenant_id, id, org_id") == 0u);
	BOOST_TEST(std::string(a.contacts) == kContactColumns);
}

BOOST_AUTO_TEST_CASE(seeded_rows_are_deterministic_and_consistent)
{
	Scale s;
	s.tenants = 7;
	s.contacts_per_tenant = 5;
	s.orgs_per_tenant = 2;
	std::string a, b, c;
	for (uint64_t g = 0; g < s.Contacts(); g++) {
		AppendContactRow(a, s, 42, g);
		AppendContactRow(b, s, 42, g);
		AppendContactRow(c, s, 43, g);
	}
	BOOST_TEST(a == b);
	BOOST_TEST(a != c);
	// 15 columns per line; tenant = g % tenants + 1, id = g + 1, org of the same tenant
	std::string line = a.substr(0, a.find('\n'));
	std::vector<std::string> f;
	size_t pos = 0, tab;
	while ((tab = line.find('\t', pos)) != std::string::npos) {
		f.push_back(line.substr(pos, tab - pos));
		pos = tab + 1;
	}
	f.push_back(line.substr(pos));
	BOOST_TEST(f.size() == 15u);
	BOOST_TEST(f[0] == "1");
	BOOST_TEST(f[1] == "1");
	BOOST_TEST((std::stoull(f[2]) - 1) % s.tenants == 0u); // the org belongs to tenant 1
	BOOST_TEST(f[5] == ContactEmail(1, 0));
	BOOST_TEST(f[6] == ContactPhone(1, 0));
	// phones are unique within a tenant
	std::set<std::string> phones;
	for (uint64_t k = 0; k < 1000; k++)
		phones.insert(ContactPhone(3, k));
	BOOST_TEST(phones.size() == 1000u);
	BOOST_TEST(FormatTimestamp(kHistoryEnd) == "2026-01-01 00:00:00+00");
	int users = 0;
	for (uint32_t t = 1; t <= 1000; t++)
		users += TenantUsesCustom(t, 5);
	BOOST_TEST(users > 20);
	BOOST_TEST(users < 90);
}

BOOST_AUTO_TEST_CASE(percentiles_nearest_rank)
{
	std::vector<double> v;
	for (int i = 1; i <= 100; i++)
		v.push_back(i);
	BOOST_TEST(Percentile(v, 50) == 50.0);
	BOOST_TEST(Percentile(v, 95) == 95.0);
	BOOST_TEST(Percentile(v, 99) == 99.0);
	BOOST_TEST(Percentile(v, 100) == 100.0);
	BOOST_TEST(Percentile({}, 50) == 0.0);
	BOOST_TEST(Percentile({7.0}, 99) == 7.0);
	BOOST_TEST(Percentile({1.0, 2.0}, 50) == 1.0);
	LatencySummary s = Summarize({5, 1, 3, 2, 4}, 2);
	BOOST_TEST(s.count == 5u);
	BOOST_TEST(s.errors == 2u);
	BOOST_TEST(s.avg_ms == 3.0);
	BOOST_TEST(s.p50_ms == 3.0);
	BOOST_TEST(s.max_ms == 5.0);
	uint64_t in_hist = 0;
	for (auto n : s.histogram)
		in_hist += n;
	BOOST_TEST(in_hist == 5u);
	BOOST_TEST(HistogramBucket(0.001) == 0u);
	BOOST_TEST(HistogramEdges()[HistogramBucket(1.0)] <= 1.0);
	BOOST_TEST(HistogramEdges()[HistogramBucket(1.0) + 1] > 1.0);
	BOOST_TEST(HistogramBucket(1e9) == HistogramEdges().size() - 1);
}

BOOST_AUTO_TEST_CASE(run_json_shape)
{
	json j = FakeRun(4.0, json::array());
	BOOST_TEST(j["patterns"].size() == size_t(kPatternCount));
	BOOST_TEST(j["total_statements"].get<uint64_t>() == 4u * kPatternCount);
	BOOST_TEST(j["throughput_per_s"].get<double>() == 3.6);
	const json &p = j["patterns"][0];
	for (const char *k : {"name", "class", "count", "errors", "avg_ms", "p50_ms", "p95_ms", "p99_ms", "histogram"})
		BOOST_TEST(p.contains(k));
	BOOST_TEST(p["name"] == "contacts_by_email");
	BOOST_TEST(p["class"] == "hot");
	// round trip through text
	BOOST_TEST(json::parse(j.dump()) == j);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(sim_report)

static const json kPk = {{"table", "crm.contacts"},
						 {"name", "contacts_pkey"},
						 {"definition", "CREATE UNIQUE INDEX contacts_pkey ON crm.contacts USING btree (tenant_id, "
										"contact_id)"},
						 {"primary", true}};

BOOST_AUTO_TEST_CASE(index_columns)
{
	using V = std::vector<std::string>;
	BOOST_TEST(IndexColumns("CREATE INDEX i ON crm.contacts USING btree (tenant_id, email)") ==
			   (V{"tenant_id", "email"}));
	BOOST_TEST(IndexColumns("CREATE INDEX i ON crm.contacts USING btree (tenant_id, \"Title\" DESC) INCLUDE (phone) "
							"WHERE (title IS NOT NULL)") == (V{"tenant_id", "Title", "phone"}));
	BOOST_TEST(IndexColumns("CREATE INDEX i ON crm.contacts USING btree (lower(email))") == (V{"lower(email)"}));
}

BOOST_AUTO_TEST_CASE(table_and_ratio)
{
	json before = FakeRun(50.0, json::array({kPk})), after = FakeRun(2.0, json::array({kPk}));
	std::string md = PatternTableMarkdown(before, after);
	BOOST_TEST(md.find("| contacts_by_email | hot |") != std::string::npos);
	BOOST_TEST(md.find("25.0x") != std::string::npos);
	BOOST_TEST(md.find("| contacts_by_title | rare |") != std::string::npos);
	BOOST_TEST(P95Ratio(before["patterns"][0], after["patterns"][0]) == 25.0);
	BOOST_TEST(P95Ratio(before["patterns"][0], json::object()) == 0.0);
}

/* Planner costs as crmsim run records them: every hot pattern at `hot_cost`, its plan using `index`. */
static json
FakeCosts(double hot_cost, const std::string &index)
{
	json list = json::array();
	for (const auto &p : kPatterns)
		if (p.cls != PatternClass::Write)
			list.push_back({{"pattern", p.name},
							{"class", ClassName(p.cls)},
							{"cost", p.cls == PatternClass::Hot ? hot_cost : 50.0},
							{"indexes", index.empty() ? json::array() : json::array({index})}});
	return list;
}

static json
SizedIndex(const std::string &name, const std::string &keys, int64_t bytes)
{
	return {{"table", "crm.contacts"},
			{"name", name},
			{"definition", "CREATE INDEX " + name + " ON crm.contacts USING btree (" + keys + ")"},
			{"primary", false},
			{"valid", true},
			{"size_bytes", bytes}};
}

BOOST_AUTO_TEST_CASE(criteria)
{
	json email_idx = SizedIndex("ip_contacts_email", "tenant_id, email", 1000);
	json title_idx = SizedIndex("ip_contacts_title", "tenant_id, title", 1000);
	json evidence = {{"id", 9},
					 {"kind", "index_build_finished"},
					 {"target_table", "crm.contacts"},
					 {"target_index", "crm.ip_contacts_email"},
					 {"details", {{"seconds", 1.5}, {"bytes", 1048576}}}};
	json before = FakeRun(50.0, json::array({kPk}));
	json after = FakeRun(2.0, json::array({kPk, email_idx}), json::array({evidence}));
	after["plan_costs"] = FakeCosts(8.4, "ip_contacts_email");
	after["timeline"] = {{"events", json::array({{{"t_s", 41.6},
												  {"kind", "index_build_finished"},
												  {"index", "crm.ip_contacts_email"},
												  {"details", evidence["details"]}}})}};
	json expert = FakeRun(1.8, json::array({kPk, SizedIndex("expert_contacts_email", "tenant_id, email", 900)}));
	expert["plan_costs"] = FakeCosts(8.0, "expert_contacts_email");
	json throughput = {{"pair_throughput_ratios", json::array({0.97, 1.02, 0.95})}};

	// everything met: faster than the baseline, no rare index, the built index has evidence; against the
	// expert: cost 1.05x, p95 1.11x, worst pair 0.95, bytes 1.11x; every hot pattern's plan uses an index
	// built 42 s after the first statement
	auto c = EvaluateCriteria(before, after, expert, throughput);
	BOOST_REQUIRE(c.size() == 8u);
	for (const auto &k : c)
		BOOST_TEST(k.met, k.name << ": " << k.detail);
	BOOST_TEST(c[0].name.find("latencies of heavily used filters decrease") == 0u);
	BOOST_TEST(c[1].name.find("no index for rarely used fields") == 0u);
	BOOST_TEST(c[2].name.find("the mutation log gives the lineage") == 0u);
	BOOST_TEST(c[5].detail.find("0.950") != std::string::npos);
	BOOST_TEST(c[7].name.find("valid 42 s after the first statement") != std::string::npos);
	BOOST_TEST(c[2].detail.find("built in 1.5 s, 1.0 MB") != std::string::npos); // readable, not JSON
	BOOST_TEST(c[2].detail.find("{") == std::string::npos);
	BOOST_TEST(CriteriaText(c).find("ALL MET") != std::string::npos);

	// not met: no faster than the baseline, an index on title (no evidence), costs 1.2x the expert's, p95
	// 1.5x, a pair at 0.85, bytes 2.2x, a hot pattern's plan uses no index IndexPilot built
	json worse = FakeRun(2.7, json::array({kPk, email_idx, title_idx}), json::array({evidence}));
	worse["plan_costs"] = FakeCosts(9.6, "");
	worse["timeline"] = after["timeline"];
	json slow = {{"pair_throughput_ratios", json::array({1.0, 0.85})}};
	c = EvaluateCriteria(FakeRun(2.0, json::array({kPk})), worse, expert, slow);
	BOOST_REQUIRE(c.size() == 8u);
	for (const auto &k : c)
		BOOST_TEST(!k.met, k.name << ": " << k.detail);
	BOOST_TEST(c[1].detail.find("ip_contacts_title") != std::string::npos);
	BOOST_TEST(c[3].detail.find("1.200") != std::string::npos);
	BOOST_TEST(c[4].detail.find("1.500") != std::string::npos);
	BOOST_TEST(c[5].detail.find("worst pair 0.850") != std::string::npos);
	BOOST_TEST(c[6].detail.find("2.222") != std::string::npos);
	BOOST_TEST(c[7].detail.find("no index IndexPilot built in its plan") != std::string::npos);
	BOOST_TEST(CriteriaText(c).find("success criteria: NOT MET") != std::string::npos);

	// the expert missing: the seed's three are judged, the four against the expert are not met and say why
	c = EvaluateCriteria(before, after);
	BOOST_REQUIRE(c.size() == 8u);
	BOOST_TEST(c[0].met);
	BOOST_TEST(c[1].met);
	BOOST_TEST(c[2].met);
	for (size_t i = 3; i < 7; i++) {
		BOOST_TEST(!c[i].met);
		BOOST_TEST(c[i].detail.find("no expert run") != std::string::npos);
	}
	BOOST_TEST(c[7].met);
	BOOST_TEST(CriteriaText(c).find("success criteria: NOT MET") != std::string::npos);

	// an expert but no closed-loop phase: that criterion alone says so
	c = EvaluateCriteria(before, after, expert);
	BOOST_TEST(c[3].met);
	BOOST_TEST(!c[5].met);
	BOOST_TEST(c[5].detail.find("no closed-loop phase") != std::string::npos);

	// nothing built: traceability holds vacuously, the speed-up does not, nor the convergence
	c = EvaluateCriteria(before, FakeRun(50.0, json::array({kPk})), expert, throughput);
	BOOST_TEST(!c[0].met);
	BOOST_TEST(c[2].met);
	BOOST_TEST(c[2].detail.find("built no index") != std::string::npos);
	BOOST_TEST(!c[7].met);

	// evidence may come from the index's lineage instead of the run's rows, the proposal's with it
	json lineaged = FakeRun(2.0, json::array({kPk, email_idx}));
	json proposed = {{"id", 7},
					 {"kind", "index_proposed"},
					 {"target_index", "crm.ip_contacts_email"},
					 {"details", {{"calls_in_window", 1200}, {"cost_without", 95.5}, {"cost_with", 8.4}}}};
	lineaged["lineage"] = {{"ip_contacts_email", json::array({proposed, evidence})}};
	auto built = BuiltIndexes(before, lineaged);
	BOOST_REQUIRE(built.size() == 1u);
	BOOST_TEST(built[0].traceable);
	BOOST_TEST(built[0].evidence.find("1200 calls in the window, planner cost 95.50 -> 8.40") != std::string::npos);
	BOOST_TEST(built[0].evidence.find("index_build_finished #9: built in 1.5 s") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(readable_details)
{
	BOOST_TEST(ReadableDetails({{"kind", "switch_changed"}, {"details", {{"switch", "system"}, {"value", false}}}}) ==
			   "switch: system; value: false");
	BOOST_TEST(
		ReadableDetails({{"kind", "kept"},
						 {"details", {{"columns", json::array({"tenant_id", "email"})}, {"cost", 12.3456789}}}}) ==
		"columns: tenant_id, email; cost: 12.3457");
	BOOST_TEST(ReadableDetails({{"kind", "index_build_started"}, {"details", json::object()}}) ==
			   "build started (CREATE INDEX CONCURRENTLY)");
}

BOOST_AUTO_TEST_CASE(documents_and_plots)
{
	json before = FakeRun(50.0, json::array({kPk})), after = FakeRun(2.0, json::array({kPk}));
	auto c = EvaluateCriteria(before, after);
	std::string md = ReportMarkdown(before, after, c);
	BOOST_TEST(md.find("No expert run") != std::string::npos);
	json rec = after;
	rec["recommendations"] = {{"available", true},
							  {"rows", json::array({{{"columns", json::array({"tenant_id", "email"})},
													 {"build_cost", 29239.460711655218}}})}};
	std::string cb = ReportMarkdown(before, rec, c);
	BOOST_TEST(cb.find("| 29239.5 | tenant_id, email |") != std::string::npos); // readable, not JSON
	json expert = FakeRun(1.8, json::array({kPk, SizedIndex("expert_contacts_email", "tenant_id, email", 900)}));
	expert["plan_costs"] = FakeCosts(8.0, "expert_contacts_email");
	after["plan_costs"] = FakeCosts(8.4, "");
	after["timeline"] = {{"duration_s", 60},
						 {"window_s", 10},
						 {"series", {{"contacts_by_email", json::array({{{"t_s", 0}, {"n", 5}, {"avg_ms", 3.0}}})}}},
						 {"events", json::array()}};
	std::string full = ReportMarkdown(before, after, EvaluateCriteria(before, after, expert), expert);
	BOOST_TEST(full.find("## Against the expert") != std::string::npos);
	BOOST_TEST(full.find("| contacts_by_email | hot | 8.40 | 8.00 | 1.050 |") != std::string::npos);
	BOOST_TEST(full.find(kConvergenceSvgName) != std::string::npos);
	BOOST_TEST(ReportHtml(before, after, c, expert).find("over the run") != std::string::npos); // the timeline plot
	BOOST_TEST(full.find("Block reads") == std::string::npos); // not recorded: not shown
	after["io"] = {{"blocks_read", 300}, {"blocks_hit", 700}, {"read_ms", 12.5}};
	after["pair_io"] = {{"blocks_read", 100}, {"blocks_hit", 900}, {"read_ms", 2.0}}; // the expert's
	std::string io = ReportMarkdown(before, after, EvaluateCriteria(before, after, expert), expert);
	BOOST_TEST(io.find("| measured runs | 300 | 12 | 100 | 2 | 0.7000 | 0.9000 |") != std::string::npos);
	BOOST_TEST(md.find("## Latency per pattern") != std::string::npos);
	BOOST_TEST(md.find("Not available: not in this version") != std::string::npos);
	BOOST_TEST(md.find(kLatencySvgName) != std::string::npos);
	std::string html = ReportHtml(before, after, c);
	BOOST_TEST(html.find("<!DOCTYPE html>") == 0u);
	BOOST_TEST(html.find("<svg") != std::string::npos); // plots embedded, no external file
	BOOST_TEST(html.find("<table>") != std::string::npos);
	BOOST_TEST(html.find("</html>") != std::string::npos);
	std::string svg = LatencyDistributionSvg(before, after);
	BOOST_TEST(svg.find("<polyline") != std::string::npos);
	BOOST_TEST(svg.find("</svg>") != std::string::npos);
	svg = P95PerPatternSvg(before, after);
	BOOST_TEST(svg.find("contacts_by_email (hot)") != std::string::npos);
	// the longest label fits left of the bars: its right-aligned end is at least its length from the edge
	BOOST_TEST(svg.find("contacts_by_custom_text_1 (moderate)") != std::string::npos);
	size_t at = svg.find("text-anchor=\"end\">contacts_by_custom_text_1 (moderate)");
	BOOST_REQUIRE(at != std::string::npos);
	size_t x = svg.rfind("x=\"", at);
	BOOST_TEST(std::stoi(svg.substr(x + 3)) >= 7 * int(std::string("contacts_by_custom_text_1 (moderate)").size()));
	BOOST_TEST(LatencyDistributionSvg(json::object(), json::object()).find("no data") != std::string::npos);
	BOOST_TEST(HtmlEscape("<a & \"b\">") == "&lt;a &amp; &quot;b&quot;&gt;");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(sim_bench)

static const json kBenchPk = {{"table", "crm.contacts"},
							  {"name", "contacts_pkey"},
							  {"definition", "CREATE UNIQUE INDEX contacts_pkey ON crm.contacts USING btree (id)"},
							  {"primary", true},
							  {"size_bytes", 99999}};

static json
Idx(const std::string &table, const std::string &name, const std::string &keys, int64_t bytes,
	const std::string &where = "")
{
	return {{"table", table},
			{"name", name},
			{"definition", "CREATE INDEX " + name + " ON " + table + " USING btree (" + keys + ")" +
							   (where.empty() ? "" : " WHERE (" + where + ")")},
			{"primary", false},
			{"valid", true},
			{"size_bytes", bytes}};
}

static json
Built(const std::string &name)
{
	return {{"kind", "index_build_finished"}, {"target_index", name}};
}

/* A run with the given throughput, every hot pattern's p95 (the first hot one's as given), and indexes. */
static json
BenchRun(double tps, double hot_p95, double email_p95, const json &indexes, const std::string &started,
		 const json &mutations = json::array())
{
	json j = FakeRun(hot_p95, indexes, mutations);
	j["throughput_per_s"] = tps;
	j["patterns"][0]["p95_ms"] = email_p95;
	j["meta"]["started_at"] = started;
	j["indexes_before_measured"] = indexes;
	return j;
}

static const json kExpertIndexes =
	json::array({kBenchPk, Idx("crm.contacts", "x_email", "tenant_id, email", 4000),
				 Idx("crm.contacts", "x_custom", "tenant_id, custom_text_1", 100, "custom_text_1 IS NOT NULL")});

BOOST_AUTO_TEST_CASE(index_shapes_and_sets)
{
	BOOST_TEST(IndexShape("crm.contacts", "CREATE INDEX i ON crm.contacts USING btree (tenant_id, email)") ==
			   "crm.contacts (tenant_id, email)");
	BOOST_TEST(IndexShape("crm.contacts", "CREATE INDEX i ON crm.contacts USING btree (tenant_id, custom_text_1) "
										  "WHERE (custom_text_1 IS NOT NULL)") ==
			   "crm.contacts (tenant_id, custom_text_1) WHERE (custom_text_1 IS NOT NULL)");
	BOOST_TEST(IndexShape("crm.contacts", "CREATE INDEX i ON crm.contacts USING hash (email)") ==
			   "crm.contacts USING hash (email)");
	json run = {
		{"indexes", json::array({kBenchPk, Idx("crm.organizations", "b", "tenant_id, country", 10),
								 Idx("crm.contacts", "a", "email", 20), Idx("crm.contacts", "c", "tenant_id", 5)})}};
	run["indexes"][3]["valid"] = false;
	auto set = SecondaryIndexes(run);
	BOOST_REQUIRE(set.size() == 3u); // the primary key is not part of it
	BOOST_TEST(set[0].shape == "crm.contacts (email)");
	BOOST_TEST(!set[0].rare);
	BOOST_TEST(!set[1].valid);
	BOOST_TEST(set[2].rare); // organizations.country is a rare pattern's field
	BOOST_TEST(SetKey(set) == "crm.contacts (email); crm.contacts (tenant_id); crm.organizations (tenant_id, country)");
	BOOST_TEST(SetKey({}) == "(none)");
	BOOST_TEST(SecondaryIndexes(json::object()).empty());
}

BOOST_AUTO_TEST_CASE(median)
{
	BOOST_TEST(Median({}) == 0.0);
	BOOST_TEST(Median({3.0}) == 3.0);
	BOOST_TEST(Median({5.0, 1.0, 3.0}) == 3.0);
	BOOST_TEST(Median({4.0, 1.0, 2.0, 3.0}) == 2.5);
}

BOOST_AUTO_TEST_CASE(one_repetition)
{
	json ip_indexes = json::array({kBenchPk, Idx("crm.contacts", "ip_email", "email", 3000)});
	json ip = BenchRun(900, 2.0, 3.0, ip_indexes, "2026-01-01 10:00:00+00", json::array({Built("crm.ip_email")}));
	json ex = BenchRun(1000, 2.0, 2.0, kExpertIndexes, "2026-01-01 10:05:00+00");
	Repetition r = CompareRepetition(1, ip, ex);
	BOOST_TEST(r.indexpilot_first);
	BOOST_TEST(r.throughput_ratio == 0.9);
	BOOST_TEST(r.hot_p95_ratio == 1.5); // contacts_by_email 3.0 against 2.0; the other hot ones 1.0
	BOOST_TEST(r.hot_p95_pattern == "contacts_by_email");
	BOOST_TEST(r.indexpilot_bytes == 3000);
	BOOST_TEST(r.expert_bytes == 4100);
	BOOST_TEST(r.bytes_ratio == 3000.0 / 4100.0);
	BOOST_TEST(r.rare_indexes.empty());
	BOOST_TEST(r.notes.empty());
	BOOST_TEST(
		!CompareRepetition(2, ip, BenchRun(1000, 2, 2, kExpertIndexes, "2026-01-01 09:00:00+00")).indexpilot_first);

	// sets and bytes as the measured run starts: the expert's index grew in its run, that does not count
	json grown = ex;
	grown["indexes"][1]["size_bytes"] = 9000;
	BOOST_TEST(CompareRepetition(1, ip, grown).expert_bytes == 4100);
	BOOST_TEST(r.cpu_ratio == 0.0); // not measured
	ip["backend_cpu_us_per_statement"] = 110.0;
	grown["backend_cpu_us_per_statement"] = 100.0;
	BOOST_TEST(CompareRepetition(1, ip, grown).cpu_ratio == 110.0 / 100.0);

	// an index the log does not show as built, a set that changed in the measured run, errors: all noted
	json odd = BenchRun(900, 2.0, 3.0, ip_indexes, "2026-01-01 10:00:00+00");
	odd["indexes_before_measured"] = json::array({kBenchPk});
	odd["total_errors"] = 2;
	r = CompareRepetition(1, odd, ex);
	BOOST_TEST(r.indexpilot_set.empty());
	BOOST_REQUIRE(r.notes.size() == 3u);
	BOOST_TEST(r.notes[0].find("no index_build_finished") != std::string::npos);
	BOOST_TEST(r.notes[1].find("changed during the measured run; at its end: crm.contacts (email)") !=
			   std::string::npos);
	BOOST_TEST(r.notes[2].find("IndexPilot 2, expert 0") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(goals_and_table)
{
	json good = json::array({kBenchPk, Idx("crm.contacts", "ip_email", "tenant_id, email", 3000)});
	json bad = json::array({kBenchPk, Idx("crm.contacts", "ip_email", "email", 3000),
							Idx("crm.contacts", "ip_title", "tenant_id, title", 2000)});
	json ex = BenchRun(1000, 2.0, 2.0, kExpertIndexes, "2026-01-01 10:05:00+00");
	auto run = [&](double tps, double p95, const json &idx) {
		return BenchRun(tps, 2.0, p95, idx, "2026-01-01 10:00:00+00",
						json::array({Built("ip_email"), Built("ip_title")}));
	};

	std::vector<Repetition> reps = {CompareRepetition(1, run(990, 2.2, good), ex),
									CompareRepetition(2, run(960, 2.0, good), ex),
									CompareRepetition(3, run(1010, 2.3, good), ex)};
	auto goals = BenchGoals(reps);
	BOOST_REQUIRE(goals.size() == 5u);
	for (const auto &g : goals)
		BOOST_CHECK_MESSAGE(g.met, g.name << ": " << g.detail);
	BOOST_TEST(goals[0].detail == "minimum 0.960 (repetition 2)");
	BOOST_TEST(goals[1].detail == "worst 1.150 (contacts_by_email, repetition 3)");
	BOOST_TEST(goals[3].name.find("crm.contacts.title") != std::string::npos);
	BOOST_TEST(goals[3].name.find("crm.organizations.country") != std::string::npos);

	// one repetition below 0.95, one p95 at 1.25x, a bigger set with an index on title in another
	reps = {CompareRepetition(1, run(940, 2.0, good), ex), CompareRepetition(2, run(1000, 2.5, bad), ex)};
	goals = BenchGoals(reps);
	BOOST_TEST(!goals[0].met);
	BOOST_TEST(goals[0].detail == "minimum 0.940 (repetition 1)");
	BOOST_TEST(!goals[1].met);
	BOOST_TEST(!goals[2].met); // 5000 bytes against 4100
	BOOST_TEST(!goals[3].met);
	BOOST_TEST(goals[3].detail == "repetition 2: crm.contacts (tenant_id, title)");
	BOOST_TEST(!goals[4].met);
	BOOST_TEST(goals[4].detail == "2 distinct sets");

	std::string text = BenchTable("form tenant", reps);
	BOOST_TEST(text.find("form tenant\n") == 0u);
	BOOST_TEST(text.find("IP first") != std::string::npos);
	BOOST_TEST(text.find("CPU/stmt") != std::string::npos);
	for (const char *row : {"\nmin ", "\nmedian ", "\nmax "})
		BOOST_CHECK_MESSAGE(text.find(row) != std::string::npos, row);
	BOOST_TEST(text.find("  A (repetition 1): 1 index") != std::string::npos);
	BOOST_TEST(text.find("  B (repetition 2): 2 indexes") != std::string::npos);
	BOOST_TEST(text.find("(rare field)") != std::string::npos);
	BOOST_TEST(text.find("crm.contacts (tenant_id, custom_text_1) WHERE (custom_text_1 IS NOT NULL)") !=
			   std::string::npos);
	BOOST_TEST(text.find("NOT MET  throughput ratio") != std::string::npos);
	BOOST_TEST(text.find("median") < text.find("max "));
	BOOST_TEST(BenchGoals({}).empty());
}

BOOST_AUTO_TEST_SUITE_END()
