/*
 * test_naming.cpp — deterministic index names and identifier checks.
 */
#include "indexpilot/core/error.hpp"
#include "indexpilot/core/naming.hpp"

#include <boost/test/unit_test.hpp>

#include <set>
#include <string>

using namespace indexpilot::core;

BOOST_AUTO_TEST_SUITE(core_naming)

BOOST_AUTO_TEST_CASE(fnv1a_known_values)
{
	// Reference values of 32-bit FNV-1a.
	BOOST_TEST(Fnv1a32("") == 0x811c9dc5u);
	BOOST_TEST(Fnv1a32("a") == 0xe40c292cu);
	BOOST_TEST(Fnv1a32("foobar") == 0xbf9cf968u);
}

BOOST_AUTO_TEST_CASE(plain_identifiers)
{
	BOOST_TEST(IsPlainIdentifier("contacts"));
	BOOST_TEST(IsPlainIdentifier("_x1$"));
	BOOST_TEST(IsPlainIdentifier(std::string(63, 'a')));
	BOOST_TEST(!IsPlainIdentifier(std::string(64, 'a')));
	BOOST_TEST(!IsPlainIdentifier(""));
	BOOST_TEST(!IsPlainIdentifier("Contacts"));
	BOOST_TEST(!IsPlainIdentifier("1abc"));
	BOOST_TEST(!IsPlainIdentifier("a b"));
	BOOST_TEST(!IsPlainIdentifier("a;drop"));
	BOOST_TEST(!IsPlainIdentifier("a\"b"));
	BOOST_TEST(!IsPlainIdentifier("$a"));
}

BOOST_AUTO_TEST_CASE(name_lists)
{
	std::vector<QualifiedName> out;
	std::string error;
	BOOST_TEST(ParseNameList("", &out, &error));
	BOOST_TEST(out.empty());
	BOOST_TEST(ParseNameList("  ", &out, &error));
	BOOST_TEST(out.empty());
	BOOST_TEST(ParseNameList("staging, Audit.Events ,\"Odd, \"\"Name\"\"\".\"a.b\"", &out, &error));
	BOOST_TEST_REQUIRE(out.size() == 3u);
	BOOST_TEST((out[0] == QualifiedName{"staging", ""}));
	BOOST_TEST((out[1] == QualifiedName{"audit", "events"}));
	BOOST_TEST((out[2] == QualifiedName{"Odd, \"Name\"", "a.b"}));
	BOOST_TEST(ParseNameList("s . t", &out, &error));
	BOOST_TEST((out.at(0) == QualifiedName{"s", "t"}));
	for (const char *bad : {"a,", ",a", "a,,b", "a.", ".a", "a.b.c", "\"a", "\"\"", "a b", "a;b", "a\"b\""}) {
		error.clear();
		BOOST_TEST(!ParseNameList(bad, &out, &error), bad);
		BOOST_TEST(!error.empty(), bad);
	}
	BOOST_TEST(ParseNameList(std::string(63, 'x'), &out, &error));
	BOOST_TEST(!ParseNameList(std::string(64, 'x'), &out, &error));
	BOOST_TEST(error.find("longer than 63") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(index_name_shape)
{
	const std::string name = IndexName("public", "contacts", {"tenant_id", "email"});
	BOOST_TEST(name.rfind("indexpilot_public_contacts_tenant_id_email_", 0) == 0);
	BOOST_TEST(name.size() == std::string("indexpilot_public_contacts_tenant_id_email_").size() + 8);
	BOOST_TEST(IsPlainIdentifier(name));
}

BOOST_AUTO_TEST_CASE(index_name_is_deterministic_and_distinct)
{
	BOOST_TEST(IndexName("public", "contacts", {"email"}) == IndexName("public", "contacts", {"email"}));
	std::set<std::string> names = {
		IndexName("public", "contacts", {"email"}),
		IndexName("public", "contacts", {"phone"}),
		IndexName("public", "contacts", {"tenant_id", "email"}),
		IndexName("public", "contacts", {"email", "tenant_id"}),
		IndexName("public", "contacts", {"tenant_id", "email"}, "tenant_id = 7"),
		IndexName("public", "contacts", {"tenant_id", "email"}, "tenant_id = 8"),
		IndexName("public", "contacts_email", {"x"}),
		IndexName("public", "contacts", {"email_x"}), // same readable part as the one above, different hash
	};
	BOOST_TEST(names.size() == 8u);
}

BOOST_AUTO_TEST_CASE(index_name_fits_63_bytes_and_keeps_long_names_apart)
{
	const std::string table(60, 't');
	const std::string a = IndexName("public", table, {std::string(60, 'c') + "1"});
	const std::string b = IndexName("public", table, {std::string(60, 'c') + "2"});
	BOOST_TEST(a.size() == kMaxIdentifierBytes);
	BOOST_TEST(b.size() == kMaxIdentifierBytes);
	BOOST_TEST(a != b); // readable parts are equal after truncation; the hash tells them apart
}

BOOST_AUTO_TEST_CASE(index_name_sanitizes_quoted_identifiers)
{
	const std::string name = IndexName("public", "My Table", {"Col\"1;drop"});
	BOOST_TEST(IsPlainIdentifier(name));
	BOOST_TEST(name.rfind("indexpilot_public_my_table_col_1_drop_", 0) == 0);
}

BOOST_AUTO_TEST_CASE(index_name_rejects_empty_input)
{
	BOOST_CHECK_THROW(IndexName("public", "", {"a"}), Error);
	BOOST_CHECK_THROW(IndexName("", "t", {"a"}), Error);
	BOOST_CHECK_THROW(IndexName("public", "t", {}), Error);
	BOOST_CHECK_THROW(IndexName("public", "t", {""}), Error);
}

BOOST_AUTO_TEST_CASE(index_name_includes_the_schema)
{
	// Two tables of one name in two schemas: each gets its own index name.
	const std::string a = IndexName("s1", "orders", {"tenant_id", "customer"});
	const std::string b = IndexName("s2", "orders", {"tenant_id", "customer"});
	BOOST_TEST(a != b);
	BOOST_TEST(a.rfind("indexpilot_s1_orders_tenant_id_customer_", 0) == 0);
	BOOST_TEST(b.rfind("indexpilot_s2_orders_tenant_id_customer_", 0) == 0);
	BOOST_TEST(IsPlainIdentifier(a));
	// The separator keeps ("a_b", "c") and ("a", "b_c") apart although their readable parts are equal.
	BOOST_TEST(IndexName("a_b", "c", {"x"}) != IndexName("a", "b_c", {"x"}));
	BOOST_TEST(IndexName("s1", "orders", {"x"}) == IndexName("s1", "orders", {"x"}));
	BOOST_CHECK_THROW(IndexName("", "orders", {"x"}), Error);
}

BOOST_AUTO_TEST_SUITE_END()
