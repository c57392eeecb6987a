-- The genome: registering the mini-CRM, syncing, marking fields core or optional, unregistering.
\set SHOW_CONTEXT never
-- pg_regress feeds this file to psql on stdin: paths are relative to the repository root, where make runs.
\i test/sim/crm_schema.sql
\i test/sim/crm_register.sql

-- What the genome holds now: the tenant key of each table, its fields, which are optional.
SELECT table_name, tenant_key, count(*) AS fields, count(*) FILTER (WHERE NOT is_core) AS optional,
       string_agg(column_name, ', ' ORDER BY attnum) FILTER (WHERE NOT is_core) AS optional_fields
FROM indexpilot.genome_catalog GROUP BY table_name, tenant_key ORDER BY table_name COLLATE "C";
SELECT column_name, data_type, not_null, is_core, is_tenant_key, description
FROM indexpilot.genome_catalog WHERE relid = 'crm.contacts'::regclass ORDER BY attnum;
SELECT description FROM indexpilot.genome_tables WHERE relid = 'crm.interactions'::regclass;
-- About 30 business fields (tenant keys and surrogate ids aside).
SELECT count(*) AS business_fields FROM indexpilot.genome_catalog
WHERE NOT is_tenant_key AND column_name NOT IN ('org_id', 'contact_id', 'interaction_id') OR column_name = 'org_id' AND relid = 'crm.contacts'::regclass;

-- Registration and marking are in the lineage: registration is a root, marks follow it.
SELECT m.kind, m.target_table, m.target_column, m.details, p.kind AS follows
FROM indexpilot.mutation_log m LEFT JOIN indexpilot.mutation_log p ON p.id = m.parent_id
WHERE m.target_table LIKE 'crm.%' ORDER BY m.id;

-- Sync finds nothing while the event triggers keep the genome current; it is still recorded.
SELECT indexpilot_sync('crm.organizations') AS changes;
SELECT indexpilot_sync_all() AS changes;
SELECT count(*) AS syncs FROM indexpilot.mutation_log WHERE kind = 'genome_sync';

-- Marking: idempotent, returns what changed; the tenant key stays core.
SELECT indexpilot_mark_optional('crm.organizations', 'website', 'annual_revenue') AS marked;
SELECT indexpilot_mark_optional('crm.organizations', 'website') AS marked_again;
SELECT indexpilot_mark_core('crm.organizations', 'website', 'annual_revenue', 'industry') AS made_core;
SELECT count(*) FILTER (WHERE NOT is_core) AS optional FROM indexpilot.genome_catalog WHERE relid = 'crm.organizations'::regclass;

-- A table without a foreign key to a tenants table, in a schema with a mixed-case name.
CREATE SCHEMA "Regress Genome";
CREATE TABLE "Regress Genome"."Notes" (tenant text NOT NULL, "Body" text, pinned boolean);
SELECT indexpilot_register('"Regress Genome"."Notes"', 'tenant', 'notes kept per tenant') AS fields;
SELECT table_name, column_name, data_type, is_tenant_key FROM indexpilot.genome_catalog
WHERE relid = '"Regress Genome"."Notes"'::regclass ORDER BY attnum;
SELECT indexpilot_mark_optional('"Regress Genome"."Notes"', 'Body') AS marked;

-- Drift the event triggers cannot see (they do not fire for a replica session): sync finds it.
SET session_replication_role = replica;
ALTER TABLE "Regress Genome"."Notes" ADD COLUMN color text, ALTER COLUMN pinned SET NOT NULL;
ALTER TABLE "Regress Genome"."Notes" RENAME COLUMN "Body" TO body;
RESET session_replication_role;
SELECT change, old_name, new_name, old_type, new_type, old_not_null, new_not_null
FROM indexpilot._genome_changes('"Regress Genome"."Notes"') ORDER BY attnum;
SELECT indexpilot_sync('"Regress Genome"."Notes"') AS changes;
SELECT m.kind, m.target_column, m.details, p.kind AS follows
FROM indexpilot.mutation_log m JOIN indexpilot.mutation_log p ON p.id = m.parent_id
WHERE m.target_table = '"Regress Genome"."Notes"' ORDER BY m.id;
SELECT column_name, is_core FROM indexpilot.genome_catalog
WHERE relid = '"Regress Genome"."Notes"'::regclass ORDER BY attnum;

