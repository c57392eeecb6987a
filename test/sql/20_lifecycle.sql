-- The index lifecycle's SQL (sql/parts/87_lifecycle.sql): IndexPilot's own indexes by their lineage, what is
-- due (validate, revert, retire) on the statements' counts before and after a build, index_health, the
-- revert's hold on new proposals, and the lifecycle GUCs. The lineage and statistics rows are written in a
-- transaction that is rolled back, so the worker of this database never sees them.
\set SHOW_CONTEXT never
SELECT name, unit, context, min_val, max_val, boot_val
FROM pg_settings
WHERE name IN ('indexpilot.validate_window', 'indexpilot.max_regression', 'indexpilot.retire_after')
ORDER BY name COLLATE "C";
SET indexpilot.validate_window = '1min';
ALTER SYSTEM SET indexpilot.validate_window = 0;
ALTER SYSTEM SET indexpilot.validate_window = 'soon';
ALTER SYSTEM SET indexpilot.max_regression = -0.1;
ALTER SYSTEM SET indexpilot.max_regression = 'a lot';
ALTER SYSTEM SET indexpilot.retire_after = 0;
ALTER SYSTEM SET indexpilot.retire_after = '2 years';
ALTER SYSTEM SET indexpilot.retire_after = '1d';
ALTER SYSTEM RESET indexpilot.retire_after;

CREATE TABLE lc_orders (id int PRIMARY KEY, tenant_id int NOT NULL, customer text NOT NULL, region text NOT NULL);
INSERT INTO lc_orders SELECT g, g % 10, 'c' || g, 'r' || (g % 7) FROM generate_series(1, 1000) g;
SELECT indexpilot_register('lc_orders', 'tenant_id') IS NOT NULL AS registered;
CREATE INDEX lc_dba_region ON lc_orders (region);          -- a DBA's: reported, never dropped
CREATE INDEX lc_dba_region_again ON lc_orders (region);    -- and a duplicate of it
CREATE INDEX ip_customer ON lc_orders (tenant_id, customer);
CREATE INDEX ip_customer_region ON lc_orders (tenant_id, customer, region);
CREATE INDEX ip_region ON lc_orders (tenant_id, region);

