/*
 * control/bypass.hpp — what other modules ask before doing anything: is the system, a feature or a module
 * switched on? See docs/bypass.md for the four levels and where each switch's value comes from.
 *
 * Hot path: every answer is one or two plain loads of an atomic word in shared memory (no lock, no
 * allocation, no error). Outside a server that preloads the library, and under the startup bypass, there
 * is no shared memory and every answer is "off".
 */
#pragma once

#include "indexpilot/core/config.hpp"
#include "indexpilot/pg/postgres.hpp"

extern "C" {
#include "port/atomics.h"
}

namespace indexpilot::control
{

enum class Feature { StatsCollection, Advising, IndexBuilding, IndexRetirement };
enum class Module { CaptureHooks, BackgroundWorker };

/* The effective word (core::SwitchBit per switch, already ANDed with the system bit); nullptr: all off. */
extern pg_atomic_uint32 *g_effective;

inline std::uint32_t
EffectiveWord() noexcept
{
	pg_atomic_uint32 *word = g_effective;
	return word != nullptr ? pg_atomic_read_u32(word) : 0;
}

inline core::Switch
SwitchOf(Feature f) noexcept
{
	switch (f) {
		case Feature::StatsCollection:
			return core::Switch::StatsCollection;
		case Feature::Advising:
			return core::Switch::Advising;
		case Feature::IndexBuilding:
			return core::Switch::IndexBuilding;
		case Feature::IndexRetirement:
			return core::Switch::IndexRetirement;
	}
	return core::Switch::StatsCollection;
}

inline core::Switch
SwitchOf(Module m) noexcept
{
	return m == Module::CaptureHooks ? core::Switch::CaptureHooks : core::Switch::BackgroundWorker;
}

/* False when the level-3 (system) bypass is on, and under the startup bypass. */
inline bool
SystemEnabled() noexcept
{
	return (EffectiveWord() & core::SwitchBit(core::Switch::System)) != 0;
}

/* False when the system or the feature is off. */
inline bool
FeatureEnabled(Feature f) noexcept
{
	return (EffectiveWord() & core::SwitchBit(SwitchOf(f))) != 0;
}

/* False when the system or the module is off. */
inline bool
ModuleEnabled(Module m) noexcept
{
	return (EffectiveWord() & core::SwitchBit(SwitchOf(m))) != 0;
}

/* Hot path of the executor hooks: system && capture_hooks module && stats_collection feature. */
inline bool
CaptureActive() noexcept
{
	return (EffectiveWord() & core::kCaptureMask) == core::kCaptureMask;
}

} // namespace indexpilot::control
