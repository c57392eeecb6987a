-- Genome: the canonical field-level schema of the managed tables, and the functions that register,
-- sync, unregister and mark the fields of a table.

CREATE TABLE indexpilot.genome_tables (
    relid            regclass    PRIMARY KEY,
    table_name       text        NOT NULL,  -- schema-qualified, quoted as in mutation_log; follows renames
    tenant_key       name,                  -- the column that says which tenant a row belongs to; NULL: none
    description      text,
    registered_at    timestamptz NOT NULL DEFAULT now(),
    registered_by    name        NOT NULL DEFAULT current_user,
    -- The table's registration or last sync: later changes to the table follow it in the lineage. (No
    -- foreign key to mutation_log, whose rows are never removed: one would make TRUNCATE stop at the
    -- foreign key instead of at the append-only trigger.)
    head_mutation_id bigint      NOT NULL,
    -- Found by discovery (indexpilot.manage = all), not registered: forgotten again when it leaves the
    -- managed set (indexpilot._discover()); indexpilot_register() makes it registered.
    discovered       boolean     NOT NULL DEFAULT false
);
COMMENT ON TABLE indexpilot.genome_tables IS 'Tables managed by IndexPilot (registered or discovered), with their tenant-key column';
REVOKE ALL ON indexpilot.genome_tables FROM PUBLIC;
GRANT SELECT ON indexpilot.genome_tables TO pg_monitor;

-- Capture reads each table's tenant key from here and caches it per backend; a change must reach them.
CREATE FUNCTION indexpilot._genome_changed() RETURNS trigger
LANGUAGE C SET search_path = pg_catalog, pg_temp AS 'MODULE_PATHNAME', 'indexpilot_genome_changed';
REVOKE ALL ON FUNCTION indexpilot._genome_changed() FROM PUBLIC;
CREATE TRIGGER genome_tables_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON indexpilot.genome_tables
    FOR EACH STATEMENT EXECUTE FUNCTION indexpilot._genome_changed();

CREATE TABLE indexpilot.genome_fields (
    relid         regclass    NOT NULL REFERENCES indexpilot.genome_tables (relid) ON DELETE CASCADE,
    attnum        smallint    NOT NULL CHECK (attnum > 0),
    column_name   name        NOT NULL,
    data_type     text        NOT NULL,  -- format_type(atttypid, atttypmod)
    not_null      boolean     NOT NULL,
    is_core       boolean     NOT NULL DEFAULT true,  -- core: expressed for every tenant; else per tenant
    description   text,                              -- the column's comment
    registered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (relid, attnum),
    -- checked at the end of each statement, so one UPDATE may swap two column names
    CONSTRAINT genome_fields_name_key UNIQUE (relid, column_name) DEFERRABLE INITIALLY IMMEDIATE
);
COMMENT ON TABLE indexpilot.genome_fields IS 'Fields (columns) of the managed tables, core or optional';
REVOKE ALL ON indexpilot.genome_fields FROM PUBLIC;
GRANT SELECT ON indexpilot.genome_fields TO pg_monitor;

CREATE VIEW indexpilot.genome_catalog AS
SELECT f.relid, t.table_name, f.column_name, f.attnum, f.data_type, f.not_null, f.is_core,
       coalesce(f.column_name = t.tenant_key, false) AS is_tenant_key, t.tenant_key, f.description, f.registered_at,
       t.discovered
FROM indexpilot.genome_fields f
JOIN indexpilot.genome_tables t USING (relid);
COMMENT ON VIEW indexpilot.genome_catalog IS 'The genome: one row per field of a managed table';
REVOKE ALL ON indexpilot.genome_catalog FROM PUBLIC;
GRANT SELECT ON indexpilot.genome_catalog TO pg_monitor;

-- The genome_tables row of a managed table, locked for the change the caller is about to make.
CREATE FUNCTION indexpilot._managed(rel regclass, caller text)
RETURNS indexpilot.genome_tables
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t indexpilot.genome_tables;
BEGIN
    SELECT * INTO t FROM indexpilot.genome_tables g WHERE g.relid = rel FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION '%: table % is not managed by IndexPilot', caller, coalesce(indexpilot._qualified_name(rel), rel::text)
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Register it first with indexpilot_register().';
    END IF;
    RETURN t;
