# Clean restarts: the worker does not hold up shutdown, and comes back afterwards.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use IndexPilotTest;

my $node = indexpilot_node('restart');
$node->safe_psql('postgres', 'CREATE EXTENSION indexpilot');
my $worker = worker_pid($node, 'postgres');
ok($worker, 'worker runs before restart');

for my $mode ('fast', 'smart')
{
	my $t0 = time;
	$node->stop($mode);
	my $took = time - $t0;
	cmp_ok($took, '<', 30, "'$mode' shutdown completes promptly (${\ sprintf('%.1f', $took)} s)");
	ok($node->log_contains(qr/database system is shut down/), "'$mode' shutdown is clean");
	$node->start;
	my $new = worker_pid($node, 'postgres');
	ok($new && $new != $worker, "worker is back after a '$mode' restart");
	$worker = $new;
	ok(launcher_pid($node), "launcher is back after a '$mode' restart");
}

is($node->safe_psql('postgres', 'SELECT indexpilot_version() IS NOT NULL'), 't', 'extension usable after restarts');
ok(!$node->log_contains(qr/PANIC|TRAP:|terminated by signal/), 'no crash in the server log');
$node->stop('fast');
done_testing();
