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

/* One name at text[*pos]: quoted or unquoted; leaves *pos after it. */
static bool
ParseName(std::string_view text, std::size_t *pos, std::string *name, std::string *error)
{
	std::size_t i = *pos;
	name->clear();
	if (i < text.size() && text[i] == '"') {
		for (i++;; i++) {
			if (i >= text.size()) {
				*error = "unbalanced double quotes";
				return false;
			}
			if (text[i] == '"') {
				if (i + 1 < text.size() && text[i + 1] == '"') {
					name->push_back('"');
					i++;
					continue;
				}
				i++;
				break;
			}
			name->push_back(text[i]);
		}
		if (name->empty()) {
			*error = "a quoted name is empty";
			return false;
		}
	} else {
		// As the SQL scanner reads an unquoted identifier: letters, digits, '_', '$' and non-ASCII bytes.
		auto ident_char = [](unsigned char c) {
			return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$' ||
				   c >= 0x80;
		};
		while (i < text.size() && ident_char(static_cast<unsigned char>(text[i]))) {
			const char c = text[i++];
			name->push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
		}
		if (name->empty()) {
			*error = "an entry or a name is empty";
			return false;
		}
	}
	if (name->size() > kMaxIdentifierBytes) {
		*error = "name \"" + *name + "\" is longer than " + std::to_string(kMaxIdentifierBytes) + " bytes";
		return false;
	}
	*pos = i;
	return true;
}

bool
ParseNameList(std::string_view text, std::vector<QualifiedName> *out, std::string *error)
{
	out->clear();
	auto skip = [&](std::size_t *i) {
		while (*i < text.size() && (text[*i] == ' ' || text[*i] == '\t'))
			(*i)++;
	};
	std::size_t i = 0;
	skip(&i);
	if (i == text.size())
		return true;
	for (;;) {
		std::vector<std::string> parts;
		for (;;) {
			skip(&i);
			std::string name;
			if (!ParseName(text, &i, &name, error))
				return false;
			parts.push_back(name);
			skip(&i);
			if (i < text.size() && text[i] == '.') {
				i++;
				continue;
			}
			break;
		}
		if (parts.size() > 2) {
			*error = "\"" + parts[0] + "." + parts[1] + "." + parts[2] + "\" has more than two parts (schema.table)";
			return false;
		}
		out->push_back(QualifiedName{parts[0], parts.size() == 2 ? parts[1] : std::string()});
		if (i == text.size())
			return true;
		if (text[i] != ',') {
			*error = std::string("unexpected character '") + text[i] + "'";
			return false;
		}
		i++;
	}
}

} // namespace indexpilot::core
