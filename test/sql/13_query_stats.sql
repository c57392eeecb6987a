-- indexpilot.query_stats and the flush that fills it from the capture store.
\set SHOW_CONTEXT never
SELECT a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS data_type, a.attnotnull AS not_null
FROM pg_attribute a WHERE a.attrelid = 'indexpilot.query_stats'::regclass AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum;
SELECT indexrelid::regclass AS index, pg_get_indexdef(indexrelid) AS definition
FROM pg_index WHERE indrelid = 'indexpilot.query_stats'::regclass ORDER BY indexrelid::regclass::text COLLATE "C";

-- The flush: captured shapes of this database move into query_stats, one row per bucket and key.
SET indexpilot.sample_rate = 1;
CREATE TABLE qs_contacts (id int PRIMARY KEY, tenant_id int NOT NULL, email text, phone text);
INSERT INTO qs_contacts SELECT g, g % 10, 'e' || g, 'p' || g FROM generate_series(1, 1000) g;
ANALYZE qs_contacts;
SELECT indexpilot_reset_live_stats() >= 0 AS reset;
BEGIN; -- one transaction: one now(), so both flushes land in the same minute bucket
SELECT count(*) FROM qs_contacts WHERE tenant_id = 3 AND email = 'e3';
-- An OR across values is no single-column conjunction: it is not captured.
SELECT count(*) FROM qs_contacts WHERE phone = 'p1' OR phone = 'p2';
SELECT indexpilot._flush('1 minute', '7 days', '1 hour') AS flushed;
SELECT count(*) AS left_in_store FROM indexpilot.live_stats WHERE relation = 'qs_contacts'::regclass;
SELECT count(*) FROM qs_contacts WHERE tenant_id = 3 AND email = 'e4';
SELECT count(*) FROM qs_contacts WHERE tenant_id = 5 AND email = 'e5';
SELECT indexpilot._flush('1 minute', '7 days', '1 hour') AS flushed;
COMMIT;
SELECT relid, kind, ARRAY(SELECT attname FROM pg_attribute WHERE attrelid = relid AND attnum = ANY (attnums) ORDER BY attnum) AS columns,
       operators, tenant_scope, tenant, calls, seq_scan_calls, rows_scanned >= rows_returned AS sane_rows,
       bucket_width, bucket_start = indexpilot._bucket(bucket_start, '1 minute') AS aligned,
       sample_queryid IS NOT NULL AS has_sample
FROM indexpilot.query_stats WHERE relid = 'qs_contacts'::regclass
ORDER BY tenant COLLATE "C", calls;
-- The statements behind them are kept for re-planning.
SELECT query FROM indexpilot.query_samples q
WHERE q.queryid IN (SELECT sample_queryid FROM indexpilot.query_stats WHERE relid = 'qs_contacts'::regclass)
ORDER BY query COLLATE "C";

-- Roll-up and retention: minute buckets older than rollup_after become hourly ones; older than the
-- retention, they go.
INSERT INTO indexpilot.query_stats (bucket_start, bucket_width, relid, attnums, operators, calls, total_time_ms, max_time_ms)
VALUES ('2020-01-01 10:01+00', '1 minute', 'qs_contacts', '{3}', '{eq}', 4, 8, 3),
       ('2020-01-01 10:02+00', '1 minute', 'qs_contacts', '{3}', '{eq}', 6, 9, 5),
       ('2020-01-01 11:02+00', '1 minute', 'qs_contacts', '{3}', '{eq}', 1, 1, 1);
