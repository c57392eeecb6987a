/*
 * test_sim.cpp — the CRM simulator's pure logic: random numbers, Zipf sampling, the query mix, the seeded
 * data's formulas, percentiles, the run JSON, and the report's tables, criteria and plots.
 */
#include "report.hpp"
#include "sim_logic.hpp"

#include <boost/test/unit_test.hpp>

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

BOOST_AUTO_TEST_CASE(criteria)
{
	json email_idx = {{"table", "crm.contacts"},
					  {"name", "ip_contacts_email"},
					  {"definition", "CREATE INDEX ip_contacts_email ON crm.contacts USING btree (tenant_id, email)"},
					  {"primary", false}};
	json title_idx = {{"table", "crm.contacts"},
					  {"name", "ip_contacts_title"},
					  {"definition", "CREATE INDEX ip_contacts_title ON crm.contacts USING btree (tenant_id, title)"},
					  {"primary", false}};
	json evidence = {{"id", 9},
					 {"kind", "index_build_finished"},
					 {"target_table", "crm.contacts"},
					 {"target_index", "crm.ip_contacts_email"},
					 {"details", {{"calls", 1200}, {"benefit_ms", 3.5}}}};
	json before = FakeRun(50.0, json::array({kPk}));

	// everything met: 25x, no rare index, the built index has evidence
	auto c = EvaluateCriteria(before, FakeRun(2.0, json::array({kPk, email_idx}), json::array({evidence})));
	BOOST_REQUIRE(c.size() == 3u);
	BOOST_TEST(c[0].met);
	BOOST_TEST(c[1].met);
	BOOST_TEST(c[2].met);
	BOOST_TEST(CriteriaText(c).find("ALL MET") != std::string::npos);

	// 5x is not enough; an index on title breaks the rare rule and has no evidence
	c = EvaluateCriteria(before, FakeRun(10.0, json::array({kPk, email_idx, title_idx}), json::array({evidence})));
	BOOST_TEST(!c[0].met);
	BOOST_TEST(!c[1].met);
	BOOST_TEST(c[1].detail.find("ip_contacts_title") != std::string::npos);
	BOOST_TEST(!c[2].met);
	BOOST_TEST(CriteriaText(c).find("success criteria: NOT MET") != std::string::npos);

	// nothing built: traceability holds vacuously, the speed-up does not
	c = EvaluateCriteria(before, FakeRun(50.0, json::array({kPk})));
	BOOST_TEST(!c[0].met);
	BOOST_TEST(c[2].met);
	BOOST_TEST(c[2].detail.find("built no index") != std::string::npos);

	// evidence may come from the index's lineage instead of the run's rows
	json after = FakeRun(2.0, json::array({kPk, email_idx}));
	after["lineage"] = {{"ip_contacts_email", json::array({evidence})}};
	auto built = BuiltIndexes(before, after);
	BOOST_REQUIRE(built.size() == 1u);
	BOOST_TEST(built[0].traceable);
	BOOST_TEST(built[0].evidence.find("benefit_ms") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(documents_and_plots)
{
	json before = FakeRun(50.0, json::array({kPk})), after = FakeRun(2.0, json::array({kPk}));
	auto c = EvaluateCriteria(before, after);
	std::string md = ReportMarkdown(before, after, c);
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
	BOOST_TEST(LatencyDistributionSvg(json::object(), json::object()).find("no data") != std::string::npos);
	BOOST_TEST(HtmlEscape("<a & \"b\">") == "&lt;a &amp; &quot;b&quot;&gt;");
}

BOOST_AUTO_TEST_SUITE_END()
