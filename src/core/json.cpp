/*
 * core/json.cpp — JSON writing and statement helpers (see core/json.hpp).
 */
#include "indexpilot/core/json.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>

namespace indexpilot::core
{

std::string
JsonQuote(std::string_view text)
{
	std::string out = "\"";
	for (unsigned char c : text) {
		switch (c) {
			case '"':
				out += "\\\"";
				break;
			case '\\':
				out += "\\\\";
				break;
			case '\n':
				out += "\\n";
				break;
			case '\r':
				out += "\\r";
				break;
			case '\t':
				out += "\\t";
				break;
			default:
				if (c < 0x20) {
					char buf[8];
					std::snprintf(buf, sizeof(buf), "\\u%04x", c);
					out += buf;
				} else {
					out += static_cast<char>(c);
				}
		}
	}
	return out + "\"";
}

void
JsonObject::Key(std::string_view key)
{
	if (!body_.empty())
		body_ += ", ";
	body_ += JsonQuote(key) + ": ";
}

JsonObject &
JsonObject::Add(std::string_view key, std::string_view value)
{
	Key(key);
	body_ += JsonQuote(value);
	return *this;
}

JsonObject &
JsonObject::Add(std::string_view key, double value)
{
	Key(key);
	if (!std::isfinite(value)) {
		body_ += "null";
	} else {
		char buf[64];
		std::snprintf(buf, sizeof(buf), "%.6g", value);
		body_ += buf;
	}
	return *this;
}

JsonObject &
JsonObject::Add(std::string_view key, long long value)
{
	Key(key);
	body_ += std::to_string(value);
	return *this;
}

JsonObject &
JsonObject::Add(std::string_view key, bool value)
{
	Key(key);
	body_ += value ? "true" : "false";
	return *this;
}

JsonObject &
JsonObject::Add(std::string_view key, const std::vector<std::string> &values)
{
	Key(key);
	body_ += "[";
	for (std::size_t i = 0; i < values.size(); i++)
		body_ += (i ? ", " : "") + JsonQuote(values[i]);
	body_ += "]";
	return *this;
}

JsonObject &
JsonObject::AddRaw(std::string_view key, std::string_view json)
{
	Key(key);
	body_ += json;
	return *this;
}

std::string
StripPrepare(const std::string &statement)
{
	std::size_t i = 0;
	auto skip_space = [&] {
		while (i < statement.size() && std::isspace(static_cast<unsigned char>(statement[i])))
			i++;
	};
	auto word = [&](const char *w) {
		std::size_t n = 0;
		while (w[n] != '\0') {
			if (i + n >= statement.size() || std::tolower(static_cast<unsigned char>(statement[i + n])) != w[n])
				return false;
			n++;
		}
		if (i + n < statement.size() &&
			(std::isalnum(static_cast<unsigned char>(statement[i + n])) || statement[i + n] == '_'))
			return false;
		i += n;
		return true;
	};
	skip_space();
	if (!word("prepare"))
		return statement;
	skip_space();
	if (i < statement.size() && statement[i] == '"') { /* quoted name */
		i = statement.find('"', i + 1);
		if (i == std::string::npos)
			return statement;
		i++;
	} else {
		while (i < statement.size() && (std::isalnum(static_cast<unsigned char>(statement[i])) || statement[i] == '_'))
			i++;
	}
	skip_space();
	if (i < statement.size() && statement[i] == '(') { /* parameter types, possibly nested parentheses */
		int depth = 0;
		for (; i < statement.size(); i++) {
			if (statement[i] == '(')
				depth++;
			else if (statement[i] == ')' && --depth == 0) {
				i++;
				break;
			}
		}
	}
	skip_space();
	if (!word("as"))
		return statement;
	skip_space();
	return statement.substr(i);
}

} // namespace indexpilot::core
