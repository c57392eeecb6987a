# Builds that succeed (issue #13): CREATE INDEX CONCURRENTLY waits for the transactions older than its index
# without blocking anyone, so a long read-only transaction must not make a build fail on
# indexpilot.build_lock_timeout; the build waits, bounded by indexpilot.build_statement_timeout, and finishes
# once the transaction ends. What can block others is bounded by the lock timeout: the table's lock, which a
# DBA's session may hold, fails the build after build_lock_timeout, and the failed build backs off.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);
use IndexPilotTest;

my $node = indexpilot_node('build_waits',
	conf => "indexpilot.mode = 'auto'\nindexpilot.sample_rate = 1\nindexpilot.min_calls = 20\n"
	  . "indexpilot.flush_interval = '1h'\nindexpilot.advise_interval = '1h'\n"
	  . "indexpilot.build_lock_timeout = '1s'\n"
	  . "indexpilot.build_retry_backoff = '1s'\nindexpilot.build_retry_backoff_max = '2s'\n"
	  . "max_parallel_workers_per_gather = 0\n");
$node->safe_psql('postgres', q{
	CREATE EXTENSION indexpilot;
	CREATE TABLE orders (id bigint PRIMARY KEY, tenant_id integer NOT NULL, customer text NOT NULL,
	                     region text NOT NULL);
	INSERT INTO orders SELECT g, g % 20, 'c' || g, 'r' || (g % 5000) FROM generate_series(1, 50000) g;
	CREATE TABLE other (x integer);
	SELECT pg_stat_force_next_flush();
});
$node->safe_psql('postgres', "ANALYZE orders; SELECT indexpilot_register('orders', 'tenant_id')");

sub traffic
{
	my ($column, $prefix) = @_;
	$node->safe_psql('postgres',
		"SELECT format('SELECT count(*) FROM orders WHERE tenant_id = %s AND $column = %L', g % 20, '$prefix' || g) "
		  . "FROM generate_series(1, 200) g \\gexec");
}

sub last_mutation
{
	return $node->safe_psql('postgres', 'SELECT coalesce(max(id), 0) FROM indexpilot.mutation_log');
}

sub kinds_since
{
	my ($since, $index) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT coalesce(string_agg(kind, ',' ORDER BY id), '') FROM indexpilot.mutation_log
		WHERE id > $since AND kind LIKE 'index_build%' AND target_index LIKE '%$index'});
}

# ---- a long read-only transaction: the build waits for it and then finishes --------------------------
traffic('customer', 'c');
my $reader = $node->background_psql('postgres');
$reader->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$reader->query_safe('SELECT count(*) FROM other');    # a snapshot older than any index built from now on

my $since = last_mutation();
my $index = $node->safe_psql('postgres',
	"SELECT index_name FROM indexpilot_run_now() WHERE action = 'build_started'");
like($index, qr/^indexpilot_public_orders_/, "a build started: $index");
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'indexpilot builder' AND wait_event = 'virtualxid'"),
	'the build waits for the old snapshot');
sleep(3);    # three times build_lock_timeout
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'indexpilot builder' AND wait_event = 'virtualxid'"),
	'1', 'after three lock timeouts it still waits, without failing');
is(kinds_since($since, $index), 'index_build_started', 'no outcome yet: neither failed nor finished');
$reader->query_safe('COMMIT');
ok($node->poll_query_until('postgres', qq{
		SELECT count(*) = 1 FROM indexpilot.mutation_log WHERE id > $since AND kind = 'index_build_finished'
		  AND target_index LIKE '%$index'}),
	'once the transaction ends the build finishes');
is(kinds_since($since, $index), 'index_build_started,index_build_finished', 'one outcome: finished');
is($node->safe_psql('postgres', qq{
		SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = '$index'}),
	't', 'the index is valid');

# ---- a DBA's session holds the table's lock: the build gives up after the lock timeout, backs off ----
traffic('region', 'r');
my $dba = $node->background_psql('postgres');
$dba->query_safe('BEGIN');
$dba->query_safe('LOCK TABLE orders IN SHARE UPDATE EXCLUSIVE MODE');
$since = last_mutation();
my $second = $node->safe_psql('postgres',
	"SELECT index_name FROM indexpilot_run_now() WHERE action = 'build_started'");
like($second, qr/^indexpilot_public_orders_.*region/, "a build of the region index started: $second");
ok($node->poll_query_until('postgres', qq{
		SELECT count(*) = 1 FROM indexpilot.mutation_log WHERE id > $since AND kind = 'index_build_failed'
		  AND target_index LIKE '%$second'}),
	'it fails while the table is locked');
like($node->safe_psql('postgres', qq{
		SELECT details->>'error' FROM indexpilot.mutation_log WHERE id > $since AND kind = 'index_build_failed'}),
	qr/lock timeout/, 'on the lock timeout');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_class WHERE relname = '$second'"),
	'0', 'it left no index behind');
is($node->safe_psql('postgres', qq{
		SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND backend_type = 'client backend'}),
	'0', 'no client waited behind it');
my $action = $node->safe_psql('postgres',
	"SELECT action FROM indexpilot_run_now() WHERE index_name = '$second'");
like($action, qr/backoff/, "right after the failure it is in its backoff ($action)");
$dba->query_safe('COMMIT');
sleep(1.5);
$since = last_mutation();
is($node->safe_psql('postgres',
		"SELECT action FROM indexpilot_run_now() WHERE index_name = '$second'"),
	'build_started', 'after the backoff it is built');
ok($node->poll_query_until('postgres', qq{
		SELECT count(*) = 1 FROM indexpilot.mutation_log WHERE id > $since AND kind = 'index_build_finished'
		  AND target_index LIKE '%$second'}),
	'and finishes');

$reader->quit;
$dba->quit;
$node->stop;
done_testing();
