-- Query statistics: what the cost model needs, per time bucket, table, column set, operator kind, tenant
-- and statement (query id), and every statement's true counts per bucket. The background worker flushes
-- captured predicates and counts here (one row per key and bucket), keeps the representative statements,
-- rolls old minute buckets up into hours and drops what is older than the retention; the write rates of
-- the managed tables; forgetting statement texts.

CREATE TABLE indexpilot.query_stats (
    bucket_start       timestamptz      NOT NULL,   -- start of the time bucket the counters cover
    bucket_width       interval         NOT NULL CHECK (bucket_width > interval '0'),
    relid              regclass         NOT NULL,   -- the table the predicate filters (not necessarily managed)
    kind               text             NOT NULL DEFAULT 'filter' CHECK (kind IN ('filter', 'join')),
    attnums            smallint[]       NOT NULL,   -- the columns constrained together, sorted, no duplicates
    operators          text[]           NOT NULL,   -- how each column is constrained (parallel to attnums)
    tenant_scope       text             NOT NULL DEFAULT 'none'
                                        CHECK (tenant_scope IN ('none', 'tenant', 'other_tenants')),
    tenant             text             NOT NULL DEFAULT '',  -- the tenant key value when tenant_scope = 'tenant'
    calls              bigint           NOT NULL DEFAULT 0 CHECK (calls >= 0),
    seq_scan_calls     bigint           NOT NULL DEFAULT 0 CHECK (seq_scan_calls >= 0),   -- served by reading the table
    index_calls        bigint           NOT NULL DEFAULT 0 CHECK (index_calls >= 0),      -- served by an index scan
    bitmap_calls       bigint           NOT NULL DEFAULT 0 CHECK (bitmap_calls >= 0),     -- served by a bitmap scan
    cancelled_calls    bigint           NOT NULL DEFAULT 0 CHECK (cancelled_calls >= 0),  -- cancelled or timed out
    instrumented_calls bigint           NOT NULL DEFAULT 0 CHECK (instrumented_calls >= 0),
    rows_scanned       bigint           NOT NULL DEFAULT 0 CHECK (rows_scanned >= 0),
    rows_returned      bigint           NOT NULL DEFAULT 0 CHECK (rows_returned >= 0),
    total_time_ms      double precision NOT NULL DEFAULT 0 CHECK (total_time_ms >= 0),
    max_time_ms        double precision NOT NULL DEFAULT 0 CHECK (max_time_ms >= 0),
    cancelled_time_ms  double precision NOT NULL DEFAULT 0 CHECK (cancelled_time_ms >= 0),
    sample_queryid     bigint,                      -- a statement that showed it (indexpilot.query_samples)
    first_seen         timestamptz,                 -- when capture first saw it in this bucket
    estimated_calls    double precision NOT NULL DEFAULT 0 CHECK (estimated_calls >= 0), -- calls / sample_rate
    queryid            bigint           NOT NULL DEFAULT 0,  -- the statement that showed it (0: not known)
    CONSTRAINT query_stats_attnums_check CHECK (cardinality(attnums) BETWEEN 1 AND 8 AND array_ndims(attnums) = 1
                                                AND array_position(attnums, NULL) IS NULL),
    CONSTRAINT query_stats_operators_check CHECK (
        cardinality(operators) = cardinality(attnums)
        AND operators <@ ARRAY['eq', 'in', 'range', 'like_prefix', 'like', 'is_null', 'join', 'order']),
    CONSTRAINT query_stats_tenant_check CHECK ((tenant_scope = 'tenant') = (tenant <> '')),
    CONSTRAINT query_stats_key UNIQUE (bucket_start, bucket_width, relid, kind, attnums, operators, tenant_scope, tenant,
                                       queryid)
);
COMMENT ON TABLE indexpilot.query_stats IS
    'Captured predicate statistics per time bucket, table, column set, operators, tenant and statement';
