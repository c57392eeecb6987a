# Startup bypass: the library is loaded but installs nothing (no hooks, no workers, no shared memory), and
# the server is healthy. From the environment and from the config file.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IndexPilotTest;

sub check_nothing_installed
{
	my ($node, $how, $source) = @_;
	is($node->safe_psql('postgres', 'SHOW shared_preload_libraries'), 'indexpilot', "$how: library is preloaded");
	sleep 2;
	is($node->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'indexpilot%'"),
		'0', "$how: no IndexPilot process runs");
	is($node->safe_psql('postgres', "SELECT count(*) FROM pg_shmem_allocations WHERE name LIKE 'indexpilot%'"),
		'0', "$how: no shared memory");
	is($node->safe_psql('postgres', 'SELECT count(*) FROM generate_series(1, 10000)'), '10000', "$how: queries run");
	my ($ret, $out, $err) = $node->psql('postgres', 'CREATE EXTENSION IF NOT EXISTS indexpilot');
	is($ret, 0, "$how: CREATE EXTENSION works") or diag($err);
	is( $node->safe_psql('postgres',
			"SELECT string_agg(DISTINCT source || ':' || coalesce(enabled::text, '-'), ',') FROM indexpilot_status() "
			  . "WHERE kind IN ('system', 'feature', 'module')"),
		'startup:false', "$how: status shows every switch off by the startup bypass");
	is( $node->safe_psql('postgres',
			"SELECT setting || ' ' || source FROM indexpilot_status() WHERE name = 'bypass_mode'"),
		"startup $source", "$how: status names the source");
	($ret, $out, $err) = $node->psql('postgres', 'SELECT * FROM indexpilot_worker_status()');
	like($err, qr/requires indexpilot to be loaded via shared_preload_libraries/, "$how: worker status says why");
	ok(!$node->log_contains(qr/PANIC|TRAP:|terminated by signal/), "$how: no crash in the server log");
}

my $node;
{
	local $ENV{INDEXPILOT_BYPASS_MODE} = 'STARTUP';    # case-insensitive: never miss an emergency switch
	$node = indexpilot_node('bypass_startup');
}
ok($node->log_contains(qr/startup bypass \(INDEXPILOT_BYPASS_MODE=startup\): nothing is installed/),
	'environment: the log says why nothing runs');
check_nothing_installed($node, 'environment', 'environment');

# Switches set during the bypass are kept for later.
my ($ret, $out, $err) = $node->psql('postgres', "SELECT indexpilot_disable_feature('index_building')");
like($err, qr/saved; it takes effect when the server runs with indexpilot/, 'a switch set meanwhile is saved');
$node->stop('fast');

# Without the variable: everything is installed again, and the saved switch is loaded.
$node->start;
ok(launcher_pid($node), 'without the bypass the launcher runs again');
ok( $node->poll_query_until('postgres',
		"SELECT source = 'sql' AND setting = 'off' FROM indexpilot_status() WHERE name = 'index_building'"),
	'the switch saved during the bypass is in effect');
$node->stop('fast');

# The config file asks for the startup bypass.
$node->append_conf('indexpilot_startup.yaml', "bypass_mode: startup\n");
$node->append_conf('postgresql.conf', "indexpilot.config_file = 'indexpilot_startup.yaml'\n");
$node->start;
ok($node->log_contains(qr/startup bypass \(bypass_mode: startup in "indexpilot_startup.yaml"\)/),
	'config file: the log says why nothing runs');
check_nothing_installed($node, 'config file', 'config_file');
$node->stop('fast');
done_testing();
