-- Predicate capture: known statements leave known shapes in indexpilot.live_stats.
SET indexpilot.sample_rate = 1;
SET indexpilot.instrument_rate = 1;
CREATE TABLE cap_orgs (id bigint PRIMARY KEY, tenant_id int NOT NULL, name text, industry text, country text);
CREATE TABLE cap_contacts (id bigint PRIMARY KEY, tenant_id int NOT NULL, org_id bigint, email text, phone text,
                           title text, created_at timestamptz, note text);
INSERT INTO cap_orgs SELECT g, g % 20 + 1, 'org ' || g, CASE g % 3 WHEN 0 THEN 'retail' ELSE 'tech' END, 'NZ'
FROM generate_series(1, 200) g;
INSERT INTO cap_contacts SELECT g, g % 20 + 1, g % 200 + 1, 'x' || g || '@example.com', (g % 1000)::text,
       CASE WHEN g % 10 = 0 THEN NULL ELSE 'staff' END, '2026-01-01'::timestamptz + g * interval '1 hour',
       CASE WHEN g = 77 THEN 'slow' END
FROM generate_series(1, 4000) g;
ANALYZE cap_orgs, cap_contacts;
SELECT indexpilot_reset_live_stats() >= 0 AS reset;

-- One shape per operator kind (sequential scans: no index but the primary keys).
SELECT count(*) FROM cap_contacts WHERE tenant_id = 3 AND email = 'x42@example.com';
SELECT count(*) FROM cap_contacts WHERE tenant_id = 3 AND email = 'x43@example.com';
SELECT count(*) FROM cap_contacts WHERE created_at >= '2026-02-01' AND created_at < '2026-02-03';
-- A stable expression is a value too (the same shape as above: its calls add up).
SELECT count(*) FROM cap_contacts WHERE created_at > now() - interval '1000 years';
SELECT count(*) FROM cap_contacts WHERE phone IN ('1', '2', '3');
SELECT count(*) FROM cap_contacts WHERE email LIKE 'x1%';
SELECT count(*) FROM cap_contacts WHERE email LIKE '%@example.org';
SELECT count(*) FROM cap_contacts WHERE title IS NULL;
-- Served by an index (the primary key).
SELECT count(*) FROM cap_contacts WHERE id = 5;
SELECT count(*) FROM cap_contacts WHERE id BETWEEN 5 AND 50;

-- Joins: a hash join, and a nested loop whose inner side is an index scan on the outer value.
SET enable_nestloop = off; SET enable_mergejoin = off;
SELECT count(*) FROM cap_contacts c JOIN cap_orgs o ON o.id = c.org_id WHERE o.industry = 'retail';
RESET enable_nestloop; RESET enable_mergejoin;
SET enable_hashjoin = off; SET enable_mergejoin = off; SET enable_seqscan = off;
SELECT count(*) FROM cap_contacts c JOIN cap_orgs o ON o.id = c.org_id WHERE c.tenant_id = 5 AND c.phone = '7';
RESET enable_hashjoin; RESET enable_mergejoin; RESET enable_seqscan;
-- A correlated subquery: the inner scan compares with the outer row.
SELECT count(*) FROM (SELECT o.id, (SELECT count(*) FROM cap_contacts c WHERE c.org_id = o.id) AS n
                      FROM cap_orgs o WHERE o.country = 'NZ') s WHERE n > 0;

-- A prepared statement: the tenant comes from the parameter, in custom and generic plans alike.
PREPARE by_phone(int, text) AS SELECT count(*) FROM cap_contacts WHERE tenant_id = $1 AND phone = $2;
EXECUTE by_phone(7, '8'); EXECUTE by_phone(7, '9'); EXECUTE by_phone(7, '10');
EXECUTE by_phone(7, '11'); EXECUTE by_phone(7, '12'); EXECUTE by_phone(7, '13'); EXECUTE by_phone(7, '14');
DEALLOCATE by_phone;

-- A statement cancelled by statement_timeout is recorded, marked cancelled.
SET statement_timeout = '200ms';
SELECT count(*) FROM cap_contacts WHERE note = 'slow' AND pg_sleep(2) IS NOT NULL;
RESET statement_timeout;

