-- The cost model at work in the default mode (advise): indexpilot_recommendations() and indexpilot_run_now().
-- Costs and sizes differ between machines, so this prints verdicts, actions and booleans only.
\set SHOW_CONTEXT never
SET max_parallel_workers_per_gather = 0;

-- The database worker flushes and runs the cost model on its own every minute; this test decides only
-- through run_now, so the worker waits a day instead. Its reload is done once it has looped twice since.
ALTER SYSTEM SET indexpilot.flush_interval = '1d';
ALTER SYSTEM SET indexpilot.advise_interval = '1d';
SELECT pg_reload_conf();
DO $$
DECLARE
    start bigint := (SELECT loops FROM indexpilot_worker_status() WHERE role = 'worker' AND database = current_database());
BEGIN
    FOR i IN 1..240 LOOP
        EXIT WHEN (SELECT loops FROM indexpilot_worker_status()
                   WHERE role = 'worker' AND database = current_database()) >= start + 3;
        PERFORM pg_sleep(0.25);
    END LOOP;
END
$$;

-- 20,000 contacts of 20 tenants. (tenant_id, phone) is indexed by hand; custom_text_1 is optional and
-- no tenant expresses it.
CREATE TABLE adv_contacts (
    id            integer PRIMARY KEY,
    tenant_id     integer NOT NULL,
    email         text NOT NULL,
    phone         text NOT NULL,
    title         text NOT NULL,
    custom_text_1 text
);
INSERT INTO adv_contacts
SELECT g, g % 20, 'user' || g || '@example.com', 'p' || g, 'title ' || (g % 500), 'c' || g
FROM generate_series(1, 20000) g;
CREATE INDEX adv_contacts_phone_by_hand ON adv_contacts (tenant_id, phone);
-- The load reaches the statistics before ANALYZE, so it is not taken for writing going on: the first
-- write-rate sample counts the changes since the last ANALYZE.
SELECT pg_stat_force_next_flush();
-- A statistics target of 200 samples every row: the statistics, and so the plans, are deterministic.
SET default_statistics_target = 200;
ANALYZE adv_contacts;
RESET default_statistics_target;
SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE relid = 'adv_contacts'::regclass;
SELECT indexpilot_register('adv_contacts', 'tenant_id');
SELECT indexpilot_mark_optional('adv_contacts', 'custom_text_1');
SELECT column_name, is_core FROM indexpilot.expressed_fields WHERE relid = 'adv_contacts'::regclass ORDER BY attnum;

-- Traffic, every statement captured: hot filters on email, on phone (served by the index made by hand)
-- and on the unexpressed custom_text_1, 150 calls each over all tenants; a rare one on title, 5 calls.
SELECT indexpilot_reset_live_stats() >= 0 AS reset;
SET indexpilot.sample_rate = 1;
\set ECHO none
\o /dev/null
SELECT format('SELECT count(*) FROM adv_contacts WHERE tenant_id = %s AND email = %L', g % 20, 'user' || g || '@example.com')
FROM generate_series(1, 150) g \gexec
SELECT format('SELECT count(*) FROM adv_contacts WHERE tenant_id = %s AND phone = %L', g % 20, 'p' || g)
FROM generate_series(1, 150) g \gexec
SELECT format('SELECT count(*) FROM adv_contacts WHERE tenant_id = %s AND custom_text_1 = %L', g % 20, 'c' || g)
FROM generate_series(1, 150) g \gexec
SELECT format('SELECT count(*) FROM adv_contacts WHERE tenant_id = %s AND title = %L', g % 20, 'title ' || g)
FROM generate_series(1, 5) g \gexec
\o
\set ECHO all
RESET indexpilot.sample_rate;
SELECT columns, sum(calls) AS calls FROM indexpilot.live_stats
WHERE relation = 'adv_contacts'::regclass GROUP BY columns ORDER BY columns;

-- recommendations() weighs flushed statistics only: nothing is flushed yet.
SELECT count(*) AS recommendations FROM indexpilot_recommendations() WHERE table_name = 'public.adv_contacts';

-- run_now flushes, runs the model and, in advise mode, records its proposals without building anything.
SELECT max(id) AS log_before FROM indexpilot.mutation_log \gset
SELECT columns, kind, verdict, action, cost_with < cost_without AS cheaper,
       index_name ~ '^indexpilot_public_adv_contacts_' AS named, statement LIKE 'CREATE INDEX CONCURRENTLY %' AS ddl
