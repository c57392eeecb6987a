-- indexpilot.query_stats: the table the worker flushes captured predicates into (filled later).
\set SHOW_CONTEXT never
SELECT a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS data_type, a.attnotnull AS not_null
FROM pg_attribute a WHERE a.attrelid = 'indexpilot.query_stats'::regclass AND a.attnum > 0 ORDER BY a.attnum;
SELECT indexrelid::regclass AS index, pg_get_indexdef(indexrelid) AS definition
FROM pg_index WHERE indrelid = 'indexpilot.query_stats'::regclass ORDER BY 1::text COLLATE "C";

-- The worker's upsert: one row per bucket, table, column set, operator kind and tenant; a NULL tenant
-- (not attributed) is one key too, not a new row each time.
CREATE FUNCTION pg_temp.flush(tenant text, calls bigint, ms float8) RETURNS void LANGUAGE sql AS $$
    INSERT INTO indexpilot.query_stats AS s (bucket_start, bucket_width, relid, attnums, operator, tenant,
                                             calls, rows_scanned, rows_returned, total_time_ms, max_time_ms)
    VALUES ('2026-01-01 10:00+00', '1 minute', 'crm.contacts', '{6}', 'eq', tenant, calls, calls * 1000, calls, ms, ms / calls)
    ON CONFLICT ON CONSTRAINT query_stats_key DO UPDATE
    SET calls = s.calls + excluded.calls, rows_scanned = s.rows_scanned + excluded.rows_scanned,
        rows_returned = s.rows_returned + excluded.rows_returned, total_time_ms = s.total_time_ms + excluded.total_time_ms,
        max_time_ms = greatest(s.max_time_ms, excluded.max_time_ms)
$$;
SELECT pg_temp.flush('1', 10, 50), pg_temp.flush('1', 5, 100), pg_temp.flush(NULL, 2, 4), pg_temp.flush(NULL, 3, 3);
SELECT relid, attnums, operator, tenant, calls, rows_scanned, rows_returned, total_time_ms, max_time_ms
FROM indexpilot.query_stats ORDER BY tenant COLLATE "C" NULLS LAST;

-- What a cost model asks: per column set and operator, calls and time, with the column names.
SELECT s.relid, array_agg(f.column_name ORDER BY f.attnum) AS columns, s.operator, sum(s.calls) AS calls,
       sum(s.total_time_ms) AS total_ms
FROM (SELECT relid, attnums, operator, sum(calls) AS calls, sum(total_time_ms) AS total_time_ms
      FROM indexpilot.query_stats GROUP BY 1, 2, 3) s
JOIN indexpilot.genome_fields f ON f.relid = s.relid AND f.attnum = ANY (s.attnums)
GROUP BY s.relid, s.attnums, s.operator;

-- Rows the constraints refuse (terse: the failing row would print the table's values).
\set VERBOSITY terse
INSERT INTO indexpilot.query_stats (bucket_start, bucket_width, relid, attnums, operator) VALUES (now(), '1 minute', 'crm.contacts', '{}', 'eq');
INSERT INTO indexpilot.query_stats (bucket_start, bucket_width, relid, attnums, operator) VALUES (now(), '1 minute', 'crm.contacts', '{6,NULL}', 'eq');
INSERT INTO indexpilot.query_stats (bucket_start, bucket_width, relid, attnums, operator) VALUES (now(), '1 minute', 'crm.contacts', '{6}', 'Equals');
INSERT INTO indexpilot.query_stats (bucket_start, bucket_width, relid, attnums, operator) VALUES (now(), '0', 'crm.contacts', '{6}', 'eq');
INSERT INTO indexpilot.query_stats (bucket_start, bucket_width, relid, attnums, operator, calls) VALUES (now(), '1 minute', 'crm.contacts', '{6}', 'eq', -1);
INSERT INTO indexpilot.query_stats (bucket_start, bucket_width, relid, attnums, operator) VALUES (NULL, '1 minute', 'crm.contacts', '{6}', 'eq');
INSERT INTO indexpilot.query_stats (bucket_start, bucket_width, relid, attnums, operator, tenant)
VALUES ('2026-01-01 10:00+00', '1 minute', 'crm.contacts', '{6}', 'eq', NULL);
\set VERBOSITY default
SELECT count(*) AS rows FROM indexpilot.query_stats;

-- pg_monitor reads it; PUBLIC does not.
CREATE ROLE indexpilot_regress_reader IN ROLE pg_monitor;
CREATE ROLE indexpilot_regress_nobody;
SET ROLE indexpilot_regress_reader;
SELECT sum(calls) AS monitor_reads_calls FROM indexpilot.query_stats;
DELETE FROM indexpilot.query_stats;
SET ROLE indexpilot_regress_nobody;
SELECT count(*) FROM indexpilot.query_stats;
RESET ROLE;
DROP ROLE indexpilot_regress_reader;
DROP ROLE indexpilot_regress_nobody;
DELETE FROM indexpilot.query_stats;
