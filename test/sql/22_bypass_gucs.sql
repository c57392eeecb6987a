-- Bypass GUCs: all reloadable (sighup), refused in a session, bad values refused.
SELECT name, setting, vartype, unit, context, boot_val
FROM pg_settings
WHERE name IN ('indexpilot.system_enabled', 'indexpilot.stats_collection', 'indexpilot.advising',
               'indexpilot.index_building', 'indexpilot.index_retirement', 'indexpilot.capture_hooks',
               'indexpilot.background_worker', 'indexpilot.config_file', 'indexpilot.status_log_interval')
ORDER BY name COLLATE "C";
SHOW indexpilot.status_log_interval;

SET indexpilot.stats_collection = off;
SET indexpilot.system_enabled = off;
SET indexpilot.config_file = '/tmp/x.yaml';
ALTER SYSTEM SET indexpilot.advising = 'sometimes';
ALTER SYSTEM SET indexpilot.status_log_interval = -1;
ALTER SYSTEM SET indexpilot.status_log_interval = 'hourly';
ALTER SYSTEM SET indexpilot.capture_hook = off;

-- Only superusers see the config file path.
CREATE ROLE regress_indexpilot_reader;
SET ROLE regress_indexpilot_reader;
SHOW indexpilot.config_file;
SHOW indexpilot.advising;
RESET ROLE;
DROP ROLE regress_indexpilot_reader;
