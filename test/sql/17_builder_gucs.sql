-- Builder GUCs: reloadable (sighup), refused in a session, bad values refused.
SELECT name, unit, context, min_val, max_val, boot_val
FROM pg_settings
WHERE name IN ('indexpilot.build_lock_timeout', 'indexpilot.build_statement_timeout',
               'indexpilot.build_retry_backoff', 'indexpilot.build_retry_backoff_max')
ORDER BY name COLLATE "C";

SET indexpilot.build_retry_backoff = '1min';
ALTER SYSTEM SET indexpilot.build_retry_backoff = 0;
ALTER SYSTEM SET indexpilot.build_retry_backoff = -1;
ALTER SYSTEM SET indexpilot.build_retry_backoff = 'sometimes';
ALTER SYSTEM SET indexpilot.build_retry_backoff = '400d';
ALTER SYSTEM SET indexpilot.build_retry_backoff_max = 0;
ALTER SYSTEM SET indexpilot.build_retry_backoff_max = 'never';
ALTER SYSTEM SET indexpilot.build_lock_timeout = 0;
ALTER SYSTEM SET indexpilot.build_statement_timeout = 'long';
-- Good values are accepted (and reset again).
ALTER SYSTEM SET indexpilot.build_retry_backoff = '30s';
ALTER SYSTEM SET indexpilot.build_retry_backoff_max = '1h';
ALTER SYSTEM RESET indexpilot.build_retry_backoff;
ALTER SYSTEM RESET indexpilot.build_retry_backoff_max;

-- When builds and drops may run (docs/architecture.md, "Polite to the server"): bad values refused.
SELECT name, unit, context, min_val, max_val, boot_val
FROM pg_settings
WHERE name IN ('indexpilot.max_busy_backends', 'indexpilot.min_free_space', 'indexpilot.maintenance_window',
               'indexpilot.max_build_failures')
ORDER BY name COLLATE "C";
SET indexpilot.maintenance_window = '01:00-02:00';
ALTER SYSTEM SET indexpilot.maintenance_window = 'at night';
ALTER SYSTEM SET indexpilot.maintenance_window = '25:00-02:00';
ALTER SYSTEM SET indexpilot.maintenance_window = '02:00-02:00';
ALTER SYSTEM SET indexpilot.max_busy_backends = -1;
ALTER SYSTEM SET indexpilot.min_free_space = '-1MB';
ALTER SYSTEM SET indexpilot.max_build_failures = 1001;
ALTER SYSTEM SET indexpilot.maintenance_window = '22:00-06:00';
ALTER SYSTEM SET indexpilot.min_free_space = '10GB';
ALTER SYSTEM RESET indexpilot.maintenance_window;
ALTER SYSTEM RESET indexpilot.min_free_space;
