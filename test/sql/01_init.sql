-- Installing the extension: schema, functions, GUCs, privileges.
CREATE EXTENSION indexpilot;

SELECT indexpilot_version() ~ '^\d+\.\d+\.\d+$' AS version_ok,
       indexpilot_version() = (SELECT extversion FROM pg_extension WHERE extname = 'indexpilot') AS matches_catalog;

SELECT nspname FROM pg_namespace WHERE nspname = 'indexpilot';

-- Every object the extension owns.
SELECT pg_describe_object(classid, objid, 0) AS object
FROM pg_depend
WHERE refclassid = 'pg_extension'::regclass
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'indexpilot')
  AND deptype = 'e'
ORDER BY pg_describe_object(classid, objid, 0) COLLATE "C";

-- GUCs: names, types, units and when they can change (values depend on the server under test).
SELECT name, vartype, unit, context, min_val, max_val
FROM pg_settings WHERE name LIKE 'indexpilot.%' ORDER BY name COLLATE "C";

-- Bad GUC values are refused and nothing is written.
ALTER SYSTEM SET indexpilot.naptime = '50ms';
ALTER SYSTEM SET indexpilot.naptime = 'soon';
ALTER SYSTEM SET indexpilot.max_workers = 0;
ALTER SYSTEM SET indexpilot.databases = '"unterminated';
ALTER SYSTEM SET indexpilot.no_such_setting = 1;
ALTER SYSTEM SET indexpilot.replan_timeout = '5ms';
ALTER SYSTEM SET indexpilot.replan_timeout = '11min';
ALTER SYSTEM SET indexpilot.worker_statement_timeout = 0;
ALTER SYSTEM SET indexpilot.worker_lock_timeout = -1;
ALTER SYSTEM SET indexpilot.worker_lock_timeout = 'never';
ALTER SYSTEM SET indexpilot.benefit_horizon = '30s';
ALTER SYSTEM SET indexpilot.build_lock_timeout = 0;
ALTER SYSTEM SET indexpilot.max_index_size = 0;
ALTER SYSTEM SET indexpilot.max_index_size_fraction = -1;
ALTER SYSTEM SET indexpilot.min_index_budget = -1;
ALTER SYSTEM SET indexpilot.max_indexes_per_table = 101;
ALTER SYSTEM SET indexpilot.max_partial_per_table = -1;
ALTER SYSTEM SET indexpilot.max_queries = 5;
ALTER SYSTEM SET indexpilot.min_call_share = 1.5;
ALTER SYSTEM SET indexpilot.min_time_share = 0.5;
ALTER SYSTEM SET indexpilot.min_time_share = -0.1;
ALTER SYSTEM SET indexpilot.min_improvement = 'lots';
ALTER SYSTEM SET indexpilot.stats_retention = '30min';
ALTER SYSTEM SET indexpilot.stats_window = '10s';
SET indexpilot.naptime = '5s';
SET indexpilot.no_such_setting = 1;

-- Only read-only informational functions are executable by PUBLIC: this lists any other function that is.
SELECT p.oid::regprocedure AS public_executable
FROM pg_proc p
JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'indexpilot')
  AND has_function_privilege('public', p.oid, 'EXECUTE')
  AND p.proname NOT IN ('indexpilot_version')
ORDER BY p.oid::regprocedure::text COLLATE "C";
-- pg_monitor may run the status functions.
SELECT has_function_privilege('pg_monitor', 'indexpilot_worker_status()', 'EXECUTE') AS monitor_reads_status;

CREATE ROLE indexpilot_regress_nobody;
SET ROLE indexpilot_regress_nobody;
SELECT indexpilot_version() IS NOT NULL AS anyone_may_read_version;
SELECT * FROM indexpilot_worker_status();
SELECT indexpilot._selftest_cpp_error(1, 'none');
RESET ROLE;
DROP ROLE indexpilot_regress_nobody;
