# SIGKILL of the worker or the launcher: the postmaster resets shared memory (crash recovery), the server
# comes back healthy with no data lost, and the launcher and worker start again.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IndexPilotTest;

# PostgreSQL::Test::Cluster turns restart_after_crash off; the server's default (on) is what we test.
my $node = indexpilot_node('crash', conf => 'restart_after_crash = on');
$node->safe_psql('postgres', 'CREATE EXTENSION indexpilot');
$node->safe_psql('postgres', 'CREATE TABLE kept AS SELECT g AS id FROM generate_series(1, 1000) g');

for my $victim ('indexpilot worker', 'indexpilot launcher')
{
	my $pid = $victim eq 'indexpilot worker' ? worker_pid($node, 'postgres') : launcher_pid($node);
	ok($pid, "$victim runs before the kill");
	my $log_offset = -s $node->logfile;
	kill 'KILL', $pid;
	ok($node->wait_for_log(qr/\Q$victim\E.*\(PID $pid\) was terminated by signal 9/, $log_offset),
		"postmaster saw $victim (pid $pid) killed");
	ok($node->wait_for_log(qr/all server processes terminated; reinitializing/, $log_offset),
		'postmaster reinitialized after the crash');
	ok($node->poll_query_until('postgres', 'SELECT true'), 'server accepts connections again');
	is($node->safe_psql('postgres', 'SELECT count(*) FROM kept'), '1000', 'committed data survived');
	my $launcher = launcher_pid($node);
	ok($launcher && $launcher != $pid, 'launcher is running again');
	my $worker = worker_pid($node, 'postgres');
	ok($worker && $worker != $pid, 'worker is running again');
	is($node->safe_psql('postgres', "SELECT count(*) FROM indexpilot_worker_status()"),
		'2', 'status shows one launcher and one worker after recovery');
}

ok(!$node->log_contains(qr/PANIC|TRAP:/), 'no PANIC or assertion failure in the log');
$node->stop('fast');
done_testing();