END
$$;
REVOKE ALL ON FUNCTION indexpilot._managed(regclass, text) FROM PUBLIC;

-- The genome field of a managed table named col; raises undefined_column when there is none.
CREATE FUNCTION indexpilot._field(rel regclass, col name, caller text)
RETURNS indexpilot.genome_fields
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f indexpilot.genome_fields;
BEGIN
    SELECT * INTO f FROM indexpilot.genome_fields g WHERE g.relid = rel AND g.column_name = col;
    IF NOT FOUND THEN
        PERFORM indexpilot._no_such_column(rel, col, caller);
    END IF;
    RETURN f;
END
$$;
REVOKE ALL ON FUNCTION indexpilot._field(regclass, name, text) FROM PUBLIC;

-- The changes between a managed table as the system catalog has it now and as the genome has it:
-- one row per column added, dropped, renamed or altered (type or nullability).
CREATE FUNCTION indexpilot._genome_changes(rel regclass)
RETURNS TABLE (change text, attnum smallint, old_name name, new_name name, old_type text, new_type text,
               old_not_null boolean, new_not_null boolean)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN g.attnum IS NULL THEN 'column_added'
                WHEN a.attnum IS NULL THEN 'column_dropped'
                WHEN g.column_name <> a.attname THEN 'column_renamed'
                ELSE 'column_altered' END,
           coalesce(a.attnum, g.attnum), g.column_name, a.attname, g.data_type, a.data_type, g.not_null, a.attnotnull
    FROM (SELECT pa.attnum, pa.attname, pg_catalog.format_type(pa.atttypid, pa.atttypmod) AS data_type, pa.attnotnull
          FROM pg_catalog.pg_attribute pa
          WHERE pa.attrelid = rel AND pa.attnum > 0 AND NOT pa.attisdropped) a
    FULL JOIN (SELECT * FROM indexpilot.genome_fields gf WHERE gf.relid = rel) g ON g.attnum = a.attnum
    WHERE g.attnum IS NULL OR a.attnum IS NULL
       OR g.column_name <> a.attname OR g.data_type <> a.data_type OR g.not_null <> a.attnotnull
$$;
REVOKE ALL ON FUNCTION indexpilot._genome_changes(regclass) FROM PUBLIC;

-- Brings the genome of one managed table (locked by the caller) in line with the system catalog, logging
-- each change as a child of parent_id with the given context in its details. Returns the number of changes.
CREATE FUNCTION indexpilot._genome_apply(rel regclass, parent_id bigint, context jsonb)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t       indexpilot.genome_tables;
    c       record;
    n       integer := 0;
    removed bigint;
    newname text := indexpilot._qualified_name(rel);