-- The cost model reads one table's recent history; retention deletes old buckets through the key.
CREATE INDEX query_stats_relid_idx ON indexpilot.query_stats (relid, bucket_start);
REVOKE ALL ON indexpilot.query_stats FROM PUBLIC;
GRANT SELECT ON indexpilot.query_stats TO pg_monitor;

-- Every execution of every statement with a query id, per time bucket, whether its plan was walked or
-- not: the true counts a shape's calls and time are estimated from (docs/cost-model.md).
CREATE TABLE indexpilot.statement_stats (
    bucket_start      timestamptz      NOT NULL,
    bucket_width      interval         NOT NULL CHECK (bucket_width > interval '0'),
    queryid           bigint           NOT NULL,
    calls             bigint           NOT NULL DEFAULT 0 CHECK (calls >= 0),          -- every execution
    sampled_calls     bigint           NOT NULL DEFAULT 0 CHECK (sampled_calls >= 0),  -- walked for shapes
    total_time_ms     double precision NOT NULL DEFAULT 0 CHECK (total_time_ms >= 0),
    max_time_ms       double precision NOT NULL DEFAULT 0 CHECK (max_time_ms >= 0),
    cancelled_calls   bigint           NOT NULL DEFAULT 0 CHECK (cancelled_calls >= 0),
    cancelled_time_ms double precision NOT NULL DEFAULT 0 CHECK (cancelled_time_ms >= 0),
    first_seen        timestamptz,
    CONSTRAINT statement_stats_key PRIMARY KEY (bucket_start, bucket_width, queryid)
);
COMMENT ON TABLE indexpilot.statement_stats IS 'Executions and time of every statement (query id) per time bucket';
REVOKE ALL ON indexpilot.statement_stats FROM PUBLIC;
GRANT SELECT ON indexpilot.statement_stats TO pg_monitor;

-- One representative statement per query id, with its constants: what the cost model re-plans.
-- The statement is re-planned as `userid` with `search_path` (docs/security.md); a text without either
-- is never re-planned.
CREATE TABLE indexpilot.query_samples (
    queryid     bigint      PRIMARY KEY,
    query       text        NOT NULL,
    first_seen  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    last_seen   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    userid      oid,        -- the role that ran it (no foreign key: roles are shared objects)
    search_path text        -- the search_path it ran with
);
COMMENT ON TABLE indexpilot.query_samples IS 'A representative statement text per captured query id';
REVOKE ALL ON indexpilot.query_samples FROM PUBLIC;
-- Statement texts can hold secrets: a role sees its own, pg_read_all_stats every role's (as in
-- pg_stat_statements); indexpilot_forget_statements() removes them.
ALTER TABLE indexpilot.query_samples ENABLE ROW LEVEL SECURITY;
CREATE POLICY query_samples_own_or_read_all_stats ON indexpilot.query_samples FOR SELECT
    USING (userid = (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = CURRENT_USER)
           OR pg_catalog.pg_has_role(CURRENT_USER, 'pg_read_all_stats', 'USAGE'));
GRANT SELECT ON indexpilot.query_samples TO PUBLIC;

CREATE FUNCTION indexpilot._bucket(ts timestamptz, width interval)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT to_timestamp(floor(extract(epoch FROM ts) / extract(epoch FROM width)) * extract(epoch FROM width))
$$;
REVOKE ALL ON FUNCTION indexpilot._bucket(timestamptz, interval) FROM PUBLIC;

-- One row of the flush's input: a shape as indexpilot._take_live_stats() returns it, without the database.
CREATE TYPE indexpilot.flush_input AS (
    relid oid, kind text, attnums int2[], operators text[], tenant_scope text, tenant text, calls bigint,
    seq_calls bigint, index_calls bigint, bitmap_calls bigint, other_calls bigint, cancelled_calls bigint,
    instrumented_calls bigint, rows_scanned bigint, rows_returned bigint, total_ms float8, max_ms float8,
    cancelled_ms float8, queryid bigint, last_seen timestamptz, first_seen timestamptz, estimated_calls float8,
    sampled_calls bigint);
