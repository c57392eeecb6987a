-- ===================================================================================================
-- The builder's lineage queries (src/worker/builder.cpp calls these; tested in test/sql/19_builder_lineage.sql):
-- starts without an outcome, recording one as abandoned, and the INVALID indexes IndexPilot's own ended
-- builds left. Superuser only (the worker runs them).
-- ===================================================================================================

-- index_build_started rows that have no outcome yet (finished, failed or abandoned), oldest first.
CREATE FUNCTION indexpilot._builds_without_outcome()
RETURNS SETOF bigint
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s.id FROM indexpilot.mutation_log s
    WHERE s.kind = 'index_build_started'
      AND NOT EXISTS (SELECT 1 FROM indexpilot.mutation_log o WHERE o.parent_id = s.id
                      AND o.kind IN ('index_build_finished', 'index_build_failed', 'index_build_abandoned'))
    ORDER BY s.id
$$;
REVOKE ALL ON FUNCTION indexpilot._builds_without_outcome() FROM PUBLIC;

-- Records index_build_abandoned for start `started` if it still has no outcome; the new row's id, or NULL.
CREATE FUNCTION indexpilot._record_build_abandoned(started bigint)
RETURNS bigint
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT indexpilot._log_mutation('index_build_abandoned', s.target_table, NULL, s.target_index, s.tenant,
               pg_catalog.jsonb_build_object('reason', 'its builder ended before recording an outcome',
                                             'index_oid', s.details->'index_oid'), s.id)
    FROM indexpilot.mutation_log s
    WHERE s.id = started AND s.kind = 'index_build_started'
      AND NOT EXISTS (SELECT 1 FROM indexpilot.mutation_log o WHERE o.parent_id = s.id
                      AND o.kind IN ('index_build_finished', 'index_build_failed', 'index_build_abandoned'))
$$;
REVOKE ALL ON FUNCTION indexpilot._record_build_abandoned(bigint) FROM PUBLIC;

-- IndexPilot's own leftovers only: the OID (and name) an index_build_started row recorded, still an INVALID
-- index (plain, or partitioned: `concurrently` false, as a partitioned index is dropped with a plain DROP
-- INDEX), whose build ended as failed or abandoned; and the partitions' indexes such a partitioned build
-- recorded (index_partition_built, by OID) that were never attached; with that outcome.
CREATE FUNCTION indexpilot._leftover_indexes()
RETURNS TABLE (index_oid oid, qualified_name text, index_name name, target_table text, outcome_id bigint,
               outcome_kind text, concurrently boolean)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT DISTINCT ON (c.oid) c.oid, pg_catalog.format('%I.%I', n.nspname, c.relname), c.relname,
           s.target_table, o.id, o.kind, c.relkind = 'i'
    FROM indexpilot.mutation_log s
    JOIN indexpilot.mutation_log o ON o.parent_id = s.id AND o.kind IN ('index_build_failed', 'index_build_abandoned')
    LEFT JOIN indexpilot.mutation_log p ON p.parent_id = s.id AND p.kind = 'index_partition_built'
    JOIN pg_catalog.pg_class c ON (c.oid = (s.details->>'index_oid')::oid AND c.relname = s.target_index
                                   AND c.relkind IN ('i', 'I')
                                   AND EXISTS (SELECT 1 FROM pg_catalog.pg_index i
                                               WHERE i.indexrelid = c.oid AND NOT i.indisvalid))
                               OR (c.oid = (p.details->>'index_oid')::oid AND c.relkind = 'i'
                                   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits h WHERE h.inhrelid = c.oid))
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE s.kind = 'index_build_started' AND s.details ? 'index_oid'
    ORDER BY c.oid, o.id DESC
$$;
REVOKE ALL ON FUNCTION indexpilot._leftover_indexes() FROM PUBLIC;
