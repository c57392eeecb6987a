-- indexpilot.mutation_log: appended through indexpilot._log_mutation(), never changed or removed.
SELECT indexpilot._log_mutation('regress_root', details => '{"why": "test"}') AS root_id \gset
SELECT indexpilot._log_mutation('regress_child', target_table => 'public.t', target_column => 'c',
                                details => '{"n": 1}', parent_id => :root_id) AS child_id \gset
SELECT kind, target_table, target_column, details, parent_id = :root_id AS follows_root,
       actor = session_user AS actor_is_session_user, occurred_at <= clock_timestamp() AS timed
FROM indexpilot.mutation_log WHERE id IN (:root_id, :child_id) ORDER BY id;

-- Append-only: UPDATE, DELETE and TRUNCATE are refused, and nothing changes.
UPDATE indexpilot.mutation_log SET kind = 'tampered' WHERE id = :root_id;
DELETE FROM indexpilot.mutation_log WHERE id = :child_id;
TRUNCATE indexpilot.mutation_log;
SELECT count(*) AS still_there FROM indexpilot.mutation_log WHERE id IN (:root_id, :child_id) AND kind LIKE 'regress_%';

-- Bad input: a malformed kind, NULL kind, an unknown parent (terse: the rejected rows carry timestamps).
\set VERBOSITY terse
SELECT indexpilot._log_mutation('Bad Kind');
SELECT indexpilot._log_mutation(NULL);
SELECT indexpilot._log_mutation('regress_orphan', parent_id => -1);
