/*
 * core/btree_size.cpp — the size of a freshly built btree index (see core/btree_size.hpp).
 *
 * The constants mirror PostgreSQL 15's nbtree on a 64-bit build (MAXALIGN 8); CREATE INDEX fills leaves
 * to the fillfactor and internal pages to 70% (BTREE_NONLEAF_FILLFACTOR), and its deduplication caps a
 * posting list tuple at a tenth of the page (nbtsort.c), which is what a fresh index looks like.
 */
#include "indexpilot/core/btree_size.hpp"

#include <algorithm>
#include <cmath>

namespace indexpilot::core
{

namespace
{

constexpr double kPageHeader = 24;   /* SizeOfPageHeaderData */
constexpr double kBtreeSpecial = 16; /* MAXALIGN(sizeof(BTPageOpaqueData)) */
constexpr double kItemId = 4;        /* sizeof(ItemIdData) */
constexpr double kTupleHeader = 8;   /* sizeof(IndexTupleData) */
constexpr double kNullBitmap = 8;    /* a tuple with a NULL key: MAXALIGN(8 + 4) - 8 */
constexpr double kHeapTid = 6;       /* sizeof(ItemPointerData), one per extra row in a posting list */
constexpr double kMaxAlign = 8;
constexpr int kNonLeafFillfactor = 70;
constexpr double kShortVarlenaMax = 126; /* varlenas up to this size get a 1-byte, unaligned header */

double
AlignUp(double value, double alignment)
{
	return std::ceil(value / alignment) * alignment;
}

double
AlignmentOf(char typalign)
{
	switch (typalign) {
		case 'c':
			return 1;
		case 's':
			return 2;
		case 'i':
			return 4;
		default:
			return 8;
	}
}

double
Clamp(double v, double lo, double hi)
{
	if (!(v >= lo)) /* also catches NaN */
		return lo;
	return std::min(v, hi);
}

} // namespace

BtreeEstimate
EstimateBtree(const BtreeKeyColumn *columns, int ncolumns, double table_rows, const BtreeParams &params) noexcept
{
	BtreeEstimate e{};
	const double block = params.block_size >= 1024 ? params.block_size : 8192;
	const double fillfactor = Clamp(params.fillfactor, 10, 100);
	const double rows = std::floor(Clamp(table_rows, 0, 1e15) * Clamp(params.selectivity, 0, 1) + 0.5);
	e.index_rows = rows;
	e.pages = 1; /* the metapage: all an empty btree has */
	e.bytes = block;
	if (rows <= 0 || columns == nullptr || ncolumns <= 0)
		return e;

	/* The expected size of one key: attributes laid out with their alignment, NULLs taking no space. */
	double data = 0;
	double all_not_null = 1;
	for (int i = 0; i < ncolumns; i++) {
		const BtreeKeyColumn &c = columns[i];
		const double not_null = 1 - Clamp(c.null_frac, 0, 1);
		double width = Clamp(c.avg_width, 0, block);
		if (c.typlen > 0) {
			width = c.typlen;
			data = AlignUp(data, AlignmentOf(c.align));
		} else if (c.typlen == -1 && width > kShortVarlenaMax) {
			data = AlignUp(data, AlignmentOf(c.align));
		}
		data += width * not_null;
		all_not_null *= not_null;
	}
	const double key_tuple = AlignUp(kTupleHeader + (1 - all_not_null) * kNullBitmap + data, kMaxAlign);

	/* Deduplication: rows with equal keys share one tuple with a posting list of heap TIDs. */
	double index_tuples = rows;
	double leaf_tuple = key_tuple;
	if (params.deduplicate) {
		double groups = 1;
		bool known = true;
		for (int i = 0; i < ncolumns && known; i++) {
			if (!(columns[i].distinct > 0))
				known = false;
			else
				groups *= columns[i].distinct + (columns[i].null_frac > 0 ? 1 : 0);
		}
		groups = known ? Clamp(groups, 1, rows) : rows;
		const double per_group = rows / groups;
		if (per_group > 1) {
			const double max_posting = std::floor(block * 10 / 100 / kMaxAlign) * kMaxAlign - kItemId;
			const double tids_per_posting = std::max(1.0, std::floor((max_posting - key_tuple) / kHeapTid));
			index_tuples = std::min(rows, groups * std::max(1.0, std::ceil(per_group / tids_per_posting)));
			const double tids = rows / index_tuples;
			if (tids > 1)
				leaf_tuple = AlignUp(key_tuple + kHeapTid * tids, kMaxAlign);
		}
	}
	e.index_tuples = index_tuples;
	e.leaf_tuple_bytes = leaf_tuple + kItemId;

	/* Leaves: filled until the free space falls to (100 - fillfactor)% of the block; one high key each. */
	const double usable = block - kPageHeader - kBtreeSpecial;
	const double leaf_space = usable - block * (100 - fillfactor) / 100 - (key_tuple + kItemId);
	const double per_leaf = std::max(1.0, std::floor(leaf_space / e.leaf_tuple_bytes));
	e.leaf_pages = std::max(1.0, std::ceil(index_tuples / per_leaf));

	/* Internal levels: one pivot tuple (a key, no posting list) per page below, pages 70% full. */
	const double pivot = key_tuple + kItemId;
	const double fanout = std::max(2.0, std::floor((usable - block * (100 - kNonLeafFillfactor) / 100) / pivot));
	double level = e.leaf_pages;
	while (level > 1) {
		level = std::ceil(level / fanout);
		e.internal_pages += level;
		e.tree_height++;
	}
	e.pages = 1 + e.leaf_pages + e.internal_pages;
	e.bytes = e.pages * block;
	return e;
}

} // namespace indexpilot::core
