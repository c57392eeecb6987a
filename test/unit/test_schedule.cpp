/*
 * test_schedule.cpp — indexpilot.maintenance_window: parsing "HH:MM-HH:MM" and whether a minute is inside.
 */
#include "indexpilot/core/schedule.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace indexpilot::core;

BOOST_AUTO_TEST_SUITE(core_schedule)

BOOST_AUTO_TEST_CASE(parses_windows_and_refuses_bad_ones)
{
	std::string error;
	auto w = ParseDailyWindow("01:30-05:00", &error);
	BOOST_TEST_REQUIRE(w.has_value());
	BOOST_TEST(w->start == 90);
	BOOST_TEST(w->end == 300);
	BOOST_TEST(error.empty());
	w = ParseDailyWindow(" 22:00 - 06:15 ", &error);
	BOOST_TEST_REQUIRE(w.has_value());
	BOOST_TEST(w->start == 22 * 60);
	BOOST_TEST(w->end == 6 * 60 + 15);
	BOOST_TEST(!ParseDailyWindow("", &error).has_value());
	BOOST_TEST(error.empty()); /* always */
	BOOST_TEST(!ParseDailyWindow("   ", &error).has_value());
	BOOST_TEST(error.empty());
	for (const char *bad : {"nightly", "1:30-05:00", "24:00-01:00", "01:60-02:00", "01:00", "01:00-", "01:00-02:00x",
							"01:00--02:00", "01:00-02:0"}) {
		BOOST_TEST(!ParseDailyWindow(bad, &error).has_value(), bad);
		BOOST_TEST(!error.empty(), bad);
	}
	BOOST_TEST(!ParseDailyWindow("03:00-03:00", &error).has_value());
	BOOST_TEST(error.find("'' for always") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(inside_the_window)
{
	const DailyWindow day{90, 300};
	BOOST_TEST(!InDailyWindow(day, 89));
	BOOST_TEST(InDailyWindow(day, 90));
	BOOST_TEST(InDailyWindow(day, 299));
	BOOST_TEST(!InDailyWindow(day, 300));
	const DailyWindow night{22 * 60, 6 * 60};
	BOOST_TEST(InDailyWindow(night, 23 * 60));
	BOOST_TEST(InDailyWindow(night, 0));
	BOOST_TEST(InDailyWindow(night, 6 * 60 - 1));
	BOOST_TEST(!InDailyWindow(night, 6 * 60));
	BOOST_TEST(!InDailyWindow(night, 12 * 60));
}

BOOST_AUTO_TEST_SUITE_END()
