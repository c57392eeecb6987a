/*
 * core/schedule.hpp — indexpilot.maintenance_window: the daily span (UTC) in which IndexPilot may build and
 * drop indexes. Pure C++ (no PostgreSQL headers), covered by test/unit/test_schedule.cpp.
 */
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace indexpilot::core
{

/* A daily span in minutes after midnight UTC: [start, end), across midnight when end <= start. */
struct DailyWindow {
	int start = 0;
	int end = 0;
};

/*
 * Parses "HH:MM-HH:MM" (24-hour clock, UTC; spaces around the dash allowed): "22:00-06:00" runs across
 * midnight. "" means always (nullopt with *error empty). A start equal to the end is refused (an empty or
 * a whole-day window is better said as "" or by switching index_building off). On bad input returns
 * nullopt and says why in *error.
 */
std::optional<DailyWindow> ParseDailyWindow(std::string_view text, std::string *error);

/* Whether a minute of the day (0..1439, UTC) is inside the window. */
bool InDailyWindow(const DailyWindow &window, int minute_of_day) noexcept;

} // namespace indexpilot::core
