/*
 * report.cpp — the report of the demo's runs (see report.hpp). Reads only the runs' JSON documents.
 */
#include "report.hpp"
#include "sim_logic.hpp"
#include "timeline.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

using nlohmann::json;

namespace sim
{

std::string
Ms(double v)
{
	if (v >= 100)
		return Fmt("%.0f", v);
	if (v >= 10)
		return Fmt("%.1f", v);
	return Fmt("%.3f", v);
}

std::string
HtmlEscape(const std::string &s)
{
	std::string out;
	for (char c : s) {
		switch (c) {
			case '&':
				out += "&amp;";
				break;
			case '<':
				out += "&lt;";
				break;
			case '>':
				out += "&gt;";
				break;
			case '"':
				out += "&quot;";
				break;
			default:
				out += c;
		}
	}
	return out;
}

std::string
Cell(const std::string &s)
{
	std::string out;
	for (char c : s)
		out += c == '|' ? std::string("\\|") : c == '\n' ? std::string(" ") : std::string(1, c);
	return out;
}

std::string
Str(const json &j, const char *key)
{
	if (!j.is_object() || !j.contains(key) || j[key].is_null())
		return "";
	return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

/* A value as a reader wants it: numbers with six significant digits, lists joined, objects as name: value. */
static std::string
Readable(const json &v)
{
	if (v.is_null())
		return "";
	if (v.is_string())
		return v.get<std::string>();
	if (v.is_number_float())
		return Fmt("%.6g", v.get<double>());
	std::string out;
	if (v.is_array()) {
		for (const auto &e : v)
			out += (out.empty() ? "" : ", ") + Readable(e);
		return out;
	}
	if (v.is_object()) {
		for (auto it = v.begin(); it != v.end(); ++it)
			out += (out.empty() ? "" : "; ") + it.key() + ": " + Readable(it.value());
		return out;
	}
	return v.dump();
}

static std::string
Shorten(const std::string &s, size_t n)
{
	return s.size() <= n ? s : s.substr(0, n) + "…";
}

/* The bare name of a relation: schema and quotes removed. */
static std::string
BareName(const std::string &qualified)
{
	std::string s;
	for (char c : qualified)
		if (c != '"')
			s += c;
	auto dot = s.rfind('.');
	return dot == std::string::npos ? s : s.substr(dot + 1);
}

static const json &
Patterns(const json &run)
{
	static const json empty = json::array();
	return run.contains("patterns") ? run["patterns"] : empty;
}

static json
FindPattern(const json &run, const std::string &name)
{
	for (const auto &p : Patterns(run))
		if (p.value("name", "") == name)
			return p;
	return json::object();
}

std::vector<std::string>
IndexColumns(const std::string &indexdef)
{
	std::vector<std::string> cols;
	auto using_pos = indexdef.find(" USING ");
	size_t start = indexdef.find('(', using_pos == std::string::npos ? 0 : using_pos);
	while (start != std::string::npos) {
		int depth = 0;
		size_t i = start;
		std::string cur;
		for (; i < indexdef.size(); i++) {
			char c = indexdef[i];
			if (c == '(') {
				if (depth++ == 0)
					continue;
			} else if (c == ')') {
				if (--depth == 0)
					break;
			}
			if (depth == 1 && c == ',') {
				cols.push_back(cur);
				cur.clear();
			} else {
				cur += c;
			}
		}
		cols.push_back(cur);
		// the INCLUDE list, if any, names columns too; a WHERE clause does not count as a key
		auto inc = indexdef.find(" INCLUDE (", i);
		start = inc == std::string::npos ? std::string::npos : inc + 9;
	}
	for (auto &c : cols) {
		// first token: the column (or expression); drop opclass, ordering and quotes
		size_t b = c.find_first_not_of(' ');
		c = b == std::string::npos ? "" : c.substr(b);
		if (!c.empty() && c[0] == '"') {
			auto e = c.find('"', 1);
			c = c.substr(1, e == std::string::npos ? std::string::npos : e - 1);
		} else {
			c = c.substr(0, c.find(' '));
		}
	}
	cols.erase(std::remove(cols.begin(), cols.end(), std::string()), cols.end());
	return cols;
}

static bool
IsBuildKind(const std::string &kind)
{
	return kind == "index_build_finished";
}

static bool
HasEvidence(const json &row)
{
	return row.is_object() && row.contains("details") && row["details"].is_object() && !row["details"].empty();
}

std::string
ReadableDetails(const json &row)
{
	const std::string kind = Str(row, "kind");
	std::string text = EvidenceText(row);
	if (text != kind)
		return text;
	// a kind the timeline does not describe: its fields as name: value
	return Readable(row.value("details", json::object()));
}

std::vector<BuiltIndex>
BuiltIndexes(const json &before, const json &after)
{
	std::set<std::string> had;
	if (before.contains("indexes"))
		for (const auto &i : before["indexes"])
			had.insert(i.value("name", ""));
	std::map<std::string, BuiltIndex> built;
	if (after.contains("indexes"))
		for (const auto &i : after["indexes"]) {
			std::string name = i.value("name", "");
			if (i.value("primary", false) || had.count(name))
				continue;
			built[name] = BuiltIndex{i.value("table", ""), name, i.value("definition", ""), false, ""};
		}
	if (after.contains("mutations"))
		for (const auto &m : after["mutations"])
			if (IsBuildKind(Str(m, "kind")) && !Str(m, "target_index").empty()) {
				std::string name = BareName(Str(m, "target_index"));
				if (!built.count(name))
					built[name] =
						BuiltIndex{Str(m, "target_table"), name, "(not present at the end of the run)", false, ""};
			}
	std::vector<BuiltIndex> out;
	for (auto &[name, b] : built) {
		// evidence: a mutation about this index with details, in the run's rows or in the index's lineage
		std::vector<const json *> rows;
		if (after.contains("mutations"))
			for (const auto &m : after["mutations"])
				rows.push_back(&m);
		if (after.contains("lineage") && after["lineage"].contains(name))
			for (const auto &m : after["lineage"][name])
				rows.push_back(&m);
		// the proposal's evidence (what the cost model saw) and the build's outcome, as readable text
		std::set<std::string> seen;
		for (const json *m : rows) {
			const std::string kind = Str(*m, "kind");
			if (BareName(Str(*m, "target_index")) != name || !HasEvidence(*m) || seen.count(Str(*m, "id")))
				continue;
			if (kind != "index_proposed" && !IsBuildKind(kind))
				continue;
			seen.insert(Str(*m, "id"));
			b.traceable = true;
			b.evidence += (b.evidence.empty() ? "" : "; ") + kind + " #" + Str(*m, "id") + ": " + ReadableDetails(*m);
		}
		if (!b.traceable)
			b.evidence = "no mutation_log row with details names this index";
		out.push_back(b);
	}
	return out;
}

double
P95Ratio(const json &b, const json &a)
{
	double pb = b.value("p95_ms", 0.0), pa = a.value("p95_ms", 0.0);
	if (b.value("count", 0) == 0 || a.value("count", 0) == 0 || pa <= 0)
		return 0;
	return pb / pa;
}

/* The secondary indexes of a run at its end that are valid, and their bytes. */
static int64_t
SecondaryBytes(const json &run, int *count = nullptr)
{
	int64_t bytes = 0;
	int n = 0;
	for (const auto &i : run.value("indexes", json::array()))
		if (!i.value("primary", false) && i.value("valid", true)) {
			bytes += i.value("size_bytes", int64_t(0));
			n++;
		}
	if (count)
		*count = n;
	return bytes;
}

static std::string
MB(int64_t bytes)
{
	return Fmt("%.1f", double(bytes) / 1048576.0) + " MB";
}

static json
PlanCost(const json &run, const std::string &pattern)
{
	for (const auto &p : run.value("plan_costs", json::array()))
		if (p.value("pattern", "") == pattern)
			return p;
	return json::object();
}

static bool
HasRun(const json &run)
{
	return run.is_object() && run.contains("patterns");
}

static std::string
Names(const json &list)
{
	std::string out;
	for (const auto &n : list)
		out += (out.empty() ? "" : ", ") + n.get<std::string>();
	return out.empty() ? "no index (a scan of the table or its primary key)" : out;
}

json
Convergence(const json &after)
{
	json out = {{"known", false}, {"seconds", nullptr}, {"patterns", json::array()}};
	const json events = after.value("timeline", json::object()).value("events", json::array());
	if (!after.contains("timeline")) {
		out["why"] = "the autoindex run recorded no timeline (it was not decided by the worker alone)";
		return out;
	}
	bool all = true;
	double last = 0;
	int hot = 0;
	for (const auto &p : after.value("plan_costs", json::array())) {
		if (p.value("class", "") != "hot")
			continue;
		hot++;
		json row = {{"pattern", p.value("pattern", "")}, {"index", nullptr}, {"valid_s", nullptr}};
		for (const auto &n : p.value("indexes", json::array()))
			for (const auto &e : events)
				if (IsBuildKind(Str(e, "kind")) && BareName(Str(e, "index")) == n.get<std::string>() &&
					row["valid_s"].is_null()) {
					row["index"] = n;
					row["valid_s"] = e.value("t_s", 0.0);
				}
		if (row["valid_s"].is_null())
			all = false;
		else
			last = std::max(last, row["valid_s"].get<double>());
		out["patterns"].push_back(row);
	}
	if (hot == 0) {
		out["why"] = "the autoindex run recorded no planner costs of the hot patterns";
		return out;
	}
	out["known"] = all;
	if (all)
		out["seconds"] = last;
	else
		out["why"] = "a hot pattern's plan uses no index IndexPilot built during the run";
	return out;
}

std::vector<Criterion>
EvaluateCriteria(const json &before, const json &after, const json &expert, const json &throughput)
{
	std::vector<Criterion> out;

	Criterion hot{"latencies of heavily used filters decrease (p95 of every hot pattern, baseline -> autoindex)", true,
				  ""};
	int hot_patterns = 0;
	for (const auto &b : Patterns(before)) {
		if (b.value("class", "") != "hot")
			continue;
		hot_patterns++;
		json a = FindPattern(after, b.value("name", ""));
		double r = P95Ratio(b, a);
		bool ok = r > 1.0;
		hot.met = hot.met && ok;
		hot.detail += b.value("name", "") + ": " + Ms(b.value("p95_ms", 0.0)) + " ms -> " + Ms(a.value("p95_ms", 0.0)) +
					  " ms (" + (r > 0 ? Fmt("%.1fx", r) : std::string("no data")) + ")" + (ok ? "" : " not lower") +
					  "\n";
	}
	if (hot_patterns == 0) {
		hot.met = false;
		hot.detail = "no hot pattern in the baseline run\n";
	}
	out.push_back(hot);

	Criterion rare{"no index for rarely used fields (contacts.title, organizations.country)", true, ""};
	if (after.contains("indexes"))
		for (const auto &i : after["indexes"]) {
			std::string table = BareName(i.value("table", ""));
			for (const auto &c : IndexColumns(i.value("definition", ""))) {
				if ((table == "contacts" && c == "title") || (table == "organizations" && c == "country")) {
					rare.met = false;
					rare.detail += i.value("name", "") + " covers " + table + "." + c + "\n";
				}
			}
		}
	if (rare.met)
		rare.detail = "none of the " + std::to_string(after.value("indexes", json::array()).size()) +
					  " indexes in schema crm covers them\n";
	out.push_back(rare);

	Criterion trace{"the mutation log gives the lineage: every index IndexPilot built is traceable to its evidence",
					true, ""};
	auto built = BuiltIndexes(before, after);
	for (const auto &b : built) {
		trace.met = trace.met && b.traceable;
		trace.detail += b.name + ": " + (b.traceable ? "traced (" + Shorten(b.evidence, 240) + ")" : b.evidence) + "\n";
	}
	if (built.empty())
		trace.detail = "IndexPilot built no index during the run, so there is nothing to trace (vacuously met)\n";
	out.push_back(trace);

	// against the expert
	Criterion cost{"planner cost of every hot pattern within " + Fmt("%.2g", kExpertCostRatio) +
					   "x of its cost with the expert's indexes (EXPLAIN, the same fixed values)",
				   true, ""};
	Criterion p95{"p95 of every hot pattern within " + Fmt("%.3g", kExpertP95Ratio) +
					  "x of the expert's (measured runs alternating between the two databases)",
				  true, ""};
	Criterion tput{"throughput at saturation at least " + Fmt("%.2g", kExpertThroughputRatio) +
					   "x the expert's in every alternated pair (closed loop)",
				   true, ""};
	Criterion bytes{"IndexPilot's index bytes at most " + Fmt("%.3g", kExpertBytesRatio) + "x the expert's", true, ""};
	if (!HasRun(expert)) {
		for (Criterion *c : {&cost, &p95, &tput, &bytes}) {
			c->met = false;
			c->detail = "no expert run to judge against (crmsim report --expert)\n";
		}
	} else {
		int n = 0;
		for (const auto &a : after.value("plan_costs", json::array())) {
			if (a.value("class", "") != "hot")
				continue;
			n++;
			json e = PlanCost(expert, a.value("pattern", ""));
			double ca = a.value("cost", 0.0), ce = e.value("cost", 0.0);
			bool ok = ce > 0 && ca <= kExpertCostRatio * ce;
			cost.met = cost.met && ok;
			cost.detail += a.value("pattern", "") + ": " + Fmt("%.2f", ca) + " against " + Fmt("%.2f", ce) + " (" +
						   (ce > 0 ? Fmt("%.3f", ca / ce) : std::string("no expert cost")) + ")" +
						   (ok ? "" : " above the limit") + "\n";
		}
		if (n == 0) {
			cost.met = false;
			cost.detail = "the autoindex run recorded no planner costs\n";
		}
		n = 0;
		for (const auto &e : Patterns(expert)) {
			if (e.value("class", "") != "hot")
				continue;
			n++;
			json a = FindPattern(after, e.value("name", ""));
			double r = P95Ratio(a, e); // autoindex p95 / expert p95
			bool ok = r > 0 && r <= kExpertP95Ratio;
			p95.met = p95.met && ok;
			p95.detail += e.value("name", "") + ": " + Ms(a.value("p95_ms", 0.0)) + " ms against " +
						  Ms(e.value("p95_ms", 0.0)) + " ms (" + (r > 0 ? Fmt("%.3f", r) : std::string("no data")) +
						  ")" + (ok ? "" : " above the limit") + "\n";
		}
		if (n == 0) {
			p95.met = false;
			p95.detail = "no hot pattern in the expert's run\n";
		}
		const json pairs =
			throughput.is_object() ? throughput.value("pair_throughput_ratios", json::array()) : json::array();
		if (pairs.empty()) {
			tput.met = false;
			tput.detail = "no closed-loop phase alternated with the expert (crmsim report --throughput)\n";
		} else {
			double worst = 1e300;
			std::string list;
			for (const auto &r : pairs) {
				worst = std::min(worst, r.get<double>());
				list += (list.empty() ? "" : ", ") + Fmt("%.3f", r.get<double>());
			}
			tput.met = worst >= kExpertThroughputRatio;
			tput.detail = "worst pair " + Fmt("%.3f", worst) + " (IndexPilot's statements/s over the expert's, " +
						  std::to_string(pairs.size()) + " pairs: " + list + ")\n";
		}
		int na = 0, ne = 0;
		int64_t ba = SecondaryBytes(after, &na), be = SecondaryBytes(expert, &ne);
		bytes.met = be > 0 && double(ba) <= kExpertBytesRatio * double(be);
		bytes.detail = MB(ba) + " in " + std::to_string(na) + " indexes against " + MB(be) + " in " +
					   std::to_string(ne) + " (" + (be > 0 ? Fmt("%.3f", double(ba) / double(be)) : "no expert index") +
					   ")\n";
	}
	out.push_back(cost);
	out.push_back(p95);
	out.push_back(tput);
	out.push_back(bytes);

	json conv = Convergence(after);
	Criterion converged{"every hot pattern got IndexPilot's index during the run", false, ""};
	converged.met = conv.value("known", false);
	if (converged.met)
		converged.name +=
			": the last was valid " + Fmt("%.0f", conv["seconds"].get<double>()) + " s after the first statement";
	for (const auto &p : conv["patterns"])
		converged.detail +=
			p.value("pattern", "") + ": " +
			(p["valid_s"].is_null() ? std::string("no index IndexPilot built in its plan")
									: Str(p, "index") + " valid at " + Fmt("%.0f", p["valid_s"].get<double>()) + " s") +
			"\n";
	if (!converged.met)
		converged.detail += conv.value("why", std::string("")) + "\n";
	out.push_back(converged);
	return out;
}

std::string
CriteriaText(const std::vector<Criterion> &criteria)
{
	std::ostringstream o;
	bool all = true;
	for (const auto &c : criteria) {
		all = all && c.met;
		o << (c.met ? "  MET      " : "  NOT MET  ") << c.name << "\n";
		std::istringstream lines(c.detail);
		for (std::string line; std::getline(lines, line);)
			o << "             " << line << "\n";
	}
	o << (all ? "success criteria: ALL MET\n" : "success criteria: NOT MET\n");
	return o.str();
}

std::string
PatternTableMarkdown(const json &before, const json &after)
{
	std::ostringstream o;
	o << "| pattern | class | count before | count after | errors before/after | p50 ms before | p50 ms after | "
		 "p95 ms before | p95 ms after | p99 ms before | p99 ms after | p95 ratio |\n";
	o << "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n";
	for (const auto &b : Patterns(before)) {
		json a = FindPattern(after, b.value("name", ""));
		double r = P95Ratio(b, a);
		o << "| " << b.value("name", "") << " | " << b.value("class", "") << " | " << b.value("count", 0) << " | "
		  << a.value("count", 0) << " | " << b.value("errors", 0) << "/" << a.value("errors", 0) << " | "
		  << Ms(b.value("p50_ms", 0.0)) << " | " << Ms(a.value("p50_ms", 0.0)) << " | " << Ms(b.value("p95_ms", 0.0))
		  << " | " << Ms(a.value("p95_ms", 0.0)) << " | " << Ms(b.value("p99_ms", 0.0)) << " | "
		  << Ms(a.value("p99_ms", 0.0)) << " | " << (r > 0 ? Fmt("%.1fx", r) : std::string("-")) << " |\n";
	}
	return o.str();
}

/* ---- plots ------------------------------------------------------------------------------------------- */
static const char *kBeforeColour = "#c0392b";
static const char *kAfterColour = "#2471a3";

static std::vector<uint64_t>
TotalHistogram(const json &run)
{
	std::vector<uint64_t> h;
	for (const auto &p : Patterns(run)) {
		const auto &ph = p.contains("histogram") ? p["histogram"] : json::array();
		if (h.size() < ph.size())
			h.resize(ph.size(), 0);
		for (size_t i = 0; i < ph.size(); i++)
			h[i] += ph[i].get<uint64_t>();
	}
	return h;
}

static std::vector<double>
Edges(const json &run)
{
	return run.contains("histogram_edges_ms") ? run["histogram_edges_ms"].get<std::vector<double>>()
											  : std::vector<double>{};
}

void
SvgOpen(std::ostringstream &o, int W, int H, const char *title)
{
	o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H << "\" viewBox=\"0 0 " << W
	  << " " << H << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
	o << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
	o << "<text x=\"" << W / 2 << "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">" << title << "</text>\n";
}

std::string
SvgNoData(std::ostringstream &o, int W, int H)
{
	o << "<text x=\"" << W / 2 << "\" y=\"" << H / 2 << "\" text-anchor=\"middle\">no data</text>\n</svg>\n";
	return o.str();
}

/*
 * A log-scale latency axis: a vertical grid line and a label at each power of ten from 10^dlo to 10^dhi
 * (X maps ms to x; lines from y = top to y = bottom, labels under bottom), and the caption centred on the
 * plot area from x = left to x = right at y = caption_y.
 */
template <typename XFn>
static void
LogLatencyAxis(std::ostringstream &o, double dlo, double dhi, XFn X, int top, int bottom, int left, int right,
			   int caption_y, const char *caption)
{
	for (double d = dlo; d <= dhi + 1e-9; d += 1) {
		double ms = std::pow(10.0, d);
		o << "<line x1=\"" << X(ms) << "\" x2=\"" << X(ms) << "\" y1=\"" << top << "\" y2=\"" << bottom
		  << "\" stroke=\"#ddd\"/>\n";
		o << "<text x=\"" << X(ms) << "\" y=\"" << bottom + 16 << "\" text-anchor=\"middle\">"
		  << (ms < 1 ? Fmt("%g", ms) : Fmt("%.0f", ms)) << "</text>\n";
	}
	o << "<text x=\"" << (left + right) / 2 << "\" y=\"" << caption_y << "\" text-anchor=\"middle\">" << caption
	  << "</text>\n";
}

std::string
LatencyDistributionSvg(const json &before, const json &after)
{
	const int W = 760, H = 380, L = 60, R = 20, T = 40, B = 50;
	auto edges = Edges(before).empty() ? Edges(after) : Edges(before);
	std::vector<uint64_t> hb = TotalHistogram(before), ha = TotalHistogram(after);
	// x range: the decades that hold data
	size_t lo = edges.size(), hi = 0;
	for (const auto *h : {&hb, &ha})
		for (size_t i = 0; i < h->size() && i < edges.size(); i++)
			if ((*h)[i]) {
				lo = std::min(lo, i);
				hi = std::max(hi, i + 1);
			}
	std::ostringstream o;
	SvgOpen(o, W, H, "Latency distribution, all statements (cumulative)");
	if (edges.empty() || lo >= hi)
		return SvgNoData(o, W, H);
	double dlo = std::floor(std::log10(edges[lo]) + 1e-9);
	double dhi = std::ceil(std::log10(hi < edges.size() ? edges[hi] : edges.back() * 1.26) - 1e-9);
	if (dhi <= dlo)
		dhi = dlo + 1;
	auto X = [&](double ms) { return L + (std::log10(ms) - dlo) / (dhi - dlo) * (W - L - R); };
	auto Y = [&](double frac) { return T + (1 - frac) * (H - T - B); };
	// axes and grid
	for (int pct = 0; pct <= 100; pct += 25) {
		o << "<line x1=\"" << L << "\" x2=\"" << W - R << "\" y1=\"" << Y(pct / 100.0) << "\" y2=\"" << Y(pct / 100.0)
		  << "\" stroke=\"#ddd\"/>\n";
		o << "<text x=\"" << L - 6 << "\" y=\"" << Y(pct / 100.0) + 4 << "\" text-anchor=\"end\">" << pct
		  << "%</text>\n";
	}
	LogLatencyAxis(o, dlo, dhi, X, T, H - B, L, W - R, H - 12, "latency, ms (log scale)");
	o << "<rect x=\"" << L << "\" y=\"" << T << "\" width=\"" << W - L - R << "\" height=\"" << H - T - B
	  << "\" fill=\"none\" stroke=\"#444\"/>\n";
	auto series = [&](const std::vector<uint64_t> &h, const char *colour) {
		uint64_t total = 0;
		for (auto c : h)
			total += c;
		if (!total)
			return;
		o << "<polyline fill=\"none\" stroke=\"" << colour << "\" stroke-width=\"2\" points=\"";
		uint64_t acc = 0;
		o << X(std::pow(10.0, dlo)) << "," << Y(0) << " ";
		for (size_t i = 0; i < h.size() && i < edges.size(); i++) {
			acc += h[i];
			double right = i + 1 < edges.size() ? edges[i + 1] : edges[i] * 1.26;
			if (std::log10(right) > dhi + 1e-9)
				right = std::pow(10.0, dhi);
			if (std::log10(right) < dlo)
				continue;
			o << X(right) << "," << Y(double(acc) / double(total)) << " ";
		}
		o << "\"/>\n";
	};
	series(hb, kBeforeColour);
	series(ha, kAfterColour);
	o << "<rect x=\"" << L + 12 << "\" y=\"" << T + 10 << "\" width=\"12\" height=\"12\" fill=\"" << kBeforeColour
	  << "\"/><text x=\"" << L + 30 << "\" y=\"" << T + 20 << "\">baseline</text>\n";
	o << "<rect x=\"" << L + 12 << "\" y=\"" << T + 28 << "\" width=\"12\" height=\"12\" fill=\"" << kAfterColour
	  << "\"/><text x=\"" << L + 30 << "\" y=\"" << T + 38 << "\">autoindex</text>\n";
	o << "</svg>\n";
	return o.str();
}

std::string
P95PerPatternSvg(const json &before, const json &after)
{
	const auto &pats = Patterns(before);
	// room for the longest label ("contacts_by_custom_text_1 (moderate)") at about 7 px a character
	size_t longest = 0;
	for (const auto &b : pats)
		longest =
			std::max(longest, b.value("name", std::string("")).size() + b.value("class", std::string("")).size() + 3);
	const int L = std::max(200, 16 + 7 * int(longest)), R = 70, T = 40, B = 46, Row = 34, W = L + 560;
	const int H = T + B + Row * int(std::max<size_t>(pats.size(), 1));
	double vmin = 1e18, vmax = 0;
	for (const auto &b : pats) {
		json a = FindPattern(after, b.value("name", ""));
		for (double v : {b.value("p95_ms", 0.0), a.value("p95_ms", 0.0)})
			if (v > 0) {
				vmin = std::min(vmin, v);
				vmax = std::max(vmax, v);
			}
	}
	std::ostringstream o;
	SvgOpen(o, W, H, "p95 latency per pattern");
	if (vmax <= 0)
		return SvgNoData(o, W, H);
	double dlo = std::floor(std::log10(vmin)) - (vmin == vmax ? 1 : 0);
	double dhi = std::ceil(std::log10(vmax) + 1e-9);
	if (dhi <= dlo)
		dhi = dlo + 1;
	auto X = [&](double ms) { return L + (std::log10(ms) - dlo) / (dhi - dlo) * (W - L - R); };
	LogLatencyAxis(o, dlo, dhi, X, T, H - B, L, W - R, H - 10, "p95, ms (log scale)");
	int row = 0;
	for (const auto &b : pats) {
		json a = FindPattern(after, b.value("name", ""));
		int y = T + row * Row;
		o << "<text x=\"" << L - 8 << "\" y=\"" << y + 20 << "\" text-anchor=\"end\">"
		  << HtmlEscape(b.value("name", "")) << " (" << HtmlEscape(b.value("class", "")) << ")</text>\n";
		int k = 0;
		for (auto [v, colour] : {std::pair<double, const char *>{b.value("p95_ms", 0.0), kBeforeColour},
								 std::pair<double, const char *>{a.value("p95_ms", 0.0), kAfterColour}}) {
			int by = y + 5 + k * 13;
			if (v > 0) {
				double w = std::max(1.0, X(v) - L);
				o << "<rect x=\"" << L << "\" y=\"" << by << "\" width=\"" << w << "\" height=\"12\" fill=\"" << colour
				  << "\"/>\n";
				o << "<text x=\"" << L + w + 4 << "\" y=\"" << by + 10 << "\" font-size=\"10\">" << Ms(v)
				  << "</text>\n";
			}
			k++;
		}
		row++;
	}
	o << "<line x1=\"" << L << "\" x2=\"" << L << "\" y1=\"" << T << "\" y2=\"" << H - B << "\" stroke=\"#444\"/>\n";
	o << "<rect x=\"" << W - R - 150 << "\" y=\"" << 8 << "\" width=\"12\" height=\"12\" fill=\"" << kBeforeColour
	  << "\"/><text x=\"" << W - R - 134 << "\" y=\"18\">baseline</text>\n";
	o << "<rect x=\"" << W - R - 70 << "\" y=\"" << 8 << "\" width=\"12\" height=\"12\" fill=\"" << kAfterColour
	  << "\"/><text x=\"" << W - R - 54 << "\" y=\"18\">autoindex</text>\n";
	o << "</svg>\n";
	return o.str();
}

/* ---- documents --------------------------------------------------------------------------------------- */
static std::string
RunLine(const json &run)
{
	const json &m = run.contains("meta") ? run["meta"] : json::object();
	std::ostringstream o;
	o << "scenario " << Str(m, "scenario") << ", " << Str(m, "clients") << " clients";
	if (!Str(m, "protocol").empty())
		o << " (" << Str(m, "protocol") << " statements)";
	o << ", " << Fmt("%.0f", run.value("measured_seconds", 0.0)) << " s measured, " << Str(run, "total_statements")
	  << " statements (" << Str(run, "total_errors") << " errors), " << Fmt("%.0f", run.value("throughput_per_s", 0.0))
	  << " statements/s";
	return o.str();
}

/* Everything but the plots, as (heading, Markdown body) sections; the HTML page renders the same data. */
static std::string
MutationSummaryMarkdown(const json &before, const json &after)
{
	std::ostringstream o;
	auto built = BuiltIndexes(before, after);
	if (built.empty())
		o << "IndexPilot built no index during the autoindex run.\n\n";
	else {
		o << "| index | table | definition | traceable | evidence |\n|---|---|---|---|---|\n";
		for (const auto &b : built)
			o << "| " << Cell(b.name) << " | " << Cell(b.table) << " | `" << Cell(b.definition) << "` | "
			  << (b.traceable ? "yes" : "**no**") << " | " << Cell(Shorten(b.evidence, 400)) << " |\n";
		o << "\n";
	}
	const json muts = after.value("mutations", json::array());
	if (muts.empty())
		o << "No `indexpilot.mutation_log` rows were written during the autoindex run (warm-up, decision and "
			 "measured run).\n";
	else {
		std::map<std::string, int> kinds;
		for (const auto &m : muts)
			kinds[Str(m, "kind")]++;
		o << "`indexpilot.mutation_log` rows written during the autoindex run, by kind: ";
		bool first = true;
		for (auto &[k, n] : kinds) {
			o << (first ? "" : ", ") << "`" << k << "` " << n;
			first = false;
		}
		o << ".\n\n| id | kind | target | tenant | details |\n|--:|---|---|---|---|\n";
		size_t shown = 0;
		for (const auto &m : muts) {
			if (++shown > 200) {
				o << "| … | " << muts.size() - 200 << " more rows in autoindex.json | | | |\n";
				break;
			}
			std::string target = Str(m, "target_table");
			if (!Str(m, "target_column").empty())
				target += "." + Str(m, "target_column");
			if (!Str(m, "target_index").empty())
				target += " (index " + Str(m, "target_index") + ")";
			o << "| " << Str(m, "id") << " | " << Cell(Str(m, "kind")) << " | " << Cell(target) << " | "
			  << Cell(Str(m, "tenant")) << " | " << Cell(Shorten(ReadableDetails(m), 300)) << " |\n";
		}
	}
	return o.str();
}

static std::string
CostBenefitMarkdown(const json &after)
{
	std::ostringstream o;
	const json rec = after.value("recommendations", json::object());
	if (!rec.value("available", false)) {
		o << "Not available: " << rec.value("reason", std::string("the run recorded no recommendations")) << "\n";
		return o.str();
	}
	const json rows = rec.value("rows", json::array());
	if (rows.empty()) {
		o << "`indexpilot_recommendations()` returned no rows.\n";
		return o.str();
	}
	std::vector<std::string> cols;
	for (const auto &r : rows)
		for (auto it = r.begin(); it != r.end(); ++it)
			if (std::find(cols.begin(), cols.end(), it.key()) == cols.end())
				cols.push_back(it.key());
	o << "From `indexpilot_recommendations()` at the end of the autoindex run:\n\n|";
	for (const auto &c : cols)
		o << " " << Cell(c) << " |";
	o << "\n|";
	for (size_t i = 0; i < cols.size(); i++)
		o << "---|";
	o << "\n";
	for (const auto &r : rows) {
		o << "|";
		for (const auto &c : cols)
			o << " " << Cell(Shorten(r.contains(c) ? Readable(r[c]) : "", 200)) << " |";
		o << "\n";
	}
	return o.str();
}

static std::string
IndexListMarkdown(const json &run)
{
	std::ostringstream o;
	for (const auto &i : run.value("indexes", json::array()))
		o << "- `" << Cell(i.value("definition", "")) << "`" << (i.value("primary", false) ? " (primary key)" : "")
		  << "\n";
	return o.str();
}

std::string
CriteriaMarkdown(const std::vector<Criterion> &criteria)
{
	std::ostringstream o;
	for (const auto &c : criteria) {
		o << "- **" << (c.met ? "MET" : "NOT MET") << "** — " << c.name << "\n";
		std::istringstream lines(c.detail);
		for (std::string line; std::getline(lines, line);)
			o << "  - " << line << "\n";
	}
	return o.str();
}

static std::string
DecideLine(const json &after)
{
	const json ip = after.value("indexpilot", json::object());
	const json d = ip.value("decide", json::object());
	if (d.empty())
		return "The autoindex run recorded no decision step.";
	return d.value("summary", std::string(""));
}

/* The measured runs' and the closed loop's block reads, both databases side by side (when recorded): each
 * run's JSON holds its own database's (`io`) and the other's (`pair_io`). */
static std::string
BlockReadsMarkdown(const json &after, const json &throughput)
{
	std::ostringstream rows;
	auto hit = [](const json &io) {
		const double r = io.value("blocks_read", 0.0), h = io.value("blocks_hit", 0.0);
		return r + h > 0 ? Fmt("%.4f", h / (r + h)) : std::string("—");
	};
	for (const auto &[phase, run] : {std::pair<const char *, const json *>{"measured runs", &after},
									 std::pair<const char *, const json *>{"closed loop", &throughput}}) {
		if (!run->is_object() || !run->contains("io") || !run->contains("pair_io"))
			continue;
		const json &a = (*run)["io"], &e = (*run)["pair_io"];
		rows << "| " << phase << " | " << Str(a, "blocks_read") << " | " << Fmt("%.0f", a.value("read_ms", 0.0))
			 << " | " << Str(e, "blocks_read") << " | " << Fmt("%.0f", e.value("read_ms", 0.0)) << " | " << hit(a)
			 << " | " << hit(e) << " |\n";
	}
	if (rows.str().empty())
		return "";
	return "Block reads from outside shared buffers (`pg_stat_database` of each database, every backend of it, "
		   "IndexPilot's worker too; the read time needs `track_io_timing`):\n\n"
		   "| phase | IndexPilot blocks read | IndexPilot read ms | expert blocks read | expert read ms | "
		   "IndexPilot's share of blocks found in shared buffers | the expert's |\n|---|--:|--:|--:|--:|--:|--:|\n" +
		   rows.str() + "\n";
}

/* The autoindex run against the expert's: planner cost and p95 per read pattern, both index sets. */
static std::string
ExpertMarkdown(const json &after, const json &expert, const json &throughput)
{
	std::ostringstream o;
	if (!HasRun(expert)) {
		o << "No expert run: the criteria against the expert are not judged.\n";
		return o.str();
	}
	o << "The expert's index set (`" << Str(expert.value("expert_indexes", json::object()), "file")
	  << "`, plain `CREATE INDEX` after the same warm-up) is what a PostgreSQL expert who knows this workload "
		 "creates by hand: one index per hot filter, each leading with `tenant_id` because every statement "
		 "filters on one tenant; a partial index for `custom_text_1`, which only the tenants that use it fill "
		 "in; nothing for the rare fields, whose tenant's rows the primary key already finds.\n\n";
	o << "| pattern | class | planner cost IndexPilot | planner cost expert | cost ratio | p95 ms IndexPilot | "
		 "p95 ms expert | p95 ratio | IndexPilot's plan uses | expert's plan uses |\n";
	o << "|---|---|--:|--:|--:|--:|--:|--:|---|---|\n";
	for (const auto &e : Patterns(expert)) {
		const std::string name = e.value("name", "");
		json a = FindPattern(after, name), ca = PlanCost(after, name), ce = PlanCost(expert, name);
		double r = P95Ratio(a, e);
		double costa = ca.value("cost", 0.0), coste = ce.value("cost", 0.0);
		o << "| " << name << " | " << e.value("class", "") << " | " << (ca.empty() ? "—" : Fmt("%.2f", costa)) << " | "
		  << (ce.empty() ? "—" : Fmt("%.2f", coste)) << " | "
		  << (costa > 0 && coste > 0 ? Fmt("%.3f", costa / coste) : std::string("—")) << " | "
		  << Ms(a.value("p95_ms", 0.0)) << " | " << Ms(e.value("p95_ms", 0.0)) << " | "
		  << (r > 0 ? Fmt("%.3f", r) : std::string("—")) << " | "
		  << Cell(ca.empty() ? "—" : Names(ca.value("indexes", json::array()))) << " | "
		  << Cell(ce.empty() ? "—" : Names(ce.value("indexes", json::array()))) << " |\n";
	}
	const json am = after.value("meta", json::object());
	o << "\nPlanner costs: `EXPLAIN` of each read pattern with the same fixed values in both databases (the "
		 "middle tenant; the values are in the runs' JSON), so they compare on any machine. p95: the measured "
		 "runs, "
	  << Fmt("%.0f", am.value("duration_s", 0.0)) << " s on each database, "
	  << (am.value("interleave_s", 0.0) > 0
			  ? "every client switching between the two every " + Fmt("%g", am.value("interleave_s", 0.0)) + " s"
			  : "in " + std::to_string(after.value("slices", json::array()).size()) +
					" slices that alternate between them")
	  << ". Ratios are IndexPilot's over the expert's.\n\n";
	o << BlockReadsMarkdown(after, throughput);
	const json pairs =
		throughput.is_object() ? throughput.value("pair_throughput_ratios", json::array()) : json::array();
	if (!pairs.empty()) {
		const json tm = throughput.value("meta", json::object());
		o << "Throughput at saturation (closed loop, " << Str(tm, "clients") << " clients, "
		  << Fmt("%.0f", tm.value("duration_s", 0.0)) << " s on each database, "
		  << (tm.value("interleave_s", 0.0) > 0
				  ? "every client switching between the two every " + Fmt("%g", tm.value("interleave_s", 0.0)) + " s"
				  : std::string("in alternating slices"))
		  << "):\n\n| pair | IndexPilot statements/s | ratio to the "
			 "expert |\n|--:|--:|--:|\n";
		const json slices = throughput.value("slices", json::array());
		for (size_t k = 0; k < pairs.size(); k++)
			o << "| " << k + 1 << " | "
			  << (k < slices.size() ? Fmt("%.0f", slices[k].value("throughput_per_s", 0.0)) : std::string("—")) << " | "
			  << Fmt("%.3f", pairs[k].get<double>()) << " |\n";
		o << "\n";
	}
	int na = 0, ne = 0;
	int64_t ba = SecondaryBytes(after, &na), be = SecondaryBytes(expert, &ne);
	o << "Index sets (secondary indexes; IndexPilot's " << MB(ba) << ", the expert's " << MB(be) << "):\n\n";
	o << "| whose | index | size |\n|---|---|--:|\n";
	for (const auto *run : {&after, &expert})
		for (const auto &i : run->value("indexes", json::array()))
			if (!i.value("primary", false))
				o << "| " << (run == &after ? "IndexPilot" : "expert") << " | `" << Cell(i.value("definition", ""))
				  << "` | " << MB(i.value("size_bytes", int64_t(0))) << " |\n";
	return o.str();
}

/* How the autoindex run converged: the timeline plot, each index's life and the events with their evidence. */
static std::string
ConvergenceMarkdown(const json &after)
{
	std::ostringstream o;
	const json tl = after.value("timeline", json::object());
	if (tl.empty()) {
		o << "The autoindex run recorded no timeline (it was not decided by the worker alone).\n";
		return o.str();
	}
	o << "Mean latency per pattern from the autoindex run's first statement, while IndexPilot's worker learns, "
		 "decides and builds with the traffic going on; a numbered mark at each build, validation, revert and "
		 "retirement.\n\n![convergence]("
	  << kConvergenceSvgName << ")\n\n";
	o << "| # | at s | event | index | evidence |\n|--:|--:|---|---|---|\n";
	int k = 0;
	for (const auto &e : tl.value("events", json::array())) {
		if (*EventLabel(e.value("kind", "")) == '\0')
			continue;
		o << "| " << ++k << " | " << Fmt("%.0f", e.value("t_s", 0.0)) << " | " << EventLabel(e.value("kind", ""))
		  << " | " << Cell(BareName(Str(e, "index"))) << " | " << Cell(EvidenceText(e)) << " |\n";
	}
	if (k == 0)
		o << "| | | no build during the run | | |\n";
	return o.str();
}

std::string
ReportMarkdown(const json &before, const json &after, const std::vector<Criterion> &criteria, const json &expert,
			   const json &throughput)
{
	std::ostringstream o;
	const json &m = before.contains("meta") ? before["meta"] : json::object();
	o << "# IndexPilot CRM simulation: baseline, autoindex and the expert\n\n";
	o << "Scale: " << Str(m, "tenants") << " tenants, " << Str(m, "contacts") << " contacts, "
	  << Str(m, "organizations") << " organizations, " << Str(m, "interactions") << " interactions (seed "
	  << Str(m, "seed") << ").\n\n";
	o << "- **baseline** (" << Str(before.value("indexpilot", json::object()), "bypass") << "): " << RunLine(before)
	  << "\n";
	o << "- **autoindex**: " << RunLine(after) << "\n";
	o << "- decision step: " << DecideLine(after) << "\n";
	const json ws = after.value("indexpilot", json::object()).value("decide", json::object()).value("settings", json());
	if (ws.is_object() && !ws.empty())
		o << "- the worker's settings for the run (put back afterwards): " << WorkerSettingsText(ws) << "\n";
	if (HasRun(expert))
		o << "- **expert**: " << RunLine(expert) << "\n";
	const json cap = after.value("capture", json::object());
	if (cap.contains("counters")) {
		const json &k = cap["counters"];
		o << "- IndexPilot's capture store at the end of the autoindex run: " << Str(k, "entries") << " of "
		  << Str(k, "max_entries") << " shapes, " << Str(k, "queries") << " of " << Str(k, "max_queries")
		  << " statement texts, " << Str(k, "evictions") << " shape evictions, " << Str(k, "query_evictions")
		  << " text evictions, " << Str(k, "dropped") << " dropped; "
		  << (cap.value("shared_memory_bytes", int64_t(-1)) > 0 ? MB(cap["shared_memory_bytes"].get<int64_t>())
																: std::string("unknown"))
		  << " of shared memory\n";
	}
	o << "\n## Success criteria\n\n" << CriteriaMarkdown(criteria) << "\n";
	o << "## Latency per pattern\n\n" << PatternTableMarkdown(before, after) << "\n";
	o << "p95 ratio = baseline p95 / autoindex p95 (above 1: faster after).\n\n";
	o << "![latency distribution](" << kLatencySvgName << ")\n\n![p95 per pattern](" << kP95SvgName << ")\n\n";
	o << "## Against the expert\n\n" << ExpertMarkdown(after, expert, throughput) << "\n";
	o << "## Convergence\n\n" << ConvergenceMarkdown(after) << "\n";
	o << "## What IndexPilot built, and why\n\n" << MutationSummaryMarkdown(before, after) << "\n";
	o << "## Cost-benefit\n\n" << CostBenefitMarkdown(after) << "\n";
	o << "## Indexes in schema crm\n\nBaseline:\n\n"
	  << IndexListMarkdown(before) << "\nAfter the autoindex run:\n\n"
	  << IndexListMarkdown(after) << "\n";
	return o.str();
}

/* A small Markdown-to-HTML for the subset the report writes: headings, lists, tables, paragraphs, `code`,
 * **bold**, images (replaced by the inline SVG). */
static std::string
Inline(const std::string &s)
{
	std::string out, esc = HtmlEscape(s);
	bool code = false, bold = false;
	for (size_t i = 0; i < esc.size(); i++) {
		if (esc[i] == '`') {
			out += code ? "</code>" : "<code>";
			code = !code;
		} else if (!code && esc.compare(i, 2, "**") == 0) {
			out += bold ? "</strong>" : "<strong>";
			bold = !bold;
			i++;
		} else if (esc.compare(i, 2, "\\|") == 0) {
			out += "|";
			i++;
		} else
			out += esc[i];
	}
	if (code)
		out += "</code>";
	if (bold)
		out += "</strong>";
	return out;
}

static std::vector<std::string>
SplitRow(const std::string &line)
{
	std::vector<std::string> cells;
	std::string cur;
	for (size_t i = 1; i < line.size(); i++) {
		if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '|') {
			cur += "\\|";
			i++;
		} else if (line[i] == '|') {
			size_t b = cur.find_first_not_of(' '), e = cur.find_last_not_of(' ');
			cells.push_back(b == std::string::npos ? "" : cur.substr(b, e - b + 1));
			cur.clear();
		} else
			cur += line[i];
	}
	return cells;
}

std::string
ReportHtml(const json &before, const json &after, const std::vector<Criterion> &criteria, const json &expert,
		   const json &throughput)
{
	return MarkdownHtml("IndexPilot CRM simulation: baseline, autoindex and the expert",
						ReportMarkdown(before, after, criteria, expert, throughput), [&](const std::string &image) {
							if (image.find(kLatencySvgName) != std::string::npos)
								return LatencyDistributionSvg(before, after);
							if (image.find(kConvergenceSvgName) != std::string::npos)
								return TimelineSvg(after);
							return P95PerPatternSvg(before, after);
						});
}

std::string
MarkdownHtml(const std::string &title, const std::string &md,
			 const std::function<std::string(const std::string &)> &svg)
{
	std::ostringstream o;
	o << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		 "<title>"
	  << HtmlEscape(title)
	  << "</title>\n<style>\n"
		 "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}\n"
		 "table{border-collapse:collapse;margin:1em 0;font-size:13px}\n"
		 "th,td{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}\n"
		 "th{background:#f3f3f3}code{background:#f6f6f6;padding:0 3px;word-break:break-all}\n"
		 "strong{color:#a00}\n</style>\n</head>\n<body>\n";
	std::istringstream lines(md);
	std::string line;
	bool in_list = false, in_sublist = false, in_table = false, header_row = false;
	auto close_blocks = [&]() {
		if (in_list && !in_sublist)
			o << "</li>\n";
		if (in_sublist)
			o << "</ul></li>\n";
		if (in_list)
			o << "</ul>\n";
		if (in_table)
			o << "</table>\n";
		in_list = in_sublist = in_table = false;
	};
	while (std::getline(lines, line)) {
		if (line.rfind("![", 0) == 0) {
			close_blocks();
			o << svg(line);
		} else if (line.rfind("#", 0) == 0) {
			close_blocks();
			size_t level = line.find_first_not_of('#');
			o << "<h" << level << ">" << Inline(line.substr(level + 1)) << "</h" << level << ">\n";
		} else if (line.rfind("|", 0) == 0) {
			if (in_list || in_sublist) {
				bool t = in_table;
				in_table = false;
				close_blocks();
				in_table = t;
			}
			if (!in_table) {
				o << "<table>\n";
				in_table = true;
				header_row = true;
			}
			auto cells = SplitRow(line);
			if (!cells.empty() && cells[0].find("--") != std::string::npos &&
				cells[0].find_first_not_of("-:") == std::string::npos)
				continue; // the separator row
			o << "<tr>";
			for (const auto &c : cells)
				o << (header_row ? "<th>" : "<td>") << Inline(c) << (header_row ? "</th>" : "</td>");
			o << "</tr>\n";
			header_row = false;
		} else if (line.rfind("  - ", 0) == 0) {
			if (!in_sublist) {
				o << "<ul>\n";
				in_sublist = true;
			}
			o << "<li>" << Inline(line.substr(4)) << "</li>\n";
		} else if (line.rfind("- ", 0) == 0) {
			if (in_table) {
				o << "</table>\n";
				in_table = false;
			}
			if (in_sublist) {
				o << "</ul></li>\n";
				in_sublist = false;
			} else if (in_list)
				o << "</li>\n";
			if (!in_list) {
				o << "<ul>\n";
				in_list = true;
			}
			o << "<li>" << Inline(line.substr(2));
		} else if (line.empty()) {
			close_blocks();
		} else {
			close_blocks();
			o << "<p>" << Inline(line) << "</p>\n";
		}
	}
	close_blocks();
	o << "</body>\n</html>\n";
	return o.str();
}

} // namespace sim