SELECT indexpilot._flush('1 minute', '100 years', '1 hour') AS flushed;
SELECT bucket_start AT TIME ZONE 'UTC' AS bucket_utc, bucket_width, calls, total_time_ms, max_time_ms
FROM indexpilot.query_stats WHERE relid = 'qs_contacts'::regclass AND bucket_start < '2021-01-01'
ORDER BY bucket_start;
-- A late minute row for an hour rolled up before joins that hour's row instead of duplicating it.
INSERT INTO indexpilot.query_stats (bucket_start, bucket_width, relid, attnums, operators, calls, total_time_ms, max_time_ms)
VALUES ('2020-01-01 10:30+00', '1 minute', 'qs_contacts', '{3}', '{eq}', 5, 2, 9);
SELECT indexpilot._flush('1 minute', '100 years', '1 hour') AS flushed;
SELECT bucket_start AT TIME ZONE 'UTC' AS bucket_utc, bucket_width, calls, total_time_ms, max_time_ms
FROM indexpilot.query_stats WHERE relid = 'qs_contacts'::regclass AND bucket_start < '2021-01-01'
ORDER BY bucket_start;
SELECT indexpilot._flush('1 minute', '1 day', '1 hour') AS flushed;
SELECT count(*) AS old_rows_left FROM indexpilot.query_stats WHERE bucket_start < '2021-01-01';

-- Bad input to the flush: nothing changes.
SELECT count(*) AS rows_before FROM indexpilot.query_stats \gset
SELECT indexpilot._flush(NULL, '1 day', '1 hour');
SELECT indexpilot._flush('0', '1 day', '1 hour');
SELECT indexpilot._flush('1 minute', '-1 day', '1 hour');
SELECT count(*) = :rows_before AS unchanged FROM indexpilot.query_stats;

-- Rows the constraints refuse (terse: the failing row would print the table's values).
\set VERBOSITY terse
INSERT INTO indexpilot.query_stats (bucket_start, bucket_width, relid, attnums, operators) VALUES (now(), '1 minute', 'qs_contacts', '{}', '{}');
INSERT INTO indexpilot.query_stats (bucket_start, bucket_width, relid, attnums, operators) VALUES (now(), '1 minute', 'qs_contacts', '{2,NULL}', '{eq,eq}');
INSERT INTO indexpilot.query_stats (bucket_start, bucket_width, relid, attnums, operators) VALUES (now(), '1 minute', 'qs_contacts', '{2}', '{Equals}');
INSERT INTO indexpilot.query_stats (bucket_start, bucket_width, relid, attnums, operators) VALUES (now(), '1 minute', 'qs_contacts', '{2,3}', '{eq}');
INSERT INTO indexpilot.query_stats (bucket_start, bucket_width, relid, attnums, operators) VALUES (now(), '0', 'qs_contacts', '{2}', '{eq}');
INSERT INTO indexpilot.query_stats (bucket_start, bucket_width, relid, attnums, operators, calls) VALUES (now(), '1 minute', 'qs_contacts', '{2}', '{eq}', -1);
INSERT INTO indexpilot.query_stats (bucket_start, bucket_width, relid, attnums, operators, tenant_scope) VALUES (now(), '1 minute', 'qs_contacts', '{2}', '{eq}', 'tenant');
INSERT INTO indexpilot.query_stats (bucket_start, bucket_width, relid, kind, attnums, operators) VALUES (now(), '1 minute', 'qs_contacts', 'sort', '{2}', '{eq}');
\set VERBOSITY default

-- pg_monitor reads it; PUBLIC does not.
CREATE ROLE indexpilot_regress_reader IN ROLE pg_monitor;
CREATE ROLE indexpilot_regress_nobody;
SET ROLE indexpilot_regress_reader;
SELECT sum(calls) > 0 AS monitor_reads_calls FROM indexpilot.query_stats;
DELETE FROM indexpilot.query_stats;
SET ROLE indexpilot_regress_nobody;
SELECT count(*) FROM indexpilot.query_stats;
RESET ROLE;
DROP ROLE indexpilot_regress_reader;
DROP ROLE indexpilot_regress_nobody;
DELETE FROM indexpilot.query_stats;
DELETE FROM indexpilot.query_samples;
DROP TABLE qs_contacts;
