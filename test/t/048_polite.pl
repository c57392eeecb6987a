# Polite to the server (issue #13): builds wait while more than indexpilot.max_busy_backends client backends
# are active, while a build runs anywhere in the cluster, outside indexpilot.maintenance_window, and while
# the data directory's file system would keep less than indexpilot.min_free_space; a build that always
# fails is tried again at growing intervals, and after indexpilot.max_build_failures failures in a row
# IndexPilot switches index building off itself (a log line, a mutation_log row) until a superuser
# switches it on again.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use IndexPilotTest;

my $node = indexpilot_node('polite',
	conf => "indexpilot.mode = 'auto'\nindexpilot.sample_rate = 1\nindexpilot.min_calls = 20\n"
	  . "indexpilot.flush_interval = '1h'\nindexpilot.advise_interval = '1h'\n"
	  . "indexpilot.build_lock_timeout = '200ms'\n"
	  . "indexpilot.build_retry_backoff = '1s'\nindexpilot.build_retry_backoff_max = '1h'\n"
	  . "indexpilot.max_busy_backends = 1\nindexpilot.max_build_failures = 3\n"
	  . "max_parallel_workers_per_gather = 0\n");
for my $db ('postgres', 'other')
{
	$node->safe_psql('postgres', "CREATE DATABASE $db") if $db ne 'postgres';
	$node->safe_psql($db, q{
		CREATE EXTENSION indexpilot;
		CREATE TABLE orders (id bigint PRIMARY KEY, tenant_id int NOT NULL, customer text NOT NULL,
		                     region text NOT NULL, note text NOT NULL);
		INSERT INTO orders SELECT g, g % 20, 'c' || g, 'r' || g, 'n' || g FROM generate_series(1, 50000) g;
		SELECT pg_stat_force_next_flush();
	});
	$node->safe_psql($db, "ANALYZE orders; SELECT indexpilot_register('orders', 'tenant_id')");
}

sub traffic
{
	my ($db, $column) = @_;
	$node->safe_psql($db,
		"SELECT format('SELECT count(*) FROM orders WHERE tenant_id = %s AND $column = %L', g % 20, '"
		  . substr($column, 0, 1) . "' || g) FROM generate_series(1, 100) g \\gexec");
}

# The action run_now gives the first chosen index (with its name).
sub first_action
{
	my ($db) = @_;
	return $node->safe_psql($db, q{
		SELECT index_name || ' ' || coalesce(action, '') FROM indexpilot_run_now() WHERE verdict = 'chosen' LIMIT 1});
}

sub no_builder
{
	return $node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'indexpilot builder'");
}

# ---- busy: two sessions running statements -----------------------------------------------------------
traffic('postgres', 'customer');
my @busy = map { $node->background_psql('postgres') } 1 .. 2;
$_->query_until(qr/sleeping/, "\\echo sleeping\nSELECT pg_sleep(5);\n") for @busy;
ok($node->poll_query_until('postgres',
		"SELECT count(*) >= 2 FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'SELECT pg_sleep%'"),
	'two sessions are active');
like(first_action('postgres'), qr/waiting: the server is busy: 2 active backends \(indexpilot.max_busy_backends is 1\)/,
	'the build waits while the server is busy');
is($node->safe_psql('postgres', "SELECT count(*) FROM indexpilot.mutation_log WHERE kind = 'index_build_started'"),
	'0', 'no build started');
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'SELECT pg_sleep%'"),
	'they are done');
$_->quit for @busy;

# ---- outside the maintenance window; too little free space -----------------------------------------------
my ($h) = (gmtime(time + 7200))[2];
my $window = sprintf('%02d:00-%02d:30', $h, $h);
$node->append_conf('postgresql.conf', "indexpilot.maintenance_window = '$window'\n");
$node->reload;
ok($node->poll_query_until('postgres', "SELECT current_setting('indexpilot.maintenance_window') = '$window'"),
	"a maintenance window two hours from now ($window)");
like(first_action('postgres'), qr/waiting: outside indexpilot.maintenance_window \(\Q$window\E UTC\)/,
	'the build waits for the window');
$node->append_conf('postgresql.conf',
	"indexpilot.maintenance_window = ''\nindexpilot.min_free_space = '1000TB'\n");
$node->reload;
ok($node->poll_query_until('postgres', "SELECT current_setting('indexpilot.min_free_space') = '1000TB'"),
	'no window any more, and a thousand terabytes to keep free');
