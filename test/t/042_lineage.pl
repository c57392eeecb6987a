# Lineage is whole: a build starts only after the transaction that proposed it commits (run_now in a
# transaction block that is rolled back starts none; one that commits slowly records proposal -> start ->
# outcome), a builder killed mid-build gets index_build_abandoned from the next cycle and its INVALID index
# dropped, and a build that always fails is retried with a doubling, capped backoff that
# indexpilot_recommendations() shows.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IndexPilotTest;

my $node = indexpilot_node('lineage',
	conf => "indexpilot.mode = 'auto'\nindexpilot.sample_rate = 1\nindexpilot.min_calls = 20\n"
	  . "indexpilot.flush_interval = '1h'\nindexpilot.advise_interval = '1h'\n"
	  . "indexpilot.build_retry_backoff = '2s'\nindexpilot.build_retry_backoff_max = '4s'\n"
	  . "indexpilot.max_build_failures = 0\n"    # a build that always fails is retried here; 048 switches off
	  . "max_parallel_workers_per_gather = 0\n");
$node->safe_psql('postgres', 'CREATE EXTENSION indexpilot');
$node->safe_psql('postgres', q{
	CREATE SCHEMA app;
	CREATE TABLE app.orders (id bigint PRIMARY KEY, tenant_id integer NOT NULL, customer text NOT NULL,
	                         status text NOT NULL, region text NOT NULL);
	INSERT INTO app.orders SELECT g, g % 20, 'c' || g, 's' || (g % 997), 'r' || (g % 991)
	FROM generate_series(1, 20000) g;
	SELECT pg_stat_force_next_flush();
});
$node->safe_psql('postgres', q{
	ANALYZE app.orders;
	SELECT indexpilot_register('app.orders', 'tenant_id');
});

sub traffic
{
	my ($column, $calls, $value) = @_;
	$node->safe_psql('postgres',
		"SELECT format('SELECT count(*) FROM app.orders WHERE tenant_id = %s AND $column = %L', g % 20, $value) "
		  . "FROM generate_series(1, $calls) g \\gexec");
}

sub last_mutation
{
	return $node->safe_psql('postgres', 'SELECT coalesce(max(id), 0) FROM indexpilot.mutation_log');
}

sub no_builder
{
	return $node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'indexpilot builder'");
}

# ---- run_now in a transaction block that rolls back starts no build -----------------------------------
traffic('customer', 200, "'c' || g");
my $since = last_mutation();
my $log_offset = -s $node->logfile;
my $out = $node->safe_psql('postgres', q{
	BEGIN;
	SELECT string_agg(action, ',') FROM indexpilot_run_now() WHERE action LIKE 'build%';
	ROLLBACK;
});
like($out, qr/build/, "run_now in the block says it would build ($out)");
sleep(3);
is($node->safe_psql('postgres', "SELECT count(*) FROM indexpilot.mutation_log WHERE id > $since"),
	'0', 'after ROLLBACK: no lineage row');
ok(!$node->log_contains(qr/indexpilot builder|foreign key/, $log_offset),
	'after ROLLBACK: no builder ran (nothing in the server log)')
  or diag(slurp_file($node->logfile, $log_offset));
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_class WHERE relname LIKE 'indexpilot%' AND relkind = 'i'"),
	'0', 'after ROLLBACK: no index');

# ---- run_now in a transaction block that commits slowly records whole lineage -------------------------
# (the rolled-back run_now flushed the captured shapes in its transaction: capture them again)
traffic('customer', 200, "'c' || g");
$since = last_mutation();
$out = $node->safe_psql('postgres', q{
	BEGIN;
	SELECT index_name FROM indexpilot_run_now() WHERE action LIKE 'build%';
	SELECT pg_sleep(1.5);
	COMMIT;
});
my ($customer_index) = split /\n/, $out;
$customer_index //= 'none';
ok($node->poll_query_until('postgres',
		"SELECT count(*) > 0 FROM indexpilot.mutation_log WHERE id > $since AND target_index = '$customer_index' "
		  . "AND kind IN ('index_build_finished', 'index_build_failed', 'index_build_abandoned')"),
	"the build of $customer_index ends");
