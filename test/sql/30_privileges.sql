-- The privilege matrix: every function, table and view of the extension (read from pg_depend, so a new
-- object the expectations below do not name shows up here) × superuser, pg_monitor member, table owner
-- and plain role. Only mismatches are printed. Then representative calls as each role, for real.
\set SHOW_CONTEXT never
CREATE ROLE indexpilot_priv_super SUPERUSER;
CREATE ROLE indexpilot_priv_monitor IN ROLE pg_monitor;
CREATE ROLE indexpilot_priv_owner;
CREATE ROLE indexpilot_priv_plain;
CREATE ROLE indexpilot_priv_other;
-- A DBA delegates the genome and expression functions to a table owner (docs/reference.md): the owner
-- may then use them on its own tables only.
GRANT EXECUTE ON FUNCTION indexpilot_register(regclass, name, text), indexpilot_sync(regclass),
    indexpilot_sync_all(), indexpilot_unregister(regclass), indexpilot_mark_core(regclass, name[]),
    indexpilot_mark_optional(regclass, name[]), indexpilot_express(regclass, name, text),
    indexpilot_suppress(regclass, name, text), indexpilot_express_bulk(regclass, name[], text[]),
    indexpilot_suppress_bulk(regclass, name[], text[])
    TO indexpilot_priv_owner;

