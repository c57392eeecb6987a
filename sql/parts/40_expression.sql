-- Expression profiles: which optional fields each tenant has switched on, the views of the fields in
-- effect, and the functions that switch them on and off.

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
REVOKE ALL ON indexpilot.expression_profile FROM PUBLIC;
GRANT SELECT ON indexpilot.expression_profile TO pg_monitor;

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
REVOKE ALL ON indexpilot.effective_expression FROM PUBLIC;
GRANT SELECT ON indexpilot.effective_expression TO pg_monitor;

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
REVOKE ALL ON indexpilot.expressed_fields FROM PUBLIC;
GRANT SELECT ON indexpilot.expressed_fields TO pg_monitor;

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
REVOKE ALL ON FUNCTION indexpilot._tenant(regclass, text, text) FROM PUBLIC;

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
REVOKE ALL ON FUNCTION indexpilot._set_expression(regclass, name[], text[], boolean, text, name) FROM PUBLIC;

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
REVOKE ALL ON FUNCTION indexpilot._do_express(regclass, name, text, name) FROM PUBLIC;
CREATE FUNCTION indexpilot_express(relation regclass, field name, tenant_value text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'indexpilot_genome_entry'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_express(regclass, name, text) IS 'Switches an optional field on for one tenant; false if it already was';
REVOKE ALL ON FUNCTION indexpilot_express(regclass, name, text) FROM PUBLIC;

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
REVOKE ALL ON FUNCTION indexpilot._do_suppress(regclass, name, text, name) FROM PUBLIC;
CREATE FUNCTION indexpilot_suppress(relation regclass, field name, tenant_value text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'indexpilot_genome_entry'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_suppress(regclass, name, text) IS 'Switches an optional field off for one tenant; false if it already was';
REVOKE ALL ON FUNCTION indexpilot_suppress(regclass, name, text) FROM PUBLIC;

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
REVOKE ALL ON FUNCTION indexpilot._do_express_bulk(regclass, name[], text[], name) FROM PUBLIC;
CREATE FUNCTION indexpilot_express_bulk(relation regclass, fields name[], tenant_values text[])
RETURNS integer
AS 'MODULE_PATHNAME', 'indexpilot_genome_entry'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_express_bulk(regclass, name[], text[]) IS 'Switches optional fields on for tenants (every pair); returns the number of changes';
REVOKE ALL ON FUNCTION indexpilot_express_bulk(regclass, name[], text[]) FROM PUBLIC;

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
REVOKE ALL ON FUNCTION indexpilot._do_suppress_bulk(regclass, name[], text[], name) FROM PUBLIC;
CREATE FUNCTION indexpilot_suppress_bulk(relation regclass, fields name[], tenant_values text[])
RETURNS integer
AS 'MODULE_PATHNAME', 'indexpilot_genome_entry'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION indexpilot_suppress_bulk(regclass, name[], text[]) IS 'Switches optional fields off for tenants (every pair); returns the number of changes';
REVOKE ALL ON FUNCTION indexpilot_suppress_bulk(regclass, name[], text[]) FROM PUBLIC;
