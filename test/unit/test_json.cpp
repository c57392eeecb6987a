/*
 * test_json.cpp — the evidence writer and PREPARE stripping.
 */
#include "indexpilot/core/json.hpp"

#include <boost/test/unit_test.hpp>

#include <cmath>

using namespace indexpilot::core;

BOOST_AUTO_TEST_SUITE(core_json)

BOOST_AUTO_TEST_CASE(quoting)
{
	BOOST_TEST(JsonQuote("a\"b\\c\nd") == "\"a\\\"b\\\\c\\nd\"");
	BOOST_TEST(JsonQuote(std::string("\x01", 1)) == "\"\\u0001\"");
}

BOOST_AUTO_TEST_CASE(objects)
{
	JsonObject o;
	o.Add("name", "x").Add("n", 2.5).Add("count", 3LL).Add("ok", true).Add("cols", std::vector<std::string>{"a", "b"});
	o.Add("inf", INFINITY).AddRaw("raw", "{\"k\": 1}");
	BOOST_TEST(o.str() ==
			   "{\"name\": \"x\", \"n\": 2.5, \"count\": 3, \"ok\": true, \"cols\": [\"a\", \"b\"], \"inf\": null, "
			   "\"raw\": {\"k\": 1}}");
	BOOST_TEST(JsonObject().str() == "{}");
}

BOOST_AUTO_TEST_CASE(strip_prepare)
{
	BOOST_TEST(StripPrepare("PREPARE q(int, text) AS SELECT 1 WHERE $1 = 2") == "SELECT 1 WHERE $1 = 2");
	BOOST_TEST(StripPrepare("prepare \"My Q\" as select 1") == "select 1");
	BOOST_TEST(StripPrepare("PREPARE q(numeric(10,2)) AS SELECT $1") == "SELECT $1");
	BOOST_TEST(StripPrepare("  PREPARE q AS\nUPDATE t SET a = 1") == "UPDATE t SET a = 1");
	BOOST_TEST(StripPrepare("SELECT 'PREPARE x AS y'") == "SELECT 'PREPARE x AS y'");
	BOOST_TEST(StripPrepare("PREPAREDNESS") == "PREPAREDNESS");
	BOOST_TEST(StripPrepare("PREPARE q(int) SELECT 1") == "PREPARE q(int) SELECT 1");
}

BOOST_AUTO_TEST_SUITE_END()
