/*
 * test/unit/printers.hpp — lets Boost.Test print IndexPilot's enums in failure messages.
 */
#pragma once

#include "indexpilot/core/costmodel.hpp"
#include "indexpilot/core/shape.hpp"

#include <ostream>

namespace indexpilot::core
{

inline std::ostream &
operator<<(std::ostream &out, OpKind kind)
{
	return out << OpKindName(kind);
}

inline std::ostream &
operator<<(std::ostream &out, Verdict verdict)
{
	return out << VerdictName(verdict);
}

} // namespace indexpilot::core
