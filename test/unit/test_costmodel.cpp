/*
 * test_costmodel.cpp — candidates from shapes and the cost formulas (the choice: test_selection.cpp).
 */
#include "indexpilot/core/costmodel.hpp"
#include "printers.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <string>

using namespace indexpilot::core;

namespace
{

/* contacts(1 id, 2 tenant_id, 3 email, 4 phone, 5 title, 6 custom_text_1, 7 custom_text_2) */
TableInfo
Contacts()
{
	TableInfo t;
	t.relid = 100;
	t.name = "crm.contacts";
	t.tenant_attnum = 2;
	t.expressed = {1, 2, 3, 4, 5, 6}; /* custom_text_2 (7): no tenant expresses it */
	t.existing = {{1}};               /* the primary key */
	t.tuples = 1e6;
	t.pages = 20000;
	t.writes_per_second = 10;
	return t;
}

ShapeStat
Shape(std::vector<std::int16_t> cols, std::vector<OpKind> ops, double calls, std::string tenant = "",
	  std::int64_t queryid = 1)
{
	ShapeStat s;
	s.relid = 100;
	s.attnums = std::move(cols);
	s.ops = std::move(ops);
	s.calls = calls;
	s.tenant = std::move(tenant);
	s.queryid = queryid;
	return s;
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
	auto cs = GenerateCandidates({Contacts()}, {Shape({2, 3}, {OpKind::Eq, OpKind::Eq}, 300, "7")}, opt);
	BOOST_TEST(Has(cs, {3}));      /* single */
	BOOST_TEST(Has(cs, {2, 3}));   /* tenant-leading composite */
	BOOST_TEST(!Has(cs, {2}));     /* the tenant key alone is not what the shape wants */
	BOOST_TEST(Has(cs, {3}, "7")); /* tenant 7 makes all of the calls: a partial index */
}

BOOST_AUTO_TEST_CASE(conjunction_puts_equality_before_range)
{
	CandidateOptions opt;
	auto cs =
		GenerateCandidates({Contacts()}, {Shape({2, 4, 5}, {OpKind::Eq, OpKind::Range, OpKind::Eq}, 100, "1")}, opt);
	BOOST_TEST(Has(cs, {2, 5, 4})); /* tenant, equality column, then the range column */
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
								 opt);
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
								 {Shape({3}, {OpKind::Eq}, 5000, "", 1), Shape({5}, {OpKind::Eq}, 60, "", 2)}, opt);
	BOOST_TEST(opt.total_calls == 5060.0);
	BOOST_TEST(Has(cs, {3}));
	BOOST_TEST(!Has(cs, {5}));
	BOOST_TEST(IsRare(60, opt));
	BOOST_TEST(!IsRare(200, opt));
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
		opt);
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