COMMENT ON TYPE indexpilot.flush_input IS
    'A captured shape, or a statement''s counts (kind statement), on its way into query_stats or statement_stats';

-- Stores taken shapes into query_stats and statements' counts (kind 'statement') into statement_stats as
-- one bucket's counts; returns the number of keys inserted or updated. It cannot fail on what capture
-- hands it: rows are first summed by the whole key
-- (two text tenants that share their clipped text are one key), a tenant row with an empty or missing
-- tenant text counts with the shape's other tenants, negative or missing counts and times count as 0, the
-- rows of a table dropped since are forgotten, and a row no key can hold (no columns, unknown operators)
-- is skipped with a WARNING.
CREATE FUNCTION indexpilot._store_stats(taken indexpilot.flush_input[], bucket_start timestamptz,
                                        bucket_width interval)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    stored bigint;
    skipped bigint;
BEGIN
    IF bucket_start IS NULL OR bucket_width IS NULL THEN
        RAISE EXCEPTION 'indexpilot._store_stats: the bucket must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF bucket_width <= interval '0' THEN
        RAISE EXCEPTION 'indexpilot._store_stats: bucket_width must be positive' USING ERRCODE = 'invalid_parameter_value';
    END IF;

    WITH input AS (
        SELECT t.*,
               coalesce(t.kind IN ('filter', 'join')
                        AND pg_catalog.cardinality(t.attnums) BETWEEN 1 AND 8
                        AND pg_catalog.array_ndims(t.attnums) = 1
                        AND pg_catalog.array_position(t.attnums, NULL) IS NULL
                        AND pg_catalog.cardinality(t.operators) = pg_catalog.cardinality(t.attnums)
                        AND t.operators <@ ARRAY['eq', 'in', 'range', 'like_prefix', 'like', 'is_null', 'join', 'order'],
                        false) AS storable
        FROM pg_catalog.unnest(taken) t
        WHERE EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.oid = t.relid)),  -- a table dropped since is forgotten
    keyed AS (
        SELECT t.relid, t.kind, t.attnums, t.operators,
               CASE WHEN t.tenant_scope = 'tenant' AND t.tenant <> '' THEN 'tenant'
                    WHEN t.tenant_scope IN ('tenant', 'other_tenants') THEN 'other_tenants'
                    ELSE 'none' END AS tenant_scope,
               CASE WHEN t.tenant_scope = 'tenant' AND t.tenant <> '' THEN t.tenant ELSE '' END AS tenant,
               greatest(coalesce(t.calls, 0), 0) AS calls, greatest(coalesce(t.seq_calls, 0), 0) AS seq_calls,
               greatest(coalesce(t.index_calls, 0), 0) AS index_calls,
               greatest(coalesce(t.bitmap_calls, 0), 0) AS bitmap_calls,
               greatest(coalesce(t.cancelled_calls, 0), 0) AS cancelled_calls,
               greatest(coalesce(t.instrumented_calls, 0), 0) AS instrumented_calls,
               greatest(coalesce(t.rows_scanned, 0), 0) AS rows_scanned,
               greatest(coalesce(t.rows_returned, 0), 0) AS rows_returned,
               greatest(coalesce(t.total_ms, 0), 0) AS total_ms, greatest(coalesce(t.max_ms, 0), 0) AS max_ms,
               greatest(coalesce(t.cancelled_ms, 0), 0) AS cancelled_ms, coalesce(t.queryid, 0) AS queryid,
               t.last_seen, t.first_seen, greatest(coalesce(t.estimated_calls, 0), 0) AS estimated_calls
        FROM input t
        WHERE t.storable),
    summed AS (
        SELECT k.relid, k.kind, k.attnums, k.operators, k.tenant_scope, k.tenant, pg_catalog.sum(k.calls) AS calls,
               pg_catalog.sum(k.seq_calls) AS seq_calls, pg_catalog.sum(k.index_calls) AS index_calls,
               pg_catalog.sum(k.bitmap_calls) AS bitmap_calls, pg_catalog.sum(k.cancelled_calls) AS cancelled_calls,
               pg_catalog.sum(k.instrumented_calls) AS instrumented_calls,
               pg_catalog.sum(k.rows_scanned) AS rows_scanned, pg_catalog.sum(k.rows_returned) AS rows_returned,
               pg_catalog.sum(k.total_ms) AS total_ms, pg_catalog.max(k.max_ms) AS max_ms,
               pg_catalog.sum(k.cancelled_ms) AS cancelled_ms, k.queryid,
               pg_catalog.min(k.first_seen) AS first_seen, pg_catalog.sum(k.estimated_calls) AS estimated_calls
        FROM keyed k
        GROUP BY k.relid, k.kind, k.attnums, k.operators, k.tenant_scope, k.tenant, k.queryid),
    inserted AS (
        INSERT INTO indexpilot.query_stats AS q
            (bucket_start, bucket_width, relid, kind, attnums, operators, tenant_scope, tenant, calls,
             seq_scan_calls, index_calls, bitmap_calls, cancelled_calls, instrumented_calls, rows_scanned,
             rows_returned, total_time_ms, max_time_ms, cancelled_time_ms, sample_queryid, first_seen,
             estimated_calls, queryid)
        SELECT bucket_start, bucket_width, s.relid, s.kind, s.attnums, s.operators, s.tenant_scope, s.tenant,
               s.calls, s.seq_calls, s.index_calls, s.bitmap_calls, s.cancelled_calls, s.instrumented_calls,
               s.rows_scanned, s.rows_returned, s.total_ms, s.max_ms, s.cancelled_ms, nullif(s.queryid, 0),
               s.first_seen, s.estimated_calls, s.queryid
        FROM summed s
        ON CONFLICT ON CONSTRAINT query_stats_key DO UPDATE
        SET calls = q.calls + excluded.calls,
            seq_scan_calls = q.seq_scan_calls + excluded.seq_scan_calls,
            index_calls = q.index_calls + excluded.index_calls,
            bitmap_calls = q.bitmap_calls + excluded.bitmap_calls,
            cancelled_calls = q.cancelled_calls + excluded.cancelled_calls,
            instrumented_calls = q.instrumented_calls + excluded.instrumented_calls,
            rows_scanned = q.rows_scanned + excluded.rows_scanned,
            rows_returned = q.rows_returned + excluded.rows_returned,
            total_time_ms = q.total_time_ms + excluded.total_time_ms,
            max_time_ms = greatest(q.max_time_ms, excluded.max_time_ms),
            cancelled_time_ms = q.cancelled_time_ms + excluded.cancelled_time_ms,
            sample_queryid = coalesce(excluded.sample_queryid, q.sample_queryid),
            first_seen = least(q.first_seen, excluded.first_seen),
            estimated_calls = q.estimated_calls + excluded.estimated_calls
        RETURNING 1)
    SELECT (SELECT pg_catalog.count(*) FROM inserted), (SELECT pg_catalog.count(*) FROM input WHERE NOT storable)
    INTO stored, skipped;

    -- Statements' counts: summed per query id (a row without one cannot be kept), clamped like the shapes'.
    WITH summed AS (
        SELECT t.queryid, pg_catalog.sum(greatest(coalesce(t.calls, 0), 0)) AS calls,
               pg_catalog.sum(greatest(coalesce(t.sampled_calls, 0), 0)) AS sampled_calls,
               pg_catalog.sum(greatest(coalesce(t.total_ms, 0), 0)) AS total_ms,
               pg_catalog.max(greatest(coalesce(t.max_ms, 0), 0)) AS max_ms,
               pg_catalog.sum(greatest(coalesce(t.cancelled_calls, 0), 0)) AS cancelled_calls,
               pg_catalog.sum(greatest(coalesce(t.cancelled_ms, 0), 0)) AS cancelled_ms,
               pg_catalog.min(t.first_seen) AS first_seen
        FROM pg_catalog.unnest(taken) t
        WHERE t.kind = 'statement' AND t.queryid IS NOT NULL AND t.queryid <> 0
        GROUP BY t.queryid),
    inserted AS (
        INSERT INTO indexpilot.statement_stats AS q
            (bucket_start, bucket_width, queryid, calls, sampled_calls, total_time_ms, max_time_ms, cancelled_calls,
             cancelled_time_ms, first_seen)
        SELECT bucket_start, bucket_width, s.queryid, s.calls, least(s.sampled_calls, s.calls), s.total_ms, s.max_ms,
               least(s.cancelled_calls, s.calls), s.cancelled_ms, s.first_seen
        FROM summed s
        ON CONFLICT ON CONSTRAINT statement_stats_key DO UPDATE
        SET calls = q.calls + excluded.calls,
            sampled_calls = q.sampled_calls + excluded.sampled_calls,
            total_time_ms = q.total_time_ms + excluded.total_time_ms,
            max_time_ms = greatest(q.max_time_ms, excluded.max_time_ms),
            cancelled_calls = q.cancelled_calls + excluded.cancelled_calls,
            cancelled_time_ms = q.cancelled_time_ms + excluded.cancelled_time_ms,
            first_seen = least(q.first_seen, excluded.first_seen)
        RETURNING 1)
    SELECT stored + (SELECT pg_catalog.count(*) FROM inserted) INTO stored;
    IF skipped > 0 THEN
        RAISE WARNING 'indexpilot._store_stats: skipped % captured rows that no query_stats key can hold', skipped;
    END IF;
    RETURN stored;
