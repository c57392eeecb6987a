/*
 * test_costmodel.cpp — candidates from shapes and the cost formulas (the choice: test_selection.cpp).
 */
#include "indexpilot/core/costmodel.hpp"
#include "fixtures.hpp"
#include "printers.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <string>

using namespace indexpilot::core;

namespace
{

using fixtures::Contacts;

ShapeStat
Shape(std::vector<std::int16_t> cols, std::vector<OpKind> ops, double calls, std::string tenant = "",
	  std::int64_t queryid = 1)
{
	ShapeStat s;
	s.relid = 100;
	s.attnums = std::move(cols);
	s.ops = std::move(ops);
	s.calls = calls; /* as estimated: the tests of EstimateShapes start from what capture counted */
	s.calls_upper = calls;
	s.tenant = std::move(tenant);
	s.queryid = queryid;
	return s;
}

StatementStat
Statement(std::int64_t queryid, double calls, double sampled, double ms)
{
	StatementStat st;
	st.queryid = queryid;
	st.calls = calls;
	st.sampled_calls = sampled;
	st.total_ms = ms;
	return st;
}

bool
Has(const std::vector<Candidate> &cs, std::vector<std::int16_t> cols, std::string partial = "")
{
	return std::any_of(cs.begin(), cs.end(),
					   [&](const Candidate &c) { return c.columns == cols && c.partial_tenant == partial; });
}

} // namespace

BOOST_AUTO_TEST_SUITE(core_costmodel)

BOOST_AUTO_TEST_CASE(candidates_for_a_tenant_filter)
{
	CandidateOptions opt;
	auto cs = GenerateCandidates({Contacts()}, {Shape({2, 3}, {OpKind::Eq, OpKind::Eq}, 300, "7")}, {}, opt);
	BOOST_TEST(Has(cs, {3}));      /* single */
	BOOST_TEST(Has(cs, {2, 3}));   /* tenant-leading composite */
	BOOST_TEST(!Has(cs, {2}));     /* the tenant key alone is not what the shape wants */
	BOOST_TEST(Has(cs, {3}, "7")); /* tenant 7 makes all of the calls: a partial index */
}

BOOST_AUTO_TEST_CASE(candidates_name_the_tables_other_hot_statements)
{
	CandidateOptions opt;
	auto cs = GenerateCandidates({Contacts()},
								 {Shape({3}, {OpKind::Eq}, 300, "", 11), Shape({4}, {OpKind::Range}, 300, "", 12),
								  Shape({4}, {OpKind::Range}, 300, "", 13), Shape({5}, {OpKind::Eq}, 1, "", 14)},
								 {}, opt);
	auto of = [&](std::vector<std::int16_t> cols) {
		for (const auto &c : cs)
			if (c.columns == cols && c.partial_tenant.empty())
				return c;
		BOOST_FAIL("no candidate");
		return Candidate{};
	};
	BOOST_TEST(of({3}).queryids == (std::vector<std::int64_t>{11}));
	BOOST_TEST(of({3}).others == (std::vector<std::int64_t>{12, 13})); /* not 14: its shape is rare */
	BOOST_TEST(of({4}).queryids == (std::vector<std::int64_t>{12, 13}));
	BOOST_TEST(of({4}).others == (std::vector<std::int64_t>{11}));
	BOOST_TEST(!Has(cs, {5}));
}

BOOST_AUTO_TEST_CASE(conjunction_puts_equality_before_range)
{
	CandidateOptions opt;
	auto cs = GenerateCandidates({Contacts()}, {Shape({2, 4, 5}, {OpKind::Eq, OpKind::Range, OpKind::Eq}, 100, "1")},
								 {}, opt);
	BOOST_TEST(Has(cs, {2, 5, 4})); /* tenant, equality column, then the range column */
}

