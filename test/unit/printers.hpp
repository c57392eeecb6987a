/*
 * test/unit/printers.hpp — lets Boost.Test print IndexPilot's enums (shapes, cost model, config) in failure
 * messages.
 */
#pragma once

#include "indexpilot/core/config.hpp"
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

inline std::ostream &
operator<<(std::ostream &os, Switch s)
{
	return os << SwitchName(s);
}
inline std::ostream &
operator<<(std::ostream &os, Setting s)
{
	return os << (s == Setting::Unset ? "unset" : s == Setting::On ? "on" : "off");
}
inline std::ostream &
operator<<(std::ostream &os, BypassMode m)
{
	return os << BypassModeName(m);
}
inline std::ostream &
operator<<(std::ostream &os, Source s)
{
	return os << SourceName(s);
}
inline std::ostream &
operator<<(std::ostream &os, SwitchKind k)
{
	return os << KindName(k);
}

} // namespace indexpilot::core
