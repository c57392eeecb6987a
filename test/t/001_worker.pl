# The launcher and the database workers: start, status, SIGHUP reload, SIGTERM, database selection.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IndexPilotTest;

my $node = indexpilot_node('worker');

my $launcher = launcher_pid($node);
ok($launcher, 'launcher runs and shows in pg_stat_activity as "indexpilot launcher"');
is($node->safe_psql('postgres', "SELECT datname IS NULL FROM pg_stat_activity WHERE pid = $launcher"),
	't', 'launcher is connected to no database');

# No extension yet: no worker stays in postgres.
sleep 2;
ok(!$node->log_contains(qr/indexpilot worker started for database "postgres"/),
	'no worker is started where the extension is not installed');

$node->safe_psql('postgres', 'CREATE EXTENSION indexpilot');
my $worker = worker_pid($node, 'postgres');
ok($worker, 'worker starts within a naptime of CREATE EXTENSION');
is( $node->safe_psql('postgres',
		"SELECT application_name FROM pg_stat_activity WHERE pid = $worker"),
	'indexpilot worker', 'worker reports its application_name');
is( $node->safe_psql('postgres',
		"SELECT string_agg(role || ':' || pid, ',' ORDER BY role) FROM indexpilot_worker_status()"),
	"launcher:$launcher,worker:$worker", 'indexpilot_worker_status() lists the launcher and the worker');

my $loops = $node->safe_psql('postgres', "SELECT loops FROM indexpilot_worker_status() WHERE role = 'worker'");
ok( $node->poll_query_until('postgres',
		"SELECT loops > $loops FROM indexpilot_worker_status() WHERE role = 'worker'"),
	'worker keeps cycling (heartbeat advances)');

# SIGHUP: the worker reloads its configuration and uses the new naptime.
$node->safe_psql('postgres', "ALTER SYSTEM SET indexpilot.naptime = '1200ms'");
$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
ok( $node->wait_for_log(qr/reloaded its configuration\n.*DETAIL:\s+naptime is 1200 ms/),
	'worker reloads its configuration on SIGHUP');
is($node->safe_psql('postgres', 'SHOW indexpilot.naptime'), '1200ms', 'new naptime is in effect');

# SIGTERM to the worker: it exits, and the launcher starts a new one.
$node->safe_psql('postgres', "SELECT pg_terminate_backend($worker)");
ok(wait_for_new_pid($node, 'indexpilot worker', $worker, 'postgres'),
	'worker exits on SIGTERM and the launcher replaces it');
$worker = worker_pid($node, 'postgres');

# SIGTERM to the launcher: the postmaster restarts it (bgw_restart_time), the worker is left alone.
$node->safe_psql('postgres', "SELECT pg_terminate_backend($launcher)");
ok(wait_for_new_pid($node, 'indexpilot launcher', $launcher), 'launcher is restarted after SIGTERM');
is(worker_pid($node, 'postgres'), $worker, 'the running worker was not replaced');
is($node->safe_psql('postgres', "SELECT count(*) FROM indexpilot_worker_status() WHERE role = 'worker'"),
	'1', 'still exactly one worker for the database');

# A second database gets its own worker once the extension is created there.
$node->safe_psql('postgres', 'CREATE DATABASE other');
$node->safe_psql('other', 'CREATE EXTENSION indexpilot');
my $other = worker_pid($node, 'other');
ok($other, 'a second database gets its own worker');

# indexpilot.databases restricts the launcher; a worker killed in an unlisted database stays gone.
$node->safe_psql('postgres', "ALTER SYSTEM SET indexpilot.databases = 'postgres'");
$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
sleep 2;
$node->safe_psql('postgres', "SELECT pg_terminate_backend($other)");
ok( $node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'indexpilot worker' AND datname = 'other'"),
	'worker in the unlisted database exits');
sleep 3;
is( $node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'indexpilot worker' AND datname = 'other'"),
	'0', 'launcher does not restart a worker for an unlisted database');

# DROP EXTENSION: the worker notices and exits; the server stays healthy.
$node->safe_psql('postgres', "ALTER SYSTEM RESET indexpilot.databases");
$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
$node->safe_psql('postgres', 'DROP EXTENSION indexpilot');
ok($node->wait_for_log(qr/database "postgres" exits: the extension was dropped/),
	'worker exits after DROP EXTENSION');

ok(!$node->log_contains(qr/PANIC|TRAP:|terminated by signal/), 'no crash in the server log');
$node->stop('fast');
done_testing();