BOOST_AUTO_TEST_CASE(order_by_limit_puts_the_sort_column_after_the_equalities)
{
	CandidateOptions opt;
	/* WHERE tenant_id = $1 AND title = $2 ORDER BY lead_score (5: title, 6: as a sort column) LIMIT 50 */
	auto cs = GenerateCandidates({Contacts()}, {Shape({2, 5, 6}, {OpKind::Eq, OpKind::Eq, OpKind::Order}, 100, "1")},
								 {}, opt);
	BOOST_TEST(Has(cs, {2, 5, 6})); /* sort avoidance: the first rows in order, no sort */
	BOOST_TEST(Has(cs, {2, 6}));    /* tenant-leading, in order */
	/* with a range on another column (4), both conjunctions: the planner decides */
	cs = GenerateCandidates(
		{Contacts()}, {Shape({2, 4, 5, 6}, {OpKind::Eq, OpKind::Range, OpKind::Eq, OpKind::Order}, 100, "1")}, {}, opt);
	BOOST_TEST(Has(cs, {2, 5, 4}));
	BOOST_TEST(Has(cs, {2, 5, 6}));
	/* the range column is also the sort column: one conjunction */
	cs = GenerateCandidates({Contacts()}, {Shape({2, 5, 6}, {OpKind::Eq, OpKind::Eq, OpKind::Range}, 100, "1")}, {},
							opt);
	BOOST_TEST(Has(cs, {2, 5, 6}));
}

BOOST_AUTO_TEST_CASE(covering_forms_include_what_the_statements_read)
{
	CandidateOptions opt;
	/* SELECT phone, title FROM contacts WHERE tenant_id = $1 AND email = $2 (statement 1) */
	auto cs = GenerateCandidates({Contacts()}, {Shape({2, 3}, {OpKind::Eq, OpKind::Eq}, 300, "", 1)}, {}, opt);
	const std::size_t base = cs.size();
	ReadColumns read;
	read[1][100] = {2, 3, 4, 5};
	AddCoveringCandidates(cs, {Contacts()}, read);
	auto covering = [&](std::vector<std::int16_t> key, std::vector<std::int16_t> include) {
		return std::any_of(cs.begin(), cs.end(), [&](const Candidate &c) {
			return c.kind == CandidateKind::Covering && c.columns == key && c.include == include;
		});
	};
	BOOST_TEST(covering({2, 3}, {4, 5})); /* (tenant_id, email) INCLUDE (phone, title) */
	BOOST_TEST(covering({3}, {2, 4, 5}));
	BOOST_TEST(cs.size() > base);
	BOOST_TEST(std::none_of(cs.begin(), cs.end(),
							[](const Candidate &c) { return !c.partial_tenant.empty() && !c.include.empty(); }));

	/* an unexpressed field (7) is never indexed, not even as an INCLUDE column; too many columns: none */
	auto again = GenerateCandidates({Contacts()}, {Shape({2, 3}, {OpKind::Eq, OpKind::Eq}, 300, "", 1)}, {}, opt);
	const std::size_t n = again.size();
	read[1][100] = {2, 3, 7};
	AddCoveringCandidates(again, {Contacts()}, read);
	BOOST_TEST(again.size() == n);
	read[1][100] = {1, 2, 3, 4, 5, 6};
	AddCoveringCandidates(again, {Contacts()}, read);
	/* (email) would include 5 columns, (tenant_id, email) 4: more than kMaxIncludeColumns (3) */
	BOOST_TEST(std::count_if(again.begin(), again.end(), [](const Candidate &c) { return !c.include.empty(); }) == 0);
}

BOOST_AUTO_TEST_CASE(rare_unexpressed_and_covered_give_nothing)
{
	CandidateOptions opt;
	TableInfo t = Contacts();
	t.existing.push_back({2, 4}); /* an index on (tenant_id, phone) exists */
	auto cs = GenerateCandidates({t},
								 {Shape({5}, {OpKind::Eq}, 3),                          /* rare */
								  Shape({2, 7}, {OpKind::Eq, OpKind::Eq}, 500, "", 2),  /* unexpressed */
								  Shape({2, 4}, {OpKind::Eq, OpKind::Eq}, 500, "", 3)}, /* covered */
								 {}, opt);
	BOOST_TEST(!Has(cs, {5}));
	BOOST_TEST(!Has(cs, {7}));
	BOOST_TEST(!Has(cs, {2, 7}));
	BOOST_TEST(!Has(cs, {2, 4}));
	BOOST_TEST(Has(cs, {4})); /* a single-column index on phone is another candidate: the planner decides */
}

