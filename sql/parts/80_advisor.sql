-- The advisor: what-if costing, the cost model's conclusions (recommendations) and one whole cycle on
-- demand (run_now).

-- What-if costing (src/advisor/whatif.cpp): plan a statement with a hypothetical btree index visible to
-- the planner. Nothing is executed or built. Not for PUBLIC: it plans arbitrary statements.

CREATE FUNCTION indexpilot_whatif(
    query text,
    relation regclass,
    columns name[],
    predicate text DEFAULT NULL,
    OUT cost_without float8,
    OUT cost_with float8,
    OUT index_used boolean,
    OUT estimated_pages float8,
    OUT estimated_bytes float8)
RETURNS record
AS 'MODULE_PATHNAME', 'indexpilot_whatif'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
-- No pinned search_path, on purpose: query is the caller's own statement and is parsed with the caller's
-- search_path and rights, as EXPLAIN would parse it. Its C code runs no SQL of its own.
-- (indexpilot_recommendations() and indexpilot_run_now() are pinned: they re-plan each captured statement
-- with the role and search_path recorded with it; docs/security.md.)
COMMENT ON FUNCTION indexpilot_whatif(text, regclass, name[], text) IS
    'Plans a statement without and with a hypothetical btree index; costs, whether it is used, its estimated size';
REVOKE ALL ON FUNCTION indexpilot_whatif(text, regclass, name[], text) FROM PUBLIC;

CREATE FUNCTION indexpilot_recommendations(
    OUT table_name text, OUT columns text[], OUT predicate text, OUT kind text, OUT index_name text,
    OUT verdict text, OUT action text, OUT calls float8, OUT cost_without float8, OUT cost_with float8,
    OUT benefit_per_second float8, OUT write_cost_per_second float8, OUT build_cost float8,
    OUT net_value float8, OUT estimated_bytes float8, OUT statement text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'indexpilot_recommendations'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_recommendations() IS 'The cost model''s conclusions now, with every number behind them; changes nothing';
REVOKE ALL ON FUNCTION indexpilot_recommendations() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot_recommendations() TO pg_monitor;

CREATE FUNCTION indexpilot_run_now(
    OUT table_name text, OUT columns text[], OUT predicate text, OUT kind text, OUT index_name text,
    OUT verdict text, OUT action text, OUT calls float8, OUT cost_without float8, OUT cost_with float8,
    OUT benefit_per_second float8, OUT write_cost_per_second float8, OUT build_cost float8,
    OUT net_value float8, OUT estimated_bytes float8, OUT statement text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'indexpilot_run_now'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_run_now() IS 'One whole cycle now: flush, cost model, lineage and, in auto mode, the start of a build';
REVOKE ALL ON FUNCTION indexpilot_run_now() FROM PUBLIC;
