-- Expression profiles: optional fields switched on and off per tenant (the CRM from 10_genome).
\set SHOW_CONTEXT never
INSERT INTO crm.tenants (tenant_id, name, plan) VALUES (1, 'Acme', 'enterprise'), (2, 'Globex', 'standard'),
                                                      (3, 'Initech', 'free'), (4, 'Umbrella', 'standard');

-- Nobody expresses an optional field yet: only core fields are index candidates.
SELECT count(*) AS candidate_fields, count(*) FILTER (WHERE column_name LIKE 'custom_%') AS custom_candidates
FROM indexpilot.expressed_fields WHERE relid = 'crm.contacts'::regclass;

-- One field for one tenant; again is a no-op (false) and records nothing.
SELECT indexpilot_express('crm.contacts', 'custom_text_1', '1') AS switched_on;
SELECT indexpilot_express('crm.contacts', 'custom_text_1', '1') AS switched_on_again;
-- Tenant values are canonicalised through the tenant key's type: '01' and ' 2' are tenants 1 and 2.
-- Tenant 4 has no contacts yet, but exists in crm.tenants (the tenant key's foreign key): that is enough.
SELECT indexpilot_express_bulk('crm.contacts', '{custom_text_1,custom_text_2}', '{01," 2",4}') AS switched_on;
SELECT table_name, column_name, tenant, expressed_as FROM indexpilot.effective_expression
WHERE relid = 'crm.contacts'::regclass AND expressed_as = 'tenant' ORDER BY column_name COLLATE "C", tenant COLLATE "C";
-- Core fields appear once, for every tenant (tenant NULL).
SELECT expressed_as, count(*) AS fields, count(*) FILTER (WHERE tenant IS NULL) AS for_every_tenant
FROM indexpilot.effective_expression WHERE relid = 'crm.contacts'::regclass GROUP BY expressed_as ORDER BY expressed_as COLLATE "C";
-- Now custom_text_1 and _2 are candidates; custom_text_3 (nobody) is not.
SELECT column_name, is_core, tenants FROM indexpilot.expressed_fields
WHERE relid = 'crm.contacts'::regclass AND NOT is_core ORDER BY attnum;

-- Suppressing: one, then in bulk; suppressing what is off is a no-op.
SELECT indexpilot_suppress('crm.contacts', 'custom_text_2', '4') AS switched_off;
SELECT indexpilot_suppress('crm.contacts', 'custom_text_2', '4') AS switched_off_again;
SELECT indexpilot_suppress_bulk('crm.contacts', '{custom_text_2}', '{1,2,3}') AS switched_off;
SELECT column_name, is_core, tenants FROM indexpilot.expressed_fields
WHERE relid = 'crm.contacts'::regclass AND NOT is_core ORDER BY attnum;

-- Every change is in the lineage, per tenant, following the table's registration.
SELECT m.kind, m.target_column, m.tenant, p.kind AS follows
FROM indexpilot.mutation_log m JOIN indexpilot.mutation_log p ON p.id = m.parent_id
WHERE m.kind IN ('field_expressed', 'field_suppressed') ORDER BY m.id;
-- Each profile row points at the mutation that created it.
SELECT count(*) AS profiles_with_their_mutation
FROM indexpilot.expression_profile e JOIN indexpilot.mutation_log m ON m.id = e.mutation_id
WHERE m.kind = 'field_expressed' AND m.tenant = e.tenant;

-- Making a field core drops its per-tenant rows (recorded); making it optional again starts from nobody.
SELECT indexpilot_express('crm.contacts', 'custom_text_3', '3') AS switched_on;
SELECT indexpilot_mark_core('crm.contacts', 'custom_text_3') AS made_core;
SELECT details FROM indexpilot.mutation_log WHERE kind = 'field_marked_core' AND target_column = 'custom_text_3';
SELECT indexpilot_mark_optional('crm.contacts', 'custom_text_3') AS made_optional;
SELECT count(*) AS custom_text_3_tenants FROM indexpilot.effective_expression
WHERE relid = 'crm.contacts'::regclass AND column_name = 'custom_text_3';

-- A table whose tenant key has no foreign key: a tenant exists when some row carries it.
CREATE TABLE "Regress Genome".tickets (tenant_code text NOT NULL, subject text, extra text);
INSERT INTO "Regress Genome".tickets VALUES ('north', 'a', NULL), ('south', 'b', NULL);
SELECT indexpilot_register('"Regress Genome".tickets', 'tenant_code') AS fields;
SELECT indexpilot_mark_optional('"Regress Genome".tickets', 'extra') AS marked;
SELECT indexpilot_express('"Regress Genome".tickets', 'extra', 'north') AS switched_on;

-- Bad input: each is refused with its SQLSTATE and nothing changes.
CREATE FUNCTION pg_temp.try(command text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    hint text;
BEGIN
    EXECUTE command;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
    RETURN SQLSTATE || ': ' || SQLERRM || CASE WHEN hint <> '' THEN ' (hint: ' || hint || ')' ELSE '' END;
END
$$;
CREATE TEMP VIEW catalog_state AS
SELECT (SELECT count(*) FROM indexpilot.genome_tables) AS tables,
       (SELECT count(*) FROM indexpilot.genome_fields) AS fields,
       (SELECT count(*) FROM indexpilot.genome_fields WHERE is_core) AS core,
       (SELECT count(*) FROM indexpilot.expression_profile) AS expressions,
       (SELECT count(*) FROM indexpilot.mutation_log) AS mutations;
CREATE TEMP TABLE state_before AS SELECT * FROM catalog_state;
SELECT n AS "#", command, pg_temp.try(command) AS result
FROM unnest(ARRAY[
    $$SELECT indexpilot_express(NULL, 'custom_text_1', '1')$$,
    $$SELECT indexpilot_express('crm.contacts', NULL, '1')$$,
    $$SELECT indexpilot_express('crm.contacts', 'custom_text_1', NULL)$$,
    $$SELECT indexpilot_suppress('crm.contacts', 'custom_text_1', NULL)$$,
    $$SELECT indexpilot_express('crm.nope', 'custom_text_1', '1')$$,
    $$SELECT indexpilot_express('"Regress Genome".plain', 'x', '1')$$,
    $$SELECT indexpilot_express('crm.contacts', 'no_such_field', '1')$$,
    $$SELECT indexpilot_express('crm.contacts', 'Custom_Text_1', '1')$$,
    $$SELECT indexpilot_express('crm.contacts', '"custom_text_1"', '1')$$,
    $$SELECT indexpilot_express('crm.contacts', 'custom_text_1; DROP TABLE crm.contacts', '1')$$,
    $$SELECT indexpilot_express('crm.contacts', 'email', '1')$$,
    $$SELECT indexpilot_suppress('crm.contacts', 'tenant_id', '1')$$,
    $$SELECT indexpilot_express('crm.contacts', 'custom_text_1', '99')$$,
    $$SELECT indexpilot_express('crm.contacts', 'custom_text_1', 'acme')$$,
    $$SELECT indexpilot_express('crm.contacts', 'custom_text_1', '1; DROP TABLE crm.contacts')$$,
    $$SELECT indexpilot_express('crm.contacts', 'custom_text_1', '1.5')$$,
    $$SELECT indexpilot_express('crm.contacts', 'custom_text_1', '')$$,
    $$SELECT indexpilot_express('crm.contacts', 'custom_text_1', '99999999999999999999')$$,
    $$SELECT indexpilot_suppress('crm.contacts', 'custom_text_1', '99')$$,
    $$SELECT indexpilot_express('"Regress Genome".tickets', 'extra', 'east')$$,
    $$SELECT indexpilot_express('"Regress Genome".tickets', 'extra', 'North')$$,
    $$SELECT indexpilot_express('"Regress Genome".tickets', 'extra', 'north''; DROP TABLE crm.contacts; --')$$,
    $$SELECT indexpilot_express_bulk(NULL, '{custom_text_1}', '{1}')$$,
    $$SELECT indexpilot_express_bulk('crm.contacts', NULL, '{1}')$$,
    $$SELECT indexpilot_express_bulk('crm.contacts', '{custom_text_1}', NULL)$$,
    $$SELECT indexpilot_express_bulk('crm.contacts', '{custom_text_1,NULL}', '{1}')$$,
    $$SELECT indexpilot_express_bulk('crm.contacts', '{custom_text_1}', '{1,NULL}')$$,
    $$SELECT indexpilot_express_bulk('crm.contacts', '{}', '{1}')$$,
    $$SELECT indexpilot_express_bulk('crm.contacts', '{custom_text_1}', '{}')$$,
    $$SELECT indexpilot_express_bulk('crm.contacts', '{custom_text_2,custom_text_3}', '{1,2,99}')$$,
    $$SELECT indexpilot_express_bulk('crm.contacts', '{custom_text_2,email}', '{1,2}')$$,
    $$SELECT indexpilot_suppress_bulk('crm.contacts', '{custom_text_1,nope}', '{1}')$$
]) WITH ORDINALITY AS t (command, n)
ORDER BY n;
SELECT row(s.*) = row(b.*) AS nothing_changed FROM catalog_state s, state_before b;

-- Messages as a client sees them.
SELECT indexpilot_express('crm.contacts', 'custom_text_1', '99');
SELECT indexpilot_express('crm.contacts', 'email', '1');

-- Privileges: pg_monitor reads profiles but cannot change them; PUBLIC can do neither.
CREATE ROLE indexpilot_regress_reader IN ROLE pg_monitor;
SET ROLE indexpilot_regress_reader;
SELECT count(*) AS monitor_reads_profiles FROM indexpilot.effective_expression WHERE expressed_as = 'tenant';
SELECT count(*) AS monitor_reads_candidates FROM indexpilot.expressed_fields;
SELECT indexpilot_express(NULL, NULL, NULL);
SELECT indexpilot_suppress_bulk(NULL, NULL, NULL);
RESET ROLE;
DROP ROLE indexpilot_regress_reader;
SELECT row(s.*) = row(b.*) AS nothing_changed FROM catalog_state s, state_before b;
