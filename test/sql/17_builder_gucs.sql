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
