-- What-if costing: indexpilot_whatif() plans a statement without and with a hypothetical btree index.
-- Costs differ slightly between machines, so this prints booleans and coarse ratios, not raw costs.
\set SHOW_CONTEXT never
SET max_parallel_workers_per_gather = 0;

-- 50,000 rows; tenant 42 owns a fifth of them, 200 other tenants share the rest.
CREATE TABLE whatif_t (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id  integer NOT NULL,
    email      text NOT NULL,
    name       text,
    status     text NOT NULL,
    created_on date NOT NULL,
    note       text
);
INSERT INTO whatif_t (tenant_id, email, name, status, created_on, note)
SELECT CASE WHEN g % 5 = 0 THEN 42 ELSE 1 + (g * 7919) % 200 END,
       'user' || g || '@example.com',
       md5(g::text),
       CASE WHEN g % 2 = 0 THEN 'active' ELSE 'inactive' END,
       date '2020-01-01' + (g % 1000),
       repeat('x', g % 50)
FROM generate_series(1, 50000) g;
-- A statistics target of 200 samples all 50,000 rows: the statistics, and so the plans, are deterministic.
SET default_statistics_target = 200;
ANALYZE whatif_t;
RESET default_statistics_target;

-- Returns SQLSTATE and message of the error a statement raises (or 'no error').
CREATE FUNCTION whatif_error(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- Equality on an unindexed column: the index is used and wins big.
SELECT index_used, cost_with < cost_without * 0.1 AS big_win, cost_without > 0 AS costed
FROM indexpilot_whatif($$SELECT * FROM whatif_t WHERE name = 'c4ca4238a0b923820dcc509a6f75849b'$$,
                       'whatif_t', '{name}');

-- A tenant-leading composite for a prepared statement's generic plan ($n types inferred).
SELECT index_used, cost_with < cost_without * 0.1 AS big_win
FROM indexpilot_whatif('SELECT id FROM whatif_t WHERE tenant_id = $1 AND email = $2', 'whatif_t', '{tenant_id,email}');

-- A range on a date column.
SELECT index_used, cost_with < cost_without * 0.5 AS win
FROM indexpilot_whatif($$SELECT * FROM whatif_t WHERE created_on BETWEEN '2020-03-01' AND '2020-03-03'$$,
                       'whatif_t', '{created_on}');
-- Equality then range: (tenant_id, created_on) is used and cheaper than the reverse column order.
WITH eq_range AS (SELECT * FROM indexpilot_whatif(
         $$SELECT * FROM whatif_t WHERE tenant_id = 7 AND created_on >= '2022-06-01'$$, 'whatif_t', '{tenant_id,created_on}')),
     range_eq AS (SELECT * FROM indexpilot_whatif(
         $$SELECT * FROM whatif_t WHERE tenant_id = 7 AND created_on >= '2022-06-01'$$, 'whatif_t', '{created_on,tenant_id}'))
SELECT e.index_used AS eq_range_used, e.cost_with < e.cost_without * 0.5 AS eq_range_wins,
       e.cost_with < r.cost_with AS eq_first_cheaper
FROM eq_range e, range_eq r;

-- A filter that keeps half the rows: an index brings next to nothing (a bitmap scan may win by a hair).
SELECT cost_with > cost_without * 0.9 AS gain_under_10pct
FROM indexpilot_whatif($$SELECT * FROM whatif_t WHERE status = 'active'$$, 'whatif_t', '{status}');

-- UPDATE and DELETE are planned too; nothing is executed.
SELECT index_used FROM indexpilot_whatif($$UPDATE whatif_t SET note = 'y' WHERE email = 'user5@example.com'$$,
                                         'whatif_t', '{email}');
SELECT index_used FROM indexpilot_whatif('DELETE FROM whatif_t WHERE email = $1', 'whatif_t', '{email}');
SELECT count(*) AS unchanged FROM whatif_t WHERE note = 'y';
-- A semi-join and a set operation: the hypothetical index serves the scans inside.
SELECT index_used FROM indexpilot_whatif(
    $$SELECT count(*) FROM whatif_t a WHERE a.id < 50 AND EXISTS (SELECT 1 FROM whatif_t b WHERE b.name = a.email)$$,
    'whatif_t', '{name}');
SELECT index_used FROM indexpilot_whatif(
    $$SELECT id FROM whatif_t WHERE id IN (SELECT id FROM whatif_t WHERE name = 'x') UNION ALL SELECT id FROM whatif_t WHERE note = 'y'$$,
    'whatif_t', '{name}');

-- A partial index WHERE tenant_id = 42: used for that tenant's queries, not for another tenant's;
-- it is smaller than the full index.
SELECT index_used, cost_with < cost_without * 0.1 AS big_win
FROM indexpilot_whatif($$SELECT * FROM whatif_t WHERE tenant_id = 42 AND email = 'user5@example.com'$$,
                       'whatif_t', '{email}', 'tenant_id = 42');
SELECT index_used
FROM indexpilot_whatif($$SELECT * FROM whatif_t WHERE tenant_id = 7 AND email = 'user5@example.com'$$,
                       'whatif_t', '{email}', 'tenant_id = 42');
SELECT round((p.estimated_bytes / f.estimated_bytes)::numeric, 1) AS partial_to_full
FROM indexpilot_whatif('SELECT 1', 'whatif_t', '{email}', 'tenant_id = 42') p,
     indexpilot_whatif('SELECT 1', 'whatif_t', '{email}') f;

-- Queries the planner rejects: a clear error, and the session goes on.
SELECT * FROM indexpilot_whatif('SELEC * FROM whatif_t', 'whatif_t', '{name}');
SELECT * FROM indexpilot_whatif('SELECT * FROM whatif_nowhere', 'whatif_t', '{name}');
SELECT whatif_error($$SELECT indexpilot_whatif('SELECT * FROM whatif_nowhere', 'whatif_t', '{name}')$$);
SELECT whatif_error($$SELECT indexpilot_whatif('SELECT nope FROM whatif_t', 'whatif_t', '{name}')$$);
SELECT whatif_error($$SELECT indexpilot_whatif('SELECT 1; SELECT 2', 'whatif_t', '{name}')$$);
SELECT whatif_error($$SELECT indexpilot_whatif('VACUUM whatif_t', 'whatif_t', '{name}')$$);
SELECT whatif_error($$SELECT indexpilot_whatif('SELECT * FROM whatif_t WHERE email = $1 AND $1 > 5', 'whatif_t', '{name}')$$);
SELECT 1 AS session_goes_on;
-- Normal planning never sees a hypothetical index.
EXPLAIN (COSTS OFF) SELECT * FROM whatif_t WHERE name = 'c4ca4238a0b923820dcc509a6f75849b';
-- Nor does a what-if call inside the same transaction leave anything behind, even after an error.
BEGIN;
SELECT index_used FROM indexpilot_whatif($$SELECT * FROM whatif_t WHERE name = 'x'$$, 'whatif_t', '{name}');
SELECT whatif_error($$SELECT indexpilot_whatif('SELEC', 'whatif_t', '{name}')$$);
-- Planning an UPDATE takes RowExclusiveLock; the call releases it (locks_left below).
SELECT index_used FROM indexpilot_whatif($$UPDATE whatif_t SET note = 'y' WHERE name = 'x'$$, 'whatif_t', '{name}');
EXPLAIN (COSTS OFF) SELECT * FROM whatif_t WHERE name = 'x';
SELECT count(*) AS locks_left FROM pg_locks WHERE locktype = 'relation' AND relation = 'whatif_t'::regclass
  AND pid = pg_backend_pid() AND mode <> 'AccessShareLock';
COMMIT;

-- Many calls, failing or not, leave neither memory nor locks behind.
CREATE FUNCTION whatif_churn(n integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
    FOR i IN 1..n LOOP
        SELECT * INTO r FROM indexpilot_whatif('SELECT * FROM whatif_t WHERE tenant_id = 42 AND email = $1',
                                               'whatif_t', '{email}', 'tenant_id = 42');
        PERFORM whatif_error($q$SELECT indexpilot_whatif('SELEC', 'whatif_t', '{email}')$q$);
    END LOOP;
END $$;
SELECT whatif_churn(100);
SELECT sum(total_bytes) AS memory_before FROM pg_backend_memory_contexts \gset
BEGIN;
SELECT whatif_churn(1000);
SELECT sum(total_bytes) - :memory_before < 1024 * 1024 AS memory_flat FROM pg_backend_memory_contexts;
SELECT count(*) AS locks_left FROM pg_locks WHERE locktype = 'relation' AND relation = 'whatif_t'::regclass
  AND pid = pg_backend_pid() AND mode <> 'AccessShareLock';
COMMIT;
DROP FUNCTION whatif_churn(integer);

-- The estimated size is close to the real index's, built afterwards.
CREATE TEMP TABLE whatif_sizes AS
SELECT c.cols, w.estimated_bytes, w.estimated_pages
FROM (VALUES ('{email}'::name[]), ('{tenant_id,email}'), ('{tenant_id}'), ('{created_on}'), ('{status}')) c(cols),
     LATERAL indexpilot_whatif('SELECT 1', 'whatif_t', c.cols) w;
CREATE INDEX whatif_email ON whatif_t (email);
CREATE INDEX whatif_tenant_email ON whatif_t (tenant_id, email);
CREATE INDEX whatif_tenant ON whatif_t (tenant_id);
CREATE INDEX whatif_created ON whatif_t (created_on);
CREATE INDEX whatif_status ON whatif_t (status);
CREATE INDEX whatif_partial ON whatif_t (email) WHERE tenant_id = 42;
SELECT s.cols, pg_relation_size(i.indexrelid) / s.estimated_bytes BETWEEN 0.5 AND 2 AS within_2x,
       pg_relation_size(i.indexrelid) / s.estimated_bytes BETWEEN 0.8 AND 1.25 AS within_25pct,
       s.estimated_bytes = s.estimated_pages * current_setting('block_size')::int AS whole_pages
FROM whatif_sizes s
JOIN pg_index i ON i.indrelid = 'whatif_t'::regclass AND i.indpred IS NULL
 AND (SELECT array_agg(attname ORDER BY k.n) FROM unnest(i.indkey) WITH ORDINALITY k(attnum, n)
      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum) = s.cols
ORDER BY s.cols::text COLLATE "C";
SELECT pg_relation_size('whatif_partial') / w.estimated_bytes BETWEEN 0.5 AND 2 AS partial_within_2x
FROM indexpilot_whatif('SELECT 1', 'whatif_t', '{email}', 'tenant_id = 42') w;
-- With the real index in place, the hypothetical duplicate brings nothing.
SELECT index_used, cost_with >= cost_without * 0.99 AS no_gain
FROM indexpilot_whatif($$SELECT * FROM whatif_t WHERE email = 'user5@example.com'$$, 'whatif_t', '{email}');

-- Bad inputs.
SELECT * FROM indexpilot_whatif(NULL, 'whatif_t', '{name}');
SELECT * FROM indexpilot_whatif('SELECT 1', NULL, '{name}');
SELECT * FROM indexpilot_whatif('SELECT 1', 'whatif_t', NULL);
SELECT * FROM indexpilot_whatif('SELECT 1', 'whatif_t', '{name,NULL}');
SELECT * FROM indexpilot_whatif('SELECT 1', 'whatif_t', '{}');
SELECT * FROM indexpilot_whatif('SELECT 1', 'whatif_t', '{id,tenant_id,email,name,status,created_on,note,id,id}');
SELECT * FROM indexpilot_whatif('SELECT 1', 'whatif_t', '{{id},{name}}');
SELECT * FROM indexpilot_whatif('SELECT 1', 'whatif_t', '{nope}');
SELECT * FROM indexpilot_whatif('SELECT 1', 'whatif_t', '{ctid}');
SELECT * FROM indexpilot_whatif('SELECT 1', 'whatif_t', '{name}', 'nope = 1');
SELECT * FROM indexpilot_whatif('SELECT 1', 'whatif_t', '{name}', 'tenant_id =');
SELECT * FROM indexpilot_whatif('SELECT 1', 'whatif_t', '{name}', 'tenant_id = 1 ORDER BY 1');
SELECT * FROM indexpilot_whatif('SELECT 1', 'whatif_t', '{name}', 'random() > 0.5');
SELECT * FROM indexpilot_whatif('SELECT 1', 'whatif_t', '{name}', 'tenant_id');
SELECT * FROM indexpilot_whatif('SELECT 1', 'whatif_t', '{name}', '(SELECT true)');
SELECT * FROM indexpilot_whatif('SELECT 1', 'pg_class_oid_index', '{oid}');
SELECT whatif_error($$SELECT indexpilot_whatif('SELECT 1', 'whatif_t', '{name}', NULL)$$) AS null_predicate_is_fine;
CREATE TABLE whatif_points (p point, n integer);
SELECT * FROM indexpilot_whatif('SELECT 1', 'whatif_points', '{p}');

-- Privileges: not for PUBLIC; a role allowed to run it still needs SELECT on what it plans.
CREATE ROLE whatif_role;
SET ROLE whatif_role;
SELECT * FROM indexpilot_whatif('SELECT 1', 'whatif_t', '{name}');
RESET ROLE;
GRANT EXECUTE ON FUNCTION indexpilot_whatif(text, regclass, name[], text) TO whatif_role;
SET ROLE whatif_role;
SELECT * FROM indexpilot_whatif('SELECT 1', 'whatif_t', '{name}');
RESET ROLE;
GRANT SELECT ON whatif_points TO whatif_role;
SET ROLE whatif_role;
SELECT index_used FROM indexpilot_whatif('SELECT * FROM whatif_points WHERE n = 1', 'whatif_points', '{n}');
SELECT index_used FROM indexpilot_whatif('SELECT * FROM whatif_t WHERE tenant_id = 1', 'whatif_points', '{n}');
RESET ROLE;
REVOKE EXECUTE ON FUNCTION indexpilot_whatif(text, regclass, name[], text) FROM whatif_role;
REVOKE SELECT ON whatif_points FROM whatif_role;
DROP ROLE whatif_role;

-- No lock on the table outlives the call: sizing and planning run in subtransactions rolled back.
BEGIN;
SELECT index_used FROM indexpilot_whatif('SELECT * FROM whatif_t WHERE email = ''x''', 'whatif_t', '{email}',
                                         'tenant_id = 3');
SELECT count(*) AS locks_left FROM pg_locks
WHERE pid = pg_backend_pid() AND relation = 'whatif_t'::regclass;
COMMIT;

DROP TABLE whatif_t, whatif_points;
DROP FUNCTION whatif_error(text);
RESET max_parallel_workers_per_gather;