BEGIN
    SELECT * INTO t FROM indexpilot.genome_tables g WHERE g.relid = rel;
    IF t.table_name <> newname THEN
        PERFORM indexpilot._log_mutation('table_renamed', newname,
                    details => context || jsonb_build_object('old_name', t.table_name, 'new_name', newname),
                    parent_id => parent_id);
        UPDATE indexpilot.genome_tables g SET table_name = newname WHERE g.relid = rel;
        n := n + 1;
    END IF;

    FOR c IN SELECT * FROM indexpilot._genome_changes(rel) ORDER BY 2 LOOP
        IF c.change = 'column_dropped' AND c.old_name = t.tenant_key AND t.discovered THEN
            -- A discovered table's tenant key is only indexpilot.tenant_column's guess: it goes with its column.
            UPDATE indexpilot.genome_tables g SET tenant_key = NULL WHERE g.relid = rel;
        ELSIF c.change = 'column_dropped' AND c.old_name = t.tenant_key THEN
            RAISE EXCEPTION 'the tenant key column "%" of managed table % no longer exists', c.old_name, newname
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Unregister the table with indexpilot_unregister() and register it again.';
        END IF;
        removed := NULL;
        IF c.change = 'column_dropped' THEN
            SELECT count(*) INTO removed FROM indexpilot.expression_profile e WHERE e.relid = rel AND e.attnum = c.attnum;
        END IF;
        PERFORM indexpilot._log_mutation(c.change, newname, coalesce(c.new_name, c.old_name)::text,
                    details => context || jsonb_strip_nulls(jsonb_build_object(
                        'old_name', CASE WHEN c.change = 'column_renamed' THEN c.old_name END,
                        'old_type', CASE WHEN c.old_type IS DISTINCT FROM c.new_type THEN c.old_type END,
                        'data_type', c.new_type,
                        'old_not_null', CASE WHEN c.old_not_null IS DISTINCT FROM c.new_not_null THEN c.old_not_null END,
                        'not_null', c.new_not_null,
                        'tenant_expressions_removed', removed)),
                    parent_id => parent_id);
        n := n + 1;
    END LOOP;

    -- Apply: drops first (they free names), then renames and alterations in one statement (the name key
    -- is checked at its end), then additions (which may reuse a name a rename freed).
    DELETE FROM indexpilot.genome_fields g
    WHERE g.relid = rel AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute pa
                                        WHERE pa.attrelid = rel AND pa.attnum = g.attnum AND NOT pa.attisdropped);
    UPDATE indexpilot.genome_tables g SET tenant_key = pa.attname
    FROM indexpilot.genome_fields f, pg_catalog.pg_attribute pa
    WHERE g.relid = rel AND f.relid = rel AND f.column_name = g.tenant_key
      AND pa.attrelid = rel AND pa.attnum = f.attnum AND pa.attname <> g.tenant_key;
    UPDATE indexpilot.genome_fields g
    SET column_name = pa.attname,
        data_type = pg_catalog.format_type(pa.atttypid, pa.atttypmod),
        not_null = pa.attnotnull,
        description = pg_catalog.col_description(rel, pa.attnum)
    FROM pg_catalog.pg_attribute pa
    WHERE g.relid = rel AND pa.attrelid = rel AND pa.attnum = g.attnum
      AND (g.column_name, g.data_type, g.not_null, g.description)
          IS DISTINCT FROM (pa.attname, pg_catalog.format_type(pa.atttypid, pa.atttypmod), pa.attnotnull,
                            pg_catalog.col_description(rel, pa.attnum));
    INSERT INTO indexpilot.genome_fields (relid, attnum, column_name, data_type, not_null, description)
    SELECT rel, pa.attnum, pa.attname, pg_catalog.format_type(pa.atttypid, pa.atttypmod), pa.attnotnull,
           pg_catalog.col_description(rel, pa.attnum)
    FROM pg_catalog.pg_attribute pa
    WHERE pa.attrelid = rel AND pa.attnum > 0 AND NOT pa.attisdropped
      AND NOT EXISTS (SELECT 1 FROM indexpilot.genome_fields g WHERE g.relid = rel AND g.attnum = pa.attnum);
    RETURN n;
END
$$;
REVOKE ALL ON FUNCTION indexpilot._genome_apply(regclass, bigint, jsonb) FROM PUBLIC;

