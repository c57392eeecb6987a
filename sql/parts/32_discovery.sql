-- Discovery: with indexpilot.manage = all (the default) every ordinary and partitioned user table of the
-- database is managed without being registered, except what indexpilot.exclude names. The genome records
-- such tables as discovered (genome_tables.discovered), so lineage, expression rules and DDL capture work as
-- for registered ones; indexpilot._discover() (the worker, once per cost model run, and
-- indexpilot_run_now()) records each table found and forgets each discovered one that left the managed set,
-- with a mutation_log row. Dropped tables are forgotten by the sql_drop trigger (50_ddl_capture.sql).

-- The tables that hold a managed table's rows: itself, or the leaf partitions of a partitioned table.
CREATE FUNCTION indexpilot._leaf_tables(rel oid)
RETURNS SETOF oid
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT c.oid FROM pg_catalog.pg_class c WHERE c.oid = rel AND c.relkind <> 'p'
    UNION ALL
    SELECT t.relid::oid FROM pg_catalog.pg_partition_tree(rel) t WHERE t.isleaf AND t.relid::oid <> rel
$$;
REVOKE ALL ON FUNCTION indexpilot._leaf_tables(oid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot._leaf_tables(oid) TO pg_monitor;

-- An index's bytes; a partitioned index's are its partitions' indexes' (it has no storage of its own).
CREATE FUNCTION indexpilot._index_bytes(index_oid oid)
RETURNS bigint
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.pg_relation_size(index_oid)
           + coalesce((SELECT pg_catalog.sum(pg_catalog.pg_relation_size(t.relid))::bigint
                       FROM pg_catalog.pg_partition_tree(index_oid) t WHERE t.relid::oid <> index_oid), 0)
$$;
REVOKE ALL ON FUNCTION indexpilot._index_bytes(oid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot._index_bytes(oid) TO pg_monitor;

-- indexpilot.exclude, parsed by the library (one parser for the setting's check and for this list).
CREATE FUNCTION indexpilot._exclude_list()
RETURNS TABLE (schema_name name, table_name name)
AS 'MODULE_PATHNAME', 'indexpilot_exclude_list'
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION indexpilot._exclude_list() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot._exclude_list() TO pg_monitor;

-- Whether indexpilot.exclude names the table or its schema (then IndexPilot neither discovers it nor
-- proposes an index for it, registered or not). A partition counts as its partitioned table.
CREATE FUNCTION indexpilot._excluded(rel oid)
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                   JOIN indexpilot._exclude_list() x ON x.schema_name = n.nspname
                                                    AND (x.table_name IS NULL OR x.table_name = c.relname)
                   WHERE c.oid = rel OR c.oid = (SELECT pg_catalog.pg_partition_root(rel)))
$$;
REVOKE ALL ON FUNCTION indexpilot._excluded(oid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot._excluded(oid) TO pg_monitor;

-- The tables discovery manages now: permanent ordinary and partitioned tables that are not a partition
-- (a partitioned table stands for its partitions), in no system schema, not IndexPilot's or another
-- extension's, not excluded. Empty unless indexpilot.manage = all.
CREATE FUNCTION indexpilot._discoverable()
RETURNS SETOF oid
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE pg_catalog.current_setting('indexpilot.manage', true) IS DISTINCT FROM 'registered'
      AND c.relkind IN ('r', 'p') AND c.relpersistence = 'p' AND NOT c.relispartition
      AND c.oid >= 16384
      AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'indexpilot') AND n.nspname !~ '^pg_'
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                      WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid
                        AND d.deptype = 'e')
      AND NOT EXISTS (SELECT 1 FROM indexpilot._exclude_list() x  -- read once: not a partition, so by its own name
                      WHERE x.schema_name = n.nspname AND (x.table_name IS NULL OR x.table_name = c.relname))
$$;
REVOKE ALL ON FUNCTION indexpilot._discoverable() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot._discoverable() TO pg_monitor;

-- Brings the discovered part of the genome in line with the catalog and the settings; returns the number
-- of tables recorded plus forgotten. A new table's tenant key is indexpilot.tenant_column when the table
-- has that column, else none.
CREATE FUNCTION indexpilot._discover()
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r      record;
    id     bigint;
    n      integer := 0;
    tcol   name := nullif(pg_catalog.current_setting('indexpilot.tenant_column', true), '');
    key    name;
    fields integer;
BEGIN
    -- One discovery at a time (the worker, indexpilot_run_now()), and none beside a registration, which
    -- takes the same lock: each then sees the other's rows.
    PERFORM pg_catalog.pg_advisory_xact_lock(1768189248, 1);
    -- Forget first: a table that left the managed set (manage = registered, excluded, now a partition).
    FOR r IN SELECT g.relid, g.table_name, g.head_mutation_id FROM indexpilot.genome_tables g
             WHERE g.discovered AND g.relid::oid NOT IN (SELECT indexpilot._discoverable())
             ORDER BY g.relid::oid FOR UPDATE OF g LOOP
        PERFORM indexpilot._log_mutation('genome_forget', r.table_name,
                    details => jsonb_build_object('source', 'discovery', 'reason',
                        CASE WHEN pg_catalog.current_setting('indexpilot.manage', true) = 'registered'
                                  THEN 'indexpilot.manage = registered'
                             WHEN NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = r.relid)
                                  THEN 'the table no longer exists'
                             WHEN indexpilot._excluded(r.relid) THEN 'named by indexpilot.exclude'
                             ELSE 'no longer a table discovery manages' END),
                    parent_id => r.head_mutation_id);
        DELETE FROM indexpilot.genome_tables g WHERE g.relid = r.relid;
        n := n + 1;
    END LOOP;
    FOR r IN SELECT d AS relid FROM indexpilot._discoverable() d
             WHERE d NOT IN (SELECT g.relid::oid FROM indexpilot.genome_tables g) ORDER BY d LOOP
        -- (A table dropped while this runs leaves a row the next run forgets: it is no longer discoverable.)
        SELECT pa.attname INTO key FROM pg_catalog.pg_attribute pa
        WHERE pa.attrelid = r.relid AND pa.attname = tcol AND pa.attnum > 0 AND NOT pa.attisdropped;
        IF NOT FOUND THEN
            key := NULL;
        END IF;
        SELECT count(*) INTO fields FROM pg_catalog.pg_attribute pa
        WHERE pa.attrelid = r.relid AND pa.attnum > 0 AND NOT pa.attisdropped;
        id := indexpilot._log_mutation('genome_discover', indexpilot._qualified_name(r.relid),
                  details => jsonb_strip_nulls(jsonb_build_object('source', 'discovery', 'tenant_key', key,
                                                                  'fields', fields,
                                                                  'relkind', (SELECT c.relkind FROM pg_catalog.pg_class c
                                                                              WHERE c.oid = r.relid))));
        INSERT INTO indexpilot.genome_tables (relid, table_name, tenant_key, description, registered_by,
                                              head_mutation_id, discovered)
        VALUES (r.relid, indexpilot._qualified_name(r.relid), key, pg_catalog.obj_description(r.relid, 'pg_class'),
                current_user, id, true);
        INSERT INTO indexpilot.genome_fields (relid, attnum, column_name, data_type, not_null, description)
        SELECT r.relid, pa.attnum, pa.attname, pg_catalog.format_type(pa.atttypid, pa.atttypmod), pa.attnotnull,
               pg_catalog.col_description(r.relid, pa.attnum)
        FROM pg_catalog.pg_attribute pa
        WHERE pa.attrelid = r.relid AND pa.attnum > 0 AND NOT pa.attisdropped;
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;
REVOKE ALL ON FUNCTION indexpilot._discover() FROM PUBLIC;