END
$$;
REVOKE ALL ON FUNCTION indexpilot._store_stats(indexpilot.flush_input[], timestamptz, interval) FROM PUBLIC;

CREATE FUNCTION indexpilot._flush(bucket_width interval, retention interval, rollup_after interval)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    flushed bigint;
BEGIN
    IF bucket_width IS NULL OR retention IS NULL OR rollup_after IS NULL THEN
        RAISE EXCEPTION 'indexpilot._flush: arguments must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF bucket_width <= interval '0' OR retention <= interval '0' OR rollup_after <= interval '0' THEN
        RAISE EXCEPTION 'indexpilot._flush: intervals must be positive' USING ERRCODE = 'invalid_parameter_value';
    END IF;

    -- The shapes leave the capture store when this transaction commits (indexpilot._take_live_stats()).
    flushed := indexpilot._store_stats(
        ARRAY(SELECT ROW(t.relid, t.kind, t.attnums, t.operators, t.tenant_scope, t.tenant, t.calls, t.seq_calls,
                         t.index_calls, t.bitmap_calls, t.other_calls, t.cancelled_calls, t.instrumented_calls,
                         t.rows_scanned, t.rows_returned, t.total_ms, t.max_ms, t.cancelled_ms, t.queryid,
                         t.last_seen, t.first_seen, t.estimated_calls, t.sampled_calls)::indexpilot.flush_input
              FROM indexpilot._take_live_stats() t),
        indexpilot._bucket(pg_catalog.now(), bucket_width), bucket_width);

    INSERT INTO indexpilot.query_samples AS s (queryid, query, first_seen, last_seen, userid, search_path)
    SELECT l.queryid, l.query, l.last_seen, l.last_seen, l.userid, l.search_path FROM indexpilot.live_queries l
    ON CONFLICT (queryid) DO UPDATE SET last_seen = greatest(s.last_seen, excluded.last_seen);

    -- Minute buckets older than rollup_after become hourly ones. The hour's rows (its minute rows and an
    -- hourly row an earlier roll-up made) are deleted and summed again, so the insert cannot conflict.
    WITH hours AS (
        SELECT DISTINCT date_trunc('hour', bucket_start) AS hour
        FROM indexpilot.query_stats
        WHERE query_stats.bucket_width < interval '1 hour' AND bucket_start < now() - rollup_after),
    old AS (
        DELETE FROM indexpilot.query_stats
        WHERE bucket_start < now() - rollup_after AND date_trunc('hour', bucket_start) IN (SELECT hour FROM hours)
        RETURNING *)
    INSERT INTO indexpilot.query_stats
        (bucket_start, bucket_width, relid, kind, attnums, operators, tenant_scope, tenant, calls, seq_scan_calls,
         index_calls, bitmap_calls, cancelled_calls, instrumented_calls, rows_scanned, rows_returned,
         total_time_ms, max_time_ms, cancelled_time_ms, sample_queryid, first_seen, estimated_calls, queryid)
    SELECT date_trunc('hour', o.bucket_start), interval '1 hour', o.relid, o.kind, o.attnums, o.operators,
           o.tenant_scope, o.tenant, sum(o.calls), sum(o.seq_scan_calls), sum(o.index_calls), sum(o.bitmap_calls),
           sum(o.cancelled_calls), sum(o.instrumented_calls), sum(o.rows_scanned), sum(o.rows_returned),
           sum(o.total_time_ms), max(o.max_time_ms), sum(o.cancelled_time_ms), max(o.sample_queryid),
           min(o.first_seen), sum(o.estimated_calls), o.queryid
    FROM old o
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, o.queryid;

    WITH hours AS (
        SELECT DISTINCT date_trunc('hour', bucket_start) AS hour
        FROM indexpilot.statement_stats
        WHERE statement_stats.bucket_width < interval '1 hour' AND bucket_start < now() - rollup_after),
    old AS (
        DELETE FROM indexpilot.statement_stats
        WHERE bucket_start < now() - rollup_after AND date_trunc('hour', bucket_start) IN (SELECT hour FROM hours)
        RETURNING *)
    INSERT INTO indexpilot.statement_stats
        (bucket_start, bucket_width, queryid, calls, sampled_calls, total_time_ms, max_time_ms, cancelled_calls,
         cancelled_time_ms, first_seen)
    SELECT date_trunc('hour', o.bucket_start), interval '1 hour', o.queryid, sum(o.calls), sum(o.sampled_calls),
           sum(o.total_time_ms), max(o.max_time_ms), sum(o.cancelled_calls), sum(o.cancelled_time_ms),
           min(o.first_seen)
    FROM old o
    GROUP BY 1, 2, 3;

    DELETE FROM indexpilot.query_stats WHERE bucket_start < now() - retention;
    DELETE FROM indexpilot.statement_stats WHERE bucket_start < now() - retention;
    DELETE FROM indexpilot.query_samples WHERE last_seen < now() - retention;
    RETURN flushed;
