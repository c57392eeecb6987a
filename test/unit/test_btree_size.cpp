/*
 * test_btree_size.cpp — the btree size formula against sizes PostgreSQL 15 really produces.
 */
#include "indexpilot/core/btree_size.hpp"

#include <boost/test/unit_test.hpp>

using namespace indexpilot::core;

namespace
{
const BtreeKeyColumn kInt4{4, 4, 'i', 0, 0};
const BtreeKeyColumn kText20{21, -1, 'i', 0, 0}; /* ~20 characters plus the 1-byte header */
} // namespace

BOOST_AUTO_TEST_SUITE(core_btree_size)

BOOST_AUTO_TEST_CASE(empty_index_is_the_metapage)
{
	BtreeEstimate e = EstimateBtree(&kInt4, 1, 0);
	BOOST_TEST(e.pages == 1);
	BOOST_TEST(e.bytes == 8192);
	BOOST_TEST(e.tree_height == 0);
	BOOST_TEST(EstimateBtree(nullptr, 0, 1000).pages == 1);
}

BOOST_AUTO_TEST_CASE(unique_int4_matches_postgres)
{
	// pgbench scale 10: pgbench_accounts_pkey on 1,000,000 int4 keys is 2745 pages in PostgreSQL 15.
	BtreeEstimate e = EstimateBtree(&kInt4, 1, 1e6);
	BOOST_TEST(e.pages > 2745 * 0.99);
	BOOST_TEST(e.pages < 2745 * 1.01);
	BOOST_TEST(e.leaf_tuple_bytes == 20);
	BOOST_TEST(e.tree_height == 2);
	BOOST_TEST(e.bytes == e.pages * 8192);
}

BOOST_AUTO_TEST_CASE(small_index_has_a_leaf_root)
{
	BtreeEstimate e = EstimateBtree(&kInt4, 1, 100);
	BOOST_TEST(e.pages == 2);
	BOOST_TEST(e.tree_height == 0);
}

BOOST_AUTO_TEST_CASE(grows_with_rows_width_and_columns)
{
	const BtreeKeyColumn two[] = {kInt4, kText20};
	BOOST_TEST(EstimateBtree(&kInt4, 1, 2e5).pages > EstimateBtree(&kInt4, 1, 1e5).pages);
	BOOST_TEST(EstimateBtree(&kText20, 1, 1e5).pages > EstimateBtree(&kInt4, 1, 1e5).pages);
	BOOST_TEST(EstimateBtree(two, 2, 1e5).pages > EstimateBtree(&kText20, 1, 1e5).pages);
}

BOOST_AUTO_TEST_CASE(fillfactor_and_partial_indexes)
{
	BtreeParams loose;
	loose.fillfactor = 50;
	BOOST_TEST(EstimateBtree(&kInt4, 1, 1e6, loose).pages > 1.7 * EstimateBtree(&kInt4, 1, 1e6).pages);
	BtreeParams partial;
	partial.selectivity = 0.1;
	BtreeEstimate p = EstimateBtree(&kInt4, 1, 1e6, partial);
	BOOST_TEST(p.index_rows == 1e5);
	BOOST_TEST(p.pages < 0.11 * EstimateBtree(&kInt4, 1, 1e6).pages);
}

BOOST_AUTO_TEST_CASE(deduplication_shrinks_low_cardinality_keys)
{
	BtreeKeyColumn few = kInt4;
	few.distinct = 10;
	BtreeEstimate dedup = EstimateBtree(&few, 1, 1e6);
	BtreeParams off;
	off.deduplicate = false;
	BtreeEstimate plain = EstimateBtree(&few, 1, 1e6, off);
	BOOST_TEST(plain.pages == EstimateBtree(&kInt4, 1, 1e6).pages);
	// ~6 bytes per row instead of 20: PostgreSQL 15 builds such an index in 850 pages.
	BOOST_TEST(dedup.pages < 0.4 * plain.pages);
	BOOST_TEST(dedup.pages > 800);
	BOOST_TEST(dedup.index_tuples < 1e6 / 100);
	// Unique keys: nothing to deduplicate.
	BtreeKeyColumn unique = kInt4;
	unique.distinct = 1e6;
	BOOST_TEST(EstimateBtree(&unique, 1, 1e6).pages == plain.pages);
}

BOOST_AUTO_TEST_CASE(nulls_and_bad_inputs)
{
	BtreeKeyColumn all_null = kText20;
	all_null.null_frac = 1;
	BtreeParams off;
	off.deduplicate = false;
	BOOST_TEST(EstimateBtree(&all_null, 1, 1000, off).leaf_tuple_bytes == 20); /* header + null bitmap */
	BtreeKeyColumn junk{-5, -1, 'x', 7, -3};
	BtreeEstimate e = EstimateBtree(&junk, 1, -10);
	BOOST_TEST(e.pages == 1);
	e = EstimateBtree(&junk, 1, 1000);
	BOOST_TEST(e.pages >= 2);
}

BOOST_AUTO_TEST_SUITE_END()