like(first_action('postgres'), qr/waiting: too little free space: \d+ MB free/, 'the build waits for free space');
my ($rc, $out, $err) = $node->psql('postgres', "ALTER SYSTEM SET indexpilot.maintenance_window = 'nights'");
like($err, qr/invalid value for parameter "indexpilot.maintenance_window".*\n.*HH:MM-HH:MM/,
	'a bad window is refused with what is expected');
$node->append_conf('postgresql.conf', "indexpilot.min_free_space = '1GB'\n");
$node->reload;
ok($node->poll_query_until('postgres', "SELECT current_setting('indexpilot.min_free_space') = '1GB'"),
	'free space back to its default');

# ---- one build at a time in the cluster ---------------------------------------------------------------------
my $reader = $node->background_psql('postgres');
$reader->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$reader->query_safe('SELECT 1');    # the build in postgres waits for this snapshot
like(first_action('postgres'), qr/ build_started$/, 'a build starts in postgres');
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'indexpilot builder' AND wait_event = 'virtualxid'"),
	'and waits for the old snapshot');
traffic('other', 'customer');
like(first_action('other'), qr/build_not_started: a build is running in another database/,
	'meanwhile no build starts in the other database');
$reader->query_safe('COMMIT');
$reader->quit;
ok(no_builder(), 'the first build ends');
like(first_action('other'), qr/ build_started$/, 'then the other database builds');
ok(no_builder(), 'and that build ends too');

# ---- a build that always fails: growing intervals, then building switches itself off -------------------------
traffic('postgres', 'region');
my $dba = $node->background_psql('postgres');
$dba->query_safe('BEGIN');
$dba->query_safe('LOCK TABLE orders IN SHARE UPDATE EXCLUSIVE MODE');    # every build fails on the lock timeout
my @failed_at;
for my $attempt (1 .. 3)
{
	my $deadline = time + 30;
	my $action = '';
	while (time < $deadline)
	{
		$action = first_action('postgres');
		last if $action =~ / build_started$/;
		sleep(0.2);
	}
	like($action, qr/region.* build_started$/, "attempt $attempt starts");
	ok($node->poll_query_until('postgres', qq{
			SELECT count(*) = $attempt FROM indexpilot.mutation_log WHERE kind = 'index_build_failed'
			  AND target_index LIKE '%region%'}), "attempt $attempt fails");
	push @failed_at, time;
}
my $retry = $node->safe_psql('postgres', q{
	SELECT extract(epoch FROM indexpilot._advisor_retry_after(target_index)::timestamptz - occurred_at)::int
	FROM indexpilot.mutation_log WHERE kind = 'index_build_failed' ORDER BY id DESC LIMIT 1});
cmp_ok($retry, '>=', 3, "after three failures the next try waits 4 s (backoff doubled twice: $retry s)");
cmp_ok($failed_at[2] - $failed_at[1], '>', $failed_at[1] - $failed_at[0] - 0.5,
	'the intervals between the attempts grow');

# The next cycle of the worker sees three failures in a row: building switches off.
$node->safe_psql('postgres', "ALTER SYSTEM SET indexpilot.advise_interval = '1s'");
$node->reload;
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM indexpilot.mutation_log WHERE kind = 'index_building_self_disabled'"),
	'after max_build_failures failures in a row IndexPilot switches building off');
is($node->safe_psql('postgres', q{
	SELECT details->>'failures' || ' ' || jsonb_array_length(details->'outcomes')
	FROM indexpilot.mutation_log WHERE kind = 'index_building_self_disabled'}), '3 3', 'with the failures as evidence');
is($node->safe_psql('postgres',
		"SELECT enabled FROM indexpilot_status() WHERE name = 'index_building'"), 'f', 'index_building is off');
ok($node->log_contains(qr/indexpilot switched index building off after 3 consecutive failed or reverted builds/),
	'and the server log says so');
$dba->query_safe('COMMIT');
$dba->quit;
$node->safe_psql('postgres', "ALTER SYSTEM RESET indexpilot.advise_interval");
$node->reload;
unlike(first_action('postgres'), qr/build_started/, 'no build while it is off');
$node->safe_psql('postgres', "SELECT indexpilot_enable_feature('index_building')");
sleep(4.5);    # past the backoff
like(first_action('postgres'), qr/ build_started$/, 'a superuser switches it on: builds go on');
ok(no_builder(), 'that build ends');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM indexpilot.mutation_log WHERE kind = 'index_build_finished' AND target_index LIKE '%region%'}),
	'1', 'and finishes');

$node->stop;
done_testing();