ok(no_builder(), 'the builder exited');
is($node->safe_psql('postgres',
		"SELECT string_agg(kind, ',' ORDER BY id) FROM indexpilot.mutation_log WHERE id > $since AND target_index = '$customer_index'"),
	'index_proposed,index_build_started,index_build_finished', 'proposed, started, finished');
is($node->safe_psql('postgres', qq{
		SELECT count(*) FROM indexpilot.mutation_log s
		JOIN indexpilot.mutation_log p ON p.id = s.parent_id AND p.kind = 'index_proposed' AND p.id < s.id
		WHERE s.kind = 'index_build_started' AND s.id > $since
		  AND (SELECT count(*) FROM indexpilot.mutation_log o WHERE o.parent_id = s.id
		       AND o.kind IN ('index_build_finished', 'index_build_failed', 'index_build_abandoned')) = 1}),
	'1', 'the start follows its committed proposal and has exactly one outcome');
is($node->safe_psql('postgres', qq{
		SELECT (s.details->>'index_oid')::oid = 'app.$customer_index'::regclass
		   AND (f.details->>'index_oid')::oid = 'app.$customer_index'::regclass
		FROM indexpilot.mutation_log s JOIN indexpilot.mutation_log f ON f.parent_id = s.id
		WHERE s.kind = 'index_build_started' AND s.id > $since AND f.kind = 'index_build_finished'}),
	't', 'the start and the outcome record the index\'s OID');
ok(!$node->log_contains(qr/foreign key/, $log_offset), 'no foreign-key error in the log');

# ---- a builder killed mid-build: abandoned, its INVALID index dropped ----------------------------------
traffic('status', 200, "'s' || (g % 997)");
my $blocker = $node->background_psql('postgres');
$blocker->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$blocker->query_safe('SELECT 1');
$since = last_mutation();
$out = $node->safe_psql('postgres', "SELECT index_name FROM indexpilot_run_now() WHERE action = 'build_started'");
my ($status_index) = split /\n/, $out;
$status_index //= 'none';
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'indexpilot builder' AND wait_event = 'virtualxid'"),
	"the build of $status_index waits for the old snapshot");
my $oid = $node->safe_psql('postgres', "SELECT 'app.$status_index'::regclass::oid");
is($node->safe_psql('postgres', "SELECT indisvalid FROM pg_index WHERE indexrelid = $oid"), 'f', 'its index is INVALID');
$node->safe_psql('postgres',
	"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'indexpilot builder'");
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM indexpilot.mutation_log WHERE kind = 'index_dropped' AND id > $since AND target_index = '$status_index'"),
	'the next cycle drops the INVALID index');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_class WHERE oid = $oid"), '0', 'the index is gone');
is($node->safe_psql('postgres',
		"SELECT string_agg(kind, ',' ORDER BY id) FROM indexpilot.mutation_log WHERE id > $since AND target_index = '$status_index'"),
	'index_proposed,index_build_started,index_build_abandoned,index_dropped',
	'proposed, started, abandoned, dropped');
is($node->safe_psql('postgres', qq{
		SELECT a.parent_id = s.id AND d.parent_id = a.id AND (a.details->>'index_oid')::oid = $oid
		FROM indexpilot.mutation_log s
		JOIN indexpilot.mutation_log a ON a.kind = 'index_build_abandoned' AND a.id > $since
		JOIN indexpilot.mutation_log d ON d.kind = 'index_dropped' AND d.id > $since
		WHERE s.kind = 'index_build_started' AND s.id > $since}),
	't', 'abandoned follows the start, the drop follows abandoned, by OID');
$blocker->query_safe('COMMIT');

