/*
 * timeline.cpp — the run over time (see timeline.hpp).
 */
#include "timeline.hpp"
#include "sim_logic.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

using nlohmann::json;

namespace sim
{

json
TimelineSeries(const std::vector<TimedSample> &samples, double window_s, double duration_s)
{
	json out = json::object();
	if (window_s <= 0 || duration_s <= 0)
		return out;
	const size_t windows = size_t(std::ceil(duration_s / window_s - 1e-9));
	std::vector<std::vector<std::vector<double>>> cells(kPatternCount, std::vector<std::vector<double>>(windows));
	for (const auto &s : samples) {
		if (s.pattern >= kPatternCount || s.t_s < 0)
			continue;
		size_t w = std::min(windows - 1, size_t(double(s.t_s) / window_s));
		cells[s.pattern][w].push_back(double(s.ms));
	}
	for (size_t p = 0; p < kPatternCount; p++) {
		json series = json::array();
		for (size_t w = 0; w < windows; w++) {
			auto &v = cells[p][w];
			if (v.empty())
				continue;
			std::sort(v.begin(), v.end());
			double sum = 0;
			for (double x : v)
				sum += x;
			series.push_back({{"t_s", double(w) * window_s},
							  {"n", v.size()},
							  {"avg_ms", std::round(sum / double(v.size()) * 1000) / 1000},
							  {"p95_ms", std::round(Percentile(v, 95) * 1000) / 1000}});
		}
		if (!series.empty())
			out[kPatterns[p].name] = series;
	}
	return out;
}

const char *
EventLabel(const std::string &kind)
{
	if (kind == "index_build_finished")
		return "built";
	if (kind == "index_validated")
		return "validated";
	if (kind == "index_reverted")
		return "reverted";
	if (kind == "index_retired")
		return "retired";
	if (kind == "index_build_failed" || kind == "index_build_abandoned")
		return "build failed";
	if (kind == "index_building_self_disabled")
		return "building switched off";
	return "";
}

static const char *
EventColour(const std::string &label)
{
	if (label == "built")
		return "#1e8449";
	if (label == "validated")
		return "#2471a3";
	if (label == "reverted")
		return "#d35400";
	if (label == "retired")
		return "#922b21";
	return "#7d3c98";
}

static double
Num(const json &d, const char *key, double fallback = -1)
{
	if (!d.is_object() || !d.contains(key))
		return fallback;
	const json &v = d[key];
	if (v.is_number())
		return v.get<double>();
	if (v.is_string()) {
		try {
			return std::stod(v.get<std::string>());
		} catch (...) {
			return fallback;
		}
	}
	return fallback;
}

static std::string
Joined(const json &a)
{
	if (!a.is_array())
		return a.is_string() ? a.get<std::string>() : "";
	std::string s;
	for (const auto &x : a)
		s += (s.empty() ? "" : ", ") + (x.is_string() ? x.get<std::string>() : x.dump());
	return s;
}

/* The index's columns as a proposal states them: "(a, b) INCLUDE (c) WHERE p". */
static std::string
ProposalColumns(const json &d)
{
	std::string s = "(" + Joined(d.value("columns", json::array())) + ")";
	std::string inc = Joined(d.value("include", json::array()));
	if (!inc.empty())
		s += " INCLUDE (" + inc + ")";
	if (!Str(d, "predicate").empty())
		s += " WHERE " + Str(d, "predicate");
	return s;
}

std::string
EvidenceText(const json &e)
{
	const std::string kind = e.value("kind", "");
	const json d = e.value("details", json::object());
	if (kind == "index_proposed")
		return "proposed " + ProposalColumns(d) + ": " + Fmt("%.0f", Num(d, "calls_in_window", 0)) +
			   " calls in the window, planner cost " + Fmt("%.2f", Num(d, "cost_without", 0)) + " -> " +
			   Fmt("%.2f", Num(d, "cost_with", 0)) + ", net value " + Fmt("%.3g", Num(d, "net_value", 0)) + ", about " +
			   Fmt("%.1f", Num(d, "estimated_bytes", 0) / 1048576.0) + " MB";
	if (kind == "index_build_started")
		return "build started (CREATE INDEX CONCURRENTLY)";
	if (kind == "index_build_finished")
		return "built in " + Fmt("%.1f", Num(d, "seconds", 0)) + " s, " + Fmt("%.1f", Num(d, "bytes", 0) / 1048576.0) +
			   " MB";
	if (kind == "index_build_failed" || kind == "index_build_abandoned")
		return "build failed: " + Str(d, "error") + Str(d, "reason");
	if ((kind == "index_validated" && !Str(d, "judged_by").empty()) ||
		(kind == "index_reverted" && Str(d, "reason") == "superseded"))
		return std::string(kind == "index_reverted"           ? "reverted (superseded)"
						   : Str(d, "judged_by") == "planner" ? "validated on the planner's word"
															  : "validated on its use (the planner could not judge)") +
			   ": " + Str(d, "superseded_by") +
			   " was built for the same statements before any bucket measured this one alone; the planner's "
			   "cost of its statements " +
			   Fmt("%.2f", Num(d, "cost_with", 0)) + " with it, " + Fmt("%.2f", Num(d, "cost_without", 0)) +
			   " without, used (idx_scan " + Fmt("%.0f", Num(d, "idx_scan", 0)) + ")";
	if (kind == "index_validated" || kind == "index_reverted") {
		std::string s = kind == "index_validated" ? "validated" : "reverted (" + Str(d, "reason") + ")";
		if (Num(d, "calls_after", 0) > 0)
			s += ": " + Ms(Num(d, "ms_per_call_before", 0)) + " -> " + Ms(Num(d, "ms_per_call_after", 0)) +
				 " ms per call over " + Fmt("%.0f", Num(d, "calls_after", 0)) + " calls after the build" +
				 (Num(d, "speedup") > 0 ? " (" + Fmt("%.1f", Num(d, "speedup")) + "x faster)" : "");
		s += std::string(", ") + (Str(d, "used") == "true" ? "used" : "not used") + " (idx_scan " +
			 Fmt("%.0f", Num(d, "idx_scan", 0)) + ")";
		return s;
	}
	if (kind == "index_retired") {
		if (Str(d, "reason") == "covered")
			return "retired: covered by " + Str(d, "covered_by") + ", its statements' planner cost " +
				   Fmt("%.2f", Num(d, "cost_with", 0)) + " with it, " + Fmt("%.2f", Num(d, "cost_without", 0)) +
				   " without";
		return "retired: unused since " + Str(d, "last_used") + " (retire_after " +
			   Fmt("%.0f", Num(d, "retire_after_s", 0)) + " s, statistics window " +
			   Fmt("%.0f", Num(d, "stats_window_s", 0)) + " s, idx_scan " + Fmt("%.0f", Num(d, "idx_scan", 0)) + ")";
	}
	if (kind == "index_building_self_disabled")
		return "index building switched itself off after failed builds in a row";
	return kind;
}

json
IndexLifetimes(const json &events)
{
	json out = json::array();
	std::map<std::string, size_t> at;
	for (const auto &e : events) {
		const std::string name = e.value("index", "");
		if (name.empty())
			continue;
		if (!at.count(name)) {
			at[name] = out.size();
			out.push_back({{"index", name},
						   {"table", e.value("table", "")},
						   {"columns", ""},
						   {"key", json::array()},
						   {"proposed_s", nullptr},
						   {"built_s", nullptr},
						   {"validated_s", nullptr},
						   {"reverted_s", nullptr},
						   {"retired_s", nullptr},
						   {"failed_s", nullptr},
						   {"reason", ""}});
		}
		json &l = out[at[name]];
		const std::string kind = e.value("kind", "");
		const json t = e.value("t_s", json());
		const json d = e.value("details", json::object());
		if (kind == "index_proposed" && l["proposed_s"].is_null()) {
			l["proposed_s"] = t;
			l["columns"] = ProposalColumns(d);
			l["key"] = d.value("columns", json::array());
		} else if (kind == "index_build_finished")
			l["built_s"] = t;
		else if (kind == "index_validated")
			l["validated_s"] = t;
		else if (kind == "index_reverted") {
			l["reverted_s"] = t;
			l["reason"] = Str(d, "reason");
		} else if (kind == "index_retired") {
			l["retired_s"] = t;
			l["reason"] =
				Str(d, "reason") + (Str(d, "covered_by").empty() ? std::string() : " by " + Str(d, "covered_by"));
		} else if (kind == "index_build_failed" || kind == "index_build_abandoned")
			l["failed_s"] = t;
	}
	return out;
}

/* ---- criteria ------------------------------------------------------------------------------------------- */
static bool
HasColumn(const json &lifetime, const std::string &column)
{
	for (const auto &c : lifetime.value("key", json::array())) // the key columns, not the INCLUDE ones
		if (c.is_string() && c.get<std::string>() == column)
			return true;
	return false;
}

static double
T(const json &v)
{
	return v.is_number() ? v.get<double>() : -1;
}

std::vector<Criterion>
ShiftCriteria(const json &run)
{
	std::vector<Criterion> out;
	const json tl = run.value("timeline", json::object());
	const json shift = tl.value("shift", json::object());
	const double at = Num(shift, "at_s", -1);
	const std::string stopped = Str(shift, "stopped"), started = Str(shift, "started");
	const std::string stopped_field = Str(shift, "stopped_field"), started_field = Str(shift, "started_field");
	const std::string table = Str(shift, "table");
	const json lives = IndexLifetimes(tl.value("events", json::array()));
	auto on_table = [&](const json &l) { return l.value("table", "") == table; };

	Criterion fresh{"the pattern that starts halfway (" + started + ") gets its index", false, ""};
	Criterion retired{"the index of the pattern that stops (" + stopped + ") is retired", false, ""};
	if (at < 0) {
		fresh.detail = retired.detail = "the run has no shift (scenario shift records one)\n";
		out.push_back(fresh);
		out.push_back(retired);
		return out;
	}
	for (const auto &l : lives) {
		if (!on_table(l))
			continue;
		if (HasColumn(l, started_field) && T(l["built_s"]) >= at) {
			bool kept = l["reverted_s"].is_null() && l["retired_s"].is_null();
			fresh.met = fresh.met || kept;
			fresh.detail +=
				l.value("index", "") + " " + l.value("columns", "") + " built " + Fmt("%.0f", T(l["built_s"]) - at) +
				" s after the shift" +
				(T(l["validated_s"]) >= 0 ? ", validated " + Fmt("%.0f", T(l["validated_s"]) - at) + " s after"
										  : ", not validated by the end of the run") +
				(kept ? "" : ", then dropped (" + l.value("reason", "") + ")") + "\n";
		}
		if (HasColumn(l, stopped_field) && T(l["built_s"]) >= 0 && T(l["built_s"]) < at) {
			bool gone = T(l["retired_s"]) >= at;
			retired.met = retired.met || gone;
			retired.detail +=
				l.value("index", "") + " " + l.value("columns", "") + " built at " + Fmt("%.0f", T(l["built_s"])) +
				" s" +
				(gone ? ", retired " + Fmt("%.0f", T(l["retired_s"]) - at) + " s after the shift (" +
							l.value("reason", "") + ")"
				 : T(l["reverted_s"]) >= 0
					 ? ", reverted at " + Fmt("%.0f", T(l["reverted_s"])) + " s (" + l.value("reason", "") + ")"
				 : T(l["retired_s"]) >= 0 ? ", retired before the shift, at " + Fmt("%.0f", T(l["retired_s"])) + " s"
										  : ", still there at the end of the run") +
				"\n";
		}
	}
	if (fresh.detail.empty())
		fresh.detail = "no index on " + table + " (" + started_field + ") was built after the shift\n";
	if (retired.detail.empty())
		retired.detail = "no index on " + table + " (" + stopped_field + ") was built before the shift\n";
	out.push_back(fresh);
	out.push_back(retired);

	// The new pattern's latency before its index existed (it ran rarely before the shift, then often until
	// the build) against after the index was validated (or, not validated yet, a window after its build).
	Criterion faster{started + " is at least 2x faster once its index is there (mean latency, before the build "
							   "against after the validation)",
					 false, ""};
	double built = -1, settled = -1;
	for (const auto &l : lives)
		if (on_table(l) && HasColumn(l, started_field) && T(l["built_s"]) >= at) {
			built = T(l["built_s"]);
			settled = T(l["validated_s"]) >= 0 ? T(l["validated_s"]) : built + Num(tl, "window_s", 10);
			break;
		}
	// Before: its statements in the seconds before the build (per second when the run has that, since the
	// build may come within seconds of the shift); after: the windows from the validation on.
	double n_before = 0, ms_before = 0, n_after = 0, ms_after = 0;
	const double window = Num(tl, "window_s", 10);
	const bool per_second = tl.contains("started_per_second");
	for (const auto &w :
		 per_second ? tl["started_per_second"] : tl.value("series", json::object()).value(started, json::array())) {
		const double t = Num(w, "t_s", 0), n = Num(w, "n", 0), avg = Num(w, "avg_ms", 0);
		if (built >= 0 && t + (per_second ? 1 : window) <= built) {
			n_before += n;
			ms_before += n * avg;
		}
	}
	for (const auto &w : tl.value("series", json::object()).value(started, json::array())) {
		const double t = Num(w, "t_s", 0), n = Num(w, "n", 0), avg = Num(w, "avg_ms", 0);
		if (settled >= 0 && t >= settled) {
			n_after += n;
			ms_after += n * avg;
		}
	}
	if (built < 0)
		faster.detail = "no index for it was built after the shift\n";
	else if (n_before == 0 || n_after == 0)
		faster.detail = "too few statements of it before the build (" + Fmt("%.0f", n_before) + ") or after (" +
						Fmt("%.0f", n_after) + ")\n";
	else {
		const double before = ms_before / n_before, after = ms_after / n_after;
		faster.met = before >= 2 * after;
		faster.detail = Ms(before) + " ms over " + Fmt("%.0f", n_before) + " statements before the build, " +
						Ms(after) + " ms over " + Fmt("%.0f", n_after) + " from " + Fmt("%.0f", settled) + " s (" +
						Fmt("%.1fx", after > 0 ? before / after : 0) + ")\n";
	}
	out.push_back(faster);

	Criterion traced{"every build, validation and retirement in the run has its evidence in mutation_log", true, ""};
	size_t n = 0;
	for (const auto &e : tl.value("events", json::array())) {
		if (*EventLabel(e.value("kind", "")) == '\0' || e.value("kind", "") == "index_building_self_disabled")
			continue; /* the self-disable has no parent by design */
		n++;
		if (!e.contains("details") || !e["details"].is_object() || e["details"].empty() || !e.contains("parent_id") ||
			e["parent_id"].is_null()) {
			traced.met = false;
			traced.detail += e.value("kind", "") + " of " + e.value("index", "") + " has no evidence or parent\n";
		}
	}
	if (traced.met)
		traced.detail = std::to_string(n) + " events, each with its evidence and the step it follows\n";
	out.push_back(traced);
	return out;
}

/* ---- the plot ---------------------------------------------------------------------------------------------- */
static const char *const kSeriesColours[] = {"#2471a3", "#c0392b", "#1e8449", "#d68910", "#7d3c98",
											 "#17a589", "#566573", "#a04000", "#5b2c6f"};

std::string
TimelineSvg(const json &run)
{
	const json tl = run.value("timeline", json::object());
	const json series = tl.value("series", json::object());
	std::vector<json> marks;
	for (const auto &e : tl.value("events", json::array()))
		if (*EventLabel(e.value("kind", "")) != '\0')
			marks.push_back(e);
	std::vector<std::string> names;
	for (size_t p = 0; p < kPatternCount; p++)
		if (series.contains(kPatterns[p].name))
			names.push_back(kPatterns[p].name);
	const int W = 960, L = 64, R = 20, T = 40, PlotH = 340, Line = 18;
	const int legend_top = T + PlotH + 62;
	const int legend_rows = int((names.size() + 2) / 3);
	const int events_top = legend_top + legend_rows * Line + 14;
	const int H = events_top + int(marks.size()) * Line + 16;
	std::ostringstream o;
	SvgOpen(o, W, H, "Mean latency per pattern over the run, with IndexPilot's lifecycle events");
	// the measured run's, or the phase's the timeline was recorded in (duration_s, axis)
	double duration = Num(tl, "duration_s", Num(run, "measured_seconds", 0));
	double lo = 1e9, hi = 0;
	for (const auto &n : names)
		for (const auto &w : series[n]) {
			double v = Num(w, "avg_ms", 0);
			if (v > 0) {
				lo = std::min(lo, v);
				hi = std::max(hi, v);
			}
		}
	if (names.empty() || duration <= 0 || hi <= 0)
		return SvgNoData(o, W, H);
	double dlo = std::floor(std::log10(lo)), dhi = std::ceil(std::log10(hi) + 1e-9);
	if (dhi <= dlo)
		dhi = dlo + 1;
	auto X = [&](double t) { return L + t / duration * (W - L - R); };
	auto Y = [&](double ms) { return T + PlotH - (std::log10(ms) - dlo) / (dhi - dlo) * PlotH; };
	for (double d = dlo; d <= dhi + 1e-9; d += 1) {
		double ms = std::pow(10.0, d);
		o << "<line x1=\"" << L << "\" x2=\"" << W - R << "\" y1=\"" << Y(ms) << "\" y2=\"" << Y(ms)
		  << "\" stroke=\"#ddd\"/>\n<text x=\"" << L - 6 << "\" y=\"" << Y(ms) + 4 << "\" text-anchor=\"end\">"
		  << (ms < 1 ? Fmt("%g", ms) : Fmt("%.0f", ms)) << "</text>\n";
	}
	const double step = duration > 600 ? 120 : duration > 200 ? 60 : duration > 60 ? 20 : 10;
	for (double t = 0; t <= duration + 1e-9; t += step)
		o << "<text x=\"" << X(t) << "\" y=\"" << T + PlotH + 16 << "\" text-anchor=\"middle\">" << Fmt("%.0f", t)
		  << "</text>\n";
	o << "<text x=\"" << (L + W - R) / 2 << "\" y=\"" << T + PlotH + 34 << "\" text-anchor=\"middle\">"
	  << HtmlEscape(tl.value("axis", std::string("seconds since the measured run began"))) << "; mean latency per "
	  << Fmt("%.0f", Num(tl, "window_s", 0)) << " s window, ms (log scale)</text>\n";
	o << "<rect x=\"" << L << "\" y=\"" << T << "\" width=\"" << W - L - R << "\" height=\"" << PlotH
	  << "\" fill=\"none\" stroke=\"#444\"/>\n";
	const json shift = tl.value("shift", json::object());
	if (Num(shift, "at_s") >= 0)
		o << "<line x1=\"" << X(Num(shift, "at_s")) << "\" x2=\"" << X(Num(shift, "at_s")) << "\" y1=\"" << T
		  << "\" y2=\"" << T + PlotH << "\" stroke=\"#000\" stroke-dasharray=\"2,3\"/>\n<text x=\""
		  << X(Num(shift, "at_s")) + 4 << "\" y=\"" << T + 12 << "\" font-size=\"11\">shift</text>\n";
	for (size_t i = 0; i < names.size(); i++) {
		const char *colour = kSeriesColours[i % (sizeof kSeriesColours / sizeof *kSeriesColours)];
		o << "<polyline fill=\"none\" stroke=\"" << colour << "\" stroke-width=\"1.6\" points=\"";
		const double window = Num(tl, "window_s", 0);
		for (const auto &w : series[names[i]])
			if (Num(w, "avg_ms", 0) > 0)
				o << X(Num(w, "t_s", 0) + window / 2) << "," << Y(Num(w, "avg_ms", 0)) << " ";
		o << "\"/>\n";
		int lx = L + int(i % 3) * 300, ly = legend_top + int(i / 3) * Line;
		o << "<rect x=\"" << lx << "\" y=\"" << ly - 10 << "\" width=\"14\" height=\"4\" fill=\"" << colour
		  << "\"/><text x=\"" << lx + 20 << "\" y=\"" << ly - 4 << "\">" << HtmlEscape(names[i]) << "</text>\n";
	}
	for (size_t k = 0; k < marks.size(); k++) {
		const json &e = marks[k];
		std::string label = EventLabel(e.value("kind", ""));
		double t = Num(e, "t_s", 0);
		const char *colour = EventColour(label);
		o << "<line x1=\"" << X(t) << "\" x2=\"" << X(t) << "\" y1=\"" << T << "\" y2=\"" << T + PlotH << "\" stroke=\""
		  << colour << "\" stroke-width=\"1\" opacity=\"0.8\"/>\n";
		o << "<text x=\"" << X(t) + 2 << "\" y=\"" << T + PlotH - 4 - int(k % 8) * 13 << "\" fill=\"" << colour
		  << "\" font-size=\"11\">" << k + 1 << "</text>\n";
		o << "<text x=\"" << L << "\" y=\"" << events_top + int(k) * Line << "\" fill=\"" << colour << "\">" << k + 1
		  << ". " << Fmt("%.0f", t) << " s " << label << ": " << HtmlEscape(e.value("index", "")) << "</text>\n";
	}
	o << "</svg>\n";
	return o.str();
}

/* ---- the documents -------------------------------------------------------------------------------------- */
static std::string
Seconds(const json &v)
{
	return v.is_number() ? Fmt("%.0f", v.get<double>()) : "—";
}

std::string
WorkerSettingsText(const json &settings)
{
	std::string out;
	for (auto it = settings.begin(); settings.is_object() && it != settings.end(); ++it)
		out += (out.empty() ? "`" : ", `") + it.key() + " = " +
			   (it->is_string() ? it->get<std::string>() : it->dump()) + "`";
	return out.empty() ? "the server's own" : out;
}

std::string
TimelineMarkdown(const json &run, const std::vector<Criterion> &criteria)
{
	const json m = run.value("meta", json::object());
	const json tl = run.value("timeline", json::object());
	const json shift = tl.value("shift", json::object());
	std::ostringstream o;
	o << "# IndexPilot CRM simulation: the workload shifts\n\n";
	o << "Scale: " << Str(m, "tenants") << " tenants, " << Str(m, "contacts") << " contacts (" << Str(m, "form")
	  << " form, seed " << Str(m, "seed") << "); " << Str(m, "clients") << " clients at " << Str(m, "rate")
	  << " statements/s, " << Str(run, "measured_seconds") << " s measured; shared_buffers " << Str(m, "shared_buffers")
	  << ".\n\n";
	if (Num(shift, "at_s") >= 0)
		o << "At " << Seconds(shift["at_s"]) << " s the pattern `" << Str(shift, "stopped") << "` ("
		  << Str(shift, "table") << "." << Str(shift, "stopped_field") << ") stops and `" << Str(shift, "started")
		  << "` (" << Str(shift, "table") << "." << Str(shift, "started_field") << ") starts with its share of the "
		  << "statements.\n\n";
	o << "IndexPilot's background worker alone decides, builds, validates and retires (no "
		 "`indexpilot_run_now()`), with these settings for the run: "
	  << WorkerSettingsText(tl.value("worker_settings", json::object())) << ".\n\n";
	o << "## Criteria\n\n" << CriteriaMarkdown(criteria) << "\n";
	o << "## Timeline\n\n![timeline](" << kTimelineSvgName << ")\n\n";
	o << "## Each index's life (seconds since the measured run began)\n\n";
	const json lives = IndexLifetimes(tl.value("events", json::array()));
	if (lives.empty())
		o << "IndexPilot proposed no index during the run.\n\n";
	else {
		o << "| index | table | columns | proposed | built | validated | reverted | retired | why it went |\n"
			 "|---|---|---|--:|--:|--:|--:|--:|---|\n";
		for (const auto &l : lives)
			o << "| " << Cell(l.value("index", "")) << " | " << Cell(l.value("table", "")) << " | `"
			  << Cell(l.value("columns", "")) << "` | " << Seconds(l["proposed_s"]) << " | " << Seconds(l["built_s"])
			  << " | " << Seconds(l["validated_s"]) << " | " << Seconds(l["reverted_s"]) << " | "
			  << Seconds(l["retired_s"]) << " | " << Cell(l.value("reason", "")) << " |\n";
		o << "\n";
	}
	o << "## The lineage, step by step\n\n";
	const json events = tl.value("events", json::array());
	if (events.empty())
		o << "No lineage rows were written during the measured run.\n";
	else {
		o << "| s | id | kind | index | evidence |\n|--:|--:|---|---|---|\n";
		for (const auto &e : events)
			o << "| " << Seconds(e.value("t_s", json())) << " | " << Str(e, "id") << " | " << Cell(e.value("kind", ""))
			  << " | " << Cell(e.value("index", "")) << " | " << Cell(EvidenceText(e)) << " |\n";
	}
	o << "\n## Latency per pattern, per window\n\n";
	const json series = tl.value("series", json::object());
	for (size_t p = 0; p < kPatternCount; p++) {
		const char *name = kPatterns[p].name;
		if (!series.contains(name))
			continue;
		o << "- `" << name << "`: ";
		bool f = true;
		for (const auto &w : series[name]) {
			o << (f ? "" : ", ") << Seconds(w["t_s"]) << " s " << Ms(Num(w, "avg_ms", 0));
			f = false;
		}
		o << " (mean ms)\n";
	}
	return o.str();
}

std::string
TimelineHtml(const json &run, const std::vector<Criterion> &criteria)
{
	return MarkdownHtml("IndexPilot CRM simulation: the workload shifts", TimelineMarkdown(run, criteria),
						[&](const std::string &) { return TimelineSvg(run); });
}

} // namespace sim
