-- IndexPilot 0.1.0: install script. Released scripts are never edited; changes go in upgrade scripts.
\echo Use "CREATE EXTENSION indexpilot" to load this file. \quit

-- Tables, views and internal functions live in schema indexpilot; the indexpilot_* functions users call
-- live in the schema the extension is created in (public by default).
CREATE SCHEMA indexpilot;
COMMENT ON SCHEMA indexpilot IS 'IndexPilot metadata and internal functions';
-- Members of pg_monitor may read IndexPilot's metadata; nothing in the schema is executable by PUBLIC.
GRANT USAGE ON SCHEMA indexpilot TO pg_monitor;

CREATE FUNCTION indexpilot_version()
RETURNS text
AS 'MODULE_PATHNAME', 'indexpilot_version'
LANGUAGE C STRICT STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_version() IS 'Version of the loaded IndexPilot library';

CREATE FUNCTION indexpilot_worker_status(
    OUT role text,
    OUT database name,
    OUT pid integer,
    OUT started_at timestamptz,
    OUT last_activity timestamptz,
    OUT loops bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'indexpilot_worker_status'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_worker_status() IS 'The IndexPilot launcher and database workers now running';
REVOKE ALL ON FUNCTION indexpilot_worker_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot_worker_status() TO pg_monitor;

-- Boundary self-tests: provoke C++ and PostgreSQL errors across the C++/PostgreSQL boundary.
CREATE FUNCTION indexpilot._selftest_cpp_error(depth integer, kind text)
RETURNS integer
AS 'MODULE_PATHNAME', 'indexpilot_selftest_cpp_error'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION indexpilot._selftest_pg_error(input text)
RETURNS integer
AS 'MODULE_PATHNAME', 'indexpilot_selftest_pg_error'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION indexpilot._selftest_live_objects()
RETURNS bigint
AS 'MODULE_PATHNAME', 'indexpilot_selftest_live_objects'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION indexpilot._selftest_cleanups()
RETURNS bigint
AS 'MODULE_PATHNAME', 'indexpilot_selftest_cleanups'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;

REVOKE ALL ON FUNCTION indexpilot._selftest_cpp_error(integer, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._selftest_pg_error(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._selftest_live_objects() FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._selftest_cleanups() FROM PUBLIC;

-- ---------------------------------------------------------------------------------------------------
-- Mutation lineage: every schema, expression, index and switch change, with its evidence. Append-only.
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE indexpilot.mutation_log (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor         name        NOT NULL DEFAULT session_user,
    kind          text        NOT NULL,
    target_table  text,        -- schema-qualified, quoted as needed (quote_ident each part)
    target_column text,
    target_index  text,
    tenant        text,        -- the tenant key value, as text, when the change concerns one tenant
    details       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    parent_id     bigint      REFERENCES indexpilot.mutation_log (id),
    CONSTRAINT mutation_log_kind_check CHECK (kind ~ '^[a-z][a-z0-9_]*$')
);
COMMENT ON TABLE indexpilot.mutation_log IS 'Append-only lineage of every change IndexPilot makes or observes';
CREATE INDEX mutation_log_target_idx ON indexpilot.mutation_log (target_table, target_column);
CREATE INDEX mutation_log_parent_idx ON indexpilot.mutation_log (parent_id);

CREATE FUNCTION indexpilot._refuse_mutation_log_change()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'indexpilot.mutation_log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Lineage rows are never changed or removed.';
END
$$;
CREATE TRIGGER mutation_log_append_only
    BEFORE UPDATE OR DELETE ON indexpilot.mutation_log
    FOR EACH ROW EXECUTE FUNCTION indexpilot._refuse_mutation_log_change();
CREATE TRIGGER mutation_log_no_truncate
    BEFORE TRUNCATE ON indexpilot.mutation_log
    FOR EACH STATEMENT EXECUTE FUNCTION indexpilot._refuse_mutation_log_change();

-- The one way IndexPilot code appends to the lineage; returns the new row's id (a parent for later rows).
CREATE FUNCTION indexpilot._log_mutation(
    kind          text,
    target_table  text  DEFAULT NULL,
    target_column text  DEFAULT NULL,
    target_index  text  DEFAULT NULL,
    tenant        text  DEFAULT NULL,
    details       jsonb DEFAULT '{}'::jsonb,
    parent_id     bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO indexpilot.mutation_log (kind, target_table, target_column, target_index, tenant, details, parent_id)
    VALUES (kind, target_table, target_column, target_index, tenant, coalesce(details, '{}'::jsonb), parent_id)
    RETURNING id
$$;
REVOKE ALL ON FUNCTION indexpilot._log_mutation(text, text, text, text, text, jsonb, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._refuse_mutation_log_change() FROM PUBLIC;
REVOKE ALL ON indexpilot.mutation_log FROM PUBLIC;
GRANT SELECT ON indexpilot.mutation_log TO pg_monitor;

-- ---------------------------------------------------------------------------------------------------
-- Capture: what the shared-memory store holds now (all databases in the functions, this one in views).
-- ---------------------------------------------------------------------------------------------------
CREATE FUNCTION indexpilot._live_stats(
    OUT dbid oid, OUT relid oid, OUT kind text, OUT attnums int2[], OUT operators text[],
    OUT tenant_scope text, OUT tenant text, OUT calls bigint, OUT seq_calls bigint, OUT index_calls bigint,
    OUT bitmap_calls bigint, OUT other_calls bigint, OUT cancelled_calls bigint, OUT instrumented_calls bigint,
    OUT rows_scanned bigint, OUT rows_returned bigint, OUT total_ms float8, OUT max_ms float8,
    OUT cancelled_ms float8, OUT queryid bigint, OUT last_seen timestamptz, OUT first_seen timestamptz,
    OUT estimated_calls float8)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'indexpilot_live_stats'
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp;

-- The same shapes for this database only, taken for a flush in this transaction (the flush's input): it
-- waits for the database's flush lock (the worker skips instead), and the shapes leave the store when the
-- transaction commits; if it (or the subtransaction that took them) rolls back, they go back.
CREATE FUNCTION indexpilot._take_live_stats(
    OUT dbid oid, OUT relid oid, OUT kind text, OUT attnums int2[], OUT operators text[],
    OUT tenant_scope text, OUT tenant text, OUT calls bigint, OUT seq_calls bigint, OUT index_calls bigint,
    OUT bitmap_calls bigint, OUT other_calls bigint, OUT cancelled_calls bigint, OUT instrumented_calls bigint,
    OUT rows_scanned bigint, OUT rows_returned bigint, OUT total_ms float8, OUT max_ms float8,
    OUT cancelled_ms float8, OUT queryid bigint, OUT last_seen timestamptz, OUT first_seen timestamptz,
    OUT estimated_calls float8)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'indexpilot_take_live_stats'
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION indexpilot._take_live_stats() FROM PUBLIC;

CREATE FUNCTION indexpilot._live_queries(OUT dbid oid, OUT queryid bigint, OUT query text, OUT last_seen timestamptz,
                                         OUT userid oid, OUT search_path text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'indexpilot_live_queries'
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION indexpilot._capture_counters(
    OUT entries bigint, OUT max_entries bigint, OUT queries bigint, OUT max_queries bigint,
    OUT evictions bigint, OUT query_evictions bigint, OUT dropped bigint, OUT internal_errors bigint,
    OUT statements_sampled bigint, OUT reset_at timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'indexpilot_capture_counters'
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION indexpilot_reset_live_stats()
RETURNS bigint
AS 'MODULE_PATHNAME', 'indexpilot_reset_live_stats'
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_reset_live_stats() IS 'Empties the capture store (all databases); returns the shapes removed';

CREATE VIEW indexpilot.live_stats AS
SELECT s.relid::regclass AS relation,
       s.kind,
       ARRAY(SELECT a.attname
             FROM pg_catalog.unnest(s.attnums) WITH ORDINALITY AS u(attnum, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = s.relid AND a.attnum = u.attnum
             ORDER BY u.ord) AS columns,
       s.operators, s.tenant_scope, s.tenant, s.calls, s.seq_calls, s.index_calls, s.bitmap_calls,
       s.other_calls, s.cancelled_calls, s.instrumented_calls, s.rows_scanned, s.rows_returned,
       s.total_ms, s.max_ms, s.cancelled_ms, s.queryid, s.last_seen, s.estimated_calls
FROM indexpilot._live_stats() s
WHERE s.dbid = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database());
COMMENT ON VIEW indexpilot.live_stats IS 'Predicate shapes captured in this database and not yet flushed';

CREATE VIEW indexpilot.live_queries AS
SELECT q.queryid, q.query, q.last_seen, q.userid, q.search_path
FROM indexpilot._live_queries() q
WHERE q.dbid = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database());
COMMENT ON VIEW indexpilot.live_queries IS
    'One representative statement, with constants, per captured query id, with the role and search_path it ran with';

CREATE VIEW indexpilot.capture_counters AS SELECT * FROM indexpilot._capture_counters();

REVOKE ALL ON FUNCTION indexpilot._live_stats() FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._live_queries() FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._capture_counters() FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_reset_live_stats() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot._live_stats() TO pg_monitor;
GRANT EXECUTE ON FUNCTION indexpilot._capture_counters() TO pg_monitor;
GRANT EXECUTE ON FUNCTION indexpilot._live_queries() TO pg_read_all_stats;
GRANT SELECT ON indexpilot.live_stats, indexpilot.capture_counters TO pg_monitor;
GRANT SELECT ON indexpilot.live_queries TO pg_read_all_stats;
GRANT USAGE ON SCHEMA indexpilot TO pg_read_all_stats;
-- ===================================================================================================
-- The catalog layer: genome, expression profiles, DDL capture, lineage and query statistics.
-- Plain SQL and PL/pgSQL: every change is one transaction with its mutation_log rows, and the code can be
-- read where it runs. Conventions: functions users call are indexpilot_*, in the extension's schema;
-- everything else is in schema indexpilot. Every function pins search_path and schema-qualifies names.
-- Control functions are revoked from PUBLIC; the genome and expression ones check that the caller owns
-- the table, then run their body as the extension's owner (see indexpilot_register); reading is
-- granted to pg_monitor. Every change to one managed table first locks its genome_tables row, so
-- concurrent changes to one table are serialized and the lineage stays a chain.
-- Error codes: NULL argument 22004; unknown table 42P01 (from regclass input); unknown column 42703;
-- table not managed 55000; already managed 42710; not a table 42809; temporary or system table 0A000;
-- the caller does not own the table 42501;
-- a bad or unknown tenant, a core field given where an optional one is needed, an empty list 22023.
-- ===================================================================================================

-- ---------------------------------------------------------------------------------------------------
-- Genome: the canonical field-level schema of the managed tables.
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE indexpilot.genome_tables (
    relid            regclass    PRIMARY KEY,
    table_name       text        NOT NULL,  -- schema-qualified, quoted as in mutation_log; follows renames
    tenant_key       name        NOT NULL,  -- the column that says which tenant a row belongs to
    description      text,
    registered_at    timestamptz NOT NULL DEFAULT now(),
    registered_by    name        NOT NULL DEFAULT current_user,
    -- The table's registration or last sync: later changes to the table follow it in the lineage. (No
    -- foreign key to mutation_log, whose rows are never removed: one would make TRUNCATE stop at the
    -- foreign key instead of at the append-only trigger.)
    head_mutation_id bigint      NOT NULL
);
COMMENT ON TABLE indexpilot.genome_tables IS 'Tables managed by IndexPilot, with their tenant-key column';

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

CREATE VIEW indexpilot.genome_catalog AS
SELECT f.relid, t.table_name, f.column_name, f.attnum, f.data_type, f.not_null, f.is_core,
       f.column_name = t.tenant_key AS is_tenant_key, t.tenant_key, f.description, f.registered_at
FROM indexpilot.genome_fields f
JOIN indexpilot.genome_tables t USING (relid);
COMMENT ON VIEW indexpilot.genome_catalog IS 'The genome: one row per field of a managed table';

-- The schema-qualified, quoted name of a relation, as mutation_log.target_table holds it.
CREATE FUNCTION indexpilot._qualified_name(rel regclass)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT format('%I.%I', n.nspname, c.relname)
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.oid = rel
$$;

-- Raises null_value_not_allowed naming the argument when value is NULL.
CREATE FUNCTION indexpilot._require(value anyelement, argument text, caller text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF value IS NULL THEN
        RAISE EXCEPTION '%: argument "%" must not be NULL', caller, argument
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
END
$$;

-- The same for an array: neither it nor any element may be NULL, and it may not be empty.
CREATE FUNCTION indexpilot._require_list(value anyarray, argument text, caller text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF value IS NULL OR array_position(value, NULL) IS NOT NULL THEN
        RAISE EXCEPTION '%: argument "%" must not be NULL or contain NULL', caller, argument
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF cardinality(value) = 0 THEN
        RAISE EXCEPTION '%: argument "%" must not be empty', caller, argument
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END
$$;

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

-- Raises undefined_column for a column a table does not have; the hint explains exact matching.
CREATE FUNCTION indexpilot._no_such_column(rel regclass, col text, caller text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF col ~ '["; ]' OR col <> lower(col) THEN
        RAISE EXCEPTION '%: column "%" of table % does not exist', caller, col, indexpilot._qualified_name(rel)
            USING ERRCODE = 'undefined_column',
                  HINT = 'Column names are matched exactly as stored in pg_attribute: no quotes, no case folding.';
    END IF;
    RAISE EXCEPTION '%: column "%" of table % does not exist', caller, col, indexpilot._qualified_name(rel)
        USING ERRCODE = 'undefined_column';
END
$$;

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
        IF c.change = 'column_dropped' AND c.old_name = t.tenant_key THEN
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

-- The genome and expression functions users call (indexpilot_register(), ...) are C entry points
-- (src/catalog/genome_entry.cpp): they check, as the caller, that it owns the table the call names (or is
-- a member of its owner; superusers pass), then call the body indexpilot._do_<name>(the same arguments,
-- the caller's role). The bodies are SECURITY DEFINER: they write IndexPilot's catalog as the extension's
-- owner, so EXECUTE on the entry point is all a DBA grants to delegate, and they are revoked from PUBLIC.

-- Registers a table: its columns enter the genome as core fields; tenant_key_column names the tenant key.
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
    fields integer;
BEGIN
    PERFORM indexpilot._require(relation, 'relation', caller);
    PERFORM indexpilot._require(tenant_key_column, 'tenant_key_column', caller);
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
    IF c.relpersistence = 't' THEN
        RAISE EXCEPTION '%: temporary table % cannot be managed', caller, quote_ident(c.relname)
            USING ERRCODE = 'feature_not_supported';
    END IF;
    IF c.nspname IN ('pg_catalog', 'information_schema', 'pg_toast', 'indexpilot') THEN
        RAISE EXCEPTION '%: % cannot be managed: system and IndexPilot tables are not supported', caller, qname
            USING ERRCODE = 'feature_not_supported';
    END IF;
    IF EXISTS (SELECT 1 FROM indexpilot.genome_tables g WHERE g.relid = relation) THEN
        RAISE EXCEPTION '%: table % is already managed', caller, qname
            USING ERRCODE = 'duplicate_object', HINT = 'Use indexpilot_sync() to pick up schema changes.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute pa
                   WHERE pa.attrelid = relation AND pa.attname = tenant_key_column AND pa.attnum > 0 AND NOT pa.attisdropped) THEN
        PERFORM indexpilot._no_such_column(relation, tenant_key_column, caller);
    END IF;

    SELECT count(*) INTO fields FROM pg_catalog.pg_attribute pa
    WHERE pa.attrelid = relation AND pa.attnum > 0 AND NOT pa.attisdropped;
    table_description := coalesce(table_description, pg_catalog.obj_description(relation, 'pg_class'));
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
CREATE FUNCTION indexpilot_register(relation regclass, tenant_key_column name, table_description text DEFAULT NULL)
RETURNS integer
AS 'MODULE_PATHNAME', 'indexpilot_genome_entry'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_register(regclass, name, text) IS 'Adds a table to the genome (all fields core); returns its number of fields';

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

CREATE FUNCTION indexpilot._do_sync(relation regclass, invoker name)
RETURNS integer
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT indexpilot._sync(relation, 'indexpilot_sync') $$;
CREATE FUNCTION indexpilot_sync(relation regclass)
RETURNS integer
AS 'MODULE_PATHNAME', 'indexpilot_genome_entry'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_sync(regclass) IS 'Brings a managed table''s genome in line with its columns; returns the number of changes';

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
CREATE FUNCTION indexpilot_sync_all()
RETURNS integer
AS 'MODULE_PATHNAME', 'indexpilot_genome_entry'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_sync_all() IS 'indexpilot_sync() for every managed table; forgets dropped ones';

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
CREATE FUNCTION indexpilot_unregister(relation regclass)
RETURNS integer
AS 'MODULE_PATHNAME', 'indexpilot_genome_entry'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_unregister(regclass) IS 'Removes a table from the genome; returns the number of fields it had';

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
        IF NOT make_core AND col = t.tenant_key THEN
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

CREATE FUNCTION indexpilot._do_mark_core(relation regclass, fields name[], invoker name)
RETURNS integer
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT indexpilot._mark(relation, fields, true, 'indexpilot_mark_core') $$;
CREATE FUNCTION indexpilot_mark_core(relation regclass, VARIADIC fields name[])
RETURNS integer
AS 'MODULE_PATHNAME', 'indexpilot_genome_entry'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_mark_core(regclass, name[]) IS 'Marks fields core (expressed for every tenant); returns the number changed';

CREATE FUNCTION indexpilot._do_mark_optional(relation regclass, fields name[], invoker name)
RETURNS integer
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT indexpilot._mark(relation, fields, false, 'indexpilot_mark_optional') $$;
CREATE FUNCTION indexpilot_mark_optional(relation regclass, VARIADIC fields name[])
RETURNS integer
AS 'MODULE_PATHNAME', 'indexpilot_genome_entry'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_mark_optional(regclass, name[]) IS 'Marks fields optional (expressed per tenant); returns the number changed';

-- ---------------------------------------------------------------------------------------------------
-- Expression profiles: which optional fields each tenant has switched on.
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE indexpilot.expression_profile (
    relid        regclass    NOT NULL,
    attnum       smallint    NOT NULL,
    tenant       text        NOT NULL,  -- the tenant key value in its canonical text form
    expressed_at timestamptz NOT NULL DEFAULT now(),
    expressed_by name        NOT NULL DEFAULT current_user,
    mutation_id  bigint      NOT NULL,  -- the field_expressed row in mutation_log
    PRIMARY KEY (relid, attnum, tenant),
    FOREIGN KEY (relid, attnum) REFERENCES indexpilot.genome_fields (relid, attnum) ON DELETE CASCADE
);
COMMENT ON TABLE indexpilot.expression_profile IS 'Optional fields switched on per tenant';
CREATE INDEX expression_profile_tenant_idx ON indexpilot.expression_profile (relid, tenant);

-- Effective expression: a core field once with tenant NULL (every tenant), an optional field once per tenant.
CREATE VIEW indexpilot.effective_expression AS
SELECT f.relid, t.table_name, f.column_name, f.attnum, NULL::text AS tenant, 'core'::text AS expressed_as
FROM indexpilot.genome_fields f JOIN indexpilot.genome_tables t USING (relid)
WHERE f.is_core
UNION ALL
SELECT f.relid, t.table_name, f.column_name, f.attnum, e.tenant, 'tenant'::text
FROM indexpilot.expression_profile e
JOIN indexpilot.genome_fields f USING (relid, attnum)
JOIN indexpilot.genome_tables t USING (relid)
WHERE NOT f.is_core;
COMMENT ON VIEW indexpilot.effective_expression IS 'Fields in effect: core ones for every tenant (tenant NULL), optional ones per tenant';

-- The fields the cost model may consider: core ones, and optional ones at least one tenant expresses.
CREATE VIEW indexpilot.expressed_fields AS
SELECT f.relid, t.table_name, f.column_name, f.attnum, f.is_core,
       CASE WHEN f.is_core THEN NULL
            ELSE (SELECT pg_catalog.count(*) FROM indexpilot.expression_profile e WHERE e.relid = f.relid AND e.attnum = f.attnum)
       END AS tenants
FROM indexpilot.genome_fields f JOIN indexpilot.genome_tables t USING (relid)
WHERE f.is_core
   OR EXISTS (SELECT 1 FROM indexpilot.expression_profile e WHERE e.relid = f.relid AND e.attnum = f.attnum);
COMMENT ON VIEW indexpilot.expressed_fields IS 'Fields expressed by at least one tenant (tenants NULL: core, every tenant); only these are index candidates';

-- A tenant value in canonical form, checked to exist. It must parse as the tenant key's type; it exists
-- when the tenant key has a single-column foreign key and the referenced row exists (the tenants table
-- is the authority, so a tenant can be set up before it has rows), else when some row of the table
-- itself carries it.
CREATE FUNCTION indexpilot._tenant(relation regclass, tenant_value text, caller text)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    keycol  pg_catalog.pg_attribute;
    typ     text;
    canon   text;
    ref_rel regclass;
    ref_col name;
    present boolean;
    base    oid;
    basemod integer;
    bt      record;
BEGIN
    SELECT pa.* INTO keycol
    FROM indexpilot.genome_tables g
    JOIN pg_catalog.pg_attribute pa ON pa.attrelid = g.relid AND pa.attname = g.tenant_key
    WHERE g.relid = relation;
    -- This runs as the extension's owner (the bodies of the expression functions are SECURITY DEFINER):
    -- a cast to a domain would run the domain's CHECK constraints, a user's code, with those rights. So
    -- values are cast to the domain's base type, which must be a plain base or enum type (their input
    -- functions are built in or installed by a superuser); the existence checks below then run no user code.
    base := keycol.atttypid;
    basemod := keycol.atttypmod;
    LOOP
        SELECT t.typtype, t.typbasetype, t.typtypmod, t.typcategory INTO bt FROM pg_catalog.pg_type t WHERE t.oid = base;
        EXIT WHEN bt.typtype <> 'd';
        base := bt.typbasetype;
        basemod := bt.typtypmod;
    END LOOP;
    IF bt.typtype NOT IN ('b', 'e') OR bt.typcategory = 'A' THEN
        RAISE EXCEPTION '%: tenant key "%" of % has type %, which is not supported', caller, keycol.attname,
                        indexpilot._qualified_name(relation), pg_catalog.format_type(keycol.atttypid, keycol.atttypmod)
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Tenant keys must be of a base or enum type (or a domain over one), not an array, composite or range.';
    END IF;
    typ := pg_catalog.format_type(base, basemod);
    BEGIN
        EXECUTE format('SELECT CAST($1 AS %s)::text', typ) INTO canon USING tenant_value;
    EXCEPTION WHEN data_exception THEN
        RAISE EXCEPTION '%: tenant "%" is not a valid value of tenant key "%" (%)', caller, tenant_value, keycol.attname, typ
            USING ERRCODE = 'invalid_parameter_value';
    END;
    SELECT c.confrelid, ra.attname INTO ref_rel, ref_col
    FROM pg_catalog.pg_constraint c
    JOIN pg_catalog.pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = c.confkey[1]
    WHERE c.conrelid = relation AND c.contype = 'f' AND c.conkey = ARRAY[keycol.attnum]
    ORDER BY c.conname LIMIT 1;
    IF ref_rel IS NOT NULL THEN
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE %I = CAST($1 AS %s))', ref_rel, ref_col, typ)
            INTO present USING canon;
    ELSE
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE %I = CAST($1 AS %s))', relation, keycol.attname, typ)
            INTO present USING canon;
    END IF;
    IF NOT present THEN
        RAISE EXCEPTION '%: tenant "%" does not exist in %', caller, tenant_value,
                        CASE WHEN ref_rel IS NOT NULL THEN format('%s.%I', indexpilot._qualified_name(ref_rel), ref_col)
                             ELSE format('%s.%I', indexpilot._qualified_name(relation), keycol.attname) END
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN canon;
END
$$;

-- Switches optional fields on (express) or off for tenants; returns the number of (field, tenant) changes.
CREATE FUNCTION indexpilot._set_expression(relation regclass, fields name[], tenant_values text[], express boolean, caller text,
                                           invoker name)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t       indexpilot.genome_tables;
    f       indexpilot.genome_fields;
    col     name;
    tv      text;
    canon   text[] := '{}';
    attnums smallint[] := '{}';
    a       smallint;
    ten     text;
    id      bigint;
    n       integer := 0;
BEGIN
    PERFORM indexpilot._require(relation, 'relation', caller);
    t := indexpilot._managed(relation, caller);
    FOREACH col IN ARRAY fields LOOP  -- validate everything before changing anything
        f := indexpilot._field(relation, col, caller);
        IF f.is_core THEN
            RAISE EXCEPTION '%: field "%" of % is core: it is expressed for every tenant', caller, col, t.table_name
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Only optional fields are expressed per tenant; see indexpilot_mark_optional().';
        END IF;
        IF NOT f.attnum = ANY (attnums) THEN
            attnums := attnums || f.attnum;
        END IF;
    END LOOP;
    FOREACH tv IN ARRAY tenant_values LOOP
        ten := indexpilot._tenant(relation, tv, caller);
        IF NOT ten = ANY (canon) THEN
            canon := canon || ten;
        END IF;
    END LOOP;
    FOREACH a IN ARRAY attnums LOOP
        FOREACH ten IN ARRAY canon LOOP
            CONTINUE WHEN express = EXISTS (SELECT 1 FROM indexpilot.expression_profile e
                                            WHERE e.relid = relation AND e.attnum = a AND e.tenant = ten);
            id := indexpilot._log_mutation(CASE WHEN express THEN 'field_expressed' ELSE 'field_suppressed' END,
                      t.table_name, (SELECT g.column_name FROM indexpilot.genome_fields g WHERE g.relid = relation AND g.attnum = a),
                      tenant => ten, parent_id => t.head_mutation_id);
            IF express THEN
                INSERT INTO indexpilot.expression_profile (relid, attnum, tenant, expressed_by, mutation_id)
                VALUES (relation, a, ten, invoker, id);
            ELSE
                DELETE FROM indexpilot.expression_profile e WHERE e.relid = relation AND e.attnum = a AND e.tenant = ten;
            END IF;
            n := n + 1;
        END LOOP;
    END LOOP;
    RETURN n;
END
$$;

CREATE FUNCTION indexpilot._do_express(relation regclass, field name, tenant_value text, invoker name)
RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM indexpilot._require(field, 'field', 'indexpilot_express');
    PERFORM indexpilot._require(tenant_value, 'tenant_value', 'indexpilot_express');
    RETURN indexpilot._set_expression(relation, ARRAY[field], ARRAY[tenant_value], true, 'indexpilot_express', invoker) > 0;
END
$$;
CREATE FUNCTION indexpilot_express(relation regclass, field name, tenant_value text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'indexpilot_genome_entry'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_express(regclass, name, text) IS 'Switches an optional field on for one tenant; false if it already was';

CREATE FUNCTION indexpilot._do_suppress(relation regclass, field name, tenant_value text, invoker name)
RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM indexpilot._require(field, 'field', 'indexpilot_suppress');
    PERFORM indexpilot._require(tenant_value, 'tenant_value', 'indexpilot_suppress');
    RETURN indexpilot._set_expression(relation, ARRAY[field], ARRAY[tenant_value], false, 'indexpilot_suppress', invoker) > 0;
END
$$;
CREATE FUNCTION indexpilot_suppress(relation regclass, field name, tenant_value text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'indexpilot_genome_entry'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_suppress(regclass, name, text) IS 'Switches an optional field off for one tenant; false if it already was';

CREATE FUNCTION indexpilot._do_express_bulk(relation regclass, fields name[], tenant_values text[], invoker name)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM indexpilot._require_list(fields, 'fields', 'indexpilot_express_bulk');
    PERFORM indexpilot._require_list(tenant_values, 'tenant_values', 'indexpilot_express_bulk');
    RETURN indexpilot._set_expression(relation, fields, tenant_values, true, 'indexpilot_express_bulk', invoker);
END
$$;
CREATE FUNCTION indexpilot_express_bulk(relation regclass, fields name[], tenant_values text[])
RETURNS integer
AS 'MODULE_PATHNAME', 'indexpilot_genome_entry'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_express_bulk(regclass, name[], text[]) IS 'Switches optional fields on for tenants (every pair); returns the number of changes';

CREATE FUNCTION indexpilot._do_suppress_bulk(relation regclass, fields name[], tenant_values text[], invoker name)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM indexpilot._require_list(fields, 'fields', 'indexpilot_suppress_bulk');
    PERFORM indexpilot._require_list(tenant_values, 'tenant_values', 'indexpilot_suppress_bulk');
    RETURN indexpilot._set_expression(relation, fields, tenant_values, false, 'indexpilot_suppress_bulk', invoker);
END
$$;
CREATE FUNCTION indexpilot_suppress_bulk(relation regclass, fields name[], tenant_values text[])
RETURNS integer
AS 'MODULE_PATHNAME', 'indexpilot_genome_entry'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_suppress_bulk(regclass, name[], text[]) IS 'Switches optional fields off for tenants (every pair); returns the number of changes';

-- ---------------------------------------------------------------------------------------------------
-- DDL capture: event triggers keep the genome canonical and log column changes typed by hand.
-- They run as the extension's owner (SECURITY DEFINER), so DDL by a role without access to schema
-- indexpilot still works and is still recorded; they exit at once when no managed table is involved.
-- They refuse one thing on purpose (dropping a managed table's tenant key); any other failure of their
-- own bookkeeping is a WARNING, never an error that would undo the user's DDL (indexpilot_sync repairs).
-- ---------------------------------------------------------------------------------------------------

-- After ALTER TABLE, COMMENT and the like: diff every managed table the command touched (and managed
-- tables that inherit from it: a column added to a parent reaches its partitions; and the tables of a
-- schema it altered) against pg_attribute.
CREATE FUNCTION indexpilot._on_ddl_command_end()
RETURNS event_trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r       record;
    t       indexpilot.genome_tables;
    context jsonb;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM indexpilot.genome_tables) THEN
        RETURN;
    END IF;
    FOR r IN
        WITH RECURSIVE cmds AS (
            SELECT c.classid, c.objid FROM pg_catalog.pg_event_trigger_ddl_commands() c
        ), touched (relid) AS (
            SELECT cmds.objid FROM cmds WHERE cmds.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
            UNION  -- ALTER SCHEMA ... RENAME renames the tables in it
            SELECT pc.oid FROM pg_catalog.pg_class pc JOIN cmds ON pc.relnamespace = cmds.objid
            WHERE cmds.classid = 'pg_catalog.pg_namespace'::pg_catalog.regclass
            UNION
            SELECT i.inhrelid FROM pg_catalog.pg_inherits i JOIN touched ON i.inhparent = touched.relid
        )
        SELECT g.relid FROM indexpilot.genome_tables g
        WHERE g.relid::oid IN (SELECT touched.relid FROM touched)
        ORDER BY g.relid::oid
    LOOP
        IF context IS NULL THEN
            -- What the command was: its tag and the objects it created or altered, as the server reports
            -- them. Never current_query(): that is the whole query string, and one string may hold several
            -- statements (ALTER ROLE ... PASSWORD among them); mutation_log is append-only.
            SELECT jsonb_build_object('source', 'ddl', 'command_tag', TG_TAG,
                                      'objects', coalesce(jsonb_agg(DISTINCT jsonb_build_object(
                                          'object_type', c.object_type, 'object_identity', c.object_identity)),
                                          '[]'::jsonb))
            INTO context
            FROM pg_catalog.pg_event_trigger_ddl_commands() c;
        END IF;
        BEGIN
            t := indexpilot._managed(r.relid, 'indexpilot DDL capture');
            PERFORM indexpilot._genome_apply(r.relid, t.head_mutation_id, context);
        EXCEPTION
            WHEN object_not_in_prerequisite_state THEN
                RAISE;  -- the table lost its tenant key (through a parent): refuse, as for the table itself
            WHEN OTHERS THEN
                -- A failure in IndexPilot's bookkeeping must not undo the user's DDL: warn, and let
                -- indexpilot_sync() repair the genome later.
                RAISE WARNING 'IndexPilot could not record this change to %: %', r.relid, SQLERRM
                    USING HINT = 'Run indexpilot_sync() on the table.';
        END;
    END LOOP;
END
$$;

-- After DROP: forget dropped managed tables and columns; refuse to drop a managed table's tenant key.
CREATE FUNCTION indexpilot._on_sql_drop()
RETURNS event_trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r       record;
    t       indexpilot.genome_tables;
    f       indexpilot.genome_fields;
    removed bigint;
    context jsonb;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM indexpilot.genome_tables) THEN
        RETURN;
    END IF;
    -- What the command was: its tag and the objects it named (not current_query(): see _on_ddl_command_end).
    SELECT jsonb_build_object('source', 'ddl', 'command_tag', TG_TAG,
                              'objects', coalesce(jsonb_agg(DISTINCT jsonb_build_object(
                                  'object_type', d.object_type, 'object_identity', d.object_identity))
                                  FILTER (WHERE d.original), '[]'::jsonb))
    INTO context
    FROM pg_catalog.pg_event_trigger_dropped_objects() d;
    FOR r IN SELECT DISTINCT d.objid FROM pg_catalog.pg_event_trigger_dropped_objects() d
             JOIN indexpilot.genome_tables g ON g.relid::oid = d.objid
             WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = 0
             ORDER BY d.objid
    LOOP
        BEGIN
            t := indexpilot._managed(r.objid::regclass, 'indexpilot DDL capture');
            PERFORM indexpilot._log_mutation('table_dropped', t.table_name,
                        details => context || jsonb_build_object(
                            'fields', (SELECT count(*) FROM indexpilot.genome_fields g WHERE g.relid = t.relid),
                            'tenant_expressions', (SELECT count(*) FROM indexpilot.expression_profile e WHERE e.relid = t.relid)),
                        parent_id => t.head_mutation_id);
            DELETE FROM indexpilot.genome_tables g WHERE g.relid = t.relid;
        EXCEPTION WHEN OTHERS THEN
            -- indexpilot_sync_all() forgets tables that no longer exist.
            RAISE WARNING 'IndexPilot could not record the drop of a managed table: %', SQLERRM
                USING HINT = 'Run indexpilot_sync_all().';
        END;
    END LOOP;
    FOR r IN SELECT d.objid, d.objsubid FROM pg_catalog.pg_event_trigger_dropped_objects() d
             JOIN indexpilot.genome_fields g ON g.relid::oid = d.objid AND g.attnum = d.objsubid
             WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid > 0
             ORDER BY d.objid, d.objsubid
    LOOP
        t := indexpilot._managed(r.objid::regclass, 'indexpilot DDL capture');
        SELECT * INTO f FROM indexpilot.genome_fields g WHERE g.relid = t.relid AND g.attnum = r.objsubid;
        IF f.column_name = t.tenant_key THEN
            RAISE EXCEPTION 'cannot drop column "%" of % because it is the tenant key of a table IndexPilot manages',
                            f.column_name, t.table_name
                USING ERRCODE = 'dependent_objects_still_exist',
                      HINT = 'Unregister the table first with indexpilot_unregister().';
        END IF;
        BEGIN
            SELECT count(*) INTO removed FROM indexpilot.expression_profile e WHERE e.relid = t.relid AND e.attnum = f.attnum;
            PERFORM indexpilot._log_mutation('column_dropped', t.table_name, f.column_name,
                        details => context || jsonb_build_object('data_type', f.data_type, 'tenant_expressions_removed', removed),
                        parent_id => t.head_mutation_id);
            DELETE FROM indexpilot.genome_fields g WHERE g.relid = t.relid AND g.attnum = f.attnum;
        EXCEPTION WHEN OTHERS THEN
            RAISE WARNING 'IndexPilot could not record the drop of column "%" of %: %', f.column_name, t.table_name, SQLERRM
                USING HINT = 'Run indexpilot_sync() on the table.';
        END;
    END LOOP;
END
$$;

CREATE EVENT TRIGGER indexpilot_ddl_command_end ON ddl_command_end
    EXECUTE FUNCTION indexpilot._on_ddl_command_end();
CREATE EVENT TRIGGER indexpilot_sql_drop ON sql_drop
    EXECUTE FUNCTION indexpilot._on_sql_drop();

-- ---------------------------------------------------------------------------------------------------
-- Lineage: the chain of mutations behind an object.
-- ---------------------------------------------------------------------------------------------------

-- Every mutation that targets the table (under its current or any earlier name), the column of it, or the
-- index, together with every mutation those follow from (parent_id, recursively); oldest first.
CREATE FUNCTION indexpilot_lineage(target regclass, field name DEFAULT NULL)
RETURNS SETOF indexpilot.mutation_log
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    caller CONSTANT text := 'indexpilot_lineage';
    relkind "char";
    names   text[];
BEGIN
    PERFORM indexpilot._require(target, 'target', caller);
    SELECT c.relkind INTO relkind FROM pg_catalog.pg_class c WHERE c.oid = target;
    IF NOT FOUND THEN
        RAISE EXCEPTION '%: relation with OID % does not exist', caller, target::oid USING ERRCODE = 'undefined_table';
    END IF;
    -- The names the relation has had: mutation_log records names, and table_renamed rows link them.
    WITH RECURSIVE known (name) AS (
        SELECT indexpilot._qualified_name(target)
        UNION
        SELECT m.details ->> 'old_name' FROM indexpilot.mutation_log m JOIN known ON m.target_table = known.name
        WHERE m.kind = 'table_renamed' AND m.details ? 'old_name'
    )
    SELECT array_agg(known.name) INTO names FROM known;
    IF field IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute pa
                       WHERE pa.attrelid = target AND pa.attname = field AND pa.attnum > 0 AND NOT pa.attisdropped)
       AND NOT EXISTS (SELECT 1 FROM indexpilot.mutation_log m WHERE m.target_table = ANY (names) AND m.target_column = field) THEN
        PERFORM indexpilot._no_such_column(target, field, caller);
    END IF;
    RETURN QUERY
    WITH RECURSIVE chain AS (
        SELECT m.* FROM indexpilot.mutation_log m
        WHERE CASE WHEN relkind IN ('i', 'I')
                   THEN m.target_index = ANY (names)
                     OR m.target_index = (SELECT c.relname::text FROM pg_catalog.pg_class c WHERE c.oid = target)
                   ELSE m.target_table = ANY (names) AND (field IS NULL OR m.target_column = field) END
        UNION
        SELECT p.* FROM indexpilot.mutation_log p JOIN chain ON p.id = chain.parent_id
    )
    SELECT * FROM chain ORDER BY chain.id;
END
$$;
COMMENT ON FUNCTION indexpilot_lineage(regclass, name) IS 'The mutations behind a table, one of its fields, or an index, with their ancestors; oldest first';

-- ---------------------------------------------------------------------------------------------------
-- Query statistics: what the cost model needs, per time bucket, table, column set, operator kind and
-- tenant. The background worker flushes captured predicates here (one row per key and bucket).
-- ---------------------------------------------------------------------------------------------------
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
    CONSTRAINT query_stats_attnums_check CHECK (cardinality(attnums) BETWEEN 1 AND 8 AND array_ndims(attnums) = 1
                                                AND array_position(attnums, NULL) IS NULL),
    CONSTRAINT query_stats_operators_check CHECK (
        cardinality(operators) = cardinality(attnums)
        AND operators <@ ARRAY['eq', 'in', 'range', 'like_prefix', 'like', 'is_null', 'join']),
    CONSTRAINT query_stats_tenant_check CHECK ((tenant_scope = 'tenant') = (tenant <> '')),
    CONSTRAINT query_stats_key UNIQUE (bucket_start, bucket_width, relid, kind, attnums, operators, tenant_scope, tenant)
);
COMMENT ON TABLE indexpilot.query_stats IS 'Captured predicate statistics per time bucket, table, column set, operators and tenant';
-- The cost model reads one table's recent history; retention deletes old buckets through the key.
CREATE INDEX query_stats_relid_idx ON indexpilot.query_stats (relid, bucket_start);

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

-- ---------------------------------------------------------------------------------------------------
-- Catalog privileges: nothing for PUBLIC; reading for pg_monitor.
-- ---------------------------------------------------------------------------------------------------
REVOKE ALL ON indexpilot.genome_tables, indexpilot.genome_fields, indexpilot.genome_catalog,
              indexpilot.expression_profile, indexpilot.effective_expression, indexpilot.expressed_fields,
              indexpilot.query_stats, indexpilot.query_samples FROM PUBLIC;
GRANT SELECT ON indexpilot.genome_tables, indexpilot.genome_fields, indexpilot.genome_catalog,
                indexpilot.expression_profile, indexpilot.effective_expression, indexpilot.expressed_fields,
                indexpilot.query_stats TO pg_monitor;
-- Statement texts can hold secrets: a role sees its own, pg_read_all_stats every role's (as in
-- pg_stat_statements); indexpilot_forget_statements() removes them.
ALTER TABLE indexpilot.query_samples ENABLE ROW LEVEL SECURITY;
CREATE POLICY query_samples_own_or_read_all_stats ON indexpilot.query_samples FOR SELECT
    USING (userid = (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = CURRENT_USER)
           OR pg_catalog.pg_has_role(CURRENT_USER, 'pg_read_all_stats', 'USAGE'));
GRANT SELECT ON indexpilot.query_samples TO PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._qualified_name(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._require(anyelement, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._require_list(anyarray, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._managed(regclass, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._no_such_column(regclass, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._field(regclass, name, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._genome_changes(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._genome_apply(regclass, bigint, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._sync(regclass, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._mark(regclass, name[], boolean, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._tenant(regclass, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._set_expression(regclass, name[], text[], boolean, text, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._on_ddl_command_end() FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._on_sql_drop() FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._do_register(regclass, name, text, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._do_sync(regclass, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._do_sync_all(name) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._do_unregister(regclass, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._do_mark_core(regclass, name[], name) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._do_mark_optional(regclass, name[], name) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._do_express(regclass, name, text, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._do_suppress(regclass, name, text, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._do_express_bulk(regclass, name[], text[], name) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._do_suppress_bulk(regclass, name[], text[], name) FROM PUBLIC;
-- The entry points: superusers, and the roles a DBA grants EXECUTE to (on their own tables only).
REVOKE ALL ON FUNCTION indexpilot_register(regclass, name, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_sync(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_sync_all() FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_unregister(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_mark_core(regclass, name[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_mark_optional(regclass, name[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_express(regclass, name, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_suppress(regclass, name, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_express_bulk(regclass, name[], text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_suppress_bulk(regclass, name[], text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_lineage(regclass, name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot_lineage(regclass, name) TO pg_monitor;
-- indexpilot_lineage() runs as its caller and uses these read-only helpers.
GRANT EXECUTE ON FUNCTION indexpilot._require(anyelement, text, text), indexpilot._qualified_name(regclass),
                          indexpilot._no_such_column(regclass, text, text) TO pg_monitor;
-- Bypass and status (docs/bypass.md). Runtime switches: persisted per database in bypass_switches,
-- mirrored into shared memory at commit, recorded in mutation_log. Executable by superusers only; a
-- superuser may GRANT EXECUTE to a delegated role (docs/bypass.md suggests indexpilot_admin).
-- ---------------------------------------------------------------------------------------------------
CREATE TABLE indexpilot.bypass_switches (
    switch      text        PRIMARY KEY,
    enabled     boolean,    -- NULL: the override was reset, weaker sources decide
    changed_at  timestamptz NOT NULL,
    changed_by  name        NOT NULL,
    mutation_id bigint,     -- the indexpilot.mutation_log row of the change (no foreign key: that log is append-only)
    CONSTRAINT bypass_switches_switch_check CHECK (switch IN ('system', 'stats_collection', 'advising',
        'index_building', 'index_retirement', 'capture_hooks', 'background_worker'))
);
COMMENT ON TABLE indexpilot.bypass_switches IS
    'Runtime bypass switches set from this database; the latest change across databases wins after a restart';
SELECT pg_catalog.pg_extension_config_dump('indexpilot.bypass_switches', '');
REVOKE ALL ON indexpilot.bypass_switches FROM PUBLIC;
GRANT SELECT ON indexpilot.bypass_switches TO pg_monitor;

CREATE FUNCTION indexpilot_disable_system() RETURNS void
AS 'MODULE_PATHNAME', 'indexpilot_disable_system'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_disable_system() IS 'Level 3 bypass: every IndexPilot feature and module off';

CREATE FUNCTION indexpilot_enable_system() RETURNS void
AS 'MODULE_PATHNAME', 'indexpilot_enable_system'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_enable_system() IS 'Turns the IndexPilot system switch on';

CREATE FUNCTION indexpilot_disable_feature(name text) RETURNS void
AS 'MODULE_PATHNAME', 'indexpilot_disable_feature'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_disable_feature(text) IS
    'Turns a feature off: stats_collection, advising, index_building, index_retirement';

CREATE FUNCTION indexpilot_enable_feature(name text) RETURNS void
AS 'MODULE_PATHNAME', 'indexpilot_enable_feature'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_enable_feature(text) IS
    'Turns a feature on: stats_collection, advising, index_building, index_retirement';

CREATE FUNCTION indexpilot_disable_module(name text) RETURNS void
AS 'MODULE_PATHNAME', 'indexpilot_disable_module'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_disable_module(text) IS 'Turns a module off: capture_hooks, background_worker';

CREATE FUNCTION indexpilot_enable_module(name text) RETURNS void
AS 'MODULE_PATHNAME', 'indexpilot_enable_module'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_enable_module(text) IS 'Turns a module on: capture_hooks, background_worker';

CREATE FUNCTION indexpilot_reset_switch(name text) RETURNS void
AS 'MODULE_PATHNAME', 'indexpilot_reset_switch'
LANGUAGE C VOLATILE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_reset_switch(text) IS
    'Drops the runtime SQL override of a switch: environment, config file and GUCs decide again';

-- Shortcuts known from the original IndexPilot: thin aliases of the functions above.
CREATE FUNCTION indexpilot_disable_stats_collection() RETURNS void
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC SELECT @extschema@.indexpilot_disable_feature('stats_collection'::pg_catalog.text); END;
CREATE FUNCTION indexpilot_enable_stats_collection() RETURNS void
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC SELECT @extschema@.indexpilot_enable_feature('stats_collection'::pg_catalog.text); END;
CREATE FUNCTION indexpilot_disable_advising() RETURNS void
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC SELECT @extschema@.indexpilot_disable_feature('advising'::pg_catalog.text); END;
CREATE FUNCTION indexpilot_enable_advising() RETURNS void
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC SELECT @extschema@.indexpilot_enable_feature('advising'::pg_catalog.text); END;
CREATE FUNCTION indexpilot_disable_index_building() RETURNS void
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC SELECT @extschema@.indexpilot_disable_feature('index_building'::pg_catalog.text); END;
CREATE FUNCTION indexpilot_enable_index_building() RETURNS void
LANGUAGE sql VOLATILE SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC SELECT @extschema@.indexpilot_enable_feature('index_building'::pg_catalog.text); END;

CREATE FUNCTION indexpilot_status(
    OUT kind text,
    OUT name text,
    OUT setting text,
    OUT enabled boolean,
    OUT source text,
    OUT detail text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'indexpilot_status'
LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_status() IS
    'Every IndexPilot switch with its value, whether it is in effect and the source that decided it; capture counters';

REVOKE ALL ON FUNCTION indexpilot_disable_system() FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_enable_system() FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_disable_feature(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_enable_feature(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_disable_module(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_enable_module(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_reset_switch(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_disable_stats_collection() FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_enable_stats_collection() FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_disable_advising() FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_enable_advising() FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_disable_index_building() FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_enable_index_building() FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot_status() TO pg_monitor;

-- ---------------------------------------------------------------------------------------------------
-- Flush: the worker moves this database's captured shapes into query_stats, one batched statement per
-- flush, keeps the representative statements, rolls old minute buckets up into hours and drops what is
-- older than the retention.
-- ---------------------------------------------------------------------------------------------------
CREATE FUNCTION indexpilot._bucket(ts timestamptz, width interval)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT to_timestamp(floor(extract(epoch FROM ts) / extract(epoch FROM width)) * extract(epoch FROM width))
$$;

-- One row of the flush's input: a shape as indexpilot._take_live_stats() returns it, without the database.
CREATE TYPE indexpilot.flush_input AS (
    relid oid, kind text, attnums int2[], operators text[], tenant_scope text, tenant text, calls bigint,
    seq_calls bigint, index_calls bigint, bitmap_calls bigint, other_calls bigint, cancelled_calls bigint,
    instrumented_calls bigint, rows_scanned bigint, rows_returned bigint, total_ms float8, max_ms float8,
    cancelled_ms float8, queryid bigint, last_seen timestamptz, first_seen timestamptz, estimated_calls float8);
COMMENT ON TYPE indexpilot.flush_input IS 'A captured shape on its way into query_stats (indexpilot._store_stats)';

-- Stores taken shapes into query_stats as one bucket's counts; returns the number of keys inserted or
-- updated. It cannot fail on what capture hands it: rows are first summed by the whole query_stats key
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
                        AND t.operators <@ ARRAY['eq', 'in', 'range', 'like_prefix', 'like', 'is_null', 'join'],
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
               greatest(coalesce(t.cancelled_ms, 0), 0) AS cancelled_ms, t.queryid, t.last_seen, t.first_seen,
               greatest(coalesce(t.estimated_calls, 0), 0) AS estimated_calls
        FROM input t
        WHERE t.storable),
    summed AS (
        SELECT k.relid, k.kind, k.attnums, k.operators, k.tenant_scope, k.tenant, pg_catalog.sum(k.calls) AS calls,
               pg_catalog.sum(k.seq_calls) AS seq_calls, pg_catalog.sum(k.index_calls) AS index_calls,
               pg_catalog.sum(k.bitmap_calls) AS bitmap_calls, pg_catalog.sum(k.cancelled_calls) AS cancelled_calls,
               pg_catalog.sum(k.instrumented_calls) AS instrumented_calls,
               pg_catalog.sum(k.rows_scanned) AS rows_scanned, pg_catalog.sum(k.rows_returned) AS rows_returned,
               pg_catalog.sum(k.total_ms) AS total_ms, pg_catalog.max(k.max_ms) AS max_ms,
               pg_catalog.sum(k.cancelled_ms) AS cancelled_ms,
               (pg_catalog.array_agg(k.queryid ORDER BY k.last_seen DESC NULLS LAST)
                    FILTER (WHERE k.queryid IS NOT NULL))[1] AS queryid,
               pg_catalog.min(k.first_seen) AS first_seen, pg_catalog.sum(k.estimated_calls) AS estimated_calls
        FROM keyed k
        GROUP BY k.relid, k.kind, k.attnums, k.operators, k.tenant_scope, k.tenant),
    inserted AS (
        INSERT INTO indexpilot.query_stats AS q
            (bucket_start, bucket_width, relid, kind, attnums, operators, tenant_scope, tenant, calls,
             seq_scan_calls, index_calls, bitmap_calls, cancelled_calls, instrumented_calls, rows_scanned,
             rows_returned, total_time_ms, max_time_ms, cancelled_time_ms, sample_queryid, first_seen,
             estimated_calls)
        SELECT bucket_start, bucket_width, s.relid, s.kind, s.attnums, s.operators, s.tenant_scope, s.tenant,
               s.calls, s.seq_calls, s.index_calls, s.bitmap_calls, s.cancelled_calls, s.instrumented_calls,
               s.rows_scanned, s.rows_returned, s.total_ms, s.max_ms, s.cancelled_ms, s.queryid, s.first_seen,
               s.estimated_calls
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
    IF skipped > 0 THEN
        RAISE WARNING 'indexpilot._store_stats: skipped % captured rows that no query_stats key can hold', skipped;
    END IF;
    RETURN stored;
END
$$;

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
                         t.last_seen, t.first_seen, t.estimated_calls)::indexpilot.flush_input
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
         total_time_ms, max_time_ms, cancelled_time_ms, sample_queryid, first_seen, estimated_calls)
    SELECT date_trunc('hour', o.bucket_start), interval '1 hour', o.relid, o.kind, o.attnums, o.operators,
           o.tenant_scope, o.tenant, sum(o.calls), sum(o.seq_scan_calls), sum(o.index_calls), sum(o.bitmap_calls),
           sum(o.cancelled_calls), sum(o.instrumented_calls), sum(o.rows_scanned), sum(o.rows_returned),
           sum(o.total_time_ms), max(o.max_time_ms), sum(o.cancelled_time_ms), max(o.sample_queryid),
           min(o.first_seen), sum(o.estimated_calls)
    FROM old o
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;

    DELETE FROM indexpilot.query_stats WHERE bucket_start < now() - retention;
    DELETE FROM indexpilot.query_samples WHERE last_seen < now() - retention;
    RETURN flushed;
END
$$;
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

REVOKE ALL ON FUNCTION indexpilot._bucket(timestamptz, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._store_stats(indexpilot.flush_input[], timestamptz, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot._flush(interval, interval, interval) FROM PUBLIC;

-- ===================================================================================================
-- What-if costing (src/advisor/whatif.cpp): plan a statement with a hypothetical btree index visible to
-- the planner. Nothing is executed or built. Not for PUBLIC: it plans arbitrary statements.
-- ===================================================================================================
CREATE FUNCTION indexpilot_whatif(
    query text,
    relation regclass,
    columns name[],
    predicate text DEFAULT NULL,
    OUT cost_without float8,
    OUT cost_with float8,
    OUT index_used boolean,
    OUT estimated_pages float8,
    OUT estimated_bytes float8)
RETURNS record
AS 'MODULE_PATHNAME', 'indexpilot_whatif'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
-- No pinned search_path, on purpose: query is the caller's own statement and is parsed with the caller's
-- search_path and rights, as EXPLAIN would parse it. Its C code runs no SQL of its own.
-- (indexpilot_recommendations() and indexpilot_run_now() are pinned: they re-plan each captured statement
-- with the role and search_path recorded with it; docs/security.md.)
COMMENT ON FUNCTION indexpilot_whatif(text, regclass, name[], text) IS
    'Plans a statement without and with a hypothetical btree index; costs, whether it is used, its estimated size';
REVOKE ALL ON FUNCTION indexpilot_whatif(text, regclass, name[], text) FROM PUBLIC;

-- ---------------------------------------------------------------------------------------------------
-- The cost model: what it concludes (recommendations) and one whole cycle on demand (run_now).
-- ---------------------------------------------------------------------------------------------------
CREATE FUNCTION indexpilot_recommendations(
    OUT table_name text, OUT columns text[], OUT predicate text, OUT kind text, OUT index_name text,
    OUT verdict text, OUT action text, OUT calls float8, OUT cost_without float8, OUT cost_with float8,
    OUT benefit_per_second float8, OUT write_cost_per_second float8, OUT build_cost float8,
    OUT net_value float8, OUT estimated_bytes float8, OUT statement text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'indexpilot_recommendations'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_recommendations() IS 'The cost model''s conclusions now, with every number behind them; changes nothing';

CREATE FUNCTION indexpilot_run_now(
    OUT table_name text, OUT columns text[], OUT predicate text, OUT kind text, OUT index_name text,
    OUT verdict text, OUT action text, OUT calls float8, OUT cost_without float8, OUT cost_with float8,
    OUT benefit_per_second float8, OUT write_cost_per_second float8, OUT build_cost float8,
    OUT net_value float8, OUT estimated_bytes float8, OUT statement text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'indexpilot_run_now'
LANGUAGE C STRICT VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_run_now() IS 'One whole cycle now: flush, cost model, lineage and, in auto mode, the start of a build';

REVOKE ALL ON FUNCTION indexpilot_recommendations() FROM PUBLIC;
REVOKE ALL ON FUNCTION indexpilot_run_now() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot_recommendations() TO pg_monitor;

-- Write rates of the managed tables, for the cost of keeping an index up to date: measured between two
-- samples at least 10 seconds apart; before the second sample, the average since server start.
CREATE TABLE indexpilot.table_activity (
    relid             regclass         PRIMARY KEY,
    sampled_at        timestamptz      NOT NULL,
    writes            bigint           NOT NULL,  -- inserts + updates + deletes since statistics reset
    writes_per_second double precision NOT NULL
);
COMMENT ON TABLE indexpilot.table_activity IS 'The last sample of each managed table''s write counters and the rate measured';

-- Before two samples exist: the writes since the last ANALYZE over the time since it (a bulk load that
-- was analyzed afterwards does not count as steady writing); never analyzed: the average since start.
CREATE FUNCTION indexpilot._first_write_rate(rel oid)
RETURNS double precision
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(
        CASE WHEN greatest(s.last_analyze, s.last_autoanalyze) IS NOT NULL
             THEN s.n_mod_since_analyze
                  / greatest(extract(epoch FROM now() - greatest(s.last_analyze, s.last_autoanalyze)), 1)
             ELSE (s.n_tup_ins + s.n_tup_upd + s.n_tup_del)
                  / greatest(extract(epoch FROM now() - pg_postmaster_start_time()), 1)
        END, 0)::double precision
    FROM pg_catalog.pg_stat_user_tables s WHERE s.relid = rel
$$;
REVOKE ALL ON FUNCTION indexpilot._first_write_rate(oid) FROM PUBLIC;

CREATE FUNCTION indexpilot._write_rates(record boolean)
RETURNS TABLE (relid oid, writes_per_second double precision)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF record THEN
        INSERT INTO indexpilot.table_activity AS a (relid, sampled_at, writes, writes_per_second)
        SELECT t.relid, now(), coalesce(s.n_tup_ins + s.n_tup_upd + s.n_tup_del, 0),
               indexpilot._first_write_rate(s.relid)
        FROM indexpilot.genome_tables t
        LEFT JOIN pg_catalog.pg_stat_user_tables s ON s.relid = t.relid
        ON CONFLICT ON CONSTRAINT table_activity_pkey DO UPDATE
        SET writes_per_second = greatest(excluded.writes - a.writes, 0)
                                / extract(epoch FROM excluded.sampled_at - a.sampled_at),
            writes = excluded.writes,
            sampled_at = excluded.sampled_at
        WHERE excluded.sampled_at - a.sampled_at >= interval '10 seconds';
    END IF;
    RETURN QUERY
    SELECT t.relid::oid,
           coalesce(a.writes_per_second, indexpilot._first_write_rate(s.relid))::double precision
    FROM indexpilot.genome_tables t
    LEFT JOIN indexpilot.table_activity a ON a.relid = t.relid
    LEFT JOIN pg_catalog.pg_stat_user_tables s ON s.relid = t.relid;
END
$$;
REVOKE ALL ON indexpilot.table_activity FROM PUBLIC;
GRANT SELECT ON indexpilot.table_activity TO pg_monitor;
REVOKE ALL ON FUNCTION indexpilot._write_rates(boolean) FROM PUBLIC;
-- indexpilot_recommendations(), granted to pg_monitor, reads the rates through these (without recording:
-- pg_monitor cannot write table_activity).
GRANT EXECUTE ON FUNCTION indexpilot._write_rates(boolean), indexpilot._first_write_rate(oid) TO pg_monitor;