-- Unregistering removes the table's fields and records it; registering again starts a new root.
SELECT indexpilot_unregister('"Regress Genome"."Notes"') AS fields_removed;
SELECT count(*) AS left_in_genome FROM indexpilot.genome_catalog WHERE relid = '"Regress Genome"."Notes"'::regclass;
SELECT indexpilot_register('"Regress Genome"."Notes"', 'tenant') AS fields;

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
CREATE VIEW "Regress Genome".a_view AS SELECT 1 AS tenant_id;
CREATE SEQUENCE "Regress Genome".a_sequence;
CREATE TEMP TABLE a_temp_table (tenant_id int);
CREATE TABLE "Regress Genome".plain (tenant_id int, x int);
SELECT n AS "#", command, pg_temp.try(command) AS result
FROM unnest(ARRAY[
    $$SELECT indexpilot_register(NULL, 'tenant_id')$$,
    $$SELECT indexpilot_register('crm.contacts', NULL)$$,
    $$SELECT indexpilot_register('crm.no_such_table', 'tenant_id')$$,
    $$SELECT indexpilot_register('no_such_schema.contacts', 'tenant_id')$$,
    $$SELECT indexpilot_register('crm.contacts; DROP TABLE crm.contacts', 'tenant_id')$$,
    $$SELECT indexpilot_register('crm."contacts', 'tenant_id')$$,
    $$SELECT indexpilot_register('crm.con tacts', 'tenant_id')$$,
    $$SELECT indexpilot_register('"CRM"."Contacts"', 'tenant_id')$$,
    $$SELECT indexpilot_register('CRM.Contacts', 'tenant_id')$$,
    $$SELECT indexpilot_register('"Regress Genome".a_view', 'tenant_id')$$,
    $$SELECT indexpilot_register('"Regress Genome".a_sequence', 'last_value')$$,
    $$SELECT indexpilot_register('crm.contacts_pkey', 'tenant_id')$$,
    $$SELECT indexpilot_register('a_temp_table', 'tenant_id')$$,
    $$SELECT indexpilot_register('pg_catalog.pg_class', 'oid')$$,
    $$SELECT indexpilot_register('indexpilot.mutation_log', 'tenant')$$,
    $$SELECT indexpilot_register('"Regress Genome".plain', 'tenantid')$$,
    $$SELECT indexpilot_register('"Regress Genome".plain', 'Tenant_ID')$$,
    $$SELECT indexpilot_register('"Regress Genome".plain', '"tenant_id"')$$,
    $$SELECT indexpilot_register('"Regress Genome".plain', 'tenant_id; DROP TABLE crm.contacts')$$,
    $$SELECT indexpilot_register('"Regress Genome".plain', 'ctid')$$,
    $$SELECT indexpilot_register('"Regress Genome".plain', '')$$,
    $$SELECT indexpilot_sync(NULL)$$,
    $$SELECT indexpilot_sync('"Regress Genome".a_view')$$,
    $$SELECT indexpilot_sync('crm.nope')$$,
    $$SELECT indexpilot_unregister(NULL)$$,
    $$SELECT indexpilot_unregister('pg_catalog.pg_class')$$,
    $$SELECT indexpilot_mark_optional(NULL, 'email')$$,
    $$SELECT indexpilot_mark_optional('crm.contacts', NULL)$$,
    $$SELECT indexpilot_mark_optional('crm.contacts', VARIADIC NULL::name[])$$,
    $$SELECT indexpilot_mark_optional('crm.contacts', VARIADIC '{}'::name[])$$,
    $$SELECT indexpilot_mark_optional('crm.contacts', 'email', NULL)$$,
    $$SELECT indexpilot_mark_optional('crm.contacts', 'tenant_id')$$,
    $$SELECT indexpilot_mark_optional('crm.contacts', 'email', 'Phone')$$,
    $$SELECT indexpilot_mark_optional('crm.contacts', 'email', 'phone;')$$,
    $$SELECT indexpilot_mark_core('crm.contacts', 'custom_text_1', 'no_such_field')$$,
    $$SELECT indexpilot_mark_core('"Regress Genome".a_view', 'tenant_id')$$
]) WITH ORDINALITY AS t (command, n)
ORDER BY n;
SELECT row(s.*) = row(b.*) AS nothing_changed FROM catalog_state s, state_before b;

-- Messages as a client sees them, with hints.
SELECT indexpilot_register('crm.contacts', 'tenant_id');
SELECT indexpilot_sync('"Regress Genome".a_view');
SELECT indexpilot_mark_optional('crm.contacts', 'Email');

-- Privileges: the control functions are not for PUBLIC; pg_monitor reads the genome.
CREATE ROLE indexpilot_regress_reader IN ROLE pg_monitor;
CREATE ROLE indexpilot_regress_nobody;
SET ROLE indexpilot_regress_reader;
SELECT count(*) AS monitor_reads_genome FROM indexpilot.genome_catalog;
SELECT indexpilot_sync_all();
SET ROLE indexpilot_regress_nobody;
SELECT count(*) FROM indexpilot.genome_catalog;
SELECT indexpilot_register(NULL, NULL);
RESET ROLE;
DROP ROLE indexpilot_regress_reader;
DROP ROLE indexpilot_regress_nobody;
SELECT row(s.*) = row(b.*) AS nothing_changed FROM catalog_state s, state_before b;

-- A table without a tenant key; a partition (its partitioned table is registered instead).
CREATE TABLE "Regress Genome".no_key (id int PRIMARY KEY, v text);
SELECT indexpilot_register('"Regress Genome".no_key');
SELECT table_name, tenant_key, discovered FROM indexpilot.genome_tables WHERE table_name = '"Regress Genome".no_key';
SELECT column_name, is_tenant_key FROM indexpilot.genome_catalog WHERE table_name = '"Regress Genome".no_key' ORDER BY attnum;
CREATE TABLE "Regress Genome".parted (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE "Regress Genome".parted_1 PARTITION OF "Regress Genome".parted FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
SELECT indexpilot_register('"Regress Genome".parted_1', 'id');
SELECT indexpilot_unregister('"Regress Genome".no_key');
DROP TABLE "Regress Genome".parted, "Regress Genome".no_key;
-- Which tables are managed: bad settings are refused, nothing is written.
ALTER SYSTEM SET indexpilot.exclude = 'a.b.c';
ALTER SYSTEM SET indexpilot.exclude = '"unbalanced';
ALTER SYSTEM SET indexpilot.exclude = 'a,,b';
ALTER SYSTEM SET indexpilot.manage = 'some';
SELECT * FROM indexpilot._exclude_list();
