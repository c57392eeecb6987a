-- ===================================================================================================
-- The index lifecycle (src/worker/lifecycle.cpp calls these; tested in test/sql/20_lifecycle.sql and
-- test/t/047_lifecycle.pl): IndexPilot's own indexes with their lineage, their use over time (surviving a
-- statistics reset and a restart), what is due — validation, revert, retirement — and the index_health
-- view over every index of the managed tables. Only what IndexPilot's lineage recorded as built (by OID and
-- name) is ever proposed for a drop.
-- ===================================================================================================

-- IndexPilot's indexes now: each index an index_build_finished row recorded (by OID and name) that still
-- exists and is valid, with its build's rows, the statements of its proposal and its validation, if any.
CREATE FUNCTION indexpilot._own_indexes()
RETURNS TABLE (index_oid oid, relid oid, index_name name, qualified_name text, target_table text,
               finished_id bigint, finished_at timestamptz, started_at timestamptz, proposal_id bigint,
               queryids bigint[], before jsonb, validated_id bigint, keys int2[], include int2[], partial boolean)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT c.oid, i.indrelid, c.relname, pg_catalog.format('%I.%I', n.nspname, c.relname), f.target_table,
           f.id, f.occurred_at, coalesce(s.occurred_at, f.occurred_at), p.id,
           (SELECT pg_catalog.array_agg(q::bigint ORDER BY q::bigint)
            FROM pg_catalog.jsonb_array_elements_text(CASE WHEN pg_catalog.jsonb_typeof(p.details->'queryids') = 'array'
                                                           THEN p.details->'queryids' ELSE '[]' END) q),
           CASE WHEN pg_catalog.jsonb_typeof(p.details->'before') = 'object' THEN p.details->'before' END,
           (SELECT pg_catalog.max(v.id) FROM indexpilot.mutation_log v
            WHERE v.kind = 'index_validated' AND v.parent_id = f.id),
           (i.indkey::int2[])[0:i.indnkeyatts - 1],
           coalesce((i.indkey::int2[])[i.indnkeyatts:i.indnatts - 1], '{}'),
           i.indpred IS NOT NULL
    FROM indexpilot.mutation_log f
    JOIN pg_catalog.pg_class c ON c.oid = (f.details->>'index_oid')::oid AND c.relname = f.target_index
    JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN indexpilot.mutation_log s ON s.id = f.parent_id AND s.kind = 'index_build_started'
    LEFT JOIN indexpilot.mutation_log p ON p.id = s.parent_id AND p.kind = 'index_proposed'
    WHERE f.kind = 'index_build_finished' AND c.relkind IN ('i', 'I') AND i.indisvalid
$$;
REVOKE ALL ON FUNCTION indexpilot._own_indexes() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot._own_indexes() TO pg_monitor;

-- When each of IndexPilot's indexes was last used: pg_stat_user_indexes.idx_scan as last seen, and the time
-- it was last seen to grow. A table, not the statistics: it survives a restart, and a statistics reset
-- (idx_scan back to 0, or lower than last seen) is not taken for use unless scans were counted since.
CREATE TABLE indexpilot.index_usage (
    index_oid   oid         PRIMARY KEY,
    index_name  name        NOT NULL,
    idx_scan    bigint      NOT NULL CHECK (idx_scan >= 0),
    last_used   timestamptz NOT NULL,
    checked_at  timestamptz NOT NULL
);
COMMENT ON TABLE indexpilot.index_usage IS 'When each of IndexPilot''s indexes was last seen used (idx_scan growing)';
REVOKE ALL ON indexpilot.index_usage FROM PUBLIC;
GRANT SELECT ON indexpilot.index_usage TO pg_monitor;

-- An index's scans as pg_stat_user_indexes counts them; a partitioned index's are its partitions' (the
-- planner scans those, never the partitioned index itself). NULL when no statistics are kept for it.
CREATE FUNCTION indexpilot._index_scans(index_oid oid)
RETURNS bigint
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.sum(s.idx_scan)::bigint FROM pg_catalog.pg_stat_user_indexes s
    WHERE s.indexrelid = index_oid
       OR s.indexrelid IN (SELECT t.relid FROM pg_catalog.pg_partition_tree(index_oid) t WHERE t.isleaf)