FROM indexpilot_run_now() WHERE table_name = 'public.adv_contacts'
ORDER BY verdict COLLATE "C", columns::text COLLATE "C", kind COLLATE "C";
SELECT count(*) AS live_shapes_left FROM indexpilot.live_stats WHERE relation = 'adv_contacts'::regclass;
-- No index on the rare title, on the unexpressed custom_text_1, or beside the hand-made phone index.
SELECT count(*) AS about_other_fields FROM indexpilot_recommendations()
WHERE table_name = 'public.adv_contacts' AND (columns && ARRAY['title', 'custom_text_1'] OR
                                       (columns && ARRAY['phone'] AND verdict = 'chosen'));
-- The proposal follows the table's registration and carries its evidence; nothing was built.
SELECT m.kind, m.target_column, m.details->>'verdict' AS verdict, m.details->'columns' AS columns,
       m.parent_id = g.head_mutation_id AS follows_registration, m.target_table = g.table_name AS same_table,
       m.details ? 'cost_without' AS has_evidence
FROM indexpilot.mutation_log m JOIN indexpilot.genome_tables g ON g.relid = 'adv_contacts'::regclass
WHERE m.id > :log_before ORDER BY m.kind, m.details->>'columns';
SELECT count(*) AS builds FROM indexpilot.mutation_log WHERE kind LIKE 'index_build%' AND id > :log_before;
SELECT indexrelid::regclass AS index FROM pg_index WHERE indrelid = 'adv_contacts'::regclass
ORDER BY indexrelid::regclass::text COLLATE "C";
SELECT count(*) AS builders FROM pg_stat_activity WHERE backend_type = 'indexpilot builder';
-- The lineage of the table reaches the proposal from its registration.
SELECT kind, target_index IS NOT NULL AS about_an_index FROM indexpilot_lineage('adv_contacts') ORDER BY id;

-- A second run reuses the open proposal: nothing new is logged.
SELECT max(id) AS log_before FROM indexpilot.mutation_log \gset
SELECT columns, verdict, action FROM indexpilot_run_now()
WHERE table_name = 'public.adv_contacts' AND verdict = 'chosen' ORDER BY columns::text COLLATE "C";
SELECT count(*) AS new_rows FROM indexpilot.mutation_log WHERE id > :log_before;

-- recommendations() shows the same conclusions and changes nothing: no log row, no write-rate sample.
SELECT max(id) AS log_before FROM indexpilot.mutation_log \gset
SELECT sampled_at AS sampled_before FROM indexpilot.table_activity WHERE relid = 'adv_contacts'::regclass \gset
SELECT columns, verdict, action IS NULL AS no_action FROM indexpilot_recommendations()
WHERE table_name = 'public.adv_contacts' ORDER BY verdict COLLATE "C", columns::text COLLATE "C", kind COLLATE "C";
SELECT count(*) AS new_rows FROM indexpilot.mutation_log WHERE id > :log_before;
SELECT sampled_at = :'sampled_before' AS not_resampled FROM indexpilot.table_activity WHERE relid = 'adv_contacts'::regclass;

-- Privileges: run_now is for superusers; recommendations also for pg_monitor; neither for PUBLIC.
\set VERBOSITY terse
CREATE ROLE regress_indexpilot_monitor IN ROLE pg_monitor;
CREATE ROLE regress_indexpilot_nobody;
SET ROLE regress_indexpilot_nobody;
SELECT count(*) FROM indexpilot_run_now();
SELECT count(*) FROM indexpilot_recommendations();
SET ROLE regress_indexpilot_monitor;
SELECT count(*) FROM indexpilot_run_now();
-- pg_monitor reads the conclusions; re-planning the statements needs the tables' SELECT privilege.
RESET ROLE;
GRANT SELECT ON adv_contacts TO regress_indexpilot_monitor;
SET ROLE regress_indexpilot_monitor;
SELECT columns, verdict, action IS NULL AS no_action FROM indexpilot_recommendations()
WHERE table_name = 'public.adv_contacts' ORDER BY verdict COLLATE "C", columns::text COLLATE "C", kind COLLATE "C";
RESET ROLE;
REVOKE SELECT ON adv_contacts FROM regress_indexpilot_monitor;
\set VERBOSITY default
SELECT has_function_privilege('public', 'indexpilot_run_now()', 'EXECUTE') AS public_runs,
       has_function_privilege('public', 'indexpilot_recommendations()', 'EXECUTE') AS public_reads;
