/*
 * core/selection.hpp — whole-workload index selection: which candidates to build so that the workload's
 * estimated cost plus the indexes' build and write costs is smallest, under the storage budget and the
 * per-table maximum, with hysteresis towards the proposals already made. Pure C++ (no PostgreSQL headers),
 * covered by test/unit/test_selection.cpp; docs/cost-model.md gives the model and why this solver.
 *
 * Model (atomic configurations): each statement's access to a table uses at most one candidate, so a set S
 * saves, on that access, the largest saving of any one candidate of S alone. The planner is asked once per
 * (statement, candidate) and once per statement without any; at the end, each table's statements are
 * planned once with all the chosen candidates of that table together.
 */
#pragma once

#include "indexpilot/core/costmodel.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace indexpilot::core
{

/* What the planner says about one call of a statement, with no candidate or with exactly one. */
struct StatementCost {
	bool ok = false;   /* false: the planner rejected the statement; it is left out */
	double cost = 0;   /* total plan cost of one call */
	bool uses = false; /* the plan uses the candidate */
};

/* statement: a query id of Candidate::queryids; candidate: an index into the candidates, -1 for none. */
using StatementOracle = std::function<StatementCost(std::int64_t statement, int candidate)>;

/* Which of `set` (candidate indexes) the statement's plan uses with all of them present, element k for
 * set[k]; nullopt when it could not be planned so. */
using TogetherOracle =
	std::function<std::optional<std::vector<bool>>(std::int64_t statement, const std::vector<int> &set)>;

struct SelectionInput {
	std::vector<Candidate> candidates;
	std::vector<TableInfo> tables;
	std::map<std::int64_t, double> calls; /* per statement, in the statistics window */
	std::vector<bool> incumbent;          /* parallel to candidates: proposed before, not built yet */
	ModelOptions model;
	CostSettings settings;
	SizeOracle size;
	StatementOracle statement;
	TogetherOracle together; /* optional: the planner's check of each table's chosen set */
	/* An incumbent's savings count (1 + hysteresis) times: a rival for the same statements replaces it only
	 * when it saves more than that, net of its own costs. */
	double hysteresis = 0.10;
	long max_nodes = 100000; /* branch and bound stops there (about 1 s); its best set so far stands */
};

/*
 * Tests each candidate on its own against today's catalog — the planner uses it, not rare, the floor rule
 * (its statements' calls x cost > build cost), min_improvement, net value over the horizon > 0, INCLUDE
 * columns that pay (IncludePays, against the key-only candidates of its table), fits the
 * budget and its table alone — then chooses among those that pass the set of largest total value (savings
 * of the workload over the horizon minus build and write costs) under the budgets, and lets the planner
 * check each table's chosen set together. Returns one evaluation per candidate: the chosen ones first,
 * highest standalone net value first (the build order), then the others in candidate order. Deterministic;
 * ties go to the set that holds the earliest candidate where two sets differ.
 */
std::vector<Evaluation> SelectIndexes(const SelectionInput &input);

/*
 * INCLUDE columns must earn their bytes: a covering candidate passes only when, against every key-only
 * candidate on its table (its own key without them, and the other keys that serve its statements), what it
 * saves beyond that one on its statements, per extra byte, is at least kIncludeValueShare of what that one
 * saves there per byte (savings in the planner's cost over the window). The planner costs an index-only
 * scan from the table's all-visible fraction at its last vacuum, and every heap visit it avoids as a page
 * read, where a cached working set and a table being written make the avoided visits cheap and the
 * fraction optimistic; PostgreSQL's documentation advises being conservative with non-key columns, wide
 * ones above all. A key-only candidate that saves nothing on those statements, or is no smaller, sets no
 * bar. Without the other keys, `(industry) INCLUDE (tenant_id, ...)` (the tenant filtered in an INCLUDE
 * column) passed against `(industry)` and was built where `(tenant_id, industry)` serves as well. When an
 * existing index serves its statements today, the covering candidate (a whole new index beside it) must
 * also pay against that one: what today's plan saves the statements against a scan of the table (pages x
 * seq_page_cost + rows x cpu_tuple_cost, per call), per byte of its own key without INCLUDE columns.
 */
inline constexpr double kIncludeValueShare = 0.10;
bool IncludePays(double extra_saving, double extra_bytes, double key_saving, double key_bytes);

/* ---- the combinatorial problem underneath (exposed for tests and measurements) ---------------------------- */

struct SelectionProblem {
	struct Item {
		int group = 0;                             /* its table: at most capacity[group] items of it */
		double bytes = 0;                          /* counts against the budget */
		double fixed = 0;                          /* build cost + write cost over the horizon */
		std::vector<std::pair<int, double>> gains; /* (unit, saving): a unit is saved its largest gain */
	};
	std::vector<Item> items;
	std::vector<int> capacity;
	double budget = 1e18;
	int units = 0;
};

struct SelectionSolution {
	std::vector<int> chosen; /* item indexes, ascending */
	double value = 0;        /* Objective(chosen) */
	bool exact = false;      /* proven optimal by branch and bound; false: a local optimum */
	long nodes = 0;          /* branch-and-bound nodes visited */
};

/* Σ over units of the largest gain of a chosen item, minus the chosen items' fixed costs. */
double Objective(const SelectionProblem &problem, const std::vector<int> &chosen);

/* Within the budget and every group's capacity. */
bool Feasible(const SelectionProblem &problem, const std::vector<int> &chosen);

/* Greedy additions (by marginal value, and again by value per byte), each improved by the best add, drop or
 * swap move until none improves; the better of the two. */
SelectionSolution LocalSearch(const SelectionProblem &problem);

/*
 * The best feasible set: each group alone when the union of their optima fits the budget, else all groups
 * together; local search first, then branch and bound from its answer (at most max_nodes nodes per search).
 */
SelectionSolution Solve(const SelectionProblem &problem, long max_nodes);

} // namespace indexpilot::core
