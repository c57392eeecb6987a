/*
 * test_error.cpp — core::Error carries a valid SQLSTATE, message, detail and hint.
 */
#include "indexpilot/core/error.hpp"

#include <boost/test/unit_test.hpp>

#include <cstring>

using indexpilot::core::Error;
using indexpilot::core::IsValidSqlstate;
namespace sqlstate = indexpilot::core::sqlstate;

BOOST_AUTO_TEST_SUITE(core_error)

BOOST_AUTO_TEST_CASE(keeps_sqlstate_message_detail_hint)
{
	const Error e(sqlstate::kUndefinedTable, "table \"x\" is not managed", "some detail", "some hint");
	BOOST_TEST(std::strcmp(e.sqlstate(), "42P01") == 0);
	BOOST_TEST(std::string(e.what()) == "table \"x\" is not managed");
	BOOST_TEST(e.detail() == "some detail");
	BOOST_TEST(e.hint() == "some hint");
}

BOOST_AUTO_TEST_CASE(malformed_sqlstate_falls_back_to_internal_error)
{
	for (const char *bad : {"", "2202", "220233", "22o23", "abcde", static_cast<const char *>(nullptr)}) {
		const Error e(bad, "m");
		BOOST_TEST(std::strcmp(e.sqlstate(), sqlstate::kInternalError) == 0);
	}
}

BOOST_AUTO_TEST_CASE(sqlstate_shape)
{
	BOOST_TEST(IsValidSqlstate("22023"));
	BOOST_TEST(IsValidSqlstate("XX000"));
	BOOST_TEST(IsValidSqlstate("42P01"));
	BOOST_TEST(!IsValidSqlstate("22-23"));
	BOOST_TEST(!IsValidSqlstate(nullptr));
}

BOOST_AUTO_TEST_CASE(is_a_std_exception)
{
	try {
		throw Error(sqlstate::kInvalidParameterValue, "boom");
	} catch (const std::exception &e) {
		BOOST_TEST(std::string(e.what()) == "boom");
		return;
	}
	BOOST_FAIL("core::Error was not caught as std::exception");
}

BOOST_AUTO_TEST_SUITE_END()
