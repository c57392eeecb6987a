-- Bypass and status (docs/bypass.md). Runtime switches: persisted per database in bypass_switches,
-- mirrored into shared memory at commit, recorded in mutation_log. Executable by superusers only; a
-- superuser may GRANT EXECUTE to a delegated role (docs/bypass.md suggests indexpilot_admin).

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

-- Stores a switch change (enabled NULL: the override was reset); returns when it was made. The switch
-- functions (src/control/switches.cpp) call it as the extension's owner after logging the change.
CREATE FUNCTION indexpilot._store_switch(switch_name text, enabled boolean, changed_by name, mutation_id bigint)
RETURNS timestamptz
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO indexpilot.bypass_switches AS s (switch, enabled, changed_at, changed_by, mutation_id)
    VALUES (switch_name, enabled, pg_catalog.clock_timestamp(), changed_by, mutation_id)
    ON CONFLICT (switch) DO UPDATE SET enabled = EXCLUDED.enabled, changed_at = EXCLUDED.changed_at,
        changed_by = EXCLUDED.changed_by, mutation_id = EXCLUDED.mutation_id
    RETURNING s.changed_at
$$;
REVOKE ALL ON FUNCTION indexpilot._store_switch(text, boolean, name, bigint) FROM PUBLIC;

CREATE FUNCTION indexpilot_disable_system() RETURNS void
AS 'MODULE_PATHNAME', 'indexpilot_disable_system'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_disable_system() IS 'Level 3 bypass: every IndexPilot feature and module off';
REVOKE ALL ON FUNCTION indexpilot_disable_system() FROM PUBLIC;

CREATE FUNCTION indexpilot_enable_system() RETURNS void
AS 'MODULE_PATHNAME', 'indexpilot_enable_system'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_enable_system() IS 'Turns the IndexPilot system switch on';
REVOKE ALL ON FUNCTION indexpilot_enable_system() FROM PUBLIC;

CREATE FUNCTION indexpilot_disable_feature(name text) RETURNS void
AS 'MODULE_PATHNAME', 'indexpilot_disable_feature'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_disable_feature(text) IS
    'Turns a feature off: stats_collection, advising, index_building, index_retirement';
REVOKE ALL ON FUNCTION indexpilot_disable_feature(text) FROM PUBLIC;

CREATE FUNCTION indexpilot_enable_feature(name text) RETURNS void
AS 'MODULE_PATHNAME', 'indexpilot_enable_feature'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_enable_feature(text) IS
    'Turns a feature on: stats_collection, advising, index_building, index_retirement';
REVOKE ALL ON FUNCTION indexpilot_enable_feature(text) FROM PUBLIC;

CREATE FUNCTION indexpilot_disable_module(name text) RETURNS void
AS 'MODULE_PATHNAME', 'indexpilot_disable_module'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_disable_module(text) IS 'Turns a module off: capture_hooks, background_worker';
REVOKE ALL ON FUNCTION indexpilot_disable_module(text) FROM PUBLIC;

CREATE FUNCTION indexpilot_enable_module(name text) RETURNS void
AS 'MODULE_PATHNAME', 'indexpilot_enable_module'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_enable_module(text) IS 'Turns a module on: capture_hooks, background_worker';
REVOKE ALL ON FUNCTION indexpilot_enable_module(text) FROM PUBLIC;

CREATE FUNCTION indexpilot_reset_switch(name text) RETURNS void
AS 'MODULE_PATHNAME', 'indexpilot_reset_switch'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_reset_switch(text) IS
    'Drops the runtime SQL override of a switch: environment, config file and GUCs decide again';
REVOKE ALL ON FUNCTION indexpilot_reset_switch(text) FROM PUBLIC;

-- Shortcuts known from the original IndexPilot: thin aliases of the functions above.
CREATE FUNCTION indexpilot_disable_stats_collection() RETURNS void
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC SELECT @extschema@.indexpilot_disable_feature('stats_collection'::pg_catalog.text); END;
REVOKE ALL ON FUNCTION indexpilot_disable_stats_collection() FROM PUBLIC;
CREATE FUNCTION indexpilot_enable_stats_collection() RETURNS void
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC SELECT @extschema@.indexpilot_enable_feature('stats_collection'::pg_catalog.text); END;
REVOKE ALL ON FUNCTION indexpilot_enable_stats_collection() FROM PUBLIC;
CREATE FUNCTION indexpilot_disable_advising() RETURNS void
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC SELECT @extschema@.indexpilot_disable_feature('advising'::pg_catalog.text); END;
REVOKE ALL ON FUNCTION indexpilot_disable_advising() FROM PUBLIC;
CREATE FUNCTION indexpilot_enable_advising() RETURNS void
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC SELECT @extschema@.indexpilot_enable_feature('advising'::pg_catalog.text); END;
REVOKE ALL ON FUNCTION indexpilot_enable_advising() FROM PUBLIC;
CREATE FUNCTION indexpilot_disable_index_building() RETURNS void
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC SELECT @extschema@.indexpilot_disable_feature('index_building'::pg_catalog.text); END;
REVOKE ALL ON FUNCTION indexpilot_disable_index_building() FROM PUBLIC;
CREATE FUNCTION indexpilot_enable_index_building() RETURNS void
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC SELECT @extschema@.indexpilot_enable_feature('index_building'::pg_catalog.text); END;
REVOKE ALL ON FUNCTION indexpilot_enable_index_building() FROM PUBLIC;

CREATE FUNCTION indexpilot_status(
    OUT kind text,
    OUT name text,
    OUT setting text,
    OUT enabled boolean,
    OUT source text,
    OUT detail text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'indexpilot_status'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_status() IS
    'Every IndexPilot switch with its value, whether it is in effect and the source that decided it; capture counters';
REVOKE ALL ON FUNCTION indexpilot_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot_status() TO pg_monitor;
