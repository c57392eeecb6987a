-- The launcher and this database's worker, as indexpilot_worker_status() shows them.
SELECT count(*) AS launchers FROM indexpilot_worker_status() WHERE role = 'launcher';

-- The launcher starts a worker for this database within a naptime of CREATE EXTENSION (01_init).
DO $$
BEGIN
    FOR i IN 1..240 LOOP
        EXIT WHEN EXISTS (SELECT 1 FROM indexpilot_worker_status()
                          WHERE role = 'worker' AND database = current_database());
        PERFORM pg_sleep(0.25);
    END LOOP;
END
$$;
SELECT role, database = current_database() AS this_database, pid > 0 AS has_pid,
       started_at <= now() AS started, last_activity >= started_at AS active
FROM indexpilot_worker_status()
WHERE role = 'worker' AND database = current_database();

-- It shows in pg_stat_activity under its own name, with the same pid.
SELECT a.backend_type, a.application_name, a.datname = current_database() AS this_database
FROM pg_stat_activity a
JOIN indexpilot_worker_status() s ON s.pid = a.pid
WHERE s.role = 'worker' AND s.database = current_database();
SELECT backend_type, datname IS NULL AS no_database
FROM pg_stat_activity a
JOIN indexpilot_worker_status() s ON s.pid = a.pid
WHERE s.role = 'launcher';
