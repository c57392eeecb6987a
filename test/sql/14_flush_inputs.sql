-- The flush on odd input: text tenants that share a long prefix, multibyte and empty tenants, a flush
-- that aborts or is rolled back to a savepoint, and crafted rows (duplicate keys, negative times) given
-- straight to indexpilot._store_stats(). After each, the hot shape's calls reach query_stats.
-- Sums over query_stats and live_stats together: the worker may flush in between (it takes the same lock).
\set SHOW_CONTEXT never
SET indexpilot.sample_rate = 1;
CREATE TABLE fi_notes (id int PRIMARY KEY, tenant_id text NOT NULL, body text);
INSERT INTO fi_notes SELECT g, 't' || (g % 10), 'b' || g FROM generate_series(1, 200) g;
ANALYZE fi_notes;
SELECT indexpilot_reset_live_stats() >= 0 AS reset;

-- Two tenants that share their first 39 bytes are two shapes (each text is hashed in full) with one
-- clipped text; 30 two-byte characters are clipped on a character boundary (19 of them, 38 bytes); an
-- empty tenant is kept as it was seen.
SELECT count(*) FROM fi_notes WHERE tenant_id = repeat('x', 39) || 'a' AND body = 'b1';
SELECT count(*) FROM fi_notes WHERE tenant_id = repeat('x', 39) || 'b' AND body = 'b1';
SELECT count(*) FROM fi_notes WHERE tenant_id = repeat('é', 30) AND body = 'b1';
SELECT count(*) FROM fi_notes WHERE tenant_id = '' AND body = 'b1';
SELECT count(*) FROM fi_notes WHERE body = 'b2';
SELECT count(*) FROM fi_notes WHERE body = 'b3';
SELECT columns, tenant_scope, tenant, octet_length(tenant) AS bytes, length(tenant) AS chars, calls
FROM indexpilot.live_stats WHERE relation = 'fi_notes'::regclass
ORDER BY columns::text COLLATE "C", tenant COLLATE "C";
SELECT indexpilot._flush('1 minute', '7 days', '1 hour') >= 0 AS flushed;
-- The two 39-byte tenants share one row; the empty tenant counts with the other tenants.
SELECT columns, tenant_scope, tenant, sum(calls) AS calls
FROM (SELECT ARRAY(SELECT attname FROM pg_attribute WHERE attrelid = relid AND attnum = ANY (attnums) ORDER BY attnum)::text AS columns,
             tenant_scope, tenant, calls
      FROM indexpilot.query_stats WHERE relid = 'fi_notes'::regclass) s
GROUP BY 1, 2, 3 ORDER BY columns COLLATE "C", tenant COLLATE "C";
SELECT count(*) AS left_in_store FROM indexpilot.live_stats WHERE relation = 'fi_notes'::regclass;

-- A flush whose transaction aborts, or whose savepoint is rolled back, takes nothing from the store.
CREATE VIEW fi_hot AS
SELECT (SELECT coalesce(sum(calls), 0) FROM indexpilot.query_stats
        WHERE relid = 'fi_notes'::regclass AND tenant_scope = 'none') AS flushed,
       (SELECT coalesce(sum(calls), 0) FROM indexpilot.live_stats
        WHERE relation = 'fi_notes'::regclass AND tenant_scope = 'none') AS live;
SELECT count(*) FROM fi_notes WHERE body = 'b4';
SELECT count(*) FROM fi_notes WHERE body = 'b5';
SELECT * FROM fi_hot;
BEGIN;
SELECT indexpilot._flush('1 minute', '7 days', '1 hour') >= 0 AS flushed;
SELECT * FROM fi_hot;
ROLLBACK;
SELECT * FROM fi_hot;
BEGIN;
SELECT indexpilot._flush('1 minute', '7 days', '1 hour') >= 0 AS flushed;
SELECT 1 / 0;
ROLLBACK;
SELECT * FROM fi_hot;
BEGIN;
SAVEPOINT before_flush;
SELECT indexpilot._flush('1 minute', '7 days', '1 hour') >= 0 AS flushed;
ROLLBACK TO SAVEPOINT before_flush;
COMMIT;
SELECT * FROM fi_hot;
-- A PL/pgSQL exception block is a subtransaction too.
DO $$
BEGIN
    PERFORM indexpilot._flush('1 minute', '7 days', '1 hour');
    RAISE EXCEPTION 'after the flush';
EXCEPTION WHEN raise_exception THEN
    NULL;
END
$$;
SELECT * FROM fi_hot;
-- Committed through a released savepoint: the calls move, and new ones after the take stay.
BEGIN;
SAVEPOINT before_flush;
SELECT indexpilot._flush('1 minute', '7 days', '1 hour') >= 0 AS flushed;
RELEASE SAVEPOINT before_flush;
SELECT count(*) FROM fi_notes WHERE body = 'b6';
SELECT * FROM fi_hot;
COMMIT;
SELECT * FROM fi_hot;
SELECT indexpilot._flush('1 minute', '7 days', '1 hour') >= 0 AS flushed;
SELECT * FROM fi_hot;