-- Expected privilege per object: y (allowed), n (denied), own (allowed, on the caller's own tables only).
-- Functions: EXECUTE; tables and views: SELECT.
CREATE TEMP TABLE expected_privilege (object text PRIMARY KEY, super text, monitor text, owner text, plain text);
INSERT INTO expected_privilege VALUES
    -- informational: anyone
    ('function indexpilot_version()',                                       'y', 'y', 'y',   'y'),
    -- reading: pg_monitor (live_queries and query_samples through pg_read_all_stats, which pg_monitor has)
    ('function indexpilot_worker_status()',                                 'y', 'y', 'n',   'n'),
    ('function indexpilot_status()',                                        'y', 'y', 'n',   'n'),
    ('function indexpilot_recommendations()',                               'y', 'y', 'n',   'n'),
    ('function indexpilot_lineage(regclass,name)',                          'y', 'y', 'n',   'n'),
    ('function indexpilot._live_stats()',                                   'y', 'y', 'n',   'n'),
    ('function indexpilot._live_queries()',                                 'y', 'y', 'n',   'n'),
    ('function indexpilot._capture_counters()',                             'y', 'y', 'n',   'n'),
    ('function indexpilot._require(anyelement,text,text)',                  'y', 'y', 'n',   'n'),
    ('function indexpilot._qualified_name(regclass)',                       'y', 'y', 'n',   'n'),
    ('function indexpilot._no_such_column(regclass,text,text)',             'y', 'y', 'n',   'n'),
    ('function indexpilot._store_switch(text,boolean,name,bigint)',         'y', 'n', 'n',   'n'),
    -- the builder's lineage queries (the worker only)
    ('function indexpilot._builds_without_outcome()',                       'y', 'n', 'n',   'n'),
    ('function indexpilot._record_build_abandoned(bigint)',                 'y', 'n', 'n',   'n'),
    ('function indexpilot._leftover_indexes()',                             'y', 'n', 'n',   'n'),
    -- the index lifecycle: what is due and index_health are readable by pg_monitor; updating the use, the worker only
    ('function indexpilot._own_indexes()',                                  'y', 'y', 'n',   'n'),
    ('function indexpilot._index_scans(oid)',                               'y', 'y', 'n',   'n'),
    ('function indexpilot._track_index_usage()',                            'y', 'n', 'n',   'n'),
    ('function indexpilot._statements_around(bigint[],timestamp with time zone,timestamp with time zone,interval,interval,timestamp with time zone)', 'y', 'y', 'n', 'n'),
    ('function indexpilot._lifecycle_due(interval,double precision,interval,interval,interval,double precision)', 'y', 'y', 'n', 'n'),
    ('function indexpilot._lifecycle_setting(text,text)',                   'y', 'y', 'n',   'n'),
    ('function indexpilot._advisor_reverted_until(text,bigint[])',          'y', 'y', 'n',   'n'),
    ('function indexpilot._advisor_failure_streak()',                       'y', 'y', 'n',   'n'),
    ('table indexpilot.index_usage',                                        'y', 'y', 'n',   'n'),
    ('view indexpilot.index_health',                                        'y', 'y', 'n',   'n'),
    -- the cost model's reads (indexpilot_recommendations() runs as its pg_monitor caller)
    ('function indexpilot._advisor_tables(boolean)',            'y', 'y', 'n',   'n'),
    ('function indexpilot._advisor_existing_indexes()',         'y', 'y', 'n',   'n'),
    ('function indexpilot._advisor_columns()',                  'y', 'y', 'n',   'n'),
    ('function indexpilot._advisor_index_names()',              'y', 'y', 'n',   'n'),
    ('function indexpilot._advisor_unfinished_indexes()',       'y', 'y', 'n',   'n'),
    ('function indexpilot._advisor_shapes(interval)',           'y', 'y', 'n',   'n'),
    ('function indexpilot._advisor_statements(interval)',       'y', 'y', 'n',   'n'),
    ('function indexpilot._advisor_statement_counts(interval)', 'y', 'y', 'n',   'n'),
    ('function indexpilot._advisor_observed_seconds(interval)', 'y', 'y', 'n',   'n'),
    ('function indexpilot._advisor_sizes()',                    'y', 'y', 'n',   'n'),
    ('function indexpilot._advisor_open_proposal(text)',        'y', 'y', 'n',   'n'),
    ('function indexpilot._advisor_table_head(regclass)',       'y', 'y', 'n',   'n'),
    ('function indexpilot._advisor_skipped_recently(text,text,interval)', 'y', 'y', 'n',   'n'),
    ('function indexpilot._advisor_retry_after(text)',          'y', 'y', 'n',   'n'),
    ('function indexpilot._write_rates(boolean)',                           'y', 'y', 'n',   'n'),
    ('function indexpilot._first_write_rate(oid)',                          'y', 'y', 'n',   'n'),
    ('function indexpilot._writes(oid)',                                    'y', 'y', 'n',   'n'),
    -- discovery (indexpilot.manage, indexpilot.exclude): what is managed is readable by pg_monitor; recording it, the worker only
    ('function indexpilot._leaf_tables(oid)',                               'y', 'y', 'n',   'n'),
    ('function indexpilot._index_bytes(oid)',                               'y', 'y', 'n',   'n'),
    ('function indexpilot._exclude_list()',                                 'y', 'y', 'n',   'n'),
    ('function indexpilot._excluded(oid)',                                  'y', 'y', 'n',   'n'),
    ('function indexpilot._discoverable()',                                 'y', 'y', 'n',   'n'),
    ('function indexpilot._discover()',                                     'y', 'n', 'n',   'n'),
    ('table indexpilot.mutation_log',                                       'y', 'y', 'n',   'n'),
    ('table indexpilot.genome_tables',                                      'y', 'y', 'n',   'n'),
    ('table indexpilot.genome_fields',                                      'y', 'y', 'n',   'n'),
    ('table indexpilot.expression_profile',                                 'y', 'y', 'n',   'n'),
    ('table indexpilot.query_stats',                                        'y', 'y', 'n',   'n'),
    ('table indexpilot.statement_stats',                                    'y', 'y', 'n',   'n'),
    -- statement texts: every role may read its own rows (row-level security), pg_read_all_stats all;
    -- a role still needs USAGE on schema indexpilot to get there (docs/security.md)
    ('table indexpilot.query_samples',                                      'y', 'y', 'own', 'own'),
    ('table indexpilot.bypass_switches',                                    'y', 'y', 'n',   'n'),
    ('table indexpilot.table_activity',                                     'y', 'y', 'n',   'n'),
    ('view indexpilot.live_stats',                                          'y', 'y', 'n',   'n'),
    ('view indexpilot.live_statements',                                     'y', 'y', 'n',   'n'),
    ('view indexpilot.live_queries',                                        'y', 'y', 'n',   'n'),
    ('view indexpilot.capture_counters',                                    'y', 'y', 'n',   'n'),
    ('view indexpilot.genome_catalog',                                      'y', 'y', 'n',   'n'),
    ('view indexpilot.effective_expression',                                'y', 'y', 'n',   'n'),
    ('view indexpilot.expressed_fields',                                    'y', 'y', 'n',   'n'),
    -- genome and expression: superusers, and roles granted EXECUTE on their own tables
    ('function indexpilot_register(regclass,name,text)',                    'y', 'n', 'own', 'n'),
    ('function indexpilot_sync(regclass)',                                  'y', 'n', 'own', 'n'),
    ('function indexpilot_sync_all()',                                      'y', 'n', 'own', 'n'),
    ('function indexpilot_unregister(regclass)',                            'y', 'n', 'own', 'n'),
    ('function indexpilot_mark_core(regclass,name[])',                      'y', 'n', 'own', 'n'),
    ('function indexpilot_mark_optional(regclass,name[])',                  'y', 'n', 'own', 'n'),
    ('function indexpilot_express(regclass,name,text)',                     'y', 'n', 'own', 'n'),
    ('function indexpilot_suppress(regclass,name,text)',                    'y', 'n', 'own', 'n'),
    ('function indexpilot_express_bulk(regclass,name[],text[])',            'y', 'n', 'own', 'n'),
    ('function indexpilot_suppress_bulk(regclass,name[],text[])',           'y', 'n', 'own', 'n'),
    -- control and everything internal: superusers only (bypass functions may be granted, docs/bypass.md)
    ('function indexpilot_run_now()',                                       'y', 'n', 'n',   'n'),
    ('function indexpilot_whatif(text,regclass,name[],text)',               'y', 'n', 'n',   'n'),
    ('function indexpilot_reset_live_stats()',                              'y', 'n', 'n',   'n'),
    ('function indexpilot_disable_system()',                                'y', 'n', 'n',   'n'),
    ('function indexpilot_enable_system()',                                 'y', 'n', 'n',   'n'),
    ('function indexpilot_disable_feature(text)',                           'y', 'n', 'n',   'n'),
    ('function indexpilot_enable_feature(text)',                            'y', 'n', 'n',   'n'),
    ('function indexpilot_disable_module(text)',                            'y', 'n', 'n',   'n'),
    ('function indexpilot_enable_module(text)',                             'y', 'n', 'n',   'n'),
    ('function indexpilot_reset_switch(text)',                              'y', 'n', 'n',   'n'),
    ('function indexpilot_disable_stats_collection()',                      'y', 'n', 'n',   'n'),
    ('function indexpilot_enable_stats_collection()',                       'y', 'n', 'n',   'n'),
    ('function indexpilot_disable_advising()',                              'y', 'n', 'n',   'n'),
    ('function indexpilot_enable_advising()',                               'y', 'n', 'n',   'n'),
    ('function indexpilot_disable_index_building()',                        'y', 'n', 'n',   'n'),
    ('function indexpilot_enable_index_building()',                         'y', 'n', 'n',   'n'),
    ('function indexpilot._selftest_cpp_error(integer,text)',               'y', 'n', 'n',   'n'),
    ('function indexpilot._selftest_pg_error(text)',                        'y', 'n', 'n',   'n'),
    ('function indexpilot._selftest_live_objects()',                        'y', 'n', 'n',   'n'),
    ('function indexpilot._selftest_cleanups()',                            'y', 'n', 'n',   'n'),
    ('function indexpilot._take_live_stats()',                              'y', 'n', 'n',   'n'),
    ('function indexpilot._refuse_mutation_log_change()',                   'y', 'n', 'n',   'n'),
    ('function indexpilot._log_mutation(text,text,text,text,text,jsonb,bigint)', 'y', 'n', 'n', 'n'),
    ('function indexpilot._genome_changed()',                               'y', 'n', 'n',   'n'),
    ('function indexpilot._managed(regclass,text)',                         'y', 'n', 'n',   'n'),
    ('function indexpilot._require_list(anyarray,text,text)',               'y', 'n', 'n',   'n'),
    ('function indexpilot._field(regclass,name,text)',                      'y', 'n', 'n',   'n'),
    ('function indexpilot._genome_changes(regclass)',                       'y', 'n', 'n',   'n'),
    ('function indexpilot._genome_apply(regclass,bigint,jsonb)',            'y', 'n', 'n',   'n'),
    ('function indexpilot._sync(regclass,text)',                            'y', 'n', 'n',   'n'),
    ('function indexpilot._mark(regclass,name[],boolean,text)',             'y', 'n', 'n',   'n'),
    ('function indexpilot._tenant(regclass,text,text)',                     'y', 'n', 'n',   'n'),
    ('function indexpilot._set_expression(regclass,name[],text[],boolean,text,name)', 'y', 'n', 'n', 'n'),
    ('function indexpilot._on_ddl_command_end()',                           'y', 'n', 'n',   'n'),
    ('function indexpilot._on_sql_drop()',                                  'y', 'n', 'n',   'n'),
    ('sequence indexpilot.mutation_log_id_seq',                             'y', 'n', 'n',   'n'),
    ('function indexpilot._bucket(timestamp with time zone,interval)',      'y', 'n', 'n',   'n'),
    ('function indexpilot._flush(interval,interval,interval)',              'y', 'n', 'n',   'n'),
    ('function indexpilot._store_stats(indexpilot.flush_input[],timestamp with time zone,interval)', 'y', 'n', 'n', 'n'),
    ('function indexpilot._forget_live_queries(oid)',                       'y', 'n', 'n',   'n'),
    ('function indexpilot_forget_statements(regrole)',                      'y', 'n', 'n',   'n'),
    -- the bodies of the genome and expression functions, run as the extension's owner after the check
    ('function indexpilot._do_register(regclass,name,text,name)',           'y', 'n', 'n',   'n'),
    ('function indexpilot._do_sync(regclass,name)',                         'y', 'n', 'n',   'n'),
    ('function indexpilot._do_sync_all(name)',                              'y', 'n', 'n',   'n'),
    ('function indexpilot._do_unregister(regclass,name)',                   'y', 'n', 'n',   'n'),
    ('function indexpilot._do_mark_core(regclass,name[],name)',             'y', 'n', 'n',   'n'),
    ('function indexpilot._do_mark_optional(regclass,name[],name)',         'y', 'n', 'n',   'n'),
    ('function indexpilot._do_express(regclass,name,text,name)',            'y', 'n', 'n',   'n'),
    ('function indexpilot._do_suppress(regclass,name,text,name)',           'y', 'n', 'n',   'n'),
    ('function indexpilot._do_express_bulk(regclass,name[],text[],name)',   'y', 'n', 'n',   'n'),
    ('function indexpilot._do_suppress_bulk(regclass,name[],text[],name)',  'y', 'n', 'n',   'n');

-- Every function and relation that belongs to the extension, as the catalog has it now.
CREATE TEMP VIEW extension_object AS
SELECT pg_describe_object(d.classid, d.objid, 0) AS object, d.classid, d.objid
FROM pg_depend d
WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'indexpilot')
  AND d.classid IN ('pg_proc'::regclass, 'pg_class'::regclass);