SELECT relation, kind, columns, operators, tenant_scope, tenant, calls,
       seq_calls, index_calls, bitmap_calls, other_calls, cancelled_calls,
       instrumented_calls = calls - cancelled_calls AS rows_counted, rows_scanned >= rows_returned AS sane_rows
FROM indexpilot.live_stats
ORDER BY relation::text COLLATE "C", kind COLLATE "C", columns::text COLLATE "C", operators::text COLLATE "C",
         tenant COLLATE "C", seq_calls, index_calls, other_calls, calls;

-- The cancelled statement ran about as long as the timeout allowed.
SELECT cancelled_ms BETWEEN 150 AND 1900 AS ran_until_cancelled
FROM indexpilot.live_stats WHERE columns = '{note}';

-- Rows: the filter on email scanned the whole table and returned what matched.
SELECT rows_scanned / calls AS scanned_per_call, rows_returned / calls AS returned_per_call
FROM indexpilot.live_stats WHERE columns = '{tenant_id,email}';

-- A representative statement text, with its constants, for each captured query.
SELECT query FROM indexpilot.live_queries
WHERE query LIKE '%cap_contacts WHERE created_at%' OR query LIKE '%tenant_id = $1 AND phone = $2%'
ORDER BY query COLLATE "C";

-- Tenants kept apart per shape are bounded (indexpilot.max_tenants_per_shape, 16 by default); the rest
-- are aggregated. Statements run from PL/pgSQL follow their top-level statement's sampling decision.
SELECT indexpilot_reset_live_stats() > 0 AS reset;
DO $$
BEGIN
    FOR t IN 1..20 LOOP
        EXECUTE format('SELECT count(*) FROM cap_contacts WHERE tenant_id = %s AND title = %L', t, 'CEO');
    END LOOP;
END
$$;
SELECT tenant_scope, count(*) AS entries, sum(calls) AS calls
FROM indexpilot.live_stats WHERE columns = '{tenant_id,title}' GROUP BY 1 ORDER BY tenant_scope COLLATE "C";

-- A reset forgets the texts too. Backends remember which texts the store keeps (to skip its lock), but
-- not across a reset: the next run of a statement seen before keeps its text again.
SELECT indexpilot_reset_live_stats() > 0 AS reset;
SELECT count(*) AS texts FROM indexpilot.live_queries;
SELECT count(*) FROM cap_contacts WHERE tenant_id = 3 AND title = 'CTO';
SELECT query FROM indexpilot.live_queries WHERE query LIKE '%cap_contacts WHERE tenant_id = % AND title = %';

-- Tenant keys come from the genome: a managed table's own tenant-key column (not indexpilot.tenant_column),
-- read again as soon as the genome changes, also by a session that has seen the table before.
CREATE TABLE cap_accounts (acct int NOT NULL, plan text);
INSERT INTO cap_accounts SELECT g % 10, 'p' || g FROM generate_series(1, 100) g;
SELECT indexpilot_reset_live_stats() >= 0 AS reset;
SELECT count(*) FROM cap_accounts WHERE acct = 7 AND plan = 'p7';
SELECT indexpilot_register('cap_accounts', 'acct') AS fields;
SELECT count(*) FROM cap_accounts WHERE acct = 7 AND plan = 'p17';
SELECT count(*) FROM cap_accounts WHERE acct = 3 AND plan = 'p13';
SELECT indexpilot_unregister('cap_accounts') AS fields;
SELECT count(*) FROM cap_accounts WHERE acct = 7 AND plan = 'p27';
SELECT columns, tenant_scope, tenant, calls FROM indexpilot.live_stats
WHERE relation = 'cap_accounts'::regclass ORDER BY tenant_scope COLLATE "C", tenant COLLATE "C";
DROP TABLE cap_accounts;