-- The genome and expression functions users call (indexpilot_register(), ...) are C entry points
-- (src/catalog/genome_entry.cpp): they check, as the caller, that it owns the table the call names (or is
-- a member of its owner; superusers pass), then call the body indexpilot._do_<name>(the same arguments,
-- the caller's role). The bodies are SECURITY DEFINER: they write IndexPilot's catalog as the extension's
-- owner, so EXECUTE on the entry point is all a DBA grants to delegate, and they are revoked from PUBLIC.

-- Registers a table: its columns enter the genome as core fields; tenant_key_column names the tenant key
-- (NULL: the table has none, and its candidates are the non-tenant forms). A table discovery found is made
-- registered, keeping its fields.
CREATE FUNCTION indexpilot._do_register(relation regclass, tenant_key_column name, table_description text, invoker name)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    caller CONSTANT text := 'indexpilot_register';
    c      record;
    qname  text;
    id     bigint;
    parent bigint;
    fields integer;
BEGIN
    PERFORM indexpilot._require(relation, 'relation', caller);
    SELECT cl.relkind, cl.relpersistence, cl.relname, n.nspname INTO c
    FROM pg_catalog.pg_class cl JOIN pg_catalog.pg_namespace n ON n.oid = cl.relnamespace
    WHERE cl.oid = relation;
    IF NOT FOUND THEN
        RAISE EXCEPTION '%: relation with OID % does not exist', caller, relation::oid USING ERRCODE = 'undefined_table';
    END IF;
    qname := indexpilot._qualified_name(relation);
    IF c.relkind NOT IN ('r', 'p') THEN
        RAISE EXCEPTION '%: % is not a table', caller, qname
            USING ERRCODE = 'wrong_object_type', HINT = 'Only ordinary and partitioned tables can be managed.';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_class pc WHERE pc.oid = relation AND pc.relispartition) THEN
        RAISE EXCEPTION '%: % is a partition', caller, qname
            USING ERRCODE = 'wrong_object_type',
                  HINT = format('Register its partitioned table %s: its indexes reach every partition.',
                                indexpilot._qualified_name(pg_catalog.pg_partition_root(relation)));
    END IF;
    IF c.relpersistence = 't' THEN
        RAISE EXCEPTION '%: temporary table % cannot be managed', caller, quote_ident(c.relname)
            USING ERRCODE = 'feature_not_supported';
    END IF;
    IF c.nspname IN ('pg_catalog', 'information_schema', 'pg_toast', 'indexpilot') THEN
        RAISE EXCEPTION '%: % cannot be managed: system and IndexPilot tables are not supported', caller, qname
            USING ERRCODE = 'feature_not_supported';
    END IF;
    PERFORM pg_catalog.pg_advisory_xact_lock(1768189248, 1);  -- not beside a discovery (indexpilot._discover())
    IF EXISTS (SELECT 1 FROM indexpilot.genome_tables g WHERE g.relid = relation AND NOT g.discovered) THEN
        RAISE EXCEPTION '%: table % is already registered', caller, qname
            USING ERRCODE = 'duplicate_object', HINT = 'Use indexpilot_sync() to pick up schema changes.';
    END IF;
    IF tenant_key_column IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute pa
                   WHERE pa.attrelid = relation AND pa.attname = tenant_key_column AND pa.attnum > 0 AND NOT pa.attisdropped) THEN
        PERFORM indexpilot._no_such_column(relation, tenant_key_column, caller);
    END IF;

    SELECT count(*) INTO fields FROM pg_catalog.pg_attribute pa
    WHERE pa.attrelid = relation AND pa.attnum > 0 AND NOT pa.attisdropped;
    table_description := coalesce(table_description, pg_catalog.obj_description(relation, 'pg_class'));
    SELECT g.head_mutation_id INTO parent FROM indexpilot.genome_tables g WHERE g.relid = relation FOR UPDATE;
    IF FOUND THEN  -- discovered before: registered from now on, its fields (and their lineage) kept
        id := indexpilot._log_mutation('genome_register', qname,
                  details => jsonb_strip_nulls(jsonb_build_object('tenant_key', tenant_key_column, 'fields', fields,
                                                                  'description', table_description, 'was_discovered', true)),
                  parent_id => parent);
        UPDATE indexpilot.genome_tables g
        SET tenant_key = tenant_key_column, description = table_description, registered_at = now(),
            registered_by = invoker, head_mutation_id = id, discovered = false
        WHERE g.relid = relation;
        PERFORM indexpilot._genome_apply(relation, id, jsonb_build_object('source', 'register'));
        RETURN fields;
    END IF;
    id := indexpilot._log_mutation('genome_register', qname,
              details => jsonb_strip_nulls(jsonb_build_object('tenant_key', tenant_key_column, 'fields', fields,
                                                              'description', table_description)));
    INSERT INTO indexpilot.genome_tables (relid, table_name, tenant_key, description, registered_by, head_mutation_id)
    VALUES (relation, qname, tenant_key_column, table_description, invoker, id);
    INSERT INTO indexpilot.genome_fields (relid, attnum, column_name, data_type, not_null, description)
    SELECT relation, pa.attnum, pa.attname, pg_catalog.format_type(pa.atttypid, pa.atttypmod), pa.attnotnull,
           pg_catalog.col_description(relation, pa.attnum)
    FROM pg_catalog.pg_attribute pa
    WHERE pa.attrelid = relation AND pa.attnum > 0 AND NOT pa.attisdropped;
    RETURN fields;
