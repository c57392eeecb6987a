-- Mutation lineage: the append-only log of every schema, expression, index and switch change, with its
-- evidence; the one function that appends to it, and indexpilot_lineage() that reads a chain back.

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
REVOKE ALL ON indexpilot.mutation_log FROM PUBLIC;
GRANT SELECT ON indexpilot.mutation_log TO pg_monitor;

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
REVOKE ALL ON FUNCTION indexpilot._refuse_mutation_log_change() FROM PUBLIC;
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
REVOKE ALL ON FUNCTION indexpilot_lineage(regclass, name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot_lineage(regclass, name) TO pg_monitor;
