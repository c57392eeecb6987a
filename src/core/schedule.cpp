/*
 * core/schedule.cpp — the maintenance window (see core/schedule.hpp).
 */
#include "indexpilot/core/schedule.hpp"

#include <cctype>

namespace indexpilot::core
{

namespace
{

/* "HH:MM" at text[pos...]: minutes after midnight, pos moved past it; -1 when it is not one. */
int
ParseClock(std::string_view text, std::size_t *pos)
{
	auto digit = [&](std::size_t i) { return i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); };
	std::size_t p = *pos;
	if (!digit(p) || !digit(p + 1) || p + 2 >= text.size() || text[p + 2] != ':' || !digit(p + 3) || !digit(p + 4))
		return -1;
	const int hours = (text[p] - '0') * 10 + (text[p + 1] - '0');
	const int minutes = (text[p + 3] - '0') * 10 + (text[p + 4] - '0');
	if (hours > 23 || minutes > 59)
		return -1;
	*pos = p + 5;
	return hours * 60 + minutes;
}

} // namespace

std::optional<DailyWindow>
ParseDailyWindow(std::string_view text, std::string *error)
{
	error->clear();
	std::size_t pos = 0;
	auto skip_spaces = [&] {
		while (pos < text.size() && text[pos] == ' ')
			pos++;
	};
	skip_spaces();
	if (pos == text.size())
		return std::nullopt; /* always */
	const int start = ParseClock(text, &pos);
	skip_spaces();
	if (start < 0 || pos >= text.size() || text[pos] != '-') {
		*error = "expected \"HH:MM-HH:MM\" (UTC, 24-hour clock), for example \"22:00-06:00\"";
		return std::nullopt;
	}
	pos++;
	skip_spaces();
	const int end = ParseClock(text, &pos);
	skip_spaces();
	if (end < 0 || pos != text.size()) {
		*error = "expected \"HH:MM-HH:MM\" (UTC, 24-hour clock), for example \"22:00-06:00\"";
		return std::nullopt;
	}
	if (start == end) {
		*error = "the window starts where it ends; use '' for always";
		return std::nullopt;
	}
	return DailyWindow{start, end};
}

bool
InDailyWindow(const DailyWindow &window, int minute_of_day) noexcept
{
	if (window.start < window.end)
		return minute_of_day >= window.start && minute_of_day < window.end;
	return minute_of_day >= window.start || minute_of_day < window.end; /* across midnight */
}

} // namespace indexpilot::core