-- instrument_rate 0: every sampled statement's shapes are captured, none counts rows.
SELECT indexpilot_reset_live_stats() >= 0 AS reset;
SET indexpilot.instrument_rate = 0;
SELECT count(*) FROM cap_contacts WHERE tenant_id = 4 AND title = 'CFO';
SELECT count(*) FROM cap_contacts WHERE tenant_id = 5 AND title = 'CFO';
SET indexpilot.instrument_rate = 1;
SELECT count(*) FROM cap_contacts WHERE tenant_id = 6 AND title = 'CFO';
SELECT sum(calls) AS calls, sum(instrumented_calls) AS instrumented_calls, sum(rows_scanned) > 0 AS rows_counted
FROM indexpilot.live_stats WHERE columns = '{tenant_id,title}';

-- sample_rate 0 walks only the plans of statements not seen before (and of slow ones), but counts every
-- execution; the rate is per top-level statement.
SELECT indexpilot_reset_live_stats() > 0 AS reset;
SET indexpilot.sample_rate = 0;
SET indexpilot.slow_statement_threshold = -1;
SELECT count(*) FROM cap_contacts WHERE tenant_id = 1 AND email = 'nobody';
SELECT count(*) FROM cap_contacts WHERE tenant_id = 2 AND email = 'nobody';
SELECT count(*) FROM cap_contacts WHERE tenant_id = 3 AND email = 'nobody';
SET indexpilot.sample_rate = 1;
SELECT columns, tenant, calls FROM indexpilot.live_stats;
SELECT calls, sampled_calls FROM indexpilot.live_statements
WHERE queryid = (SELECT queryid FROM indexpilot.live_stats WHERE columns = '{tenant_id,email}');
-- A slow statement is walked every time: with a threshold of 0 ms, every statement is slow.
SELECT indexpilot_reset_live_stats() > 0 AS reset;
SET indexpilot.sample_rate = 0;
SET indexpilot.slow_statement_threshold = 0;
SELECT count(*) FROM cap_contacts WHERE tenant_id = 1 AND email = 'nobody';
SELECT count(*) FROM cap_contacts WHERE tenant_id = 2 AND email = 'nobody';
SET indexpilot.sample_rate = 1;
RESET indexpilot.slow_statement_threshold;
SELECT sum(calls) AS shape_calls FROM indexpilot.live_stats WHERE columns = '{tenant_id,email}';
SELECT calls, sampled_calls FROM indexpilot.live_statements
WHERE queryid = (SELECT DISTINCT queryid FROM indexpilot.live_stats WHERE columns = '{tenant_id,email}');
-- Bad values are refused.
SET indexpilot.slow_statement_threshold = -2;
SET indexpilot.slow_statement_threshold = 'slow';

-- Capture never fails a statement: an internal failure is counted and the query answers as usual.
SELECT internal_errors AS errors_before FROM indexpilot.capture_counters \gset
SET indexpilot.capture_fault_injection = on;
SELECT count(*) FROM cap_contacts WHERE tenant_id = 2 AND email = 'x22@example.com';
RESET indexpilot.capture_fault_injection;
SELECT internal_errors - :errors_before AS internal_errors_counted FROM indexpilot.capture_counters;

-- Bad settings are refused.
SET indexpilot.sample_rate = 1.5;
SET indexpilot.sample_rate = -0.1;
SET indexpilot.max_tracked = 10;
SET indexpilot.tenant_column = 'other';

-- ORDER BY ... LIMIT sorted above a scan: the first sort key is an `order` column of the scan's shape; a
-- sort without LIMIT, or a column both filtered and sorted, adds nothing of the kind.
SELECT indexpilot_reset_live_stats() > 0 AS reset;
SELECT id FROM cap_contacts WHERE tenant_id = 4 AND title = 'staff' ORDER BY created_at DESC, id LIMIT 3;
SELECT id FROM cap_contacts ORDER BY created_at LIMIT 2;
SELECT count(*) FROM (SELECT id FROM cap_contacts WHERE phone = '3' ORDER BY created_at) s;
SELECT id FROM cap_contacts WHERE created_at > '2026-03-01' ORDER BY created_at LIMIT 1;
SELECT columns, operators, tenant, calls FROM indexpilot.live_stats
ORDER BY columns::text COLLATE "C", operators::text COLLATE "C";
DROP TABLE cap_contacts, cap_orgs;
