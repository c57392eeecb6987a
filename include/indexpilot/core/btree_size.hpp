/*
 * core/btree_size.hpp — the size of a freshly built btree index, from the table's statistics.
 *
 * Pure C++: no PostgreSQL headers, covered by test/unit. The caller (advisor/whatif.cpp) reads the
 * numbers from the catalogs; this file only knows the on-disk layout of PostgreSQL's btree (nbtree):
 * 24-byte page header, 16-byte btree special space, 4-byte line pointers, 8-byte index tuple headers,
 * MAXALIGN 8, leaves filled to the fillfactor and internal pages to 70%, one high key per page, and
 * deduplication of equal keys into posting lists (PostgreSQL 13+) when the opclasses allow it.
 */
#pragma once

namespace indexpilot::core
{

/* One key column of the index, as the statistics describe it. */
struct BtreeKeyColumn {
	double avg_width; /* average stored width of non-null values in bytes (varlena header included) */
	int typlen;       /* > 0: fixed length; -1: varlena; -2: cstring */
	char align;       /* typalign: 'c', 's', 'i' or 'd' */
	double null_frac; /* 0..1 */
	double distinct;  /* distinct non-null values; <= 0: unknown (treated as all distinct) */
};

struct BtreeParams {
	int fillfactor = 90;      /* leaf fillfactor, percent (btree default 90) */
	int block_size = 8192;    /* BLCKSZ */
	bool deduplicate = true;  /* deduplicate_items and every opclass is "equalimage" */
	double selectivity = 1.0; /* fraction of the table's rows in the index (partial indexes) */
};

struct BtreeEstimate {
	double index_rows;       /* heap rows the index points to */
	double index_tuples;     /* leaf tuples after deduplication (a posting list counts once) */
	double leaf_tuple_bytes; /* average leaf tuple size, line pointer included */
	double leaf_pages;
	double internal_pages;
	double pages;    /* metapage + leaves + internal pages */
	double bytes;    /* pages * block_size */
	int tree_height; /* levels above the leaves (0: the root is a leaf) */
};

/*
 * Estimates the btree built now on `table_rows` rows with these key columns (1..32 of them).
 * Never throws; nonsensical inputs (negative rows or widths) are clamped to 0.
 */
BtreeEstimate EstimateBtree(const BtreeKeyColumn *columns, int ncolumns, double table_rows,
							const BtreeParams &params = BtreeParams()) noexcept;

} // namespace indexpilot::core
