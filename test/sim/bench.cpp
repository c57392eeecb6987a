/*
 * bench.cpp — make bench-advisor's comparison of IndexPilot and the expert (see bench.hpp). Reads only the
 * run JSON documents crmsim writes.
 */
#include "bench.hpp"

#include "sim_logic.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

using nlohmann::json;

namespace sim
{

static std::string
Size(int64_t bytes)
{
	double mb = double(bytes) / (1024.0 * 1024.0);
	return mb >= 10 ? Fmt("%.1f MB", mb) : Fmt("%.2f MB", mb);
}

static std::string
StrOf(const json &j, const char *key)
{
	return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

std::string
IndexShape(const std::string &table, const std::string &indexdef)
{
	auto at = indexdef.find(" USING ");
	std::string rest = at == std::string::npos ? indexdef : indexdef.substr(at + 7);
	if (rest.rfind("btree ", 0) == 0)
		rest = rest.substr(6);
	else
		rest = "USING " + rest;
	return table + " " + rest;
}

/* True when a column of the index is the field of a rare pattern on the same table. */
static bool
OnRareField(const std::string &table, const std::string &indexdef)
{
	for (const std::string &col : IndexColumns(indexdef))
		for (const auto &p : kPatterns)
			if (p.cls == PatternClass::Rare && table == p.table && col == p.field)
				return true;
	return false;
}

std::vector<BenchIndex>
SecondaryIndexes(const json &run, const char *key)
{
	std::vector<BenchIndex> out;
	if (!run.contains(key) || !run[key].is_array())
		return out;
	for (const auto &i : run[key]) {
		if (i.value("primary", false))
			continue;
		BenchIndex b;
		const std::string table = StrOf(i, "table"), def = StrOf(i, "definition");
		b.name = StrOf(i, "name");
		b.shape = IndexShape(table, def);
		b.bytes = i.value("size_bytes", int64_t(0));
		b.valid = i.value("valid", true);
		b.rare = OnRareField(table, def);
		out.push_back(b);
	}
	std::sort(out.begin(), out.end(), [](const BenchIndex &a, const BenchIndex &b) { return a.shape < b.shape; });
	return out;
}

std::string
SetKey(const std::vector<BenchIndex> &set)
{
	std::string key;
	for (const auto &i : set)
		key += (key.empty() ? "" : "; ") + i.shape;
	return key.empty() ? "(none)" : key;
}

static std::vector<BenchIndex>
ValidOnly(const std::vector<BenchIndex> &all)
{
	std::vector<BenchIndex> v;
	for (const auto &i : all)
		if (i.valid)
			v.push_back(i);
	return v;
}

static int64_t
Bytes(const std::vector<BenchIndex> &set)
{
	int64_t sum = 0;
	for (const auto &i : set)
		sum += i.bytes;
	return sum;
}

static uint64_t
Errors(const json &run)
{
	return run.value("total_errors", uint64_t(0));
}

Repetition
CompareRepetition(int number, const json &indexpilot, const json &expert)
{
	Repetition r;
	r.number = number;
	const std::string ip_start = indexpilot.contains("meta") ? StrOf(indexpilot["meta"], "started_at") : "";
	const std::string ex_start = expert.contains("meta") ? StrOf(expert["meta"], "started_at") : "";
	r.indexpilot_first = ip_start <= ex_start; // "YYYY-MM-DD HH:MM:SS+00": text order is time order
	r.indexpilot_tps = indexpilot.value("throughput_per_s", 0.0);
	r.expert_tps = expert.value("throughput_per_s", 0.0);
	r.throughput_ratio = r.expert_tps > 0 ? r.indexpilot_tps / r.expert_tps : 0;
	double ip_cpu = indexpilot.value("backend_cpu_us_per_statement", 0.0);
	double ex_cpu = expert.value("backend_cpu_us_per_statement", 0.0);
	r.cpu_ratio = ip_cpu > 0 && ex_cpu > 0 ? ip_cpu / ex_cpu : 0;

	// the worst hot pattern: the largest p95 ratio; a pattern without samples on either side cannot be judged
	if (indexpilot.contains("patterns") && expert.contains("patterns"))
		for (const auto &p : indexpilot["patterns"]) {
			if (StrOf(p, "class") != "hot")
				continue;
			for (const auto &q : expert["patterns"]) {
				if (StrOf(q, "name") != StrOf(p, "name"))
					continue;
				double a = p.value("p95_ms", 0.0), b = q.value("p95_ms", 0.0);
				if (p.value("count", 0) == 0 || q.value("count", 0) == 0 || !(b > 0)) {
					r.notes.push_back(StrOf(p, "name") + ": no p95 on one side (no statements measured)");
					continue;
				}
				if (a / b > r.hot_p95_ratio) {
					r.hot_p95_ratio = a / b;
					r.hot_p95_pattern = StrOf(p, "name");
				}
			}
		}

	// The sets as the measured run starts (both just built): its inserts, which grow with its throughput, would
	// otherwise make the faster arm's indexes look bigger.
	auto at_start = [](const json &run) {
		return SecondaryIndexes(run, run.contains("indexes_before_measured") ? "indexes_before_measured" : "indexes");
	};
	std::vector<BenchIndex> ip_all = at_start(indexpilot), ex_all = at_start(expert);
	std::vector<BenchIndex> ip_end = ValidOnly(SecondaryIndexes(indexpilot));
	r.indexpilot_set = ValidOnly(ip_all);
	r.expert_set = ValidOnly(ex_all);
	r.indexpilot_bytes = Bytes(r.indexpilot_set);
	r.expert_bytes = Bytes(r.expert_set);
	r.bytes_ratio = r.expert_bytes > 0 ? double(r.indexpilot_bytes) / double(r.expert_bytes) : 0;
	for (const auto &i : r.indexpilot_set)
		if (i.rare)
			r.rare_indexes.push_back(i.shape);
	for (const auto &i : ip_all)
		if (!i.valid)
			r.notes.push_back("IndexPilot: INVALID index " + i.name + " (" + i.shape + "), not counted");
	for (const auto &i : ex_all)
		if (!i.valid)
			r.notes.push_back("expert: INVALID index " + i.name + " (" + i.shape + ")");

	// Every index of IndexPilot's copy is its own (the copy starts with primary keys only): say when the log
	// does not show one as built, and what changed while the measured run ran.
	std::set<std::string> logged;
	if (indexpilot.contains("mutations") && indexpilot["mutations"].is_array())
		for (const auto &m : indexpilot["mutations"])
			if (StrOf(m, "kind") == "index_build_finished") {
				std::string t = StrOf(m, "target_index");
				logged.insert(t.substr(t.rfind('.') == std::string::npos ? 0 : t.rfind('.') + 1));
			}
	std::set<std::string> unlogged;
	for (const auto *set : {&r.indexpilot_set, &ip_end})
		for (const auto &i : *set)
			if (!logged.count(i.name) && unlogged.insert(i.name).second)
				r.notes.push_back("IndexPilot: " + i.name + " (" + i.shape + ") has no index_build_finished row");
	if (SetKey(ip_end) != SetKey(r.indexpilot_set))
		r.notes.push_back("IndexPilot's set changed during the measured run; at its end: " + SetKey(ip_end));
	if (indexpilot.contains("indexpilot") && indexpilot["indexpilot"].contains("decide")) {
		const json &d = indexpilot["indexpilot"]["decide"];
		std::string n = "IndexPilot " + StrOf(d, "summary") + ", " + Fmt("%.1f s", d.value("seconds", 0.0));
		if (expert.contains("expert_indexes"))
			n += "; the expert's CREATE INDEX took " + Fmt("%.1f s", expert["expert_indexes"].value("seconds", 0.0));
		r.notes.push_back(n);
	}
	if (indexpilot.contains("pair_throughput_ratios") && !indexpilot["pair_throughput_ratios"].empty()) {
		std::vector<double> pairs = indexpilot["pair_throughput_ratios"].get<std::vector<double>>();
		r.notes.push_back("measured in " + std::to_string(pairs.size()) +
						  " alternating slices; their throughput ratios from " +
						  Fmt("%.3f", *std::min_element(pairs.begin(), pairs.end())) + " to " +
						  Fmt("%.3f", *std::max_element(pairs.begin(), pairs.end())));
	}
	if (Errors(indexpilot) || Errors(expert))
		r.notes.push_back("statement errors in the measured runs: IndexPilot " + std::to_string(Errors(indexpilot)) +
						  ", expert " + std::to_string(Errors(expert)));
	return r;
}

double
Median(std::vector<double> v)
{
	if (v.empty())
		return 0;
	std::sort(v.begin(), v.end());
	size_t n = v.size();
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::vector<Criterion>
BenchGoals(const std::vector<Repetition> &reps)
{
	std::vector<Criterion> goals;
	if (reps.empty())
		return goals;
	const std::string n = std::to_string(reps.size());
	const std::string each = reps.size() == 1 ? " in the 1 repetition" : " in each of the " + n + " repetitions";

	const Repetition *low = &reps[0], *high = &reps[0], *fat = &reps[0];
	for (const auto &r : reps) {
		if (r.throughput_ratio < low->throughput_ratio)
			low = &r;
		if (r.hot_p95_ratio > high->hot_p95_ratio)
			high = &r;
		if (r.bytes_ratio > fat->bytes_ratio)
			fat = &r;
	}
	goals.push_back(
		{"throughput ratio to the expert >= " + Fmt("%.2f", kMinThroughputRatio) + each,
		 low->throughput_ratio >= kMinThroughputRatio,
		 "minimum " + Fmt("%.3f", low->throughput_ratio) + " (repetition " + std::to_string(low->number) + ")"});
	goals.push_back({"hot-pattern p95 within " + Fmt("%.1f", kMaxHotP95Ratio) + "x of the expert's" + each,
					 high->hot_p95_ratio <= kMaxHotP95Ratio && high->hot_p95_ratio > 0,
					 "worst " + Fmt("%.3f", high->hot_p95_ratio) + " (" + high->hot_p95_pattern + ", repetition " +
						 std::to_string(high->number) + ")"});
	goals.push_back({"IndexPilot's index bytes <= the expert's" + each, fat->bytes_ratio <= kMaxBytesRatio,
					 "largest ratio " + Fmt("%.3f", fat->bytes_ratio) + " (" + Size(fat->indexpilot_bytes) +
						 " against " + Size(fat->expert_bytes) + ", repetition " + std::to_string(fat->number) + ")"});

	std::string rare_detail;
	std::set<std::string> rare_fields;
	for (const auto &p : kPatterns)
		if (p.cls == PatternClass::Rare)
			rare_fields.insert(std::string(p.table) + "." + p.field);
	for (const auto &r : reps)
		for (const auto &s : r.rare_indexes)
			rare_detail += (rare_detail.empty() ? "" : "; ") + ("repetition " + std::to_string(r.number) + ": " + s);
	std::string fields;
	for (const auto &f : rare_fields)
		fields += (fields.empty() ? "" : ", ") + f;
	goals.push_back({"no IndexPilot index on a rare field (" + fields + ")", rare_detail.empty(),
					 rare_detail.empty() ? "none in any repetition" : rare_detail});

	std::map<std::string, std::vector<int>> sets;
	for (const auto &r : reps)
		sets[SetKey(r.indexpilot_set)].push_back(r.number);
	goals.push_back({"identical IndexPilot index sets across the " + n + " repetition" + (reps.size() == 1 ? "" : "s"),
					 sets.size() == 1, std::to_string(sets.size()) + " distinct set" + (sets.size() == 1 ? "" : "s")});
	return goals;
}

/* Fixed-width columns: the table reads the same in a terminal and in a Markdown code block. */
static std::string
Pad(const std::string &s, size_t width, bool right = true)
{
	if (s.size() >= width)
		return s;
	return right ? std::string(width - s.size(), ' ') + s : s + std::string(width - s.size(), ' ');
}

std::string
BenchTable(const std::string &title, const std::vector<Repetition> &reps)
{
	std::ostringstream out;
	out << title << "\n\n";
	// set labels A, B, ... in order of first appearance
	std::vector<std::string> keys;
	std::map<std::string, std::vector<int>> members;
	for (const auto &r : reps) {
		std::string k = SetKey(r.indexpilot_set);
		if (!members.count(k))
			keys.push_back(k);
		members[k].push_back(r.number);
	}
	auto label = [&](const std::string &k) {
		size_t i = size_t(std::find(keys.begin(), keys.end(), k) - keys.begin());
		return i < 26 ? std::string(1, char('A' + i)) : std::to_string(i + 1);
	};

	out << Pad("rep", 6, false) << Pad("order", 12, false) << Pad("IP stmt/s", 11) << Pad("expert stmt/s", 15)
		<< Pad("throughput", 12) << Pad("hot p95", 9) << "  " << Pad("worst hot pattern", 27, false)
		<< Pad("IP bytes", 10) << Pad("expert bytes", 14) << Pad("bytes", 7) << Pad("CPU/stmt", 10) << "  set\n";
	std::vector<double> tput, p95, bytes, cpu;
	auto ratio = [](double v) { return v > 0 ? Fmt("%.3f", v) : std::string("-"); };
	for (const auto &r : reps) {
		tput.push_back(r.throughput_ratio);
		p95.push_back(r.hot_p95_ratio);
		bytes.push_back(r.bytes_ratio);
		if (r.cpu_ratio > 0)
			cpu.push_back(r.cpu_ratio);
		out << Pad(std::to_string(r.number), 6, false)
			<< Pad(r.indexpilot_first ? "IP first" : "expert first", 12, false)
			<< Pad(Fmt("%.1f", r.indexpilot_tps), 11) << Pad(Fmt("%.1f", r.expert_tps), 15)
			<< Pad(Fmt("%.3f", r.throughput_ratio), 12) << Pad(Fmt("%.3f", r.hot_p95_ratio), 9) << "  "
			<< Pad(r.hot_p95_pattern, 27, false) << Pad(Size(r.indexpilot_bytes), 10) << Pad(Size(r.expert_bytes), 14)
			<< Pad(Fmt("%.3f", r.bytes_ratio), 7) << Pad(ratio(r.cpu_ratio), 10) << "  "
			<< label(SetKey(r.indexpilot_set)) << "\n";
	}
	auto lo = [](const std::vector<double> &v) { return v.empty() ? 0 : *std::min_element(v.begin(), v.end()); };
	auto mid = [](const std::vector<double> &v) { return Median(v); };
	auto hi = [](const std::vector<double> &v) { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); };
	auto summary = [&](const char *name, double (*of)(const std::vector<double> &)) {
		out << Pad(name, 6 + 12 + 11 + 15, false) << Pad(Fmt("%.3f", of(tput)), 12) << Pad(Fmt("%.3f", of(p95)), 9)
			<< "  " << Pad("", 27 + 10 + 14, false) << Pad(Fmt("%.3f", of(bytes)), 7) << Pad(ratio(of(cpu)), 10)
			<< "\n";
	};
	summary("min", lo);
	summary("median", mid);
	summary("max", hi);

	out << "\nthroughput: IndexPilot's statements/s over the expert's. hot p95: the largest IndexPilot/expert p95 "
		   "ratio\nover the hot patterns. bytes: IndexPilot's index bytes over the expert's (pg_relation_size as "
		   "the\nmeasured run starts, right after the builds). CPU/stmt: the clients' server backends' CPU time "
		   "per\nstatement, IndexPilot's over the expert's (not a goal: a cross-check that other load on the "
		   "machine\nchanges less than throughput; IndexPilot's own workers are not in it).\n";
	out << "\nIndexPilot's index sets (sizes from the first repetition that has the set):\n";
	for (const auto &k : keys) {
		const Repetition *first = nullptr;
		for (const auto &r : reps)
			if (!first && SetKey(r.indexpilot_set) == k)
				first = &r;
		std::string rs;
		for (int n : members[k])
			rs += (rs.empty() ? "" : ", ") + std::to_string(n);
		out << "  " << label(k) << " (repetition" << (members[k].size() > 1 ? "s " : " ") << rs
			<< "): " << first->indexpilot_set.size() << " index" << (first->indexpilot_set.size() == 1 ? "" : "es")
			<< ", " << Size(first->indexpilot_bytes) << "\n";
		for (const auto &i : first->indexpilot_set)
			out << "    " << Pad(i.shape, 72, false) << Pad(Size(i.bytes), 10) << (i.rare ? "  (rare field)" : "")
				<< "\n";
	}
	std::set<std::string> expert_sets;
	for (const auto &r : reps)
		expert_sets.insert(SetKey(r.expert_set));
	if (!reps.empty()) {
		out << "\nThe expert's set" << (expert_sets.size() == 1 ? " (the same in every repetition)" : "")
			<< ", sizes from repetition 1: " << reps[0].expert_set.size() << " indexes, " << Size(reps[0].expert_bytes)
			<< "\n";
		for (const auto &i : reps[0].expert_set)
			out << "    " << Pad(i.shape, 72, false) << Pad(Size(i.bytes), 10) << "\n";
		if (expert_sets.size() != 1)
			out << "  (the expert's set differs between repetitions: the harness did not build the same one)\n";
	}
	bool any_note = false;
	for (const auto &r : reps)
		for (const auto &n : r.notes) {
			if (!any_note)
				out << "\nNotes:\n";
			any_note = true;
			out << "  repetition " << r.number << ": " << n << "\n";
		}
	out << "\nGoals (the worst repetition decides):\n";
	for (const auto &g : BenchGoals(reps))
		out << "  " << (g.met ? "met    " : "NOT MET") << "  " << g.name << ": " << g.detail << "\n";
	return out.str();
}

} // namespace sim