CREATE TEMP VIEW actual_privilege AS
SELECT o.object, r.role_class, r.rolname,
       CASE WHEN o.classid = 'pg_proc'::regclass THEN has_function_privilege(r.rolname, o.objid, 'EXECUTE')
            ELSE has_table_privilege(r.rolname, o.objid, 'SELECT') END AS allowed
FROM extension_object o
CROSS JOIN (VALUES ('super', 'indexpilot_priv_super'), ('monitor', 'indexpilot_priv_monitor'),
                   ('owner', 'indexpilot_priv_owner'), ('plain', 'indexpilot_priv_plain')) AS r (role_class, rolname);

-- Objects the expectations do not name (a new function or view must be added above, with a decision).
SELECT object AS not_in_expectations FROM extension_object
WHERE object NOT IN (SELECT object FROM expected_privilege) ORDER BY object COLLATE "C";
-- Expectations for objects that no longer exist.
SELECT object AS expected_but_missing FROM expected_privilege
WHERE object NOT IN (SELECT object FROM extension_object) ORDER BY object COLLATE "C";
-- Mismatches between the catalog and the expectations.
SELECT a.object, a.role_class, CASE WHEN a.allowed THEN 'allowed' ELSE 'denied' END AS actual,
       e.expected
FROM actual_privilege a
JOIN (SELECT object, 'super' AS role_class, super AS expected FROM expected_privilege
      UNION ALL SELECT object, 'monitor', monitor FROM expected_privilege
      UNION ALL SELECT object, 'owner', owner FROM expected_privilege
      UNION ALL SELECT object, 'plain', plain FROM expected_privilege) e USING (object, role_class)
