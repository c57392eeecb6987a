-- DDL capture: event triggers keep the genome canonical and log column changes typed by hand.
-- They run as the extension's owner (SECURITY DEFINER), so DDL by a role without access to schema
-- indexpilot still works and is still recorded; they exit at once when no managed table is involved.
-- They refuse one thing on purpose (dropping a registered table's tenant key); any other failure of their
-- own bookkeeping is a WARNING, never an error that would undo the user's DDL (indexpilot_sync repairs).

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
REVOKE ALL ON FUNCTION indexpilot._on_ddl_command_end() FROM PUBLIC;

-- After DROP: forget dropped managed tables and columns; refuse to drop a registered table's tenant key.
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
        IF f.column_name = t.tenant_key AND NOT t.discovered THEN
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
            -- A discovered table's tenant key is only indexpilot.tenant_column's guess: it goes with its column.
            UPDATE indexpilot.genome_tables g SET tenant_key = NULL WHERE g.relid = t.relid AND g.tenant_key = f.column_name;
        EXCEPTION WHEN OTHERS THEN
            RAISE WARNING 'IndexPilot could not record the drop of column "%" of %: %', f.column_name, t.table_name, SQLERRM
                USING HINT = 'Run indexpilot_sync() on the table.';
        END;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION indexpilot._on_sql_drop() FROM PUBLIC;

CREATE EVENT TRIGGER indexpilot_ddl_command_end ON ddl_command_end
    EXECUTE FUNCTION indexpilot._on_ddl_command_end();
CREATE EVENT TRIGGER indexpilot_sql_drop ON sql_drop
    EXECUTE FUNCTION indexpilot._on_sql_drop();
