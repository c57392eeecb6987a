/*
 * timeline.hpp — what happened over the time of one run: latency per pattern in windows, the lineage's
 * events (builds, validations, reverts, retirements) at the moment they happened, each index's life, and
 * the shift scenario's criteria (the pattern that starts halfway gets its index, the one that stops has its
 * index retired). Pure C++ (no libpq): the unit tests compile it.
 */
#pragma once

#include "report.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace sim
{

/* One statement's latency, `t_s` seconds after the measured run began. */
struct TimedSample {
	float t_s;
	uint8_t pattern; // a PatternId
	float ms;
};

/*
 * Latency per pattern in windows of window_s seconds over [0, duration_s) (the run's nominal length: the
 * few statements that finish after it count in the last window): for each pattern that ran, an array of
 * {t_s (the window's start), n, avg_ms, p95_ms}, windows without statements left out.
 */
nlohmann::json TimelineSeries(const std::vector<TimedSample> &samples, double window_s, double duration_s);

/* The lineage kinds a timeline shows as marks, and the label of each ("" for the others). */
const char *EventLabel(const std::string &kind);

/* One readable line of a lineage row's evidence (no raw JSON): what a reader needs of each kind. */
std::string EvidenceText(const nlohmann::json &event);

/* The worker's settings for a run (`name = value`, comma-separated), or "the server's own" when there are none. */
std::string WorkerSettingsText(const nlohmann::json &settings);

/*
 * Each index's life from the run's events ({t_s, id, kind, table, index, details}), in order of its first
 * event: {index, table, columns, proposed_s, built_s, validated_s, reverted_s, retired_s, failed_s, reason}
 * (a time is null when that did not happen).
 */
nlohmann::json IndexLifetimes(const nlohmann::json &events);

/* The shift scenario's criteria, from a run whose "timeline" has "shift", "series" and "events". */
std::vector<Criterion> ShiftCriteria(const nlohmann::json &run);

constexpr const char *kTimelineSvgName = "timeline.svg";
/* Mean latency per pattern over time (log scale), a vertical mark at each event, numbered, with a legend. */
std::string TimelineSvg(const nlohmann::json &run);
/* The timeline report of one run (Markdown; the HTML page renders the same with the plot inline). */
std::string TimelineMarkdown(const nlohmann::json &run, const std::vector<Criterion> &criteria);
std::string TimelineHtml(const nlohmann::json &run, const std::vector<Criterion> &criteria);

} // namespace sim