BEGIN;
-- The lineage of a build: proposal (with its statements) -> started -> finished (with the index's OID).
CREATE FUNCTION pg_temp.built(index_name text, queryids bigint[], before jsonb DEFAULT NULL) RETURNS bigint
LANGUAGE sql AS $$
    SELECT indexpilot._log_mutation('index_build_finished', 'public.lc_orders', NULL, index_name, NULL,
               jsonb_build_object('index_oid', index_name::regclass::oid),
               indexpilot._log_mutation('index_build_started', 'public.lc_orders', NULL, index_name, NULL,
                   jsonb_build_object('index_oid', index_name::regclass::oid),
                   indexpilot._log_mutation('index_proposed', 'public.lc_orders', NULL, index_name, NULL,
                       jsonb_build_object('queryids', to_jsonb(queryids), 'before', before), NULL)))
$$;
-- ip_customer's proposal recorded what its statement took as the decision saw it (20 ms a call): the
-- lifecycle compares with that rather than with the buckets before the build.
SELECT pg_temp.built('ip_customer', '{101}', '{"101": {"calls": 90, "ms_per_call": 20}}') AS f_customer,
       pg_temp.built('ip_customer_region', '{102}') AS f_customer_region,
       pg_temp.built('ip_region', '{103, 104}') AS f_region \gset
-- A row that names an index by a name that is not its OID's is not IndexPilot's.
SELECT indexpilot._log_mutation('index_build_finished', 'public.lc_orders', NULL, 'lc_dba_region', NULL,
           jsonb_build_object('index_oid', 'ip_region'::regclass::oid), NULL) IS NOT NULL AS forged;
SELECT index_name, queryids, keys, include, partial, validated_id IS NULL AS not_validated
FROM indexpilot._own_indexes() ORDER BY index_name COLLATE "C";

-- Statements: 101 was slow before and is fast after; 102 is fast after too; 103 got faster, 104 slower.
INSERT INTO indexpilot.statement_stats (bucket_start, bucket_width, queryid, calls, total_time_ms)
VALUES (now() - interval '2 min', interval '1 min', 101, 100, 1000), (now() + interval '1 min', interval '1 min', 101, 100, 10),
       (now() - interval '2 min', interval '1 min', 102, 100, 1000), (now() + interval '1 min', interval '1 min', 102, 100, 10),
       (now() - interval '2 min', interval '1 min', 103, 100, 1000), (now() + interval '1 min', interval '1 min', 103, 100, 10),
       (now() - interval '2 min', interval '1 min', 104, 100, 100),  (now() + interval '1 min', interval '1 min', 104, 100, 200);
SELECT queryid, calls_before, ms_before, calls_after, ms_after
FROM indexpilot._statements_around('{103, 104, 105}', now(), now(), interval '0', interval '1 hour', NULL);
-- Use: ip_customer and ip_region were used after their builds, ip_customer_region not.
INSERT INTO indexpilot.index_usage (index_oid, index_name, idx_scan, last_used, checked_at)
VALUES ('ip_customer'::regclass, 'ip_customer', 5, now() + interval '1 s', now()),
       ('ip_customer_region'::regclass, 'ip_customer_region', 0, now(), now()),
       ('ip_region'::regclass, 'ip_region', 9, now() + interval '1 s', now());

SELECT action, index_name, details->>'reason' AS reason, (details->>'speedup')::numeric(6, 1) AS speedup,
       details->>'slowest_statement' AS slowest, parent_id IN (:f_customer, :f_customer_region, :f_region) AS parent_is_build
FROM indexpilot._lifecycle_due(interval '0', 0.25, interval '7 days', interval '0', interval '1 hour', 0.1)
ORDER BY index_name COLLATE "C";
-- With a larger max_regression 104's doubling is tolerated: validated.
SELECT index_name, action FROM indexpilot._lifecycle_due(interval '0', 1.5, interval '7 days', interval '0', interval '1 hour', 0.1)
WHERE index_name = 'ip_region';
-- Faster by less than min_improvement is noise, not proof: ip_customer saved 99.5% of its statement's
-- time; asked to save 99.9%, it is reverted as not faster.
SELECT index_name, action, details->>'reason' AS reason, details->>'min_improvement' AS asked
FROM indexpilot._lifecycle_due(interval '0', 0.25, interval '7 days', interval '0', interval '1 hour', 0.999)
WHERE index_name = 'ip_customer';
-- Not due before validate_window has passed.
SELECT count(*) AS due_early FROM indexpilot._lifecycle_due(interval '1 hour', 0.25, interval '7 days', interval '0', interval '1 hour', 0.1);

-- Validated: retired when unused for retire_after, or when a wider validated one of ours covers it.
SELECT indexpilot._log_mutation('index_validated', 'public.lc_orders', NULL, 'ip_customer', NULL, '{}', :f_customer) AS v1,
       indexpilot._log_mutation('index_validated', 'public.lc_orders', NULL, 'ip_customer_region', NULL, '{}', :f_customer_region) AS v2 \gset
SELECT action, index_name, details->>'reason' AS reason, details->>'covered_by' AS covered_by, parent_id = :v1 AS parent_is_validation
FROM indexpilot._lifecycle_due(interval '0', 1.5, interval '7 days', interval '0', interval '1 hour', 0.1)
WHERE index_name <> 'ip_region' ORDER BY index_name COLLATE "C";
-- The wider one unused for retire_after goes; the one it covers stays (else its statements lose both).
UPDATE indexpilot.index_usage SET last_used = now() - interval '8 days' WHERE index_name = 'ip_customer_region';
SELECT action, index_name, details->>'reason' AS reason
FROM indexpilot._lifecycle_due(interval '0', 1.5, interval '7 days', interval '0', interval '1 hour', 0.1)
WHERE index_name <> 'ip_region' ORDER BY index_name COLLATE "C";
-- Unused for retire_after but still inside a longer statistics window: kept (the cost model, which still
-- sees its statements, would build it again).
SELECT count(*) AS retired_inside_window
FROM indexpilot._lifecycle_due(interval '0', 1.5, interval '7 days', interval '0', interval '10 days', 0.1)
WHERE index_name = 'ip_customer_region' AND action = 'retire' AND details->>'reason' = 'unused';

-- index_health: every index of the managed table, whose it is, duplicates and prefixes, what would be done.
-- (With the server's validate_window of 15 min, nothing of ours is due yet: "validate after <time>".)
SELECT index_name, owner, kind, valid, state, duplicate_of, prefix_of,
       regexp_replace(action, 'after .*', 'after <time>') AS action
FROM indexpilot.index_health WHERE table_name = 'public.lc_orders' ORDER BY index_name COLLATE "C";

-- A reverted index is held back from new proposals for a statistics window, doubled per further revert.
SELECT indexpilot._advisor_reverted_until('ip_region', '{}') IS NULL AS not_reverted;
SELECT indexpilot._log_mutation('index_reverted', 'public.lc_orders', NULL, 'ip_region', NULL,
           '{"statements": [{"queryid": 103}, {"queryid": 104}]}', :f_region) IS NOT NULL AS reverted;
SELECT indexpilot._advisor_reverted_until('ip_region', '{}')::timestamptz - now() BETWEEN interval '59 min' AND interval '61 min' AS held_one_window;
-- A rival for the same statements waits too; an index for other statements does not.
SELECT indexpilot._advisor_reverted_until('a_rival', '{104, 200}') IS NOT NULL AS rival_held,
       indexpilot._advisor_reverted_until('another', '{200}') IS NULL AS other_free;
SELECT indexpilot._log_mutation('index_reverted', 'public.lc_orders', NULL, 'ip_region', NULL, '{}', :f_region) IS NOT NULL AS reverted_again;
SELECT indexpilot._advisor_reverted_until('ip_region', '{}')::timestamptz - now() BETWEEN interval '119 min' AND interval '121 min' AS held_two_windows;

-- Failures in a row since building was last switched on: failed, abandoned and reverted builds count, a
-- validated one ends the run.
SELECT failures FROM indexpilot._advisor_failure_streak();
SELECT indexpilot._log_mutation('index_build_failed', 'public.lc_orders', NULL, 'x', NULL, '{}', NULL) IS NOT NULL AS f1,
       indexpilot._log_mutation('index_build_abandoned', 'public.lc_orders', NULL, 'y', NULL, '{}', NULL) IS NOT NULL AS f2;
SELECT failures, cardinality(outcomes) AS outcomes FROM indexpilot._advisor_failure_streak();
SELECT indexpilot._log_mutation('index_validated', 'public.lc_orders', NULL, 'z', NULL, '{}', NULL) IS NOT NULL AS good;
SELECT failures FROM indexpilot._advisor_failure_streak();
SELECT indexpilot._log_mutation('index_build_failed', 'public.lc_orders', NULL, 'x', NULL, '{}', NULL) IS NOT NULL AS f3;
SELECT failures FROM indexpilot._advisor_failure_streak();
SELECT indexpilot._log_mutation('bypass_switch', NULL, NULL, NULL, NULL,
           '{"switch": "index_building", "enabled": true}', NULL) IS NOT NULL AS switched_on;
SELECT failures FROM indexpilot._advisor_failure_streak();

-- A later build of ours for some of the same statements (103) began before any bucket after ip_region's
-- build was complete: what follows measures both, so nothing measures ip_region alone. It waits for the
-- later one's verdict (here: not used, reverted; ip_region would then be measured on its own after all)...
CREATE INDEX ip_late ON lc_orders (tenant_id, region, customer);
SELECT pg_temp.built('ip_late', '{103}') AS f_late \gset
SELECT index_name, action, details->>'reason' AS reason, details->>'superseded_by' AS superseded_by,
       details ? 'measured_until' AS cut
FROM indexpilot._lifecycle_due(interval '0', 1.5, interval '7 days', interval '0', interval '1 hour', 0.1)
WHERE index_name IN ('ip_region', 'ip_late') ORDER BY index_name COLLATE "C";
-- ...and once the later one is validated, ip_region is due as 'superseded' by it (the worker drops it
-- only if the planner says its statements keep their cost without it, and validates it otherwise).
SELECT indexpilot._log_mutation('index_validated', 'public.lc_orders', NULL, 'ip_late', NULL, '{}', :f_late) IS NOT NULL AS late_validated;
SELECT index_name, action, details->>'reason' AS reason, details->>'superseded_by' AS superseded_by,
       details->>'calls_after' AS calls_after, details ? 'measured_until' AS cut
FROM indexpilot._lifecycle_due(interval '0', 1.5, interval '7 days', interval '0', interval '1 hour', 0.1)
WHERE index_name IN ('ip_region', 'ip_late') ORDER BY index_name COLLATE "C";
ROLLBACK;

-- Bad input: NULL settings are refused.
SELECT * FROM indexpilot._lifecycle_due(NULL, 0.25, interval '7 days', interval '0', interval '1 hour', 0.1);
DROP TABLE lc_orders;
