-- The builder's lineage queries (sql/parts/85_builder.sql). The lineage rows are written inside a
-- transaction that is rolled back, so the worker of this database never sees them.
\set SHOW_CONTEXT never
CREATE TABLE bl_dupes (v int);
INSERT INTO bl_dupes VALUES (1), (1);
-- A failed CREATE INDEX CONCURRENTLY leaves an INVALID index behind (no lineage names it: not IndexPilot's).
CREATE UNIQUE INDEX CONCURRENTLY bl_invalid ON bl_dupes (v);
SELECT indisvalid FROM pg_index WHERE indexrelid = 'bl_invalid'::regclass;
SELECT count(*) AS not_ours FROM indexpilot._leftover_indexes() WHERE index_name = 'bl_invalid';

BEGIN;
SELECT indexpilot._log_mutation('index_build_started', 'public.bl_dupes', NULL, 'bl_invalid', NULL,
           jsonb_build_object('index_oid', 'bl_invalid'::regclass::oid), NULL) AS started \gset
SELECT :started IN (SELECT indexpilot._builds_without_outcome()) AS without_outcome;
-- Started, no outcome yet: not a leftover (its builder may still be running).
SELECT count(*) AS leftover_before FROM indexpilot._leftover_indexes() WHERE index_name = 'bl_invalid';
SELECT indexpilot._record_build_abandoned(:started) > :started AS abandoned;
SELECT indexpilot._record_build_abandoned(:started) IS NULL AS only_once;
SELECT :started IN (SELECT indexpilot._builds_without_outcome()) AS still_without_outcome;
SELECT qualified_name, index_name, target_table, outcome_kind FROM indexpilot._leftover_indexes()
WHERE index_name = 'bl_invalid';
-- A row that is not a start is never abandoned.
SELECT indexpilot._record_build_abandoned((SELECT max(id) FROM indexpilot.mutation_log)) IS NULL AS not_a_start;
ROLLBACK;

DROP TABLE bl_dupes;