END
$$;
REVOKE ALL ON FUNCTION indexpilot._flush(interval, interval, interval) FROM PUBLIC;

CREATE FUNCTION indexpilot._forget_live_queries(role oid)
RETURNS bigint
AS 'MODULE_PATHNAME', 'indexpilot_forget_live_queries'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION indexpilot._forget_live_queries(oid) FROM PUBLIC;

-- Removes the statement texts IndexPilot keeps (stored and not yet flushed) of one role, or of all.
CREATE FUNCTION indexpilot_forget_statements(role regrole DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    removed bigint;
BEGIN
    WITH gone AS (DELETE FROM indexpilot.query_samples s WHERE role IS NULL OR s.userid = role RETURNING 1)
    SELECT count(*) INTO removed FROM gone;
    RETURN removed + indexpilot._forget_live_queries(role);
END
$$;
COMMENT ON FUNCTION indexpilot_forget_statements(regrole) IS
    'Removes the statement texts kept for re-planning (stored and in shared memory) of one role, or of every role';
REVOKE ALL ON FUNCTION indexpilot_forget_statements(regrole) FROM PUBLIC;

-- Write rates of the managed tables, for the cost of keeping an index up to date: measured between two
-- samples at least 10 seconds apart; before the second sample, the average since server start.
CREATE TABLE indexpilot.table_activity (
    relid             regclass         PRIMARY KEY,
    sampled_at        timestamptz      NOT NULL,
    writes            bigint           NOT NULL,  -- inserts + updates + deletes since statistics reset
    writes_per_second double precision NOT NULL
);
COMMENT ON TABLE indexpilot.table_activity IS 'The last sample of each managed table''s write counters and the rate measured';
REVOKE ALL ON indexpilot.table_activity FROM PUBLIC;
GRANT SELECT ON indexpilot.table_activity TO pg_monitor;

-- Rows written to a managed table since the statistics were reset (a partitioned table: its partitions).
CREATE FUNCTION indexpilot._writes(rel oid)
RETURNS bigint
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(pg_catalog.sum(s.n_tup_ins + s.n_tup_upd + s.n_tup_del), 0)::bigint
    FROM pg_catalog.pg_stat_user_tables s WHERE s.relid IN (SELECT indexpilot._leaf_tables(rel))
$$;
REVOKE ALL ON FUNCTION indexpilot._writes(oid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot._writes(oid) TO pg_monitor;

-- Before two samples exist: the writes since the last ANALYZE over the time since it (a bulk load that
-- was analyzed afterwards does not count as steady writing); never analyzed: the average since start.
-- A partitioned table's is the sum of its partitions'.
CREATE FUNCTION indexpilot._first_write_rate(rel oid)
RETURNS double precision
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(pg_catalog.sum(
        CASE WHEN greatest(s.last_analyze, s.last_autoanalyze) IS NOT NULL
             THEN s.n_mod_since_analyze
                  / greatest(extract(epoch FROM now() - greatest(s.last_analyze, s.last_autoanalyze)), 1)
             ELSE (s.n_tup_ins + s.n_tup_upd + s.n_tup_del)
                  / greatest(extract(epoch FROM now() - pg_postmaster_start_time()), 1)
        END), 0)::double precision
    FROM pg_catalog.pg_stat_user_tables s WHERE s.relid IN (SELECT indexpilot._leaf_tables(rel))
$$;
REVOKE ALL ON FUNCTION indexpilot._first_write_rate(oid) FROM PUBLIC;
-- indexpilot_recommendations(), granted to pg_monitor, reads the rates through this and _write_rates()
-- (without recording: pg_monitor cannot write table_activity).
GRANT EXECUTE ON FUNCTION indexpilot._first_write_rate(oid) TO pg_monitor;

CREATE FUNCTION indexpilot._write_rates(record boolean)
RETURNS TABLE (relid oid, writes_per_second double precision)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF record THEN
        INSERT INTO indexpilot.table_activity AS a (relid, sampled_at, writes, writes_per_second)
        SELECT t.relid, now(), indexpilot._writes(t.relid), indexpilot._first_write_rate(t.relid)
        FROM indexpilot.genome_tables t
        ON CONFLICT ON CONSTRAINT table_activity_pkey DO UPDATE
        SET writes_per_second = greatest(excluded.writes - a.writes, 0)
                                / extract(epoch FROM excluded.sampled_at - a.sampled_at),
            writes = excluded.writes,
            sampled_at = excluded.sampled_at
        WHERE excluded.sampled_at - a.sampled_at >= interval '10 seconds';
    END IF;
    RETURN QUERY
    SELECT t.relid::oid,
           coalesce(a.writes_per_second, indexpilot._first_write_rate(t.relid))::double precision
    FROM indexpilot.genome_tables t
    LEFT JOIN indexpilot.table_activity a ON a.relid = t.relid;
END
$$;
REVOKE ALL ON FUNCTION indexpilot._write_rates(boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot._write_rates(boolean) TO pg_monitor;
