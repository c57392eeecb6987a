/*
 * test_shape.cpp — predicate shapes: column merging and ordering, LIKE prefixes, sampling.
 */
#include "indexpilot/core/shape.hpp"
#include "printers.hpp"

#include <boost/test/unit_test.hpp>

#include <cstring>
#include <string>

using namespace indexpilot::core;

BOOST_AUTO_TEST_SUITE(core_shape)

BOOST_AUTO_TEST_CASE(columns_are_sorted_and_merged)
{
	ShapeColumns s{};
	BOOST_TEST(ShapeAdd(&s, 5, OpKind::Range));
	BOOST_TEST(ShapeAdd(&s, 2, OpKind::Eq));
	BOOST_TEST(ShapeAdd(&s, 9, OpKind::LikePrefix));
	BOOST_TEST(ShapeAdd(&s, 5, OpKind::Eq)); // same column again: the stronger kind stays
	BOOST_TEST(s.count == 3);
	BOOST_TEST(s.attnum[0] == 2);
	BOOST_TEST(s.attnum[1] == 5);
	BOOST_TEST(s.attnum[2] == 9);
	BOOST_TEST(s.kind[1] == static_cast<int>(OpKind::Eq));
}

BOOST_AUTO_TEST_CASE(merge_prefers_the_stronger_kind)
{
	BOOST_TEST(MergeOpKind(OpKind::Range, OpKind::Eq) == OpKind::Eq);
	BOOST_TEST(MergeOpKind(OpKind::Join, OpKind::In) == OpKind::In);
	BOOST_TEST(MergeOpKind(OpKind::None, OpKind::Like) == OpKind::Like);
	BOOST_TEST(MergeOpKind(OpKind::IsNull, OpKind::None) == OpKind::IsNull);
}

BOOST_AUTO_TEST_CASE(shape_is_bounded_and_rejects_bad_input)
{
	ShapeColumns s{};
	for (int i = 1; i <= kMaxShapeColumns; i++)
		BOOST_TEST(ShapeAdd(&s, static_cast<std::int16_t>(i * 2), OpKind::Eq));
	BOOST_TEST(!ShapeAdd(&s, 1, OpKind::Eq));   // full: a new column is dropped
	BOOST_TEST(ShapeAdd(&s, 4, OpKind::Range)); // an existing column still merges
	BOOST_TEST(s.count == kMaxShapeColumns);
	BOOST_TEST(s.attnum[0] == 2);
	BOOST_TEST(!ShapeAdd(&s, 0, OpKind::Eq));
	BOOST_TEST(!ShapeAdd(&s, -3, OpKind::Eq)); // system columns are not indexable fields
	BOOST_TEST(!ShapeAdd(&s, 3, OpKind::None));
	BOOST_TEST(!ShapeAdd(nullptr, 3, OpKind::Eq));
}

BOOST_AUTO_TEST_CASE(opkind_names)
{
	BOOST_TEST(std::strcmp(OpKindName(OpKind::Eq), "eq") == 0);
	BOOST_TEST(std::strcmp(OpKindName(OpKind::LikePrefix), "like_prefix") == 0);
	BOOST_TEST(std::strcmp(OpKindName(OpKind::Join), "join") == 0);
	BOOST_TEST(std::strcmp(OpKindName(OpKind::Order), "order") == 0);
	BOOST_TEST(MergeOpKind(OpKind::Order, OpKind::Range) == OpKind::Range); /* filtered and sorted: a range */
	BOOST_TEST(MergeOpKind(OpKind::Eq, OpKind::Order) == OpKind::Eq);
	BOOST_TEST(std::strcmp(OpKindName(static_cast<OpKind>(200)), "none") == 0);
}

BOOST_AUTO_TEST_CASE(like_prefix_detection)
{
	auto has = [](const std::string &p) { return LikePatternHasPrefix(p.data(), p.size()); };
	BOOST_TEST(has("abc%"));
	BOOST_TEST(has("a"));
	BOOST_TEST(has("\\%literal"));
	BOOST_TEST(!has("%abc"));
	BOOST_TEST(!has("_bc"));
	BOOST_TEST(!has(""));
	BOOST_TEST(!has("\\"));
	BOOST_TEST(!LikePatternHasPrefix(nullptr, 3));
}

BOOST_AUTO_TEST_CASE(sampling)
{
	BOOST_TEST(SampleStatement(1.0, 0.999));
	BOOST_TEST(!SampleStatement(0.0, 0.0));
	BOOST_TEST(SampleStatement(0.25, 0.1));
	BOOST_TEST(!SampleStatement(0.25, 0.3));
	int taken = 0;
	for (int i = 0; i < 1000; i++)
		taken += SampleStatement(0.1, i / 1000.0);
	BOOST_TEST(taken == 100);
}

BOOST_AUTO_TEST_SUITE_END()
