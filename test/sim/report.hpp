/*
 * report.hpp — the demo's report of the CRM simulator: success criteria, Markdown, a self-contained HTML
 * page and SVG plots, computed from the run JSON files (baseline, autoindex, the expert's, and the
 * closed-loop phase's). Pure C++ (no libpq): the unit tests compile it.
 */
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace sim
{

struct Criterion {
	std::string name;
	bool met = false;
	std::string detail; // one line per finding
};

/* An index IndexPilot built during the autoindex run, with what the log says about it. */
struct BuiltIndex {
	std::string table;
	std::string name;
	std::string definition;
	bool traceable = false;
	std::string evidence; // the details of the mutation that justifies it, compact JSON, or why none
};

/* Column names in an index definition's key list (and INCLUDE list), unquoted. */
std::vector<std::string> IndexColumns(const std::string &indexdef);

/* Indexes present after the autoindex run that were not there before, plus any a mutation row says was built. */
std::vector<BuiltIndex> BuiltIndexes(const nlohmann::json &before, const nlohmann::json &after);

/* p95 before / p95 after; 0 when either side has no samples. */
double P95Ratio(const nlohmann::json &before_pattern, const nlohmann::json &after_pattern);

/* The limits against the expert's index set (issue 15). */
constexpr double kExpertCostRatio = 1.1;       // planner cost of each hot pattern, IndexPilot's over the expert's
constexpr double kExpertP95Ratio = 1.25;       // p95 of each hot pattern, IndexPilot's over the expert's
constexpr double kExpertThroughputRatio = 0.9; // statements/s at saturation, IndexPilot's over the expert's
constexpr double kExpertBytesRatio = 1.25;     // bytes of the secondary indexes, IndexPilot's over the expert's

/* A mutation row's details as readable text (the timeline's words for index events, name: value otherwise). */
std::string ReadableDetails(const nlohmann::json &row);

/*
 * When each hot pattern's index became valid in the autoindex run: from its planner costs (which indexes
 * each hot pattern's plan uses) and its timeline's build events. {known, seconds (the last, since the first
 * statement), patterns: [{pattern, index, valid_s}], why (when not known)}.
 */
nlohmann::json Convergence(const nlohmann::json &after);

/*
 * The demo's criteria: the seed's three (baseline against autoindex), then against the expert (its run
 * `expert`, the closed-loop phase's autoindex JSON `throughput` with its pair ratios) and the convergence.
 * Without an expert run (null) the criteria against it are not met and say why.
 */
std::vector<Criterion> EvaluateCriteria(const nlohmann::json &before, const nlohmann::json &after,
										const nlohmann::json &expert = nullptr,
										const nlohmann::json &throughput = nullptr);

/* The per-pattern before/after table (Markdown). */
std::string PatternTableMarkdown(const nlohmann::json &before, const nlohmann::json &after);

/* Plots. */
std::string LatencyDistributionSvg(const nlohmann::json &before, const nlohmann::json &after);
std::string P95PerPatternSvg(const nlohmann::json &before, const nlohmann::json &after);

/* Whole documents; the Markdown refers to the plots by these file names. */
constexpr const char *kLatencySvgName = "latency_distribution.svg";
constexpr const char *kP95SvgName = "p95_per_pattern.svg";
constexpr const char *kConvergenceSvgName = "convergence.svg";
/* The expert's run and the closed-loop phase's autoindex JSON may be null (not run). */
std::string ReportMarkdown(const nlohmann::json &before, const nlohmann::json &after,
						   const std::vector<Criterion> &criteria, const nlohmann::json &expert = nullptr,
						   const nlohmann::json &throughput = nullptr);
std::string ReportHtml(const nlohmann::json &before, const nlohmann::json &after,
					   const std::vector<Criterion> &criteria, const nlohmann::json &expert = nullptr,
					   const nlohmann::json &throughput = nullptr);

/* The criteria as the demo prints them at the end. */
std::string CriteriaText(const std::vector<Criterion> &criteria);

std::string HtmlEscape(const std::string &s);

/* Shared with the timeline report (timeline.cpp). */
std::string Ms(double v);                                  // a latency in ms with sensible digits
std::string Cell(const std::string &s);                    // a Markdown table cell: no pipes or newlines
std::string Str(const nlohmann::json &j, const char *key); // a field as text ("" when missing or null)
/* Opens an SVG of W x H on a white background, with its title; SvgNoData closes one that has nothing to show. */
void SvgOpen(std::ostringstream &o, int W, int H, const char *title);
std::string SvgNoData(std::ostringstream &o, int W, int H);
std::string CriteriaMarkdown(const std::vector<Criterion> &criteria); // a list: MET / NOT MET, the findings
/* A self-contained HTML page from the Markdown subset the reports write (headings, lists, tables,
 * paragraphs, `code`, **bold**); each image line is replaced by svg(line). */
std::string MarkdownHtml(const std::string &title, const std::string &md,
						 const std::function<std::string(const std::string &)> &svg);

} // namespace sim
