# Environment variables read at server start: INDEXPILOT_BYPASS_MODE and INDEXPILOT_BYPASS_<SWITCH>_ENABLED,
# their place in the precedence (above the config file and GUCs, below the runtime SQL switches).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IndexPilotTest;

sub status
{
	my ($node, $name) = @_;
	return $node->safe_psql('postgres',
		"SELECT setting || ' ' || enabled || ' ' || source FROM indexpilot_status() WHERE name = '$name'");
}

my $node;
{
	local $ENV{INDEXPILOT_BYPASS_MODE}             = 'features';
	local $ENV{INDEXPILOT_BYPASS_ADVISING_ENABLED} = 'true';
	local $ENV{INDEXPILOT_BYPASS_TELEPORT_ENABLED} = 'true';
	local $ENV{INDEXPILOT_BYPASS_CAPTURE_HOOKS_ENABLED} = 'maybe';
	$node = indexpilot_node('bypass_env', conf => "indexpilot.index_building = off\n");
}
$node->safe_psql('postgres', 'CREATE EXTENSION indexpilot');

is(status($node, 'stats_collection'), 'off false environment', 'MODE=features turns stats collection off');
is(status($node, 'index_building'),   'off false environment', 'the environment beats the GUC');
is(status($node, 'advising'),         'on true environment',   'a per-feature variable wins over the mode');
is(status($node, 'capture_hooks'),    'on true guc',           'a bad value is ignored: the GUC decides');
is(status($node, 'system'),           'on true guc',           'MODE=features leaves the system on');
is($node->safe_psql('postgres', "SELECT setting || ' ' || source FROM indexpilot_status() WHERE name = 'bypass_mode'"),
	'features environment', 'status shows the mode and where it came from');
ok($node->log_contains(qr/WARNING:.*INDEXPILOT_BYPASS_TELEPORT_ENABLED: unknown variable/),
	'an unknown variable is logged');
ok($node->log_contains(qr/WARNING:.*INDEXPILOT_BYPASS_CAPTURE_HOOKS_ENABLED: invalid value "maybe"/),
	'a bad value is logged');
ok($node->log_contains(qr/indexpilot status at start: system=on\(guc\) stats_collection=off\(environment\)/),
	'the status line at start shows the environment');

$node->safe_psql('postgres', "SELECT indexpilot_enable_feature('stats_collection')");
is(status($node, 'stats_collection'), 'on true sql', 'a runtime SQL switch beats the environment');
$node->safe_psql('postgres', "SELECT indexpilot_reset_switch('stats_collection')");
is(status($node, 'stats_collection'), 'off false environment', 'after a reset the environment decides again');

# MODE=system: everything off, workers idle, hooks pass through; the server works normally.
$node->stop('fast');
{
	local $ENV{INDEXPILOT_BYPASS_MODE} = 'system';
	$node->start;
}
is(status($node, 'system'), 'off false environment', 'MODE=system turns the system off');
is($node->safe_psql('postgres', "SELECT count(*) FROM indexpilot_status() WHERE kind IN ('feature', 'module') AND enabled"),
	'0', 'no feature or module is in effect');
ok(worker_pid($node, 'postgres'), 'the worker still runs (idle)');
$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'indexpilot worker' AND query LIKE 'idle: %switched off'")
  or diag('worker activity did not show idle');
pass('worker reports that it idles');
is($node->safe_psql('postgres', 'CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g; SELECT count(*) FROM t'),
	'1000', 'queries run normally through the bypassed hooks');

ok(!$node->log_contains(qr/PANIC|TRAP:|terminated by signal/), 'no crash in the server log');
$node->stop('fast');
done_testing();
