-- ===================================================================================================
-- The cost model's reads over IndexPilot's own tables and the catalog (src/advisor/inputs.cpp and
-- advisor.cpp call these; each is tested in test/sql/18_advisor_inputs.sql). Read-only, SQL, pinned
-- search_path; executable by pg_monitor, since indexpilot_recommendations() (granted to pg_monitor)
-- runs as its caller.
-- ===================================================================================================

-- The managed tables not excluded (indexpilot.exclude): name, tenant key column number, size (a
-- partitioned table's is its partitions'), write rate (`record` samples the write counters: the worker
-- and run_now only) and how many indexes IndexPilot built on each (by recorded OID).
CREATE FUNCTION indexpilot._advisor_tables(record boolean)
RETURNS TABLE (relid oid, name text, tenant_attnum smallint, tuples float8, pages float8,
               writes_per_second float8, indexpilot_indexes bigint, tenant_key name)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT t.relid::oid, indexpilot._qualified_name(t.relid), coalesce(a.attnum, 0)::smallint,
           sz.tuples, sz.pages, coalesce(w.writes_per_second, 0)::float8,
           (SELECT pg_catalog.count(*) FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
            WHERE i.indrelid = t.relid AND ic.oid IN (SELECT (f.details->>'index_oid')::oid
                FROM indexpilot.mutation_log f
                WHERE f.kind = 'index_build_finished' AND f.target_index = ic.relname)),
           t.tenant_key
    FROM indexpilot.genome_tables t JOIN pg_catalog.pg_class c ON c.oid = t.relid
    CROSS JOIN LATERAL (SELECT coalesce(pg_catalog.sum(greatest(l.reltuples, 0)), 0)::float8 AS tuples,
                               coalesce(pg_catalog.sum(l.relpages), 0)::float8 AS pages
                        FROM pg_catalog.pg_class l WHERE l.oid IN (SELECT indexpilot._leaf_tables(t.relid))) sz
    LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = t.relid AND a.attname = t.tenant_key AND NOT a.attisdropped
    LEFT JOIN indexpilot._write_rates(record) w ON w.relid = t.relid
    WHERE NOT indexpilot._excluded(t.relid)
    ORDER BY 1
