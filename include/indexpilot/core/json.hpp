/*
 * core/json.hpp — a small JSON object writer for the evidence stored in mutation_log (pure C++).
 */
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace indexpilot::core
{

/* `text` as a JSON string literal, quotes included. */
std::string JsonQuote(std::string_view text);

/* Builds {"key": value, ...} in insertion order. Non-finite numbers are written as null. */
class JsonObject
{
public:
	JsonObject &Add(std::string_view key, std::string_view value);
	JsonObject &Add(std::string_view key, const char *value) { return Add(key, std::string_view(value)); }
	JsonObject &Add(std::string_view key, double value);
	JsonObject &Add(std::string_view key, long long value);
	JsonObject &Add(std::string_view key, bool value);
	JsonObject &Add(std::string_view key, const std::vector<std::string> &values);
	JsonObject &AddRaw(std::string_view key, std::string_view json); /* an already-encoded value */
	std::string str() const { return "{" + body_ + "}"; }

private:
	void Key(std::string_view key);
	std::string body_;
};

/* "PREPARE name(types) AS query" -> "query"; other statements unchanged. */
std::string StripPrepare(const std::string &statement);

} // namespace indexpilot::core