END
$$;
REVOKE ALL ON FUNCTION indexpilot._do_register(regclass, name, text, name) FROM PUBLIC;
-- The entry points (here and below): superusers, and the roles a DBA grants EXECUTE to (on their own tables only).
CREATE FUNCTION indexpilot_register(relation regclass, tenant_key_column name DEFAULT NULL, table_description text DEFAULT NULL)
RETURNS integer
AS 'MODULE_PATHNAME', 'indexpilot_genome_entry'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_register(regclass, name, text) IS 'Adds a table to the genome (all fields core); returns its number of fields';
REVOKE ALL ON FUNCTION indexpilot_register(regclass, name, text) FROM PUBLIC;

-- Compares one managed table with the system catalog and records every difference; returns their number.
CREATE FUNCTION indexpilot._sync(relation regclass, caller text)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t  indexpilot.genome_tables;
    id bigint;
    n  integer;
BEGIN
    PERFORM indexpilot._require(relation, 'relation', caller);
    t := indexpilot._managed(relation, caller);
    id := indexpilot._log_mutation('genome_sync', indexpilot._qualified_name(relation),
              details => (SELECT jsonb_build_object('source', 'manual', 'changes', count(*))
                          FROM indexpilot._genome_changes(relation)),
              parent_id => t.head_mutation_id);
    n := indexpilot._genome_apply(relation, id, jsonb_build_object('source', 'sync'));
    UPDATE indexpilot.genome_tables g SET head_mutation_id = id WHERE g.relid = relation;
    RETURN n;
END
$$;
REVOKE ALL ON FUNCTION indexpilot._sync(regclass, text) FROM PUBLIC;

CREATE FUNCTION indexpilot._do_sync(relation regclass, invoker name)
RETURNS integer
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT indexpilot._sync(relation, 'indexpilot_sync') $$;
REVOKE ALL ON FUNCTION indexpilot._do_sync(regclass, name) FROM PUBLIC;
CREATE FUNCTION indexpilot_sync(relation regclass)
RETURNS integer
AS 'MODULE_PATHNAME', 'indexpilot_genome_entry'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_sync(regclass) IS 'Brings a managed table''s genome in line with its columns; returns the number of changes';
REVOKE ALL ON FUNCTION indexpilot_sync(regclass) FROM PUBLIC;

-- Syncs every managed table, and forgets managed tables that no longer exist; returns the number of changes.
CREATE FUNCTION indexpilot._do_sync_all(invoker name)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t indexpilot.genome_tables;
    n integer := 0;
BEGIN
    FOR t IN SELECT * FROM indexpilot.genome_tables ORDER BY relid::oid FOR UPDATE LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = t.relid) THEN
            PERFORM indexpilot._log_mutation('table_dropped', t.table_name,
                        details => jsonb_build_object('source', 'sync'), parent_id => t.head_mutation_id);
            DELETE FROM indexpilot.genome_tables g WHERE g.relid = t.relid;
            n := n + 1;
        ELSE
            n := n + indexpilot._sync(t.relid, 'indexpilot_sync_all');
        END IF;
    END LOOP;
    RETURN n;
END
$$;
REVOKE ALL ON FUNCTION indexpilot._do_sync_all(name) FROM PUBLIC;
CREATE FUNCTION indexpilot_sync_all()
RETURNS integer
AS 'MODULE_PATHNAME', 'indexpilot_genome_entry'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_sync_all() IS 'indexpilot_sync() for every managed table; forgets dropped ones';
REVOKE ALL ON FUNCTION indexpilot_sync_all() FROM PUBLIC;

-- Removes a table from the genome, with its fields and expression profiles; returns the number of fields.
CREATE FUNCTION indexpilot._do_unregister(relation regclass, invoker name)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    caller CONSTANT text := 'indexpilot_unregister';
    t      indexpilot.genome_tables;
    fields integer;
BEGIN
    PERFORM indexpilot._require(relation, 'relation', caller);
    t := indexpilot._managed(relation, caller);
    SELECT count(*) INTO fields FROM indexpilot.genome_fields g WHERE g.relid = relation;
    PERFORM indexpilot._log_mutation('genome_unregister', t.table_name,
                details => jsonb_build_object('fields', fields, 'tenant_expressions',
                                              (SELECT count(*) FROM indexpilot.expression_profile e WHERE e.relid = relation)),
                parent_id => t.head_mutation_id);
    DELETE FROM indexpilot.genome_tables g WHERE g.relid = relation;
    RETURN fields;