$$;
REVOKE ALL ON FUNCTION indexpilot._advisor_tables(boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot._advisor_tables(boolean) TO pg_monitor;

-- Key columns (comma-separated attnums) of the valid, plain indexes of the managed tables.
CREATE FUNCTION indexpilot._advisor_existing_indexes()
RETURNS TABLE (relid oid, attnums text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT i.indrelid, pg_catalog.array_to_string((i.indkey::int2[])[0:i.indnkeyatts - 1], ',')
    FROM pg_catalog.pg_index i
    WHERE i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL
      AND i.indrelid IN (SELECT g.relid FROM indexpilot.genome_tables g)
$$;
REVOKE ALL ON FUNCTION indexpilot._advisor_existing_indexes() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot._advisor_existing_indexes() TO pg_monitor;

-- The live columns of the managed tables.
CREATE FUNCTION indexpilot._advisor_columns()
RETURNS TABLE (relid oid, attnum smallint, attname name)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT a.attrelid, a.attnum, a.attname FROM pg_catalog.pg_attribute a
    WHERE a.attrelid IN (SELECT g.relid FROM indexpilot.genome_tables g) AND a.attnum > 0 AND NOT a.attisdropped
$$;
REVOKE ALL ON FUNCTION indexpilot._advisor_columns() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot._advisor_columns() TO pg_monitor;

-- Index names taken in the managed tables' schemas (a candidate of an existing name exists already).
CREATE FUNCTION indexpilot._advisor_index_names()
RETURNS SETOF name
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT c.relname FROM pg_catalog.pg_class c
    WHERE c.relkind = 'i' AND c.relnamespace IN
        (SELECT t.relnamespace FROM pg_catalog.pg_class t WHERE t.oid IN (SELECT g.relid FROM indexpilot.genome_tables g))
$$;
REVOKE ALL ON FUNCTION indexpilot._advisor_index_names() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot._advisor_index_names() TO pg_monitor;

-- Indexes of the managed tables that are not usable yet (CREATE INDEX CONCURRENTLY in progress, or an
-- INVALID leftover the worker has still to clean up): the cost model counts them as built, so that what
-- it decides while a build runs is what it will decide once the build ends.
CREATE FUNCTION indexpilot._advisor_unfinished_indexes()
RETURNS SETOF name
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT c.relname FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
    WHERE NOT (i.indisvalid AND i.indisready) AND i.indrelid IN (SELECT g.relid FROM indexpilot.genome_tables g)
$$;
REVOKE ALL ON FUNCTION indexpilot._advisor_unfinished_indexes() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot._advisor_unfinished_indexes() TO pg_monitor;

-- The shapes of the managed tables in the statistics window, per statement (query id) that showed them,
-- summed over buckets: sampled calls (the walked executions that showed them), the traffic they stand for
-- by sampling weight (the fallback when the statement's true count is missing), and time.
CREATE FUNCTION indexpilot._advisor_shapes(stats_window interval)
RETURNS TABLE (relid oid, is_join integer, attnums text, operators text, tenant text, calls float8,
               total_ms float8, queryid bigint, estimated_calls float8)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT q.relid::oid, (q.kind = 'join')::int, pg_catalog.array_to_string(q.attnums, ','),
           pg_catalog.array_to_string(q.operators, ','), q.tenant, pg_catalog.sum(q.calls)::float8,
           pg_catalog.sum(q.total_time_ms)::float8, q.queryid,
           pg_catalog.sum(CASE WHEN q.estimated_calls > 0 THEN q.estimated_calls ELSE q.calls END)::float8
    FROM indexpilot.query_stats q
    WHERE q.bucket_start >= pg_catalog.now() - stats_window
      AND q.relid IN (SELECT g.relid FROM indexpilot.genome_tables g)
    GROUP BY 1, 2, 3, 4, 5, 8 ORDER BY 1, 2, 3, 4, 5, 8
$$;
REVOKE ALL ON FUNCTION indexpilot._advisor_shapes(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot._advisor_shapes(interval) TO pg_monitor;

-- Every statement's true counts in the statistics window: executions, the walked ones, time (the time of
-- executions cut short included: they are the slowest, not the rarest).
CREATE FUNCTION indexpilot._advisor_statement_counts(stats_window interval)
RETURNS TABLE (queryid bigint, calls float8, sampled_calls float8, total_ms float8)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s.queryid, pg_catalog.sum(s.calls)::float8, pg_catalog.sum(s.sampled_calls)::float8,
           pg_catalog.sum(s.total_time_ms)::float8
    FROM indexpilot.statement_stats s
    WHERE s.bucket_start >= pg_catalog.now() - stats_window
    GROUP BY 1 ORDER BY 1
$$;
REVOKE ALL ON FUNCTION indexpilot._advisor_statement_counts(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot._advisor_statement_counts(interval) TO pg_monitor;

-- The statements to re-plan: those behind the window's shapes whose role and search_path were recorded
-- (the caller sees the rows query_samples' row-level security shows it).
CREATE FUNCTION indexpilot._advisor_statements(stats_window interval)
RETURNS TABLE (queryid bigint, query text, userid oid, search_path text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s.queryid, s.query, s.userid, s.search_path FROM indexpilot.query_samples s
    WHERE s.userid IS NOT NULL AND s.search_path IS NOT NULL
      AND s.queryid IN (SELECT q.queryid FROM indexpilot.query_stats q
                        WHERE q.bucket_start >= pg_catalog.now() - stats_window)
$$;
REVOKE ALL ON FUNCTION indexpilot._advisor_statements(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot._advisor_statements(interval) TO pg_monitor;

-- Seconds from the first capture in the window until now (NULL when the window is empty).
CREATE FUNCTION indexpilot._advisor_observed_seconds(stats_window interval)
RETURNS float8
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT extract(epoch FROM pg_catalog.now() - pg_catalog.min(coalesce(q.first_seen, q.bucket_start)))::float8
    FROM indexpilot.query_stats q WHERE q.bucket_start >= pg_catalog.now() - stats_window
$$;
REVOKE ALL ON FUNCTION indexpilot._advisor_observed_seconds(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot._advisor_observed_seconds(interval) TO pg_monitor;

-- The size of the database's table data (every table's and materialized view's heap and TOAST pages as
-- pg_class records them, kept by VACUUM and ANALYZE, the catalogs' included; no index, and not IndexPilot's
-- own tables: what IndexPilot builds or stores does not raise its own budget), read from the catalog
-- without opening a table (a table locked by ALTER or VACUUM FULL does not hold up the cycle), and the bytes
-- of the indexes IndexPilot built (by the OIDs its lineage recorded).
CREATE FUNCTION indexpilot._advisor_sizes(OUT table_bytes float8, OUT indexpilot_bytes float8)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (SELECT coalesce(pg_catalog.sum(GREATEST(t.relpages, 0)::float8
                                           + coalesce(GREATEST(x.relpages, 0), 0)), 0)
                   * pg_catalog.current_setting('block_size')::float8
            FROM pg_catalog.pg_class t LEFT JOIN pg_catalog.pg_class x ON x.oid = t.reltoastrelid
            WHERE t.relkind IN ('r', 'm')
              AND t.relnamespace <> (SELECT e.extnamespace FROM pg_catalog.pg_extension e
                                     WHERE e.extname = 'indexpilot'))::float8,
           coalesce(pg_catalog.sum(indexpilot._index_bytes(c.oid)), 0)::float8
    FROM pg_catalog.pg_class c
    WHERE c.relkind IN ('i', 'I') AND c.oid IN (SELECT (f.details->>'index_oid')::oid FROM indexpilot.mutation_log f
                                        WHERE f.kind = 'index_build_finished' AND f.target_index = c.relname)
$$;
REVOKE ALL ON FUNCTION indexpilot._advisor_sizes() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot._advisor_sizes() TO pg_monitor;

-- The open proposal of an index: its index_proposed row with no outcome after it (0 when none).
CREATE FUNCTION indexpilot._advisor_open_proposal(index_name text)
RETURNS bigint
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce((SELECT p.id FROM indexpilot.mutation_log p
                     WHERE p.kind = 'index_proposed' AND p.target_index = index_name
                       AND NOT EXISTS (SELECT 1 FROM indexpilot.mutation_log l
                                       WHERE l.target_index = index_name AND l.id > p.id
                                         AND l.kind IN ('index_build_finished', 'index_build_failed',
                                                        'index_build_abandoned', 'index_skipped', 'index_dropped'))
                     ORDER BY p.id DESC LIMIT 1), 0)
$$;
REVOKE ALL ON FUNCTION indexpilot._advisor_open_proposal(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot._advisor_open_proposal(text) TO pg_monitor;

-- The lineage head of a managed table (its registration or last sync; 0 when none): a proposal's parent.
CREATE FUNCTION indexpilot._advisor_table_head(rel regclass)
RETURNS bigint
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce((SELECT g.head_mutation_id FROM indexpilot.genome_tables g WHERE g.relid = rel), 0)
$$;
REVOKE ALL ON FUNCTION indexpilot._advisor_table_head(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot._advisor_table_head(regclass) TO pg_monitor;

-- Whether an index was recorded as skipped for this verdict within the window (said once per window).
CREATE FUNCTION indexpilot._advisor_skipped_recently(index_name text, verdict text, stats_window interval)
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (SELECT 1 FROM indexpilot.mutation_log m
                   WHERE m.kind = 'index_skipped' AND m.target_index = index_name
                     AND m.details->>'verdict' = verdict AND m.occurred_at > pg_catalog.now() - stats_window)
$$;
REVOKE ALL ON FUNCTION indexpilot._advisor_skipped_recently(text, text, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot._advisor_skipped_recently(text, text, interval) TO pg_monitor;

-- When an index whose last builds failed (or were abandoned) may be built again, if that is still ahead:
-- indexpilot.build_retry_backoff doubled per consecutive failure, capped at build_retry_backoff_max.
CREATE FUNCTION indexpilot._advisor_retry_after(index_name text)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH f AS (SELECT pg_catalog.count(*) AS n, pg_catalog.max(o.occurred_at) AS last
               FROM indexpilot.mutation_log o WHERE o.target_index = index_name
                 AND o.kind IN ('index_build_failed', 'index_build_abandoned')
                 AND o.id > coalesce((SELECT pg_catalog.max(d.id) FROM indexpilot.mutation_log d
                                      WHERE d.target_index = index_name AND d.kind = 'index_build_finished'), 0)),
         r AS (SELECT f.last + LEAST(
                   pg_catalog.current_setting('indexpilot.build_retry_backoff')::interval
                       * pg_catalog.power(2::float8, LEAST(f.n - 1, 40)::float8),
                   pg_catalog.current_setting('indexpilot.build_retry_backoff_max')::interval) AS retry_at
               FROM f WHERE f.n > 0)
    SELECT pg_catalog.to_char(r.retry_at, 'YYYY-MM-DD HH24:MI:SSOF') FROM r
    WHERE r.retry_at > pg_catalog.clock_timestamp()
$$;
REVOKE ALL ON FUNCTION indexpilot._advisor_retry_after(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot._advisor_retry_after(text) TO pg_monitor;
