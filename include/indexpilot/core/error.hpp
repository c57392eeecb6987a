/*
 * core/error.hpp — the exception type pure C++ code throws.
 *
 * It carries a SQLSTATE (five characters, as in the PostgreSQL docs) and the message, detail and hint a
 * client will see. No PostgreSQL headers here: the boundary in pg/guard.hpp turns it into an ereport.
 */
#pragma once

#include <stdexcept>
#include <string>

namespace indexpilot::core
{

/* SQLSTATE codes we raise from pure code; the values are PostgreSQL's. */
namespace sqlstate
{
inline constexpr const char *kInvalidParameterValue = "22023";
inline constexpr const char *kNullValueNotAllowed = "22004";
inline constexpr const char *kInvalidName = "42602";
inline constexpr const char *kUndefinedTable = "42P01";
inline constexpr const char *kUndefinedColumn = "42703";
inline constexpr const char *kFeatureNotSupported = "0A000";
inline constexpr const char *kConfigFileError = "F0000";
inline constexpr const char *kInternalError = "XX000";
} // namespace sqlstate

class Error : public std::runtime_error
{
public:
	Error(const char *sqlstate, const std::string &message, std::string detail = {}, std::string hint = {});

	const char *sqlstate() const noexcept { return sqlstate_; }
	const std::string &detail() const noexcept { return detail_; }
	const std::string &hint() const noexcept { return hint_; }

private:
	char sqlstate_[6];
	std::string detail_;
	std::string hint_;
};

/* True when s is five characters of [0-9A-Z], the shape of a SQLSTATE. */
bool IsValidSqlstate(const char *s) noexcept;

} // namespace indexpilot::core
