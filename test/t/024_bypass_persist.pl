# Runtime SQL switches survive a restart: the database worker loads them before anyone calls a function.
# With several databases the latest change wins, whatever order the workers start in.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IndexPilotTest;

my $node = indexpilot_node('bypass_persist', conf => "indexpilot.status_log_interval = '2s'\n");
$node->safe_psql('postgres', 'CREATE EXTENSION indexpilot');
$node->safe_psql('postgres', 'CREATE DATABASE other');
$node->safe_psql('other',    'CREATE EXTENSION indexpilot');
ok(worker_pid($node, 'other'), 'worker for the second database runs');

$node->safe_psql('postgres', "SELECT indexpilot_disable_feature('advising')");
$node->safe_psql('postgres', "SELECT indexpilot_disable_module('capture_hooks')");
$node->safe_psql('other',    "SELECT indexpilot_disable_feature('index_building')");
# Later changes of the same switch from the other database: these must win after the restart.
$node->safe_psql('other', "SELECT indexpilot_enable_module('capture_hooks')");
is($node->safe_psql('postgres', "SELECT setting FROM indexpilot_status() WHERE name = 'capture_hooks'"),
	'on', 'switches are cluster-wide: a change from one database shows in another');
ok( $node->wait_for_log(qr/indexpilot status: system=on/),
	'the status line is written every indexpilot.status_log_interval');

$node->restart;
my $query = "SELECT string_agg(name || '=' || setting || '/' || source, ' ' ORDER BY name) FROM indexpilot_status() "
  . "WHERE name IN ('advising', 'capture_hooks', 'index_building')";
ok( $node->poll_query_until('postgres', $query,
		'advising=off/sql capture_hooks=on/sql index_building=off/sql'),
	'after a restart every persisted switch is back, the latest change winning');
like($node->safe_psql('postgres', "SELECT detail FROM indexpilot_status() WHERE name = 'capture_hooks'"),
	qr/in database other$/, 'status names the database the winning change came from');
ok($node->log_contains(qr/persisted switch advising off loaded from database "postgres"/), 'loading is logged');
is($node->safe_psql('postgres', "SELECT count(*) FROM indexpilot.mutation_log WHERE kind = 'bypass_switch'"),
	'2', 'each change is in its database\'s mutation_log');

ok(!$node->log_contains(qr/PANIC|TRAP:|terminated by signal/), 'no crash in the server log');
$node->stop('fast');
done_testing();
