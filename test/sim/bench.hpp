/*
 * bench.hpp — make bench-advisor's figures: IndexPilot's run against the expert's, repetition by repetition
 * (throughput ratio, the worst hot pattern's p95 ratio, both index sets and their bytes), the minimum,
 * median and maximum over the repetitions, and a verdict per goal of issue 12. Computed from the run JSON
 * files crmsim writes; pure C++ (no libpq), so the unit tests compile it.
 */
#pragma once

#include "report.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace sim
{

/* The goals of issue 12. */
constexpr double kMinThroughputRatio = 0.95; // IndexPilot's statements/s over the expert's, every repetition
constexpr double kMaxHotP95Ratio = 1.2;      // IndexPilot's p95 over the expert's, every hot pattern and repetition
constexpr double kMaxBytesRatio = 1.0;       // IndexPilot's index bytes over the expert's, every repetition

/* A secondary index at the end of a run, as the benchmark compares them. */
struct BenchIndex {
	std::string name;
	std::string shape; // "crm.contacts (tenant_id, email)", a partial index with " WHERE (...)"
	int64_t bytes = 0;
	bool valid = true;
	bool rare = false; // a key or INCLUDE column is a field that only rare patterns filter on
};

/* "crm.contacts (tenant_id, email)" from the table and pg_indexes.indexdef; non-btree keeps "USING x". */
std::string IndexShape(const std::string &table, const std::string &indexdef);

/* The non-primary indexes of a run's index list (run[key]: "indexes" or "indexes_before_measured"), by shape. */
std::vector<BenchIndex> SecondaryIndexes(const nlohmann::json &run, const char *key = "indexes");

/* One repetition: IndexPilot's run (crmsim run --mode autoindex) against the expert's (--mode expert). */
struct Repetition {
	int number = 0;
	bool indexpilot_first = true; // from the runs' started_at
	double indexpilot_tps = 0, expert_tps = 0, throughput_ratio = 0;
	double hot_p95_ratio = 0; // the worst (largest) IndexPilot / expert p95 over the hot patterns
	std::string hot_p95_pattern;
	std::vector<BenchIndex> indexpilot_set, expert_set; // valid secondary indexes as the measured run starts
	int64_t indexpilot_bytes = 0, expert_bytes = 0;
	double bytes_ratio = 0;
	double cpu_ratio = 0;                  // backend CPU per statement, IndexPilot's over the expert's; 0: not measured
	std::vector<std::string> rare_indexes; // IndexPilot's indexes on rare fields
	std::vector<std::string> notes;        // what else a reader should know (errors, builds in the measured run)
};

Repetition CompareRepetition(int number, const nlohmann::json &indexpilot, const nlohmann::json &expert);

/* The set's identity: its shapes, sorted, joined with "; ". */
std::string SetKey(const std::vector<BenchIndex> &set);

/* Median (the mean of the middle two for an even count); 0 for none. */
double Median(std::vector<double> values);

/* One verdict per goal, read on the worst repetition (the minimum throughput ratio, the maximum p95 ratio). */
std::vector<Criterion> BenchGoals(const std::vector<Repetition> &reps);

/* The whole printout of one form: the table, min/median/max rows, the index sets, notes and verdicts. */
std::string BenchTable(const std::string &title, const std::vector<Repetition> &reps);

} // namespace sim
