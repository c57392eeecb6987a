-- Statement texts kept for re-planning: recorded with the role and search_path they ran with, visible
-- only to that role and to pg_read_all_stats, removed by indexpilot_forget_statements().
\set SHOW_CONTEXT never
SET indexpilot.sample_rate = 1;
CREATE TABLE st_contacts (id int PRIMARY KEY, tenant_id int NOT NULL, email text);
INSERT INTO st_contacts SELECT g, g % 10, 'e' || g FROM generate_series(1, 500) g;
ANALYZE st_contacts;
CREATE ROLE st_alice;
CREATE ROLE st_bob;
CREATE ROLE st_stats IN ROLE pg_read_all_stats;
GRANT SELECT ON st_contacts TO st_alice, st_bob;
GRANT USAGE ON SCHEMA indexpilot TO st_alice, st_bob;
SELECT indexpilot_reset_live_stats() >= 0 AS reset;
DELETE FROM indexpilot.query_samples;

SET ROLE st_alice;
SET search_path = public, pg_catalog;
SELECT count(*) FROM st_contacts WHERE tenant_id = 1 AND email = 'alice secret';
RESET search_path;
RESET ROLE;
SET ROLE st_bob;
SELECT count(*) FROM st_contacts WHERE tenant_id = 2 AND email <> 'bob secret';
RESET ROLE;

-- Captured with their roles and paths (live), then stored by a flush.
SELECT r.rolname, q.search_path, q.query FROM indexpilot.live_queries q JOIN pg_roles r ON r.oid = q.userid
WHERE q.query LIKE '%st_contacts%' ORDER BY r.rolname COLLATE "C";
SELECT indexpilot._flush('1 minute', '7 days', '1 hour') > 0 AS flushed;
SELECT r.rolname, s.search_path, s.query FROM indexpilot.query_samples s JOIN pg_roles r ON r.oid = s.userid
ORDER BY r.rolname COLLATE "C";

-- Each role sees its own texts; pg_read_all_stats sees every role's.
SET ROLE st_alice;
SELECT query FROM indexpilot.query_samples ORDER BY query COLLATE "C";
RESET ROLE;
SET ROLE st_bob;
SELECT query FROM indexpilot.query_samples ORDER BY query COLLATE "C";
DELETE FROM indexpilot.query_samples;
RESET ROLE;
SET ROLE st_stats;
SELECT count(*) AS all_texts FROM indexpilot.query_samples;
RESET ROLE;

-- Removing them: one role's (stored and live), then every role's; only a superuser may.
SET ROLE st_alice;
SELECT indexpilot_forget_statements('st_alice');
RESET ROLE;
SELECT indexpilot_forget_statements('st_alice') AS removed;
SELECT r.rolname FROM indexpilot.query_samples s JOIN pg_roles r ON r.oid = s.userid ORDER BY 1;
SELECT count(*) AS alice_live FROM indexpilot.live_queries q JOIN pg_roles r ON r.oid = q.userid
WHERE r.rolname = 'st_alice';
SELECT indexpilot_forget_statements('no_such_role');
SELECT indexpilot_forget_statements() > 0 AS removed_all;
SELECT count(*) AS left_stored FROM indexpilot.query_samples;
SELECT count(*) AS left_live FROM indexpilot.live_queries WHERE query LIKE '%st_contacts%';

DROP TABLE st_contacts;
REVOKE USAGE ON SCHEMA indexpilot FROM st_alice, st_bob;
DROP ROLE st_alice, st_bob, st_stats;
RESET indexpilot.sample_rate;
