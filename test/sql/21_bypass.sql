-- Bypass switches: runtime SQL functions, their effect on indexpilot_status(), mutation_log and persistence.
-- Every switch is reset at the end, so later tests see the server's own configuration.
\pset null '(null)'

-- Before any change: every switch decided by its GUC, all in effect.
SELECT kind, name, setting, enabled, source, detail FROM indexpilot_status() WHERE kind IN ('system', 'feature', 'module');
SELECT kind, name, setting, enabled, source FROM indexpilot_status() WHERE kind = 'config';
SELECT name, setting ~ '^\d+$' AS is_count, enabled, source FROM indexpilot_status() WHERE kind = 'counter';

-- A feature off: status says so, names the source, and the change is logged and persisted.
SELECT indexpilot_disable_feature('advising');
SELECT name, setting, enabled, source, detail ~ '^set by \S+ at .* in database \S+$' AS detail_ok
FROM indexpilot_status() WHERE name = 'advising';
SELECT switch, enabled, changed_by = current_user AS by_me, mutation_id IS NOT NULL AS logged
FROM indexpilot.bypass_switches ORDER BY switch;
SELECT details->>'switch' AS switch, details->>'kind' AS kind, details->>'action' AS action,
       details->>'enabled' AS enabled, details->>'role' = current_user AS role_ok,
       details->>'database' = current_database() AS db_ok, actor = session_user AS actor_ok
FROM indexpilot.mutation_log WHERE kind = 'bypass_switch' ORDER BY id;

-- Effective in another backend at once (shared memory), not only in this one.
\c
SELECT name, setting, enabled, source FROM indexpilot_status() WHERE name = 'advising';

-- Level 3: the system off makes every switch ineffective but keeps their own values.
SELECT indexpilot_disable_system();
SELECT name, setting, enabled, source FROM indexpilot_status() WHERE kind IN ('system', 'feature', 'module');
-- Turning a feature on while the system is off says why it does not take effect.
SELECT indexpilot_enable_feature('advising');
SELECT indexpilot_enable_system();
SELECT name, setting, enabled, source FROM indexpilot_status() WHERE kind IN ('system', 'feature', 'module');

-- Modules.
SELECT indexpilot_disable_module('capture_hooks');
SELECT indexpilot_disable_module('background_worker');
SELECT name, setting, enabled, source FROM indexpilot_status() WHERE kind = 'module';
SELECT indexpilot_enable_module('capture_hooks');
SELECT name, setting, enabled, source FROM indexpilot_status() WHERE kind = 'module';

-- Aliases from the original IndexPilot.
SELECT indexpilot_disable_stats_collection();
SELECT name, setting, source FROM indexpilot_status() WHERE name = 'stats_collection';
SELECT indexpilot_enable_stats_collection();
SELECT indexpilot_disable_index_building();
SELECT indexpilot_enable_index_building();
SELECT indexpilot_disable_advising();
SELECT indexpilot_enable_advising();
SELECT name, setting, source FROM indexpilot_status() WHERE name IN ('stats_collection', 'advising', 'index_building');

-- A rolled-back change changes nothing, in shared memory or in the table.
BEGIN;
SELECT indexpilot_disable_feature('index_retirement');
ROLLBACK;
SELECT name, setting, source FROM indexpilot_status() WHERE name = 'index_retirement';
SELECT count(*) AS persisted FROM indexpilot.bypass_switches WHERE switch = 'index_retirement';
-- Savepoints: the rolled-back part is dropped, the rest applies at commit.
BEGIN;
SAVEPOINT a;
SELECT indexpilot_disable_feature('index_retirement');
ROLLBACK TO SAVEPOINT a;
SAVEPOINT b;
SELECT indexpilot_disable_module('capture_hooks');
RELEASE SAVEPOINT b;
COMMIT;
SELECT name, setting, source FROM indexpilot_status() WHERE name IN ('index_retirement', 'capture_hooks');

-- Bad input: a clear error listing the valid names, and nothing changed.
SELECT count(*) AS log_rows FROM indexpilot.mutation_log WHERE kind = 'bypass_switch' \gset
CREATE TEMP TABLE before_bad AS SELECT name, setting, source FROM indexpilot_status() WHERE kind <> 'counter';
SELECT indexpilot_disable_feature('teleport');
SELECT indexpilot_disable_feature('Advising');
SELECT indexpilot_disable_feature('ADVISING');
SELECT indexpilot_disable_feature('capture_hooks');
SELECT indexpilot_disable_feature(NULL);
SELECT indexpilot_disable_feature('');
SELECT indexpilot_disable_feature(' advising');
SELECT indexpilot_enable_feature('advising; DROP TABLE indexpilot.mutation_log');
SELECT indexpilot_disable_module('system');
SELECT indexpilot_disable_module('Capture_Hooks');
SELECT indexpilot_enable_module(NULL);
SELECT indexpilot_reset_switch('everything');
SELECT indexpilot_reset_switch(NULL);
SELECT count(*) = :log_rows AS nothing_logged FROM indexpilot.mutation_log WHERE kind = 'bypass_switch';
SELECT count(*) AS changed FROM (
    (SELECT name, setting, source FROM indexpilot_status() WHERE kind <> 'counter' EXCEPT SELECT * FROM before_bad)
    UNION ALL
    (SELECT * FROM before_bad EXCEPT SELECT name, setting, source FROM indexpilot_status() WHERE kind <> 'counter')) d;

-- Privileges: switching needs EXECUTE, which only superusers have until they grant it; pg_monitor reads status.
SELECT has_function_privilege('pg_monitor', 'indexpilot_status()', 'EXECUTE') AS monitor_reads_status,
       has_function_privilege('pg_monitor', 'indexpilot_disable_system()', 'EXECUTE') AS monitor_switches;
CREATE ROLE regress_indexpilot_operator;
SET ROLE regress_indexpilot_operator;
SELECT indexpilot_disable_system();
SELECT indexpilot_disable_feature('advising');
SELECT * FROM indexpilot_status();
RESET ROLE;
-- Delegation as docs/bypass.md shows it: EXECUTE is enough, the internal writes run as the extension owner.
GRANT EXECUTE ON FUNCTION indexpilot_disable_feature(text), indexpilot_reset_switch(text) TO regress_indexpilot_operator;
SET ROLE regress_indexpilot_operator;
SELECT indexpilot_disable_feature('advising');
SELECT indexpilot_reset_switch('advising');
SELECT * FROM indexpilot.mutation_log;
RESET ROLE;
SELECT details->>'switch' AS switch, details->>'action' AS action, details->>'role' AS role
FROM indexpilot.mutation_log WHERE kind = 'bypass_switch' ORDER BY id DESC LIMIT 2;
SELECT switch, enabled, changed_by FROM indexpilot.bypass_switches WHERE switch = 'advising';
REVOKE EXECUTE ON FUNCTION indexpilot_disable_feature(text), indexpilot_reset_switch(text) FROM regress_indexpilot_operator;
DROP ROLE regress_indexpilot_operator;

-- Reset every switch: the GUCs decide again, and the resets are persisted too.
SELECT indexpilot_reset_switch(name) FROM (VALUES ('system'), ('stats_collection'), ('advising'), ('index_building'),
    ('index_retirement'), ('capture_hooks'), ('background_worker')) v(name);
SELECT kind, name, setting, enabled, source FROM indexpilot_status() WHERE kind IN ('system', 'feature', 'module');
SELECT switch, enabled FROM indexpilot.bypass_switches ORDER BY switch;
