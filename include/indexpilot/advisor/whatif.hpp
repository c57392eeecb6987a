/*
 * advisor/whatif.hpp — what-if costing with the server's own planner.
 *
 * C++ API without PostgreSQL headers (plain integer types; OIDs are std::uint32_t): C++-only files use it.
 * Hypothetical btree indexes are shown to the planner through get_relation_info_hook, only while
 * PlanWithHypotheticalIndexes runs in this backend: normal planning never sees them. No HypoPG needed.
 *
 * Memory: everything is allocated in a child of CurrentMemoryContext that is deleted before returning;
 * the results are plain values. Locks taken while sizing or planning are released: each call runs in an
 * internal subtransaction that is always rolled back, so no lock on a user's table outlives it.
 */
#pragma once

#include <cstdint>
#include <string>

namespace indexpilot::advisor
{

inline constexpr int kMaxHypoColumns = 8;
inline constexpr int kMaxHypoIndexes = 32; /* one bit each in PlanResult::used_mask */
inline constexpr int kMaxReadTables = 8;   /* tables whose read columns PlanResult reports */

struct HypoIndex {
	std::uint32_t relid;                   /* the table's OID */
	int ncols;                             /* 1..8 columns: the key, then any INCLUDE columns */
	std::int16_t attnums[kMaxHypoColumns]; /* heap attribute numbers, in index order */
	const char *predicate;                 /* nullptr, or a partial-index predicate over the table's columns */
	int nkey;                              /* key columns (the rest are INCLUDE columns); 0: all of them */
};

struct HypoEstimate {
	double pages;
	double tuples;
	double bytes;
};

/*
 * Estimated size of a btree index built on the relation now: rows from the planner's estimate of the
 * table (reltuples scaled to its current size), key widths, NULL fractions and distinct counts from
 * pg_statistic, fillfactor 90, tuple and page overheads, deduplication when the opclasses allow it, and
 * the predicate's selectivity for a partial index; on a partitioned table, the sum over its partitions. Bad input
 * (unknown relation or column, not a table, bad predicate) throws pg::PgError with PostgreSQL's error.
 */
HypoEstimate EstimateIndex(const HypoIndex &index);

/* EstimateIndex that returns false, with PostgreSQL's message in *error, instead of throwing (a cancel still throws).
 */
bool TryEstimateIndex(const HypoIndex &index, HypoEstimate *out, std::string *error);

struct PlanResult {
	bool ok;
	double total_cost;
	double startup_cost;
	std::uint32_t used_mask; /* bit i: the plan uses hypothetical index i */
	/* The columns (attnums 1..63 as bits) the statement reads of each table it names at its top level. */
	struct ReadColumns {
		std::uint32_t relid;
		std::uint64_t attnums;
	} read[kMaxReadTables];
	int nread;
	char error[256]; /* when !ok: the error's message */
	int sqlerrcode;  /* when !ok: its SQLSTATE (an ERRCODE_ value) */
};

/*
 * Whose rights a statement is planned with. Planning runs user code (the planner folds STABLE and
 * IMMUTABLE functions, a VOLATILE one may be called from them), so a captured statement is planned as the
 * role that ran it, with the search_path it ran with, under SECURITY_RESTRICTED_OPERATION, and cut off
 * after timeout_ms — as PostgreSQL's own maintenance commands run user code (docs/security.md).
 */
struct PlanAs {
	std::uint32_t role;      /* the role's OID: must exist; planning never runs as anyone else */
	const char *search_path; /* the statement's own; never empty */
	int timeout_ms;          /* > 0 */
};

/*
 * Parses, analyzes and plans ONE statement (SELECT/INSERT/UPDATE/DELETE; $n parameters are allowed and
 * planned generically with their types inferred, like PREPARE) with the given hypothetical btree indexes
 * visible to the planner besides the real ones (count 0..kMaxHypoIndexes). Never raises: an ERROR while
 * parsing, checking privileges or planning is caught in an internal subtransaction and reported with
 * ok = false (a query cancel that is not the timeout's is thrown as pg::PgError). Executes nothing but the
 * functions planning folds. With `as`, planning runs as described at PlanAs; with nullptr, with the
 * caller's own rights and search_path (indexpilot_whatif(): the caller's own statement). Call inside a
 * transaction with an active snapshot.
 */
PlanResult PlanWithHypotheticalIndexes(const char *sql, const PlanAs *as, const HypoIndex *indexes, int count);

/*
 * The same planning, with no hypothetical index and one real index hidden from the planner (removed from
 * the index list of its table wherever the statement scans it): the plan the statement would get were that
 * index dropped. The lifecycle asks it before retiring an index another one covers.
 */
PlanResult PlanWithoutIndex(const char *sql, const PlanAs *as, std::uint32_t hidden_index);

/* Installs get_relation_info_hook (chained). Called once from _PG_init. */
void WhatIfInit();

} // namespace indexpilot::advisor