END
$$;
REVOKE ALL ON FUNCTION indexpilot._do_unregister(regclass, name) FROM PUBLIC;
CREATE FUNCTION indexpilot_unregister(relation regclass)
RETURNS integer
AS 'MODULE_PATHNAME', 'indexpilot_genome_entry'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_unregister(regclass) IS 'Removes a table from the genome; returns the number of fields it had';
REVOKE ALL ON FUNCTION indexpilot_unregister(regclass) FROM PUBLIC;

-- Marks fields core (make_core) or optional; returns the number of fields whose kind changed.
CREATE FUNCTION indexpilot._mark(relation regclass, fields name[], make_core boolean, caller text)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t       indexpilot.genome_tables;
    f       indexpilot.genome_fields;
    col     name;
    n       integer := 0;
    removed bigint;
BEGIN
    PERFORM indexpilot._require(relation, 'relation', caller);
    PERFORM indexpilot._require_list(fields, 'fields', caller);
    t := indexpilot._managed(relation, caller);
    FOREACH col IN ARRAY fields LOOP  -- validate all before changing any
        f := indexpilot._field(relation, col, caller);
        IF NOT make_core AND col IS NOT DISTINCT FROM t.tenant_key THEN
            RAISE EXCEPTION '%: the tenant key "%" of % must stay core', caller, col, t.table_name
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;
    FOR f IN SELECT * FROM indexpilot.genome_fields g
             WHERE g.relid = relation AND g.column_name = ANY (fields) AND g.is_core <> make_core
             ORDER BY g.attnum LOOP
        -- A field made core is expressed for everyone: its per-tenant rows would be dead weight.
        DELETE FROM indexpilot.expression_profile e WHERE e.relid = relation AND e.attnum = f.attnum;
        GET DIAGNOSTICS removed = ROW_COUNT;
        PERFORM indexpilot._log_mutation(CASE WHEN make_core THEN 'field_marked_core' ELSE 'field_marked_optional' END,
                    t.table_name, f.column_name,
                    details => CASE WHEN make_core THEN jsonb_build_object('tenant_expressions_removed', removed)
                                    ELSE '{}'::jsonb END,
                    parent_id => t.head_mutation_id);
        UPDATE indexpilot.genome_fields g SET is_core = make_core WHERE g.relid = relation AND g.attnum = f.attnum;
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;
REVOKE ALL ON FUNCTION indexpilot._mark(regclass, name[], boolean, text) FROM PUBLIC;

CREATE FUNCTION indexpilot._do_mark_core(relation regclass, fields name[], invoker name)
RETURNS integer
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT indexpilot._mark(relation, fields, true, 'indexpilot_mark_core') $$;
REVOKE ALL ON FUNCTION indexpilot._do_mark_core(regclass, name[], name) FROM PUBLIC;
CREATE FUNCTION indexpilot_mark_core(relation regclass, VARIADIC fields name[])
RETURNS integer
AS 'MODULE_PATHNAME', 'indexpilot_genome_entry'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_mark_core(regclass, name[]) IS 'Marks fields core (expressed for every tenant); returns the number changed';
REVOKE ALL ON FUNCTION indexpilot_mark_core(regclass, name[]) FROM PUBLIC;

CREATE FUNCTION indexpilot._do_mark_optional(relation regclass, fields name[], invoker name)
RETURNS integer
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT indexpilot._mark(relation, fields, false, 'indexpilot_mark_optional') $$;
REVOKE ALL ON FUNCTION indexpilot._do_mark_optional(regclass, name[], name) FROM PUBLIC;
CREATE FUNCTION indexpilot_mark_optional(relation regclass, VARIADIC fields name[])
RETURNS integer
AS 'MODULE_PATHNAME', 'indexpilot_genome_entry'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_mark_optional(regclass, name[]) IS 'Marks fields optional (expressed per tenant); returns the number changed';
REVOKE ALL ON FUNCTION indexpilot_mark_optional(regclass, name[]) FROM PUBLIC;