BOOST_AUTO_TEST_CASE(rare_is_relative_too)
{
	CandidateOptions opt;
	opt.min_calls = 10;
	opt.min_call_share = 0.02;
	/* 5000 calls on email, 60 on title: above the absolute floor, but 1.2% of the traffic */
	auto cs = GenerateCandidates({Contacts()},
								 {Shape({3}, {OpKind::Eq}, 5000, "", 1), Shape({5}, {OpKind::Eq}, 60, "", 2)}, {}, opt);
	BOOST_TEST(opt.total_calls == 5060.0);
	BOOST_TEST(Has(cs, {3}));
	BOOST_TEST(!Has(cs, {5}));
	BOOST_TEST(IsRare(60, 0, 0, opt));
	BOOST_TEST(!IsRare(200, 0, 0, opt));
}

BOOST_AUTO_TEST_CASE(wilson_upper_bound)
{
	BOOST_TEST(WilsonUpper(0, 0) == 0.0);
	BOOST_TEST(WilsonUpper(10, 10) == 1.0);
	BOOST_TEST(WilsonUpper(3, 2) == 1.5); /* a statement that shows the shape twice a call */
	/* 1 of 10: the 95% Wilson interval is [0.018, 0.404] */
	BOOST_TEST(WilsonUpper(1, 10) > 0.40);
	BOOST_TEST(WilsonUpper(1, 10) < 0.41);
	BOOST_TEST(WilsonUpper(0, 100) > 0.0); /* never seen in 100 still allows a little */
	BOOST_TEST(WilsonUpper(0, 100) < 0.04);
	BOOST_TEST(WilsonUpper(50, 1000) < WilsonUpper(5, 100)); /* more evidence, tighter bound */
}

BOOST_AUTO_TEST_CASE(shapes_are_estimated_from_true_counts)
{
	/* Statement 1 ran 600 times in 15600 ms; 12 of its executions were walked, 9 showed the shape, for
	 * two tenants (5 and 4 calls). Statement 2 has no counts: sampling's weight stands. */
	std::vector<ShapeStat> shapes = {Shape({2, 3}, {OpKind::Eq, OpKind::Eq}, 0, "1", 1),
									 Shape({2, 3}, {OpKind::Eq, OpKind::Eq}, 0, "2", 1),
									 Shape({4}, {OpKind::Eq}, 0, "", 2)};
	shapes[0].sampled_calls = 5;
	shapes[1].sampled_calls = 4;
	shapes[2].sampled_calls = 3;
	shapes[2].weighted_calls = 30;
	shapes[2].sampled_ms = 6;
	EstimateShapes(shapes, {Statement(1, 600, 12, 15600)});
	BOOST_TEST(std::abs(shapes[0].calls + shapes[1].calls - 450) < 1e-6);
	BOOST_TEST(std::abs(shapes[0].total_ms + shapes[1].total_ms - 11700) < 1e-6);
	BOOST_TEST(shapes[0].calls_upper > shapes[0].calls);
	BOOST_TEST(shapes[0].calls_upper + shapes[1].calls_upper <= 600.0 + 1e-9); /* one bound for both tenants */
	BOOST_TEST(shapes[2].calls == 30.0);
	BOOST_TEST(shapes[2].total_ms == 60.0); /* time scaled like the calls */
}

