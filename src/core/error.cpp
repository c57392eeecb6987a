/*
 * core/error.cpp — the pure C++ error type (see core/error.hpp).
 */
#include "indexpilot/core/error.hpp"

#include <cstring>

namespace indexpilot::core
{

bool
IsValidSqlstate(const char *s) noexcept
{
	if (s == nullptr || std::strlen(s) != 5)
		return false;
	for (int i = 0; i < 5; i++) {
		const char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')))
			return false;
	}
	return true;
}

Error::Error(const char *sqlstate, const std::string &message, std::string detail, std::string hint)
	: std::runtime_error(message), detail_(std::move(detail)), hint_(std::move(hint))
{
	// A malformed code would become a garbage SQLSTATE at the boundary: fall back to internal_error.
	std::memcpy(sqlstate_, IsValidSqlstate(sqlstate) ? sqlstate : sqlstate::kInternalError, 5);
	sqlstate_[5] = '\0';
}

} // namespace indexpilot::core
