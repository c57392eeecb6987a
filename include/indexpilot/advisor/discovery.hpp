/*
 * advisor/discovery.hpp — which tables IndexPilot manages without being asked: indexpilot.manage (all or
 * registered) and indexpilot.exclude (schemas and tables left alone). The SQL side is
 * indexpilot._discover() (sql/parts/32_discovery.sql), which brings the genome's discovered tables in line
 * with the catalog; indexpilot._exclude_list() gives it the parsed exclusion list.
 */
#pragma once

namespace indexpilot::advisor
{

/* Defines indexpilot.manage and indexpilot.exclude (from _PG_init). */
void DefineDiscoveryGucs();

/*
 * Runs indexpilot._discover() in the current transaction: records newly found tables and forgets the
 * discovered ones that are gone from the managed set, each with a mutation_log row. Throws core::Error.
 */
void Discover();

} // namespace indexpilot::advisor
