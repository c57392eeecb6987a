-- DDL on managed tables, captured by event triggers, and the lineage behind an object.
\set SHOW_CONTEXT never
CREATE FUNCTION pg_temp.try(command text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE command;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
CREATE TEMP VIEW catalog_state AS
SELECT (SELECT count(*) FROM indexpilot.genome_tables) AS tables,
       (SELECT count(*) FROM indexpilot.genome_fields) AS fields,
       (SELECT count(*) FROM indexpilot.genome_fields WHERE is_core) AS core,
       (SELECT count(*) FROM indexpilot.expression_profile) AS expressions,
       (SELECT count(*) FROM indexpilot.mutation_log) AS mutations;
-- The mutations on crm.contacts from here on, with the kind of the mutation each follows.
CREATE TEMP TABLE mark AS SELECT max(id) AS last_id FROM indexpilot.mutation_log;
CREATE TEMP VIEW recent AS
SELECT m.kind, m.target_table, m.target_column, m.details - 'objects' AS details, p.kind AS follows,
       m.details -> 'objects' AS objects, m.actor
FROM indexpilot.mutation_log m LEFT JOIN indexpilot.mutation_log p ON p.id = m.parent_id
WHERE m.id > (SELECT last_id FROM mark) ORDER BY m.id;

-- Column DDL typed by hand is recorded, follows the table's last registration or sync, and the genome
-- stays canonical.
ALTER TABLE crm.contacts ADD COLUMN linkedin_url text;
ALTER TABLE crm.contacts ALTER COLUMN title TYPE varchar(200);
ALTER TABLE crm.contacts ALTER COLUMN email SET NOT NULL;
ALTER TABLE crm.contacts RENAME COLUMN phone TO phone_number;
ALTER TABLE crm.contacts DROP COLUMN custom_text_1;  -- three tenants express it
COMMENT ON COLUMN crm.contacts.linkedin_url IS 'Profile address';
SELECT kind, target_table, target_column, details, follows, objects FROM recent;
SELECT column_name, data_type, not_null, is_core, description FROM indexpilot.genome_catalog
WHERE relid = 'crm.contacts'::regclass AND column_name IN ('linkedin_url', 'title', 'email', 'phone_number', 'custom_text_1')
ORDER BY attnum;
SELECT count(*) AS custom_text_1_profiles_left FROM indexpilot.effective_expression WHERE column_name = 'custom_text_1';
SELECT count(*) AS genome_matches_catalog_now FROM indexpilot._genome_changes('crm.contacts');

-- Renaming the table (and its schema) is followed too; the lineage keeps the old names.
ALTER TABLE crm.contacts RENAME TO people;
ALTER TABLE crm.people ADD COLUMN nickname text;
ALTER TABLE crm.people RENAME TO contacts;
ALTER SCHEMA crm RENAME TO crm_renamed;
ALTER TABLE crm_renamed.contacts SET SCHEMA public;
SELECT table_name FROM indexpilot.genome_tables WHERE relid = 'public.contacts'::regclass;
ALTER TABLE public.contacts SET SCHEMA crm_renamed;
ALTER SCHEMA crm_renamed RENAME TO crm;
SELECT kind, target_table, details ->> 'old_name' AS old_name, details ->> 'command_tag' AS command_tag
FROM recent WHERE kind = 'table_renamed';
SELECT table_name FROM indexpilot.genome_tables WHERE relid = 'crm.contacts'::regclass;

-- The lineage of one field, and of the whole table, oldest first; each row with what it follows.
SELECT l.kind, l.target_table, l.target_column, l.tenant, p.kind AS follows
FROM indexpilot_lineage('crm.contacts', 'custom_text_1') l LEFT JOIN indexpilot.mutation_log p ON p.id = l.parent_id
ORDER BY l.id;
SELECT l.kind, l.target_table, l.target_column, l.tenant, p.kind AS follows
FROM indexpilot_lineage('crm.contacts', 'phone_number') l LEFT JOIN indexpilot.mutation_log p ON p.id = l.parent_id
ORDER BY l.id;
SELECT l.kind, count(*) AS mutations
FROM indexpilot_lineage('crm.contacts') l GROUP BY l.kind ORDER BY min(l.id);
-- Oldest first, and every parent comes before its child.
SELECT bool_and(l.parent_id IS NULL OR l.parent_id < l.id) AS parents_first,
       bool_and(l.id > coalesce(prev, 0)) AS ordered,
       (array_agg(l.kind ORDER BY l.id))[1] AS first_kind
FROM (SELECT l.*, lag(l.id) OVER (ORDER BY l.id) AS prev FROM indexpilot_lineage('crm.contacts') l) l;
-- Another table's lineage does not mix in.
SELECT target_table, count(*) AS mutations FROM indexpilot_lineage('crm.interactions')
GROUP BY target_table ORDER BY target_table COLLATE "C";
-- An index: whatever IndexPilot recorded about it (here, a row logged by hand).
CREATE INDEX regress_contacts_email_idx ON crm.contacts (tenant_id, email);
SELECT indexpilot._log_mutation('index_build_finished', 'crm.contacts', target_index => 'crm.regress_contacts_email_idx',
                                parent_id => (SELECT head_mutation_id FROM indexpilot.genome_tables
                                              WHERE relid = 'crm.contacts'::regclass)) IS NOT NULL AS logged;
SELECT kind, target_index FROM indexpilot_lineage('crm.regress_contacts_email_idx') ORDER BY id;
DROP INDEX crm.regress_contacts_email_idx;

-- A sync becomes the parent of later DDL.
SELECT indexpilot_sync('crm.contacts') AS changes;
ALTER TABLE crm.contacts DROP COLUMN nickname;
SELECT kind, target_column, follows FROM recent WHERE target_column = 'nickname';

-- Unrelated DDL is untouched and unrecorded, also when the genome is busy.
CREATE TABLE regress_unmanaged (a int);
ALTER TABLE regress_unmanaged ADD COLUMN b int;
ALTER TABLE regress_unmanaged RENAME TO regress_unmanaged2;
ALTER TABLE regress_unmanaged2 DROP COLUMN b;
DROP TABLE regress_unmanaged2;
SELECT count(*) AS recorded FROM indexpilot.mutation_log WHERE target_table LIKE '%regress_unmanaged%';

-- A table owner without any IndexPilot privilege: DDL on an unmanaged table just works; on a managed
-- table it is recorded (the event triggers run as the extension's owner), with the session's role.
CREATE ROLE indexpilot_regress_owner;
GRANT CREATE, USAGE ON SCHEMA public TO indexpilot_regress_owner;
SET ROLE indexpilot_regress_owner;
CREATE TABLE regress_owned (tenant_id int NOT NULL, note text);
ALTER TABLE regress_owned ADD COLUMN extra int;
RESET ROLE;
SELECT indexpilot_register('regress_owned', 'tenant_id') AS fields;
SET ROLE indexpilot_regress_owner;
ALTER TABLE regress_owned ADD COLUMN added_by_owner boolean;
ALTER TABLE regress_owned DROP COLUMN extra;
SELECT indexpilot_register('regress_owned', 'tenant_id');
RESET ROLE;
SELECT kind, target_column, actor = session_user AS by_session_user, follows, objects
FROM recent WHERE target_table = 'public.regress_owned';

-- Dropping the tenant key of a managed table is refused, and nothing changes.
CREATE TEMP TABLE state_before AS SELECT * FROM catalog_state;
ALTER TABLE crm.contacts DROP COLUMN tenant_id CASCADE;
ALTER TABLE crm.organizations DROP COLUMN tenant_id CASCADE;
SELECT count(*) AS contacts_tenant_key_still_there FROM pg_attribute
WHERE attrelid = 'crm.contacts'::regclass AND attname = 'tenant_id' AND NOT attisdropped;
SELECT row(s.*) = row(b.*) AS nothing_changed FROM catalog_state s, state_before b;

-- Dropping a managed table forgets it and records it, also through DROP SCHEMA ... CASCADE.
DROP TABLE regress_owned;
DROP SCHEMA "Regress Genome" CASCADE;
SELECT kind, target_table, details, objects FROM recent WHERE kind = 'table_dropped';
SELECT table_name FROM indexpilot.genome_tables ORDER BY table_name COLLATE "C";
SET ROLE indexpilot_regress_owner;
CREATE TABLE regress_owned (x int);
DROP TABLE regress_owned;
RESET ROLE;
REVOKE CREATE, USAGE ON SCHEMA public FROM indexpilot_regress_owner;
DROP ROLE indexpilot_regress_owner;

-- The lineage is append-only: its rows can be neither changed nor removed.
CREATE TEMP TABLE lineage_before AS SELECT * FROM indexpilot_lineage('crm.contacts');
UPDATE indexpilot.mutation_log SET details = '{}' WHERE kind = 'column_dropped';
DELETE FROM indexpilot.mutation_log WHERE kind = 'genome_register';
SELECT (SELECT count(*) FROM lineage_before) = (SELECT count(*) FROM indexpilot_lineage('crm.contacts'))
       AND NOT EXISTS (SELECT * FROM lineage_before EXCEPT SELECT * FROM indexpilot_lineage('crm.contacts')) AS unchanged;

-- Bad input to indexpilot_lineage().
SELECT n AS "#", command, pg_temp.try(command) AS result
FROM unnest(ARRAY[
    $$SELECT * FROM indexpilot_lineage(NULL)$$,
    $$SELECT * FROM indexpilot_lineage('crm.nope')$$,
    $$SELECT * FROM indexpilot_lineage('crm.contacts; DROP TABLE crm.contacts')$$,
    $$SELECT * FROM indexpilot_lineage('crm.contacts', 'nope')$$,
    $$SELECT * FROM indexpilot_lineage('crm.contacts', 'Email')$$,
    $$SELECT * FROM indexpilot_lineage('crm.contacts', '"email"')$$,
    $$SELECT count(*) FROM indexpilot_lineage('crm.contacts', 'custom_text_1')$$
]) WITH ORDINALITY AS t (command, n)
ORDER BY n;

-- pg_monitor may read the lineage; PUBLIC may not.
CREATE ROLE indexpilot_regress_reader IN ROLE pg_monitor;
CREATE ROLE indexpilot_regress_nobody;
-- (by OID: the reader has no USAGE on schema crm, so it could not name the table)
SELECT 'crm.contacts'::regclass::oid AS contacts_oid \gset
SET ROLE indexpilot_regress_reader;
SELECT count(*) > 0 AS monitor_reads_lineage FROM indexpilot_lineage(:contacts_oid, 'email');
SET ROLE indexpilot_regress_nobody;
SELECT count(*) FROM indexpilot_lineage(NULL);
RESET ROLE;
DROP ROLE indexpilot_regress_reader;
DROP ROLE indexpilot_regress_nobody;

-- DDL capture records what the command was, never the text of the batch it came in: a client that
-- sends several statements as one simple query (here psql's \;) may have a password in that text.
CREATE ROLE indexpilot_regress_secret;
CREATE TEMP TABLE secret_mark AS SELECT max(id) AS last_id FROM indexpilot.mutation_log;
ALTER TABLE crm.contacts ADD COLUMN batch_note text \; ALTER ROLE indexpilot_regress_secret PASSWORD 'hunter2-in-a-batch';
ALTER TABLE crm.contacts DROP COLUMN batch_note \; ALTER ROLE indexpilot_regress_secret PASSWORD 'hunter2-in-a-batch';
SELECT m.kind, m.target_column, m.details
FROM indexpilot.mutation_log m WHERE m.id > (SELECT last_id FROM secret_mark) ORDER BY m.id;
SELECT count(*) AS rows_with_the_password FROM indexpilot.mutation_log WHERE details::text LIKE '%hunter2%';
DROP ROLE indexpilot_regress_secret;

-- DROP EXTENSION works with managed tables (and takes the event triggers with it); rolled back here.
BEGIN;
DROP VIEW recent, catalog_state;  -- temporary views on the extension's tables would block it
DROP EXTENSION indexpilot;
SELECT count(*) AS event_triggers_left FROM pg_event_trigger WHERE evtname LIKE 'indexpilot%';
ALTER TABLE crm.contacts ADD COLUMN after_drop int;
ROLLBACK;
SELECT count(*) AS event_triggers FROM pg_event_trigger WHERE evtname LIKE 'indexpilot%';