$$;
REVOKE ALL ON FUNCTION indexpilot._index_scans(oid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot._index_scans(oid) TO pg_monitor;

-- Brings index_usage up to date with pg_stat_user_indexes; forgets indexes that are gone. The worker calls
-- it every flush interval.
CREATE FUNCTION indexpilot._track_index_usage()
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    DELETE FROM indexpilot.index_usage u
    WHERE NOT EXISTS (SELECT 1 FROM indexpilot._own_indexes() o
                      WHERE o.index_oid = u.index_oid AND o.index_name = u.index_name);
    INSERT INTO indexpilot.index_usage AS u (index_oid, index_name, idx_scan, last_used, checked_at)
    SELECT o.index_oid, o.index_name, coalesce(st.idx_scan, 0),
           CASE WHEN coalesce(st.idx_scan, 0) > 0 THEN pg_catalog.now() ELSE o.finished_at END, pg_catalog.now()
    FROM indexpilot._own_indexes() o
    CROSS JOIN LATERAL (SELECT indexpilot._index_scans(o.index_oid) AS idx_scan) st
    ON CONFLICT (index_oid) DO UPDATE
    SET last_used = CASE WHEN excluded.idx_scan > u.idx_scan OR (excluded.idx_scan < u.idx_scan AND excluded.idx_scan > 0)
                         THEN pg_catalog.now() ELSE u.last_used END,
        idx_scan = excluded.idx_scan,
        checked_at = pg_catalog.now();
$$;
REVOKE ALL ON FUNCTION indexpilot._track_index_usage() FROM PUBLIC;

-- Each statement's calls and time per call before an index's build and after it, from statement_stats:
-- before, the minute buckets that ended before the build started (within the statistics window); after,
-- those that began a flush interval after it finished (a bucket holds what the flush at its time took).
CREATE FUNCTION indexpilot._statements_around(queryids bigint[], started_at timestamptz, finished_at timestamptz,
                                              flush_interval interval, stats_window interval, until timestamptz)
RETURNS TABLE (queryid bigint, calls_before bigint, ms_before float8, calls_after bigint, ms_after float8)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT q.queryid,
           coalesce(pg_catalog.sum(s.calls) FILTER (WHERE s.bucket_start + s.bucket_width <= started_at
                                                   AND s.bucket_start >= started_at - stats_window), 0)::bigint,
           (pg_catalog.sum(s.total_time_ms) FILTER (WHERE s.bucket_start + s.bucket_width <= started_at
                                                   AND s.bucket_start >= started_at - stats_window)
            / NULLIF(pg_catalog.sum(s.calls) FILTER (WHERE s.bucket_start + s.bucket_width <= started_at
                                                   AND s.bucket_start >= started_at - stats_window), 0))::float8,
           coalesce(pg_catalog.sum(s.calls) FILTER (WHERE s.bucket_start >= finished_at + flush_interval
                                                   AND (until IS NULL OR s.bucket_start + s.bucket_width <= until)), 0)::bigint,
           (pg_catalog.sum(s.total_time_ms) FILTER (WHERE s.bucket_start >= finished_at + flush_interval
                                                   AND (until IS NULL OR s.bucket_start + s.bucket_width <= until))
            / NULLIF(pg_catalog.sum(s.calls) FILTER (WHERE s.bucket_start >= finished_at + flush_interval
                                                   AND (until IS NULL OR s.bucket_start + s.bucket_width <= until)), 0))::float8
    FROM pg_catalog.unnest(queryids) AS q(queryid)
    LEFT JOIN indexpilot.statement_stats s ON s.queryid = q.queryid
    GROUP BY q.queryid
    ORDER BY q.queryid
$$;
REVOKE ALL ON FUNCTION indexpilot._statements_around(bigint[], timestamptz, timestamptz, interval, interval, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot._statements_around(bigint[], timestamptz, timestamptz, interval, interval, timestamptz) TO pg_monitor;

-- What is due for each of IndexPilot's indexes, with the evidence (docs/architecture.md, "The index
-- lifecycle"):
--   validate  validate_window after its build, on its proposal's statements (their time per call as the
--             decision saw it, from the proposal's evidence, against the buckets after): used, faster on the whole
--             by at least min_improvement (the share of their time the index must save, as the cost model
--             asked of its estimate: less is noise, not proof), and none slower than 1 + max_regression
--             times -> 'validate' (record index_validated);
--             otherwise 'revert', with the reason: not_used, not_faster, regression;
--             no calls after the build yet: wait, up to four windows (at least two minute buckets), then
--             judged on use alone; "after" ends where a later build of ours for some of the same statements
--             began (what follows measures both): with no such clean bucket at all, once the later one is
--             validated, 'revert' with reason 'superseded' by it, which the worker carries out only when
--             the planner says the statements keep their cost without this one (and validates it
--             otherwise);
--   retire    a validated index unused for retire_after and the statistics window ('unused'), or whose
--             key is a prefix of the key of another validated IndexPilot index in use that holds its
--             INCLUDE columns too ('covered', checked by the worker with the planner before it drops
--             anything).
CREATE FUNCTION indexpilot._lifecycle_due(validate_window interval, max_regression float8, retire_after interval,
                                          flush_interval interval, stats_window interval, min_improvement float8)
RETURNS TABLE (action text, index_oid oid, relid oid, qualified_name text, index_name name, target_table text,
               parent_id bigint, queryids bigint[], details jsonb)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    o record;
    w record;
    st record;
    used boolean;
    scans bigint;
    last_used timestamptz;
    n_before bigint;
    n_after bigint;
    t_before float8;
    t_after float8;
    worst_id bigint;
    worst_ratio float8;
    statements jsonb;
    reason text;
    later_name name;
    later_oid oid;
    later_start timestamptz;
    later_validated bigint;
    n_any bigint;
BEGIN
    IF validate_window IS NULL OR max_regression IS NULL OR retire_after IS NULL OR flush_interval IS NULL
       OR stats_window IS NULL OR min_improvement IS NULL THEN
        RAISE EXCEPTION 'indexpilot._lifecycle_due: arguments must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    FOR o IN SELECT * FROM indexpilot._own_indexes() ORDER BY finished_id LOOP
        SELECT u.idx_scan, u.last_used INTO scans, last_used FROM indexpilot.index_usage u
        WHERE u.index_oid = o.index_oid AND u.index_name = o.index_name;
        used := coalesce(last_used > o.finished_at, false);
        IF o.validated_id IS NULL THEN
            CONTINUE WHEN pg_catalog.clock_timestamp() - o.finished_at < validate_window;
            -- the first later build of ours for some of the same statements: what comes after it measures both
            SELECT x.index_name, x.index_oid, x.started_at, x.validated_id
            INTO later_name, later_oid, later_start, later_validated FROM indexpilot._own_indexes() x
            WHERE x.index_oid <> o.index_oid AND x.started_at > o.started_at
              AND x.queryids && coalesce(o.queryids, '{}')
            ORDER BY x.started_at LIMIT 1;
            statements := '[]';
            n_before := 0; n_after := 0; n_any := 0; t_before := 0; t_after := 0; worst_id := NULL; worst_ratio := 0;
            FOR st IN SELECT * FROM indexpilot._statements_around(coalesce(o.queryids, '{}'), o.started_at,
                                                                   o.finished_at, flush_interval, stats_window,
                                                                   later_start) LOOP
                -- before: what the decision saw (its evidence), else the buckets that ended before the build
                IF o.before ? st.queryid::text THEN
                    st.calls_before := (o.before->st.queryid::text->>'calls')::float8::bigint;
                    st.ms_before := (o.before->st.queryid::text->>'ms_per_call')::float8;
                END IF;
                statements := statements || pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
                    'queryid', st.queryid, 'calls_before', st.calls_before, 'ms_per_call_before', st.ms_before,
                    'calls_after', st.calls_after, 'ms_per_call_after', st.ms_after));
                n_any := n_any + st.calls_after;
                CONTINUE WHEN st.calls_before = 0 OR st.calls_after = 0 OR st.ms_before IS NULL;
                -- the time the statements take after, against what the same calls took before
                n_after := n_after + st.calls_after;
                t_after := t_after + st.calls_after * st.ms_after;
                t_before := t_before + st.calls_after * st.ms_before;
                n_before := n_before + st.calls_before;
                IF st.calls_after >= 5 AND st.ms_after > st.ms_before * (1 + max_regression)
                   AND st.ms_after / NULLIF(st.ms_before, 0) > worst_ratio THEN
                    worst_id := st.queryid;
                    worst_ratio := st.ms_after / NULLIF(st.ms_before, 0);
                END IF;
            END LOOP;
            IF n_after = 0 AND later_name IS NULL AND pg_catalog.clock_timestamp() - o.finished_at
                               < GREATEST(4 * validate_window, interval '2 minutes') THEN
                CONTINUE; /* nothing measured after the build yet (buckets are a minute wide) */
            END IF;
            -- Nothing after it but what measures the later one too: the later one's verdict comes first (it
            -- may be reverted, and then this one is measured on its own after all).
            CONTINUE WHEN used AND n_any = 0 AND later_name IS NOT NULL AND later_validated IS NULL;
            reason := CASE WHEN NOT used THEN 'not_used'
                           WHEN n_any = 0 AND later_name IS NOT NULL THEN 'superseded'
                           WHEN worst_id IS NOT NULL THEN 'regression'
                           WHEN n_after > 0 AND t_after > t_before * (1 - min_improvement) THEN 'not_faster'
                      END;
            action := CASE WHEN reason IS NULL THEN 'validate' ELSE 'revert' END;
            index_oid := o.index_oid; relid := o.relid; qualified_name := o.qualified_name;
            index_name := o.index_name; target_table := o.target_table; parent_id := o.finished_id;
            queryids := o.queryids;
            details := pg_catalog.jsonb_build_object(
                'reason', reason, 'validate_window_s', extract(epoch FROM validate_window),
                'max_regression', max_regression, 'min_improvement', min_improvement, 'used', used, 'idx_scan', coalesce(scans, 0),
                'last_used', last_used, 'calls_after', n_after,
                'ms_per_call_before', CASE WHEN n_after > 0 THEN t_before / n_after END,
                'ms_per_call_after', CASE WHEN n_after > 0 THEN t_after / n_after END,
                'speedup', CASE WHEN t_after > 0 THEN t_before / t_after END,
                'slowest_statement', worst_id,
                'statements', statements, 'index_oid', o.index_oid)
                || CASE WHEN later_name IS NULL THEN '{}'::jsonb
                        ELSE pg_catalog.jsonb_build_object('measured_until', later_start) END
                || CASE WHEN reason = 'superseded'
                        THEN pg_catalog.jsonb_build_object('superseded_by', later_name, 'superseded_by_oid', later_oid)
                        ELSE '{}'::jsonb END;
            RETURN NEXT;
            CONTINUE;
        END IF;
        -- Validated: retire when unused for retire_after, or covered by a wider validated one of ours.
        action := 'retire'; index_oid := o.index_oid; relid := o.relid; qualified_name := o.qualified_name;
        index_name := o.index_name; target_table := o.target_table; parent_id := o.validated_id;
        queryids := o.queryids;
        -- Unused for retire_after, and for the whole statistics window: until its statements have left the
        -- window, the cost model still sees them and would build the index again.
        IF last_used IS NOT NULL
           AND pg_catalog.clock_timestamp() - last_used >= GREATEST(retire_after, stats_window) THEN
            details := pg_catalog.jsonb_build_object('reason', 'unused', 'last_used', last_used,
                           'retire_after_s', extract(epoch FROM retire_after),
                           'stats_window_s', extract(epoch FROM stats_window), 'idx_scan', scans,
                           'index_oid', o.index_oid);
            RETURN NEXT;
            CONTINUE;
        END IF;
        IF NOT o.partial THEN
            -- the wider one must be in use itself (not due to go as unused): else both would be dropped, and
            -- the statements this one serves would lose both
            SELECT x.* INTO w FROM indexpilot._own_indexes() x
            JOIN indexpilot.index_usage ux ON ux.index_oid = x.index_oid AND ux.index_name = x.index_name
            WHERE x.relid = o.relid AND x.index_oid <> o.index_oid AND NOT x.partial AND x.validated_id IS NOT NULL
              AND pg_catalog.array_length(x.keys, 1) > pg_catalog.array_length(o.keys, 1)
              AND x.keys[1:pg_catalog.array_length(o.keys, 1)] = o.keys
              AND o.include <@ (x.keys || x.include)
              AND pg_catalog.clock_timestamp() - ux.last_used < GREATEST(retire_after, stats_window)
            ORDER BY x.finished_id LIMIT 1;
            IF FOUND THEN
                details := pg_catalog.jsonb_build_object('reason', 'covered', 'covered_by', w.index_name,
                               'covered_by_oid', w.index_oid, 'index_oid', o.index_oid);
                RETURN NEXT;
            END IF;
        END IF;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION indexpilot._lifecycle_due(interval, float8, interval, interval, interval, float8) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot._lifecycle_due(interval, float8, interval, interval, interval, float8) TO pg_monitor;