BOOST_AUTO_TEST_CASE(a_tenth_of_the_traffic_or_time_is_never_rare)
{
	/* The run: 600 statements, the hot pattern 15% of them, 7 of its executions walked. Judged on
	 * the sampled 7 calls it was rare (min_calls 50); on its true count it is a candidate. */
	CandidateOptions opt;
	opt.min_calls = 50;
	std::vector<ShapeStat> shapes = {Shape({2, 3}, {OpKind::Eq, OpKind::Eq}, 0, "", 1),
									 Shape({4}, {OpKind::Eq}, 0, "", 2)};
	shapes[0].sampled_calls = 7;
	shapes[1].sampled_calls = 50;
	std::vector<StatementStat> st = {Statement(1, 90, 7, 2340), Statement(2, 510, 50, 500)};
	EstimateShapes(shapes, st);
	auto cs = GenerateCandidates({Contacts()}, shapes, st, opt);
	BOOST_TEST(opt.total_calls == 600.0);
	BOOST_TEST(opt.total_ms == 2840.0);
	BOOST_TEST(Has(cs, {2, 3}));

	/* Time alone: 0.5% of the statements, but a minute each of an hour's 4 minutes of execution time. */
	opt = CandidateOptions();
	BOOST_TEST(!IsRare(2, 120000, 60000, [] {
		CandidateOptions o;
		o.total_calls = 400;
		o.total_ms = 240000;
		return o;
	}()));
	/* Calls alone: 10% of the statements is never rare, whatever min_calls says. */
	CandidateOptions o;
	o.min_calls = 1000;
	o.total_calls = 500;
	o.total_ms = 1e9;
	BOOST_TEST(!IsRare(50, 0, 0, o));
	BOOST_TEST(IsRare(49, 0, 0, o));
	/* Rare: few calls, little time. */
	o.min_calls = 10;
	BOOST_TEST(IsRare(5, 1000, 200, o));

	/* A fast pattern whose time share grew because the rest got faster (make bench-advisor: 0.5% of the
	 * statements at 1 ms each, the others indexed, 6% of the time) stays rare; were it slow, its share would
	 * count; at a tenth of the time it is never rare. */
	CandidateOptions f;
	f.total_calls = 100000;
	f.total_ms = 10000;
	BOOST_TEST(IsRare(500, 600, 1.2, f));
	BOOST_TEST(!IsRare(500, 600, 12, f));
	BOOST_TEST(!IsRare(500, 1000, 1.2, f));
	f.slow_ms = -1; /* slow_statement_threshold off: every shape's time share counts */
	BOOST_TEST(!IsRare(500, 600, 1.2, f));
	f.slow_ms = 10;
	BOOST_TEST(IsRare(500, 400, 12, f)); /* slow but under min_time_share */
}

BOOST_AUTO_TEST_CASE(covers_rules)
{
	Candidate c;
	c.columns = {2, 3};
	c.ops = {OpKind::Eq, OpKind::Eq};
	BOOST_TEST(Covers({2, 3}, c, 2));
	BOOST_TEST(Covers({2, 3, 9}, c, 2));
	BOOST_TEST(Covers({3, 2}, c, 2)); /* equality only: any order serves */
	BOOST_TEST(!Covers({3}, c, 2));
	c.ops = {OpKind::Eq, OpKind::Range};
	BOOST_TEST(!Covers({3, 2}, c, 2)); /* a range column must come last */
	Candidate p;
	p.columns = {3};
	p.ops = {OpKind::Eq};
	p.partial_tenant = "7";
	BOOST_TEST(Covers({2, 3}, p, 2));  /* (tenant_id, email) serves email for one tenant */
	BOOST_TEST(!Covers({3, 4}, p, 2)); /* without the tenant key it is another index */
}

BOOST_AUTO_TEST_CASE(partial_indexes_are_capped_per_table)
{
	CandidateOptions opt;
	opt.max_partial_per_table = 1;
	opt.min_calls = 10;
	auto cs = GenerateCandidates(
		{Contacts()},
		{Shape({2, 3}, {OpKind::Eq, OpKind::Eq}, 100, "1", 1), Shape({2, 4}, {OpKind::Eq, OpKind::Eq}, 100, "2", 2)},
		{}, opt);
	long partials = std::count_if(cs.begin(), cs.end(), [](const Candidate &c) { return !c.partial_tenant.empty(); });
	BOOST_TEST(partials == 1);
}

BOOST_AUTO_TEST_CASE(cost_formulas_grow_with_size)
{
	CostSettings s;
	BOOST_TEST(BuildCost(20000, 1e6, 3000, 2, s) > BuildCost(2000, 1e5, 300, 2, s));
	BOOST_TEST(BuildCost(20000, 1e6, 3000, 2, s) > 20000.0); /* at least reading the heap */
	BOOST_TEST(WriteCostPerRow(3000, 1e6, 2, s) > WriteCostPerRow(1, 10, 1, s));
	BOOST_TEST(WriteCostPerRow(3000, 1e6, 2, s) < 1.0); /* a fraction of a page read */
}

BOOST_AUTO_TEST_SUITE_END()
