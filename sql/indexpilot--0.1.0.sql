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
