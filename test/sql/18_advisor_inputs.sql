-- The cost model's reads (sql/parts/75_advisor_inputs.sql): each function on a small managed table with
-- statistics and lineage rows made here.
\set SHOW_CONTEXT never
CREATE SCHEMA ai;
CREATE TABLE ai.deals (id int PRIMARY KEY, tenant_id int NOT NULL, stage text NOT NULL, note text);
INSERT INTO ai.deals SELECT g, g % 5, 'stage ' || (g % 20), NULL FROM generate_series(1, 200) g;
CREATE INDEX deals_by_hand ON ai.deals (tenant_id, stage);
ANALYZE ai.deals;
SELECT indexpilot_register('ai.deals', 'tenant_id') IS NOT NULL AS registered;

SELECT name, tenant_attnum, tuples, indexpilot_indexes, tenant_key
FROM indexpilot._advisor_tables(false) WHERE relid = 'ai.deals'::regclass;
SELECT attnums FROM indexpilot._advisor_existing_indexes() WHERE relid = 'ai.deals'::regclass ORDER BY 1;
SELECT attnum, attname FROM indexpilot._advisor_columns() WHERE relid = 'ai.deals'::regclass ORDER BY attnum;
SELECT n FROM indexpilot._advisor_index_names() n WHERE n::text LIKE 'deals%' ORDER BY 1;

-- Statistics of the window: two buckets of one shape of one statement sum (sampled calls, time, and the
-- estimated calls where there are any); an old bucket does not count. The statement's true counts sum
-- the same way.
INSERT INTO indexpilot.query_stats (bucket_start, bucket_width, relid, attnums, operators, tenant_scope, tenant,
                                    calls, estimated_calls, total_time_ms, sample_queryid, queryid, first_seen)
VALUES (date_trunc('minute', now()), '1 minute', 'ai.deals', '{2,3}', '{eq,eq}', 'tenant', '3', 4, 40, 8, 4242, 4242,
        now() - interval '90 seconds'),
       (date_trunc('minute', now()) - interval '1 minute', '1 minute', 'ai.deals', '{2,3}', '{eq,eq}', 'tenant', '3',
        2, 0, 2, 4242, 4242, NULL),
       (now() - interval '3 hours', '1 minute', 'ai.deals', '{2,3}', '{eq,eq}', 'tenant', '3', 100, 0, 100, 1, 1, NULL);
SELECT relid::regclass, is_join, attnums, operators, tenant, calls, total_ms, queryid, estimated_calls
FROM indexpilot._advisor_shapes('1 hour') WHERE relid = 'ai.deals'::regclass;
INSERT INTO indexpilot.statement_stats (bucket_start, bucket_width, queryid, calls, sampled_calls, total_time_ms)
VALUES (date_trunc('minute', now()), '1 minute', 4242, 70, 4, 140),
       (date_trunc('minute', now()) - interval '1 minute', '1 minute', 4242, 30, 2, 60),
       (now() - interval '3 hours', '1 minute', 4242, 1000, 1000, 1000);
SELECT queryid, calls, sampled_calls, total_ms FROM indexpilot._advisor_statement_counts('1 hour') WHERE queryid = 4242;
SELECT indexpilot._advisor_observed_seconds('1 hour') BETWEEN 60 AND 200 AS observed;
SELECT indexpilot._advisor_observed_seconds('1 hour') IS NOT NULL AS some_window;

-- Statements: only those with their role and search_path recorded are re-planned.
INSERT INTO indexpilot.query_samples (queryid, query, userid, search_path)
VALUES (4242, 'SELECT * FROM ai.deals WHERE tenant_id = 3 AND stage = ''x''', 10, 'public'),
       (1, 'SELECT 1', NULL, NULL);
SELECT queryid, query, userid::regrole, search_path FROM indexpilot._advisor_statements('1 hour');
SELECT table_bytes > 0 AS has_size, indexpilot_bytes FROM indexpilot._advisor_sizes();

-- Lineage lookups: the open proposal, the table's head, a skip within the window, the retry backoff.
SELECT indexpilot._advisor_open_proposal('indexpilot_ai_deals_stage_x') AS none_open;
SELECT indexpilot._advisor_table_head('ai.deals') > 0 AS has_head;
SELECT indexpilot._log_mutation('index_proposed', 'ai.deals', NULL, 'indexpilot_ai_deals_stage_x', NULL, '{}', NULL) > 0 AS proposed;
SELECT indexpilot._advisor_open_proposal('indexpilot_ai_deals_stage_x') =
       (SELECT max(id) FROM indexpilot.mutation_log WHERE kind = 'index_proposed') AS open_is_latest;
SELECT indexpilot._log_mutation('index_skipped', 'ai.deals', NULL, 'indexpilot_ai_deals_stage_x', NULL,
                                '{"verdict": "below_floor"}', NULL) > 0 AS skipped;
SELECT indexpilot._advisor_open_proposal('indexpilot_ai_deals_stage_x') AS closed_by_the_skip,
       indexpilot._advisor_skipped_recently('indexpilot_ai_deals_stage_x', 'below_floor', '1 hour') AS said,
       indexpilot._advisor_skipped_recently('indexpilot_ai_deals_stage_x', 'too_rare', '1 hour') AS other_verdict;
SELECT indexpilot._advisor_retry_after('indexpilot_ai_deals_stage_x') AS no_failure_no_backoff;
SELECT indexpilot._log_mutation('index_build_failed', 'ai.deals', NULL, 'indexpilot_ai_deals_stage_x', NULL, '{}', NULL) > 0 AS failed;
SELECT indexpilot._advisor_retry_after('indexpilot_ai_deals_stage_x')::timestamptz > now() AS backing_off;

DELETE FROM indexpilot.query_stats WHERE relid = 'ai.deals'::regclass;
DELETE FROM indexpilot.statement_stats WHERE queryid = 4242;
DELETE FROM indexpilot.query_samples WHERE queryid IN (1, 4242);
SELECT indexpilot_unregister('ai.deals') IS NOT NULL AS unregistered;
DROP SCHEMA ai CASCADE;

-- indexpilot_run_now()'s own statements (its flush, cost model and lineage) are not the workload: only the
-- statements this script runs are counted, a handful, not the dozens the cycle runs.
SELECT count(*) >= 0 AS ran FROM indexpilot_run_now();
SELECT coalesce(sum(calls), 0) AS calls_before FROM indexpilot.statement_stats \gset
SELECT count(*) >= 0 AS ran FROM indexpilot_run_now();
SELECT count(*) >= 0 AS ran FROM indexpilot_run_now();
SELECT sum(calls) - :calls_before < 10 AS only_this_scripts
FROM indexpilot.statement_stats;
