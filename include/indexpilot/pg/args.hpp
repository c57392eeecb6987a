/*
 * pg/args.hpp — reading SQL function arguments from C++: a NULL or a bad value throws core::Error
 * (null_value_not_allowed / invalid_parameter_value) naming the argument, before anything is changed.
 */
#pragma once

#include "indexpilot/core/error.hpp"
#include "indexpilot/pg/guard.hpp"
#include "indexpilot/pg/postgres.hpp"

extern "C" {
#include "utils/builtins.h"
}

#include <string>

namespace indexpilot::pg
{

inline void
RequireNotNull(FunctionCallInfo fcinfo, int n, const char *name)
{
	if (PG_ARGISNULL(n))
		throw core::Error(core::sqlstate::kNullValueNotAllowed, std::string(name) + " must not be NULL");
}

inline int32
ArgInt32(FunctionCallInfo fcinfo, int n, const char *name)
{
	RequireNotNull(fcinfo, n, name);
	return PG_GETARG_INT32(n);
}

/* The text argument as a std::string (a copy: detoasting happens in the caller's memory context). */
inline std::string
ArgText(FunctionCallInfo fcinfo, int n, const char *name)
{
	RequireNotNull(fcinfo, n, name);
	text *t = Call([&] { return PG_GETARG_TEXT_PP(n); }); // detoasting may raise an ERROR
	return std::string(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

} // namespace indexpilot::pg
