-- IndexPilot 0.1.0: install script. Released scripts are never edited; changes go in upgrade scripts.
\echo Use "CREATE EXTENSION indexpilot" to load this file. \quit

-- Tables, views and internal functions live in schema indexpilot; the indexpilot_* functions users call
-- live in the schema the extension is created in (public by default).
CREATE SCHEMA indexpilot;
COMMENT ON SCHEMA indexpilot IS 'IndexPilot metadata and internal functions';
-- Members of pg_monitor may read IndexPilot's metadata; nothing in the schema is executable by PUBLIC.
GRANT USAGE ON SCHEMA indexpilot TO pg_monitor;

CREATE FUNCTION indexpilot_version()
RETURNS text
AS 'MODULE_PATHNAME', 'indexpilot_version'
LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION indexpilot_version() IS 'Version of the loaded IndexPilot library';

CREATE FUNCTION indexpilot_worker_status(
    OUT role text,
    OUT database name,
    OUT pid integer,
    OUT started_at timestamptz,
    OUT last_activity timestamptz,
    OUT loops bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'indexpilot_worker_status'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION indexpilot_worker_status() IS 'The IndexPilot launcher and database workers now running';
REVOKE ALL ON FUNCTION indexpilot_worker_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot_worker_status() TO pg_monitor;

-- Boundary self-tests: provoke C++ and PostgreSQL errors across the C++/PostgreSQL boundary.
CREATE FUNCTION indexpilot._selftest_cpp_error(depth integer, kind text)
RETURNS integer
AS 'MODULE_PATHNAME', 'indexpilot_selftest_cpp_error'
LANGUAGE C VOLATILE;

CREATE FUNCTION indexpilot._selftest_pg_error(input text)
RETURNS integer
AS 'MODULE_PATHNAME', 'indexpilot_selftest_pg_error'
LANGUAGE C VOLATILE;

CREATE FUNCTION indexpilot._selftest_live_objects()
RETURNS bigint
AS 'MODULE_PATHNAME', 'indexpilot_selftest_live_objects'
LANGUAGE C VOLATILE;

CREATE FUNCTION indexpilot._selftest_cleanups()
RETURNS bigint
AS 'MODULE_PATHNAME', 'indexpilot_selftest_cleanups'
LANGUAGE C VOLATILE;

REVOKE ALL ON FUNCTION indexpilot._selftest_cpp_error(integer, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._selftest_pg_error(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._selftest_live_objects() FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._selftest_cleanups() FROM PUBLIC;

-- ---------------------------------------------------------------------------------------------------
-- Mutation lineage: every schema, expression, index and switch change, with its evidence. Append-only.
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE indexpilot.mutation_log (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor         name        NOT NULL DEFAULT session_user,
    kind          text        NOT NULL,
    target_table  text,        -- schema-qualified, quoted as needed (quote_ident each part)
    target_column text,
    target_index  text,
    tenant        text,        -- the tenant key value, as text, when the change concerns one tenant
    details       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    parent_id     bigint      REFERENCES indexpilot.mutation_log (id),
    CONSTRAINT mutation_log_kind_check CHECK (kind ~ '^[a-z][a-z0-9_]*$')
);
COMMENT ON TABLE indexpilot.mutation_log IS 'Append-only lineage of every change IndexPilot makes or observes';
CREATE INDEX mutation_log_target_idx ON indexpilot.mutation_log (target_table, target_column);
CREATE INDEX mutation_log_parent_idx ON indexpilot.mutation_log (parent_id);

CREATE FUNCTION indexpilot._refuse_mutation_log_change()
RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'indexpilot.mutation_log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Lineage rows are never changed or removed.';
END
$$;
CREATE TRIGGER mutation_log_append_only
    BEFORE UPDATE OR DELETE ON indexpilot.mutation_log
    FOR EACH ROW EXECUTE FUNCTION indexpilot._refuse_mutation_log_change();
CREATE TRIGGER mutation_log_no_truncate
    BEFORE TRUNCATE ON indexpilot.mutation_log
    FOR EACH STATEMENT EXECUTE FUNCTION indexpilot._refuse_mutation_log_change();

-- The one way IndexPilot code appends to the lineage; returns the new row's id (a parent for later rows).
CREATE FUNCTION indexpilot._log_mutation(
    kind          text,
    target_table  text  DEFAULT NULL,
    target_column text  DEFAULT NULL,
    target_index  text  DEFAULT NULL,
    tenant        text  DEFAULT NULL,
    details       jsonb DEFAULT '{}'::jsonb,
    parent_id     bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO indexpilot.mutation_log (kind, target_table, target_column, target_index, tenant, details, parent_id)
    VALUES (kind, target_table, target_column, target_index, tenant, coalesce(details, '{}'::jsonb), parent_id)
    RETURNING id
$$;
REVOKE ALL ON FUNCTION indexpilot._log_mutation(text, text, text, text, text, jsonb, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._refuse_mutation_log_change() FROM PUBLIC;
REVOKE ALL ON indexpilot.mutation_log FROM PUBLIC;
GRANT SELECT ON indexpilot.mutation_log TO pg_monitor;

-- ---------------------------------------------------------------------------------------------------
-- Capture: what the shared-memory store holds now (all databases in the functions, this one in views).
-- ---------------------------------------------------------------------------------------------------
CREATE FUNCTION indexpilot._live_stats(
    OUT dbid oid, OUT relid oid, OUT kind text, OUT attnums int2[], OUT operators text[],
    OUT tenant_scope text, OUT tenant text, OUT calls bigint, OUT seq_calls bigint, OUT index_calls bigint,
    OUT bitmap_calls bigint, OUT other_calls bigint, OUT cancelled_calls bigint, OUT instrumented_calls bigint,
    OUT rows_scanned bigint, OUT rows_returned bigint, OUT total_ms float8, OUT max_ms float8,
    OUT cancelled_ms float8, OUT queryid bigint, OUT last_seen timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'indexpilot_live_stats'
LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION indexpilot._live_queries(OUT dbid oid, OUT queryid bigint, OUT query text, OUT last_seen timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'indexpilot_live_queries'
LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION indexpilot._capture_counters(
    OUT entries bigint, OUT max_entries bigint, OUT queries bigint, OUT max_queries bigint,
    OUT evictions bigint, OUT query_evictions bigint, OUT dropped bigint, OUT internal_errors bigint,
    OUT statements_sampled bigint, OUT reset_at timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'indexpilot_capture_counters'
LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION indexpilot_reset_live_stats()
RETURNS bigint
AS 'MODULE_PATHNAME', 'indexpilot_reset_live_stats'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION indexpilot_reset_live_stats() IS 'Empties the capture store (all databases); returns the shapes removed';

CREATE VIEW indexpilot.live_stats AS
SELECT s.relid::regclass AS relation,
       s.kind,
       ARRAY(SELECT a.attname
             FROM unnest(s.attnums) WITH ORDINALITY AS u(attnum, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = s.relid AND a.attnum = u.attnum
             ORDER BY u.ord) AS columns,
       s.operators, s.tenant_scope, s.tenant, s.calls, s.seq_calls, s.index_calls, s.bitmap_calls,
       s.other_calls, s.cancelled_calls, s.instrumented_calls, s.rows_scanned, s.rows_returned,
       s.total_ms, s.max_ms, s.cancelled_ms, s.queryid, s.last_seen
FROM indexpilot._live_stats() s
WHERE s.dbid = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database());
COMMENT ON VIEW indexpilot.live_stats IS 'Predicate shapes captured in this database and not yet flushed';

CREATE VIEW indexpilot.live_queries AS
SELECT q.queryid, q.query, q.last_seen
FROM indexpilot._live_queries() q
WHERE q.dbid = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database());
COMMENT ON VIEW indexpilot.live_queries IS 'One representative statement, with constants, per captured query id';

CREATE VIEW indexpilot.capture_counters AS SELECT * FROM indexpilot._capture_counters();

REVOKE ALL ON FUNCTION indexpilot._live_stats() FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._live_queries() FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._capture_counters() FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_reset_live_stats() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot._live_stats() TO pg_monitor;
GRANT EXECUTE ON FUNCTION indexpilot._capture_counters() TO pg_monitor;
GRANT EXECUTE ON FUNCTION indexpilot._live_queries() TO pg_read_all_stats;
GRANT SELECT ON indexpilot.live_stats, indexpilot.capture_counters TO pg_monitor;
GRANT SELECT ON indexpilot.live_queries TO pg_read_all_stats;
GRANT USAGE ON SCHEMA indexpilot TO pg_read_all_stats;
