-- Helpers shared by the lineage, genome and expression functions: relation names as the lineage records
-- them, and the checks that raise the catalog layer's errors (NULL arguments, unknown columns).
-- indexpilot_lineage() runs as its caller (pg_monitor) and uses the read-only ones: they are granted.
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
REVOKE ALL ON FUNCTION indexpilot._qualified_name(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot._qualified_name(regclass) TO pg_monitor;

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
REVOKE ALL ON FUNCTION indexpilot._require(anyelement, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot._require(anyelement, text, text) TO pg_monitor;

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
REVOKE ALL ON FUNCTION indexpilot._require_list(anyarray, text, text) FROM PUBLIC;

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
REVOKE ALL ON FUNCTION indexpilot._no_such_column(regclass, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION indexpilot._no_such_column(regclass, text, text) TO pg_monitor;
