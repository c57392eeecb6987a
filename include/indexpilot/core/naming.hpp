/*
 * core/naming.hpp — names IndexPilot gives to the objects it creates, and identifier checks.
 *
 * Pure C++: no PostgreSQL headers, covered by test/unit.
 */
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace indexpilot::core
{

/* PostgreSQL's NAMEDATALEN - 1: the longest identifier the server keeps. */
inline constexpr std::size_t kMaxIdentifierBytes = 63;

/* FNV-1a, 32 bits: a stable hash for names (not for security). */
std::uint32_t Fnv1a32(std::string_view data) noexcept;

/*
 * True for an identifier that needs no quoting: starts with a lower-case letter or '_', continues with
 * lower-case letters, digits, '_' or '$', and fits in kMaxIdentifierBytes. Keywords are not checked here.
 */
bool IsPlainIdentifier(std::string_view name) noexcept;

/*
 * Deterministic index name "indexpilot_<schema>_<table>_<col>_<col>..._<hash8>", at most 63 bytes.
 * The hash covers the schema, the table, the column list (and the predicate of a partial index, if any),
 * so two different indexes never share a name, also for tables of one name in two schemas and when the
 * readable part had to be shortened. Throws core::Error when schema, table or columns are empty.
 */
std::string IndexName(std::string_view schema, std::string_view table, const std::vector<std::string> &columns,
					  std::string_view predicate = {});

/* One entry of a list of relations such as indexpilot.exclude: a schema, or a table of a schema. */
struct QualifiedName {
	std::string schema;
	std::string table; /* empty: the whole schema */
	bool operator==(const QualifiedName &o) const { return schema == o.schema && table == o.table; }
};

/*
 * Parses a comma-separated list of `schema` or `schema.table` entries, each name written as SQL writes an
 * identifier: unquoted (folded to lower case) or in double quotes ("" for a quote; commas and dots allowed).
 * Whitespace around names is ignored; an empty list is fine. On a malformed list returns false with the
 * reason in *error (an empty entry, a name longer than kMaxIdentifierBytes, unbalanced quotes, more than two
 * parts).
 */
bool ParseNameList(std::string_view text, std::vector<QualifiedName> *out, std::string *error);

} // namespace indexpilot::core
