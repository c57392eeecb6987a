-- The loaded library: its version, the workers now running, and the boundary self-tests.

CREATE FUNCTION indexpilot_version()
RETURNS text
AS 'MODULE_PATHNAME', 'indexpilot_version'
LANGUAGE C STRICT STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;
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
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_worker_status() IS 'The IndexPilot launcher and database workers now running';
REVOKE ALL ON FUNCTION indexpilot_worker_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot_worker_status() TO pg_monitor;

-- Boundary self-tests: provoke C++ and PostgreSQL errors across the C++/PostgreSQL boundary.
CREATE FUNCTION indexpilot._selftest_cpp_error(depth integer, kind text)
RETURNS integer
AS 'MODULE_PATHNAME', 'indexpilot_selftest_cpp_error'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION indexpilot._selftest_cpp_error(integer, text) FROM PUBLIC;

CREATE FUNCTION indexpilot._selftest_pg_error(input text)
RETURNS integer
AS 'MODULE_PATHNAME', 'indexpilot_selftest_pg_error'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION indexpilot._selftest_pg_error(text) FROM PUBLIC;

CREATE FUNCTION indexpilot._selftest_live_objects()
RETURNS bigint
AS 'MODULE_PATHNAME', 'indexpilot_selftest_live_objects'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION indexpilot._selftest_live_objects() FROM PUBLIC;

CREATE FUNCTION indexpilot._selftest_cleanups()
RETURNS bigint
AS 'MODULE_PATHNAME', 'indexpilot_selftest_cleanups'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION indexpilot._selftest_cleanups() FROM PUBLIC;