-- Crafted rows straight to the store part of the flush: duplicate keys are summed, an empty or missing
-- tenant counts with the other tenants, negative times become 0, a dropped table's rows are forgotten and
-- a row no query_stats key can hold is skipped with a warning.
CREATE VIEW fi_crafted AS
SELECT tenant_scope, tenant, attnums, operators, calls, total_time_ms, max_time_ms, cancelled_time_ms,
       first_seen AT TIME ZONE 'UTC' AS first_seen_utc, estimated_calls
FROM indexpilot.query_stats WHERE relid = 'fi_notes'::regclass AND bucket_start = '2020-01-01 00:00+00';
CREATE TABLE fi_rows (e jsonb);
INSERT INTO fi_rows SELECT jsonb_array_elements($$[
  {"attnums": [3], "operators": ["eq"], "tenant_scope": "tenant", "tenant": "acme", "calls": 2, "total_ms": 4, "max_ms": 3, "first_seen": "2020-01-01 00:00:10+00"},
  {"attnums": [3], "operators": ["eq"], "tenant_scope": "tenant", "tenant": "acme", "calls": 3, "total_ms": -7, "max_ms": -1, "cancelled_ms": -2, "first_seen": "2020-01-01 00:00:05+00"},
  {"attnums": [3], "operators": ["eq"], "tenant_scope": "tenant", "tenant": "", "calls": 1, "total_ms": 1, "max_ms": 1},
  {"attnums": [3], "operators": ["eq"], "tenant_scope": "tenant", "calls": 1, "total_ms": 1, "max_ms": 1},
  {"attnums": [3], "operators": ["eq"], "tenant_scope": "other_tenants", "tenant": "ignored", "calls": 4, "total_ms": 2, "max_ms": 2},
  {"attnums": [3], "operators": ["eq"], "tenant_scope": "none", "tenant": "ignored", "calls": 5, "total_ms": -1, "max_ms": 0.5, "estimated_calls": 50},
  {"attnums": [3], "operators": ["eq"], "tenant_scope": "none", "calls": -4, "rows_scanned": -1, "estimated_calls": -3},
  {"relid": 0, "attnums": [3], "operators": ["eq"], "tenant_scope": "none", "calls": 7},
  {"attnums": [], "operators": [], "tenant_scope": "none", "calls": 8},
  {"attnums": [3], "operators": ["equals"], "tenant_scope": "none", "calls": 9}
]$$);
CREATE VIEW fi_input AS
SELECT ARRAY(SELECT jsonb_populate_record(NULL::indexpilot.flush_input,
                    jsonb_build_object('relid', 'fi_notes'::regclass::oid, 'kind', 'filter') || e)
             FROM fi_rows) AS taken;
SELECT indexpilot._store_stats(taken, '2020-01-01 00:00+00', '1 minute') AS stored FROM fi_input;
SELECT * FROM fi_crafted ORDER BY tenant_scope, tenant;
-- The same rows again land on the same keys.
SELECT indexpilot._store_stats(taken, '2020-01-01 00:00+00', '1 minute') AS stored FROM fi_input;
SELECT * FROM fi_crafted ORDER BY tenant_scope, tenant;
SELECT indexpilot._store_stats('{}', '2020-01-01 00:00+00', '1 minute') AS stored_nothing;
SELECT indexpilot._store_stats(NULL, '2020-01-01 00:00+00', '1 minute') AS stored_nothing;
SELECT indexpilot._store_stats(taken, NULL, '1 minute') FROM fi_input;
SELECT indexpilot._store_stats(taken, '2020-01-01 00:00+00', NULL) FROM fi_input;
SELECT indexpilot._store_stats(taken, '2020-01-01 00:00+00', '-1 minute') FROM fi_input;
-- Internal, like the rest of the flush.
CREATE ROLE indexpilot_regress_nobody;
SET ROLE indexpilot_regress_nobody;
SELECT indexpilot._store_stats('{}', '2020-01-01 00:00+00', '1 minute');
RESET ROLE;
DROP ROLE indexpilot_regress_nobody;

-- And the hot shape still flows.
SELECT count(*) FROM fi_notes WHERE body = 'b7';
SELECT indexpilot._flush('1 minute', '7 days', '1 hour') >= 0 AS flushed;
SELECT * FROM fi_hot;

DROP VIEW fi_hot, fi_crafted, fi_input;
DROP TABLE fi_rows;
DELETE FROM indexpilot.query_stats WHERE relid = 'fi_notes'::regclass;
DROP TABLE fi_notes;
