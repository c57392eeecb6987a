/*
 * core/costmodel.hpp — IndexPilot's cost model: candidates from captured shapes, their costs, and what a
 * decision records (the choice itself is core/selection.hpp). Pure C++ (no PostgreSQL headers), covered
 * by test/unit.
 *
 * Units are the planner's cost units throughout; rates are per second. The planner itself (what-if
 * costing with hypothetical indexes) is reached through callbacks, so this file can be tested with a model
 * planner. docs/cost-model.md explains every formula with a worked example.
 */
#pragma once

#include "indexpilot/core/shape.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace indexpilot::core
{

/* One managed table, as the advisor reads it from the catalogs. */
struct TableInfo {
	std::uint32_t relid = 0;
	std::string name;                                /* qualified, for messages */
	std::int16_t tenant_attnum = 0;                  /* 0: no tenant key */
	std::vector<std::int16_t> expressed;             /* fields some tenant expresses (or core): the only candidates */
	std::vector<std::vector<std::int16_t>> existing; /* key columns of valid, non-partial indexes */
	double tuples = 0;                               /* live rows */
	double pages = 0;                                /* heap pages */
	double writes_per_second = 0;                    /* inserts + updates + deletes */
	int indexpilot_indexes = 0;                      /* indexes IndexPilot already built on it */
};

/* A statement's true counts over the statistics window: every execution, walked for shapes or not. */
struct StatementStat {
	std::int64_t queryid = 0;
	double calls = 0;         /* executions */
	double sampled_calls = 0; /* executions whose plan was walked */
	double total_ms = 0;      /* their time, executions cut short included */
};

/* A captured shape of one statement (query id), aggregated over the statistics window. */
struct ShapeStat {
	std::uint32_t relid = 0;
	bool join = false;
	std::vector<std::int16_t> attnums;
	std::vector<OpKind> ops;
	std::string tenant;       /* empty: not attributed to one tenant */
	std::int64_t queryid = 0; /* the statement that showed it, 0 if not known */
	/* As captured: walked executions that showed it, their time, and the traffic they stand for by weight. */
	double sampled_calls = 0;
	double sampled_ms = 0;
	double weighted_calls = 0;
	/* Estimated from the statement's true counts (EstimateShapes), with 95% upper confidence bounds. */
	double calls = 0;
	double total_ms = 0;
	double calls_upper = 0;
	double ms_upper = 0;
};

/*
 * Estimates each shape's calls and time from its statement's true counts: a statement executed T times in
 * T_ms, n of them walked, k of those showing the shape, gives T x k/n calls and T_ms x k/n time; the upper
 * bounds use the Wilson score interval of k/n (z = 1.96). A shape whose statement has no counts (query
 * id unknown, counters evicted) keeps what sampling says: its weighted calls, its time scaled alike.
 */
void EstimateShapes(std::vector<ShapeStat> &shapes, const std::vector<StatementStat> &statements);

/* Upper bound of the Wilson score interval for k successes in n trials (k may exceed n: returns k/n). */
double WilsonUpper(double k, double n, double z = 1.96);

enum class CandidateKind { Single, TenantComposite, MultiColumn, Partial, Covering };
const char *CandidateKindName(CandidateKind kind) noexcept;

struct Candidate {
	std::uint32_t relid = 0;
	std::vector<std::int16_t> columns; /* index key order */
	std::vector<std::int16_t> include; /* a covering candidate's INCLUDE columns (ascending), else empty */
	std::vector<OpKind> ops;           /* how the shapes constrain each column (parallel to columns) */
	std::string partial_tenant;        /* non-empty: WHERE <tenant key> = this value */
	CandidateKind kind = CandidateKind::Single;
	double calls = 0;                   /* calls of the shapes it could serve */
	std::vector<std::int64_t> queryids; /* statements to re-plan: those of the shapes it was made for */
	std::vector<std::int64_t> others;   /* the table's other statements (of shapes that are not rare): re-planned
										   too, and counted only where the planner uses the index (an order, a
										   min/max, a key it serves though their filters name other columns) */
	bool operator==(const Candidate &other) const
	{
		return relid == other.relid && columns == other.columns && partial_tenant == other.partial_tenant &&
			   include == other.include;
	}
};

/*
 * Rarity is judged on a shape's estimated share of the database's statements and execution time in the
 * window, on the upper confidence bound (a shape is called rare only when it surely is): rare when its calls
 * are under min_call_share of all statements or under min_calls, unless its time says otherwise. A shape
 * with at least kNeverRareShare of the calls or of the time is never rare; one with at least min_time_share
 * of the time is not rare when its statements are slow (mean time per call at least slow_ms): a
 * rarely run statement that takes long, not a fast one whose share grew because the rest got faster.
 */
inline constexpr double kNeverRareShare = 0.10;
struct CandidateOptions {
	double min_calls = 10;          /* fewer estimated calls in the window than this: rare (unless its time says not) */
	double min_call_share = 0.02;   /* ... or less than this share of all statements in the window */
	double min_time_share = 0.05;   /* ... a slow shape with at least this share of the execution time is not rare */
	double slow_ms = 10;            /* mean ms per call from which a shape is slow; < 0: every shape is */
	double total_calls = 0;         /* all statements in the window (GenerateCandidates fills it in) */
	double total_ms = 0;            /* their execution time (GenerateCandidates fills it in) */
	double partial_dominance = 0.5; /* one tenant with this share of a shape's calls gets a partial index */
	int max_partial_per_table = 2;
	int max_columns = 4;
};

/*
 * Candidates for the filter and join shapes that are not rare (IsRare; the totals are the statements'
 * true counts, or the shapes' own sums when there are none), on managed tables, over expressed fields only: single
 * columns, tenant-leading composites, the conjunction (equality columns before one range column) and partial indexes
 * for dominant tenants. Candidates an existing index already serves (its leading columns equal the candidate's, or the
 * same set for equality-only candidates) are left out. Deterministic order.
 */
std::vector<Candidate> GenerateCandidates(const std::vector<TableInfo> &tables, const std::vector<ShapeStat> &shapes,
										  const std::vector<StatementStat> &statements, CandidateOptions &options);

/* The columns of each table a statement reads (query id -> table -> attnums), as its plan says. */
using ReadColumns = std::map<std::int64_t, std::map<std::uint32_t, std::vector<std::int16_t>>>;

inline constexpr int kMaxIncludeColumns = 3;

/*
 * Covering forms: for each candidate that is neither partial nor covering, the same key with the other
 * columns its statements read from the table as INCLUDE columns, so that an index-only scan can serve
 * them — when those are 1 to kMaxIncludeColumns expressed fields (an unexpressed field is never indexed,
 * not even as an INCLUDE column) and key and INCLUDE columns together are at most max_columns. The
 * planner's cost then says whether the index-only scan pays for the wider index. Appended after the
 * candidates, deterministic order; none for a key an existing index already has.
 */
void AddCoveringCandidates(std::vector<Candidate> &candidates, const std::vector<TableInfo> &tables,
						   const ReadColumns &read, int max_columns = 8);

/* True when shapes with these upper bounds of calls and time, and this mean time per call, are rare under the
 * options (and their totals). */
bool IsRare(double calls_upper, double ms_upper, double mean_ms, const CandidateOptions &options);

/*
 * True when an index with key columns `index` serves everything `candidate` would: its leading columns are
 * the candidate's (a partial candidate: the tenant key, then the candidate's), or, for a candidate whose
 * columns are all equality-constrained, the same set in another order.
 */
bool Covers(const std::vector<std::int16_t> &index, const Candidate &candidate, std::int16_t tenant_attnum);

/* Planner cost settings the formulas use (the server's values are passed in). */
struct CostSettings {
	double seq_page_cost = 1.0;
	double random_page_cost = 4.0;
	double cpu_tuple_cost = 0.01;
	double cpu_index_tuple_cost = 0.005;
	double cpu_operator_cost = 0.0025;
};

/* One-time cost of building an index: read the heap, sort the keys, write the index. */
double BuildCost(double heap_pages, double tuples, double index_pages, int ncolumns, const CostSettings &settings);

/* Cost of maintaining an index per written row: descend the tree and insert one tuple. */
double WriteCostPerRow(double index_pages, double tuples, int ncolumns, const CostSettings &settings);

struct ModelOptions {
	double horizon_seconds = 86400; /* benefits and write costs are weighed over this span */
	double window_seconds = 3600;   /* the span the calls were counted in (observed, at most the window) */
	/*
	 * The floor rule's span: calls x cost over the statistics window, at the rate observed. A window only
	 * partly observed (a fresh start, a new statement) does not make the floor demand that an index pay
	 * for its build within the few seconds seen so far. 0: window_seconds.
	 */
	double floor_window_seconds = 0;
	double min_improvement = 0.10; /* a candidate must cut its queries' cost by at least this fraction */
	double max_total_bytes = 1e18; /* storage budget for IndexPilot's indexes, all tables */
	int max_per_table = 5;         /* IndexPilot indexes per table */
};

/* What the planner says about one candidate on its own, against today's catalog. */
struct Benefit {
	double cost_without = 0; /* sum over the candidate's statements of cost x calls, as they run today */
	double cost_with = 0;    /* the same with the candidate alone added */
	double calls = 0;        /* calls of those statements in the window */
	bool used = false;       /* the planner used the candidate for at least one statement */
};

/* Estimated size (bytes, pages) of candidate i. */
struct SizeEstimate {
	double bytes = 0;
	double pages = 0;
};
using SizeOracle = std::function<SizeEstimate(int candidate)>;

enum class Verdict {
	Chosen,
	NotUsed,
	TooRare,
	BelowFloor,
	TooLittleGain,
	NotWorthIt,
	OverBudget,
	TableFull,
	Redundant,
	Superseded,        /* passes on its own, but chosen rivals serve its statements: what is left does not repay it */
	IncumbentKept,     /* would have replaced an earlier proposal, but not by the hysteresis margin */
	IncludeDoesNotPay, /* a covering form whose INCLUDE columns save too little for their bytes (IncludePays) */
	NotCosted          /* the index could not be described (sized) on its table: left out of the selection */
};
const char *VerdictName(Verdict verdict) noexcept;

/* Every number behind a decision; stored with it in mutation_log. */
struct Evaluation {
	int candidate = -1;
	Verdict verdict = Verdict::NotUsed;
	int rank = 0;           /* build order among the chosen, 1 first (highest standalone net value); 0: not chosen */
	int rival = -1;         /* superseded, redundant or kept out: the chosen candidate that serves its statements;
							   include_columns_do_not_pay: its key-only form */
	bool incumbent = false; /* proposed in an earlier cycle and not built yet */
	bool exact = false;     /* this cycle's chosen set is proven optimal (branch and bound), not a local optimum */
	Benefit benefit;
	SizeEstimate size;
	double benefit_per_second = 0; /* sum over its statements of max(0, saving) / window */
	double write_cost_per_second = 0;
	double build_cost = 0;
	double net_value = 0;                  /* (benefit - write) x horizon - build */
	double floor_value = 0;                /* calls x average query cost, the original rule's left side */
	double marginal_value = 0;             /* chosen: what the chosen set loses without it; others: what it would add */
	std::vector<std::int64_t> also_serves; /* of Candidate::others, those whose plans use it (ascending) */
};

} // namespace indexpilot::core