-- A lifecycle setting as the worker reads it (the library defines them; without it, their defaults).
CREATE FUNCTION indexpilot._lifecycle_setting(name text, fallback text)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(NULLIF(pg_catalog.current_setting(name, true), ''), fallback)
$$;
REVOKE ALL ON FUNCTION indexpilot._lifecycle_setting(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot._lifecycle_setting(text, text) TO pg_monitor;

-- Every index of the managed tables: whose it is, its size and use, the other indexes it duplicates or is
-- a prefix of, and what IndexPilot would do about it. IndexPilot drops only its own (by the OID its lineage
-- recorded); for any other index it reports and never acts.
CREATE VIEW indexpilot.index_health AS
WITH idx AS (
    SELECT i.indrelid AS relid, i.indexrelid AS index_oid, c.relname AS index_name,
           (i.indkey::int2[])[0:i.indnkeyatts - 1] AS keys,
           coalesce((i.indkey::int2[])[i.indnkeyatts:i.indnatts - 1], '{}') AS include,
           pg_catalog.pg_get_expr(i.indpred, i.indrelid) AS predicate,
           pg_catalog.pg_get_expr(i.indexprs, i.indrelid) AS expressions,
           c.relam, i.indisprimary, i.indisunique, i.indisvalid,
           EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = i.indexrelid) AS constraint_backed
    FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
    WHERE i.indrelid IN (SELECT g.relid FROM indexpilot.genome_tables g)
),
own AS (SELECT * FROM indexpilot._own_indexes()),
due AS (
    SELECT d.* FROM indexpilot._lifecycle_due(
        indexpilot._lifecycle_setting('indexpilot.validate_window', '15min')::interval,
        indexpilot._lifecycle_setting('indexpilot.max_regression', '0.25')::float8,
        indexpilot._lifecycle_setting('indexpilot.retire_after', '7d')::interval,
        indexpilot._lifecycle_setting('indexpilot.flush_interval', '1min')::interval,
        indexpilot._lifecycle_setting('indexpilot.stats_window', '1h')::interval,
        indexpilot._lifecycle_setting('indexpilot.min_improvement', '0.1')::float8) d
)
SELECT indexpilot._qualified_name(x.relid) AS table_name,
       x.index_name,
       CASE WHEN o.index_oid IS NOT NULL THEN 'indexpilot' ELSE 'other' END AS owner,
       CASE WHEN x.indisprimary THEN 'primary key' WHEN x.constraint_backed THEN 'constraint'
            WHEN x.indisunique THEN 'unique' WHEN x.predicate IS NOT NULL THEN 'partial' ELSE 'plain' END AS kind,
       x.indisvalid AS valid,
       indexpilot._index_bytes(x.index_oid) AS size_bytes,
       st.idx_scan AS scans,
       u.last_used,
       o.finished_at AS built_at,
       CASE WHEN o.index_oid IS NULL THEN NULL WHEN o.validated_id IS NOT NULL THEN 'validated'
            ELSE 'validating' END AS state,
       (SELECT y.index_name FROM idx y
        WHERE y.relid = x.relid AND y.index_oid <> x.index_oid AND y.relam = x.relam AND y.keys = x.keys
          AND y.include = x.include AND y.predicate IS NOT DISTINCT FROM x.predicate
          AND y.expressions IS NOT DISTINCT FROM x.expressions
        ORDER BY y.indisprimary DESC, y.constraint_backed DESC, y.index_oid LIMIT 1) AS duplicate_of,
       (SELECT y.index_name FROM idx y
        WHERE y.relid = x.relid AND y.index_oid <> x.index_oid AND y.relam = x.relam AND x.predicate IS NULL
          AND y.predicate IS NULL AND x.expressions IS NULL AND y.expressions IS NULL
          AND pg_catalog.array_length(y.keys, 1) > pg_catalog.array_length(x.keys, 1)
          AND y.keys[1:pg_catalog.array_length(x.keys, 1)] = x.keys
        ORDER BY pg_catalog.array_length(y.keys, 1), y.index_oid LIMIT 1) AS prefix_of,
       CASE
           WHEN o.index_oid IS NULL THEN
               CASE WHEN x.indisprimary OR x.constraint_backed OR x.indisunique THEN 'none: not IndexPilot''s'
                    ELSE 'none: not IndexPilot''s (reported only)' END
           WHEN d.action = 'validate' THEN 'validate'
           WHEN d.action IN ('revert', 'retire') THEN d.action || ' (' || (d.details->>'reason') ||
               coalesce(', covered by ' || (d.details->>'covered_by'), '') ||
               CASE WHEN d.details->>'reason' = 'superseded' THEN ' by ' || (d.details->>'superseded_by') ||
                        ', if the planner agrees' ELSE '' END || ')'
           WHEN o.validated_id IS NULL THEN 'validate after ' ||
               pg_catalog.to_char(o.finished_at + indexpilot._lifecycle_setting('indexpilot.validate_window', '15min')::interval,
                                  'YYYY-MM-DD HH24:MI:SSOF')
           ELSE 'keep'
       END AS action