DROP ROLE regress_indexpilot_monitor;
DROP ROLE regress_indexpilot_nobody;

-- Covering forms: a statement that reads two more columns than it filters on gets candidates with those
-- columns as INCLUDE columns, which the planner can serve with an index-only scan (the table is vacuumed:
-- all visible). 200,000 visits of 50 tenants and 4,000 contacts, 50 a contact. The INCLUDE columns must
-- earn their bytes: for a contact's 50 visits alone the key saves nearly all of a table scan and the heap
-- visits it leaves are few; a tenant's month of visits by channel is spread over a third of the heap, and
-- a covering form spares those visits.
CREATE TABLE adv_visits (id integer PRIMARY KEY, tenant_id integer NOT NULL, contact_id integer NOT NULL,
                         visited_at timestamptz NOT NULL, channel text NOT NULL, notes text);
INSERT INTO adv_visits
SELECT g, g % 50, g % 4000, timestamptz '2026-01-01' + g * interval '1 minute', 'channel ' || (g % 7), repeat('n', 200)
FROM generate_series(1, 200000) g;
SELECT pg_stat_force_next_flush();
VACUUM ANALYZE adv_visits;
SELECT indexpilot_register('adv_visits', 'tenant_id') IS NOT NULL AS registered;
SET indexpilot.sample_rate = 1;
\o /dev/null
SELECT format('SELECT visited_at, channel FROM adv_visits WHERE tenant_id = %s AND contact_id = %s', g % 50, g)
FROM generate_series(1, 150) g \gexec
\set ECHO none
SELECT format('SELECT channel, count(*) FROM adv_visits WHERE tenant_id = %s AND visited_at >= ''2026-01-15'' '
              'AND visited_at < ''2026-02-15'' GROUP BY channel', g % 50)
FROM generate_series(1, 150) g \gexec
\set ECHO all
\o
RESET indexpilot.sample_rate;
SELECT max(id) AS log_before FROM indexpilot.mutation_log \gset
CREATE TEMP TABLE cov AS
SELECT columns, kind, verdict, cost_with, statement FROM indexpilot_run_now() WHERE table_name = 'public.adv_visits';
SELECT columns, kind, verdict FROM cov WHERE verdict IN ('chosen', 'include_columns_do_not_pay')
ORDER BY columns::text COLLATE "C", kind;
SELECT columns, statement ~ 'INCLUDE \("visited_at", "channel"\)|INCLUDE \(visited_at, channel\)' AS includes_both
FROM cov WHERE kind = 'covering' ORDER BY columns::text COLLATE "C";
-- The planner costs the covering form of (tenant_id, contact_id) below the plain one: no heap fetches.
SELECT (SELECT cost_with FROM cov WHERE kind = 'covering' AND columns = '{tenant_id,contact_id}') <
       (SELECT cost_with FROM cov WHERE kind <> 'covering' AND columns = '{tenant_id,contact_id}') AS covering_is_cheaper;
-- Every candidate is planned for both statements (the table's other statements count where its plan uses
-- it): the lookups' covering form also serves the month, by an index-only scan of the tenant's entries
-- that filters visited_at from its INCLUDE columns, and spares the second index. Its key alone saves the
-- lookups nearly as much and not the month's heap visits; the month's own covering form and the contact's
-- alone (no tenant key in front) do not pay for their INCLUDE columns beside it. The evidence names the
-- INCLUDE columns, the statement it was made for and the one it also serves.
SELECT count(*) AS chosen FROM cov WHERE verdict = 'chosen';
SELECT m.details->'columns' AS columns, m.details->'include' AS include,
       jsonb_array_length(m.details->'queryids') AS made_for, jsonb_array_length(m.details->'also_serves') AS also_serves
FROM indexpilot.mutation_log m
WHERE m.id > :log_before AND m.kind = 'index_proposed' AND m.target_table = 'public.adv_visits'
ORDER BY m.details->>'columns' COLLATE "C";
DROP TABLE cov;
DROP TABLE adv_visits;

-- Clean up: the table (unregistered with it), its statistics, and the worker's own intervals again.
DROP TABLE adv_contacts;
DELETE FROM indexpilot.query_stats;
DELETE FROM indexpilot.query_samples;
DELETE FROM indexpilot.table_activity;
ALTER SYSTEM RESET indexpilot.flush_interval;
ALTER SYSTEM RESET indexpilot.advise_interval;
SELECT pg_reload_conf();
RESET max_parallel_workers_per_gather;
