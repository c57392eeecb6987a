-- Capture: what the shared-memory store holds now (all databases in the functions, this one in views):
-- the predicate shapes of walked statements, per query id, and every statement's true counts (rows of
-- kind 'statement': no relation, no columns; calls are every execution, sampled_calls the walked ones).

CREATE FUNCTION indexpilot._live_stats(
    OUT dbid oid, OUT relid oid, OUT kind text, OUT attnums int2[], OUT operators text[],
    OUT tenant_scope text, OUT tenant text, OUT calls bigint, OUT seq_calls bigint, OUT index_calls bigint,
    OUT bitmap_calls bigint, OUT other_calls bigint, OUT cancelled_calls bigint, OUT instrumented_calls bigint,
    OUT rows_scanned bigint, OUT rows_returned bigint, OUT total_ms float8, OUT max_ms float8,
    OUT cancelled_ms float8, OUT queryid bigint, OUT last_seen timestamptz, OUT first_seen timestamptz,
    OUT estimated_calls float8, OUT sampled_calls bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'indexpilot_live_stats'
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION indexpilot._live_stats() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot._live_stats() TO pg_monitor;

-- The same shapes for this database only, taken for a flush in this transaction (the flush's input): it
-- waits for the database's flush lock (the worker skips instead), and the shapes leave the store when the
-- transaction commits; if it (or the subtransaction that took them) rolls back, they go back.
CREATE FUNCTION indexpilot._take_live_stats(
    OUT dbid oid, OUT relid oid, OUT kind text, OUT attnums int2[], OUT operators text[],
    OUT tenant_scope text, OUT tenant text, OUT calls bigint, OUT seq_calls bigint, OUT index_calls bigint,
    OUT bitmap_calls bigint, OUT other_calls bigint, OUT cancelled_calls bigint, OUT instrumented_calls bigint,
    OUT rows_scanned bigint, OUT rows_returned bigint, OUT total_ms float8, OUT max_ms float8,
    OUT cancelled_ms float8, OUT queryid bigint, OUT last_seen timestamptz, OUT first_seen timestamptz,
    OUT estimated_calls float8, OUT sampled_calls bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'indexpilot_take_live_stats'
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION indexpilot._take_live_stats() FROM PUBLIC;

CREATE FUNCTION indexpilot._live_queries(OUT dbid oid, OUT queryid bigint, OUT query text, OUT last_seen timestamptz,
                                         OUT userid oid, OUT search_path text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'indexpilot_live_queries'
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION indexpilot._live_queries() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot._live_queries() TO pg_read_all_stats;

CREATE FUNCTION indexpilot._capture_counters(
    OUT entries bigint, OUT max_entries bigint, OUT queries bigint, OUT max_queries bigint,
    OUT evictions bigint, OUT query_evictions bigint, OUT dropped bigint, OUT internal_errors bigint,
    OUT statements_sampled bigint, OUT reset_at timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'indexpilot_capture_counters'
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION indexpilot._capture_counters() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot._capture_counters() TO pg_monitor;

CREATE FUNCTION indexpilot_reset_live_stats()
RETURNS bigint
AS 'MODULE_PATHNAME', 'indexpilot_reset_live_stats'
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_reset_live_stats() IS 'Empties the capture store (all databases); returns the shapes removed';
REVOKE ALL ON FUNCTION indexpilot_reset_live_stats() FROM PUBLIC;

CREATE VIEW indexpilot.live_stats AS
SELECT s.relid::regclass AS relation,
       s.kind,
       ARRAY(SELECT a.attname
             FROM pg_catalog.unnest(s.attnums) WITH ORDINALITY AS u(attnum, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = s.relid AND a.attnum = u.attnum
             ORDER BY u.ord) AS columns,
       s.operators, s.tenant_scope, s.tenant, s.calls, s.seq_calls, s.index_calls, s.bitmap_calls,
       s.other_calls, s.cancelled_calls, s.instrumented_calls, s.rows_scanned, s.rows_returned,
       s.total_ms, s.max_ms, s.cancelled_ms, s.queryid, s.last_seen, s.estimated_calls
FROM indexpilot._live_stats() s
WHERE s.dbid = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())
  AND s.kind <> 'statement';
COMMENT ON VIEW indexpilot.live_stats IS 'Predicate shapes captured in this database and not yet flushed';
GRANT SELECT ON indexpilot.live_stats TO pg_monitor;

CREATE VIEW indexpilot.live_statements AS
SELECT s.queryid, s.calls, s.sampled_calls, s.total_ms, s.max_ms, s.cancelled_calls, s.cancelled_ms,
       s.first_seen, s.last_seen
FROM indexpilot._live_stats() s
WHERE s.dbid = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())
  AND s.kind = 'statement';
COMMENT ON VIEW indexpilot.live_statements IS
    'Every execution of each statement (query id) in this database not yet flushed, walked for shapes or not';
GRANT SELECT ON indexpilot.live_statements TO pg_monitor;

CREATE VIEW indexpilot.live_queries AS
SELECT q.queryid, q.query, q.last_seen, q.userid, q.search_path
FROM indexpilot._live_queries() q
WHERE q.dbid = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database());
COMMENT ON VIEW indexpilot.live_queries IS
    'One representative statement, with constants, per captured query id, with the role and search_path it ran with';
GRANT SELECT ON indexpilot.live_queries TO pg_read_all_stats;

CREATE VIEW indexpilot.capture_counters AS SELECT * FROM indexpilot._capture_counters();
GRANT SELECT ON indexpilot.capture_counters TO pg_monitor;