# ---- a build that always fails: retried with a doubling, capped backoff, shown in recommendations -----
# While the blocker's snapshot is open every build times out (1 s) waiting for it.
$blocker->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$blocker->query_safe('SELECT 1');
$node->safe_psql('postgres', "ALTER SYSTEM SET indexpilot.build_statement_timeout = '1s'; SELECT pg_reload_conf()");
ok($node->poll_query_until('postgres', 'SHOW indexpilot.build_statement_timeout', '1s'), 'build_statement_timeout is 1s');
traffic('region', 200, "'r' || (g % 991)");
$since = last_mutation();
# The worker decides now: every second it looks, so without a backoff it would retry every second.
$node->safe_psql('postgres',
	"ALTER SYSTEM SET indexpilot.advise_interval = '1s'; ALTER SYSTEM SET indexpilot.flush_interval = '1s'; "
	  . "SELECT pg_reload_conf()");
ok($node->poll_query_until('postgres',
		"SELECT count(*) > 0 FROM indexpilot.mutation_log WHERE id > $since AND kind = 'index_proposed' "
		  . "AND details->'columns' ? 'region'"),
	'the worker proposes an index on region');
my $region_index = $node->safe_psql('postgres',
	"SELECT target_index FROM indexpilot.mutation_log WHERE id > $since AND kind = 'index_proposed' "
	  . "AND details->'columns' ? 'region' ORDER BY id LIMIT 1");
ok($node->poll_query_until('postgres',
		"SELECT count(*) >= 4 FROM indexpilot.mutation_log WHERE id > $since AND kind = 'index_build_failed' "
		  . "AND target_index = '$region_index'"),
	"the failing build of $region_index is retried");
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM indexpilot_recommendations() WHERE index_name = '$region_index' "
		  . "AND action ~ '^backoff until \\d{4}-\\d\\d-\\d\\d '"),
	'indexpilot_recommendations() shows the backoff');
$node->safe_psql('postgres',
	"ALTER SYSTEM RESET indexpilot.advise_interval; ALTER SYSTEM RESET indexpilot.flush_interval; SELECT pg_reload_conf()");
# Gap k: from the k-th failure to the next start; the backoff is 2 s, 4 s, then capped at 4 s.
my @gaps = split /\n/, $node->safe_psql('postgres', qq{
	SELECT extract(epoch FROM (SELECT min(s.occurred_at) FROM indexpilot.mutation_log s
	                           WHERE s.kind = 'index_build_started' AND s.target_index = f.target_index AND s.id > f.id)
	                          - f.occurred_at)
	FROM indexpilot.mutation_log f WHERE f.kind = 'index_build_failed' AND f.id > $since
	  AND f.target_index = '$region_index' ORDER BY f.id LIMIT 3});
is(scalar(@gaps), 3, 'three retries') or diag(explain(\@gaps));
cmp_ok($gaps[0], '>=', 1.9, "first retry after the base backoff (gap $gaps[0] s)");
cmp_ok($gaps[1], '>=', 3.9, "second retry after twice the backoff (gap $gaps[1] s)");
cmp_ok($gaps[2], '>=', 3.9, "third retry after the capped backoff (gap $gaps[2] s)");
cmp_ok($gaps[2], '<', 7.9, '... capped: not doubled again');
is($node->safe_psql('postgres', qq{
		SELECT count(*) FROM indexpilot.mutation_log s WHERE s.kind = 'index_build_started' AND s.id > $since
		  AND (SELECT count(*) FROM indexpilot.mutation_log o WHERE o.parent_id = s.id
		       AND o.kind IN ('index_build_finished', 'index_build_failed', 'index_build_abandoned')) <> 1}),
	'0', 'every start has exactly one outcome');
$blocker->query_safe('COMMIT');
$blocker->quit;
$node->safe_psql('postgres', "ALTER SYSTEM RESET indexpilot.build_statement_timeout; SELECT pg_reload_conf()");
ok(no_builder(), 'no builder left');
ok($node->poll_query_until('postgres', 'SELECT count(*) = 0 FROM pg_index WHERE NOT indisvalid'),
	'no INVALID index left');

ok(!$node->log_contains(qr/PANIC|TRAP:|terminated by signal/), 'no PANIC, assertion failure or signal death');
$node->stop('fast');
done_testing();