FROM idx x
LEFT JOIN own o ON o.index_oid = x.index_oid
LEFT JOIN indexpilot.index_usage u ON u.index_oid = x.index_oid AND u.index_name = x.index_name
CROSS JOIN LATERAL (SELECT indexpilot._index_scans(x.index_oid) AS idx_scan) st
LEFT JOIN due d ON d.index_oid = x.index_oid;
COMMENT ON VIEW indexpilot.index_health IS 'Every index of the managed tables: whose, size, use, duplicates and prefixes, and what IndexPilot would do';
REVOKE ALL ON indexpilot.index_health FROM PUBLIC;
GRANT SELECT ON indexpilot.index_health TO pg_monitor;

-- When an index may be proposed again after a revert, if that is still ahead: a revert of that index, or of
-- any index for one of these statements (a rival for them, on the same evidence, waits too), holds it for a
-- full statistics window after the last such revert (every statistic they were proposed on has been
-- replaced by then), doubled per further revert.
CREATE FUNCTION indexpilot._advisor_reverted_until(index_name text, queryids bigint[])
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH r AS (SELECT pg_catalog.count(*) AS n, pg_catalog.max(m.occurred_at) AS last
               FROM indexpilot.mutation_log m
               WHERE m.kind = 'index_reverted'
                 AND (m.target_index = index_name
                      OR EXISTS (SELECT 1 FROM pg_catalog.jsonb_array_elements(
                                     CASE WHEN pg_catalog.jsonb_typeof(m.details->'statements') = 'array'
                                          THEN m.details->'statements' ELSE '[]' END) x
                                 WHERE (x->>'queryid')::bigint = ANY (coalesce(queryids, '{}'))))),
         t AS (SELECT r.last + indexpilot._lifecycle_setting('indexpilot.stats_window', '1h')::interval
                   * pg_catalog.power(2::float8, LEAST(r.n - 1, 20)::float8) AS until FROM r WHERE r.n > 0)
    SELECT pg_catalog.to_char(t.until, 'YYYY-MM-DD HH24:MI:SSOF') FROM t WHERE t.until > pg_catalog.clock_timestamp()