WHERE a.allowed <> (e.expected IN ('y', 'own'))
ORDER BY a.object COLLATE "C", 2;
-- Nothing in the extension is executable or readable by PUBLIC but indexpilot_version() and
-- query_samples, whose row-level security shows each role its own rows only.
SELECT c.relname, c.relrowsecurity, p.polname, p.polcmd
FROM pg_class c JOIN pg_policy p ON p.polrelid = c.oid
WHERE c.oid = 'indexpilot.query_samples'::regclass;
SELECT o.object AS public_may_use FROM extension_object o
WHERE CASE WHEN o.classid = 'pg_proc'::regclass THEN has_function_privilege('public', o.objid, 'EXECUTE')
           ELSE has_table_privilege('public', o.objid, 'SELECT') END
ORDER BY object COLLATE "C";

-- Every function resolves names through pg_catalog first: these are the ones without a pinned search_path
-- (on purpose: indexpilot_whatif() plans the caller's own statement with the caller's search_path).
SELECT p.oid::regprocedure AS search_path_not_pinned
FROM pg_proc p
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'indexpilot')
  AND NOT coalesce(p.proconfig @> '{"search_path=pg_catalog, pg_temp"}', false)
ORDER BY p.oid::regprocedure::text COLLATE "C";

-- ---------------------------------------------------------------------------------------------------
-- Real calls. try() returns 'ok' or the SQLSTATE and message of the error.
-- ---------------------------------------------------------------------------------------------------
CREATE FUNCTION pg_temp.try(command text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE command;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
-- The same as a given role (the role is reset afterwards, also after an error).
CREATE FUNCTION pg_temp.try_as(role name, command text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    result text;
BEGIN
    EXECUTE format('SET ROLE %I', role);
    result := pg_temp.try(command);
    RESET ROLE;
    RETURN result;
END
$$;
CREATE SCHEMA priv_owner AUTHORIZATION indexpilot_priv_owner;
CREATE SCHEMA priv_other AUTHORIZATION indexpilot_priv_other;
GRANT USAGE ON SCHEMA priv_other TO indexpilot_priv_owner;
SET ROLE indexpilot_priv_owner;
CREATE TABLE priv_owner.notes (tenant_id int NOT NULL, body text, color text);
INSERT INTO priv_owner.notes VALUES (1, 'a', 'red'), (2, 'b', 'blue');
SET ROLE indexpilot_priv_other;
CREATE TABLE priv_other.notes (tenant_id int NOT NULL, body text, color text);
INSERT INTO priv_other.notes VALUES (1, 'x', 'green');
RESET ROLE;
SELECT indexpilot_register('priv_other.notes', 'tenant_id') AS registered_by_superuser;
SELECT indexpilot_mark_optional('priv_other.notes', 'color') AS marked_by_superuser;

CREATE TEMP VIEW genome_state AS
SELECT (SELECT count(*) FROM indexpilot.genome_tables) AS tables,
       (SELECT count(*) FROM indexpilot.genome_fields) AS fields,
       (SELECT count(*) FROM indexpilot.genome_fields WHERE is_core) AS core,
       (SELECT count(*) FROM indexpilot.expression_profile) AS expressions,
       (SELECT count(*) FROM indexpilot.mutation_log) AS mutations;
CREATE TEMP TABLE state_before AS SELECT * FROM genome_state;

-- The table owner, granted EXECUTE, on someone else's table: refused (42501), and nothing changes.
SET ROLE indexpilot_priv_owner;
SELECT n AS "#", pg_temp.try(command) AS result
FROM unnest(ARRAY[
    $$SELECT indexpilot_register('priv_other.notes', 'tenant_id')$$,
    $$SELECT indexpilot_sync('priv_other.notes')$$,
    $$SELECT indexpilot_sync_all()$$,
    $$SELECT indexpilot_mark_core('priv_other.notes', 'color')$$,
    $$SELECT indexpilot_mark_optional('priv_other.notes', 'body')$$,
    $$SELECT indexpilot_express('priv_other.notes', 'color', '1')$$,
    $$SELECT indexpilot_suppress('priv_other.notes', 'color', '1')$$,
    $$SELECT indexpilot_express_bulk('priv_other.notes', '{color}', '{1}')$$,
    $$SELECT indexpilot_suppress_bulk('priv_other.notes', '{color}', '{1}')$$,
    $$SELECT indexpilot_unregister('priv_other.notes')$$
]) WITH ORDINALITY AS t (command, n)
ORDER BY n;
RESET ROLE;
SELECT row(s.*) = row(b.*) AS nothing_changed FROM genome_state s, state_before b;

-- ... and on its own table: allowed, with the owner recorded.
SET ROLE indexpilot_priv_owner;
SELECT indexpilot_register('priv_owner.notes', 'tenant_id', 'the owner''s notes') AS fields;
SELECT indexpilot_mark_optional('priv_owner.notes', 'color', 'body') AS marked;
SELECT indexpilot_express('priv_owner.notes', 'color', '2') AS expressed;
SELECT indexpilot_express_bulk('priv_owner.notes', '{color,body}', '{1,2}') AS expressed;
SELECT indexpilot_suppress('priv_owner.notes', 'body', '1') AS suppressed;
SELECT indexpilot_suppress_bulk('priv_owner.notes', '{body}', '{2}') AS suppressed;
SELECT indexpilot_mark_core('priv_owner.notes', 'body') AS made_core;
ALTER TABLE priv_owner.notes ADD COLUMN pinned boolean;
SELECT indexpilot_sync('priv_owner.notes') AS changes;
-- The bodies run as the extension's owner, so no code of the table owner may run in them: a tenant key of
-- a domain type is checked against its base type, and the domain's CHECK (here one that reports the role
-- it runs as) does not run.
CREATE FUNCTION priv_owner.noisy(v int) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    RAISE NOTICE 'domain check ran as %', current_user;
    RETURN v > 0;
END
$$;
CREATE DOMAIN priv_owner.tenant_dom AS int CHECK (priv_owner.noisy(VALUE));
CREATE TABLE priv_owner.tagged (tenant_id priv_owner.tenant_dom NOT NULL, label text);
INSERT INTO priv_owner.tagged VALUES (7, 'x');
SELECT indexpilot_register('priv_owner.tagged', 'tenant_id') AS fields;
SELECT indexpilot_mark_optional('priv_owner.tagged', 'label') AS marked;
SELECT indexpilot_express('priv_owner.tagged', 'label', '7') AS expressed;
SELECT pg_temp.try($$SELECT indexpilot_express('priv_owner.tagged', 'label', '8')$$) AS unknown_tenant;
-- The owner may not read IndexPilot's tables (no USAGE on schema indexpilot).
SELECT pg_temp.try($$SELECT count(*) FROM indexpilot.genome_tables$$) AS read_genome;
RESET ROLE;
SELECT g.registered_by, g.description FROM indexpilot.genome_tables g WHERE g.relid = 'priv_owner.notes'::regclass;
SELECT e.tenant, f.column_name, e.expressed_by FROM indexpilot.expression_profile e
JOIN indexpilot.genome_fields f USING (relid, attnum)
WHERE e.relid = 'priv_owner.notes'::regclass ORDER BY 1, 2;
SELECT m.kind, m.target_column, m.tenant, m.actor = session_user AS by_session_user
FROM indexpilot.mutation_log m WHERE m.target_table = 'priv_owner.notes' ORDER BY m.id;

-- A member of the owner role may manage the table too; a member of pg_monitor or a plain role may not.
GRANT indexpilot_priv_owner TO indexpilot_priv_plain;
SET ROLE indexpilot_priv_plain;
SELECT indexpilot_mark_optional('priv_owner.notes', 'pinned') AS marked_by_member;
RESET ROLE;
REVOKE indexpilot_priv_owner FROM indexpilot_priv_plain;
SET ROLE indexpilot_priv_owner;
SELECT indexpilot_unregister('priv_owner.notes') AS unregistered_by_owner;
RESET ROLE;

-- Representative denials for each role: 42501 from the EXECUTE check (or, for the delegated owner,
-- from the ownership check); allowed reads work. (The table by OID: only the owner has USAGE on its schema.)
SELECT 'priv_other.notes'::regclass::oid AS other_notes \gset
SELECT r.rolname, n AS "#", pg_temp.try_as(r.rolname, replace(command, 'OTHER', :'other_notes')) AS result
FROM (VALUES ('indexpilot_priv_monitor'), ('indexpilot_priv_owner'), ('indexpilot_priv_plain')) AS r (rolname)
CROSS JOIN unnest(ARRAY[
    $$SELECT indexpilot_register(OTHER, 'tenant_id')$$,
    $$SELECT indexpilot_unregister(OTHER)$$,
    $$SELECT count(*) FROM indexpilot_run_now()$$,
    $$SELECT indexpilot_disable_system()$$,
    $$SELECT indexpilot_reset_live_stats()$$,
    $$SELECT indexpilot._log_mutation('forged')$$,
    $$SELECT indexpilot._do_unregister(OTHER, 'nobody')$$,
    $$INSERT INTO indexpilot.mutation_log (kind) VALUES ('forged')$$,
    $$SELECT count(*) FROM indexpilot_status()$$,
    $$SELECT count(*) FROM indexpilot.genome_catalog$$,
    $$SELECT count(*) FROM indexpilot_lineage(OTHER)$$
]) WITH ORDINALITY AS t (command, n)
ORDER BY 1, 2;
SELECT count(*) AS forged_rows FROM indexpilot.mutation_log WHERE kind = 'forged';

-- The superuser role may do all of it.
SET ROLE indexpilot_priv_super;
SELECT indexpilot_sync_all() >= 0 AS sync_all_by_superuser;
SELECT indexpilot_unregister('priv_other.notes') AS unregistered_by_superuser;
RESET ROLE;

DROP SCHEMA priv_owner CASCADE;
DROP SCHEMA priv_other CASCADE;
REVOKE ALL ON FUNCTION indexpilot_register(regclass, name, text), indexpilot_sync(regclass),
    indexpilot_sync_all(), indexpilot_unregister(regclass), indexpilot_mark_core(regclass, name[]),
    indexpilot_mark_optional(regclass, name[]), indexpilot_express(regclass, name, text),
    indexpilot_suppress(regclass, name, text), indexpilot_express_bulk(regclass, name[], text[]),
    indexpilot_suppress_bulk(regclass, name[], text[])
    FROM indexpilot_priv_owner;
DROP ROLE indexpilot_priv_super, indexpilot_priv_monitor, indexpilot_priv_owner, indexpilot_priv_plain,
          indexpilot_priv_other;
