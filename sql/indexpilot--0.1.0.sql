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
-- Bypass and status (docs/bypass.md). Runtime switches: persisted per database in bypass_switches,
-- mirrored into shared memory at commit, recorded in mutation_log. Executable by superusers only; a
-- superuser may GRANT EXECUTE to a delegated role (docs/bypass.md suggests indexpilot_admin).
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE indexpilot.bypass_switches (
    switch      text        PRIMARY KEY,
    enabled     boolean,    -- NULL: the override was reset, weaker sources decide
    changed_at  timestamptz NOT NULL,
    changed_by  name        NOT NULL,
    mutation_id bigint,     -- the indexpilot.mutation_log row of the change (no foreign key: that log is append-only)
    CONSTRAINT bypass_switches_switch_check CHECK (switch IN ('system', 'stats_collection', 'advising',
        'index_building', 'index_retirement', 'capture_hooks', 'background_worker'))
);
COMMENT ON TABLE indexpilot.bypass_switches IS
    'Runtime bypass switches set from this database; the latest change across databases wins after a restart';
SELECT pg_catalog.pg_extension_config_dump('indexpilot.bypass_switches', '');
REVOKE ALL ON indexpilot.bypass_switches FROM PUBLIC;
GRANT SELECT ON indexpilot.bypass_switches TO pg_monitor;

CREATE FUNCTION indexpilot_disable_system() RETURNS void
AS 'MODULE_PATHNAME', 'indexpilot_disable_system'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_disable_system() IS 'Level 3 bypass: every IndexPilot feature and module off';

CREATE FUNCTION indexpilot_enable_system() RETURNS void
AS 'MODULE_PATHNAME', 'indexpilot_enable_system'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_enable_system() IS 'Turns the IndexPilot system switch on';

CREATE FUNCTION indexpilot_disable_feature(name text) RETURNS void
AS 'MODULE_PATHNAME', 'indexpilot_disable_feature'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_disable_feature(text) IS
    'Turns a feature off: stats_collection, advising, index_building, index_retirement';

CREATE FUNCTION indexpilot_enable_feature(name text) RETURNS void
AS 'MODULE_PATHNAME', 'indexpilot_enable_feature'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_enable_feature(text) IS
    'Turns a feature on: stats_collection, advising, index_building, index_retirement';

CREATE FUNCTION indexpilot_disable_module(name text) RETURNS void
AS 'MODULE_PATHNAME', 'indexpilot_disable_module'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_disable_module(text) IS 'Turns a module off: capture_hooks, background_worker';

CREATE FUNCTION indexpilot_enable_module(name text) RETURNS void
AS 'MODULE_PATHNAME', 'indexpilot_enable_module'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_enable_module(text) IS 'Turns a module on: capture_hooks, background_worker';

CREATE FUNCTION indexpilot_reset_switch(name text) RETURNS void
AS 'MODULE_PATHNAME', 'indexpilot_reset_switch'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_reset_switch(text) IS
    'Drops the runtime SQL override of a switch: environment, config file and GUCs decide again';

-- Shortcuts known from the original IndexPilot: thin aliases of the functions above.
CREATE FUNCTION indexpilot_disable_stats_collection() RETURNS void
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC SELECT indexpilot_disable_feature('stats_collection'); END;
CREATE FUNCTION indexpilot_enable_stats_collection() RETURNS void
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC SELECT indexpilot_enable_feature('stats_collection'); END;
CREATE FUNCTION indexpilot_disable_advising() RETURNS void
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC SELECT indexpilot_disable_feature('advising'); END;
CREATE FUNCTION indexpilot_enable_advising() RETURNS void
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC SELECT indexpilot_enable_feature('advising'); END;
CREATE FUNCTION indexpilot_disable_index_building() RETURNS void
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC SELECT indexpilot_disable_feature('index_building'); END;
CREATE FUNCTION indexpilot_enable_index_building() RETURNS void
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC SELECT indexpilot_enable_feature('index_building'); END;

CREATE FUNCTION indexpilot_status(
    OUT kind text,
    OUT name text,
    OUT setting text,
    OUT enabled boolean,
    OUT source text,
    OUT detail text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'indexpilot_status'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION indexpilot_status() IS
    'Every IndexPilot switch with its value, whether it is in effect and the source that decided it; capture counters';

REVOKE ALL ON FUNCTION indexpilot_disable_system() FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_enable_system() FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_disable_feature(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_enable_feature(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_disable_module(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_enable_module(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_reset_switch(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_disable_stats_collection() FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_enable_stats_collection() FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_disable_advising() FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_enable_advising() FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_disable_index_building() FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_enable_index_building() FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot_status() TO pg_monitor;
