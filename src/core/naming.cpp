/*
 * core/naming.cpp — index names and identifier checks (see core/naming.hpp).
 */
#include "indexpilot/core/naming.hpp"

#include "indexpilot/core/error.hpp"

#include <cstdio>

namespace indexpilot::core
{

std::uint32_t
Fnv1a32(std::string_view data) noexcept
{
	std::uint32_t h = 2166136261u;
	for (unsigned char c : data) {
		h ^= c;
		h *= 16777619u;
	}
	return h;
}

bool
IsPlainIdentifier(std::string_view name) noexcept
{
	if (name.empty() || name.size() > kMaxIdentifierBytes)
		return false;
	const char first = name[0];
	if (!((first >= 'a' && first <= 'z') || first == '_'))
		return false;
	for (char c : name) {
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '$'))
			return false;
	}
	return true;
}

/* Keeps only characters that are safe in an unquoted name; others become '_'. */
static std::string
Sanitize(std::string_view s)
{
	std::string out;
	out.reserve(s.size());
	for (char c : s) {
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')
			out.push_back(c);
		else if (c >= 'A' && c <= 'Z')
			out.push_back(static_cast<char>(c - 'A' + 'a'));
		else
			out.push_back('_');
	}
	return out;
}

std::string
IndexName(std::string_view schema, std::string_view table, const std::vector<std::string> &columns,
		  std::string_view predicate)
{
	if (schema.empty())
		throw Error(sqlstate::kInvalidParameterValue, "index name needs a schema name");
	if (table.empty())
		throw Error(sqlstate::kInvalidParameterValue, "index name needs a table name");
	if (columns.empty())
		throw Error(sqlstate::kInvalidParameterValue, "index name needs at least one column");

	// The hash input separates parts with a byte that cannot occur in an identifier.
	std::string key(schema);
	key.push_back('\2');
	key += table;
	std::string readable = "indexpilot_" + Sanitize(schema) + "_" + Sanitize(table);
	for (const auto &col : columns) {
		if (col.empty())
			throw Error(sqlstate::kInvalidParameterValue, "index name needs non-empty column names");
		key.push_back('\0');
		key += col;
		readable += "_" + Sanitize(col);
	}
	key.push_back('\1');
	key.append(predicate.data(), predicate.size());

	char suffix[10];
	std::snprintf(suffix, sizeof(suffix), "_%08x", Fnv1a32(key));
	const std::size_t room = kMaxIdentifierBytes - (sizeof(suffix) - 1);
	if (readable.size() > room)
		readable.resize(room);
	return readable + suffix;
}

} // namespace indexpilot::core