$$;
REVOKE ALL ON FUNCTION indexpilot._advisor_reverted_until(text, bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot._advisor_reverted_until(text, bigint[]) TO pg_monitor;

-- How many of the latest outcomes of IndexPilot's builds in this database, since index building (or the
-- system) was last switched on or switched itself off, are failures in a row: failed, abandoned and
-- reverted builds count, a validated one ends the run. With their lineage ids, oldest first.
CREATE FUNCTION indexpilot._advisor_failure_streak(OUT failures bigint, OUT outcomes bigint[])
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH since AS (
        SELECT coalesce(pg_catalog.max(m.id), 0) AS id FROM indexpilot.mutation_log m
        WHERE m.kind = 'index_building_self_disabled'
           OR (m.kind = 'bypass_switch' AND m.details->>'switch' IN ('index_building', 'system')
               AND m.details->>'enabled' = 'true')),
    o AS (
        SELECT m.id, m.kind <> 'index_validated' AS failed FROM indexpilot.mutation_log m, since
        WHERE m.id > since.id
          AND m.kind IN ('index_build_failed', 'index_build_abandoned', 'index_reverted', 'index_validated')),
    good AS (SELECT coalesce(pg_catalog.max(o.id), 0) AS id FROM o WHERE NOT o.failed)
    SELECT pg_catalog.count(*), coalesce(pg_catalog.array_agg(o.id ORDER BY o.id), '{}')
    FROM o, good WHERE o.failed AND o.id > good.id
$$;
REVOKE ALL ON FUNCTION indexpilot._advisor_failure_streak() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot._advisor_failure_streak() TO pg_monitor;
