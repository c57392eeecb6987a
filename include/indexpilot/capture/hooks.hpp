/*
 * capture/hooks.hpp — executor hooks (chained, nesting-aware). Today they pass straight through; the
 * predicate capture builds on them.
 */
#pragma once

namespace indexpilot::capture
{

/* Installs the executor hooks, saving the previous ones. Only while preloading. */
void InstallHooks();

/* Nesting depth of executor calls in this backend (0 = top-level statement). */
int NestingLevel();

} // namespace indexpilot::capture
