# The YAML config file: missing and malformed files never stop the server (logged with file, line and key;
# safe defaults stand), a valid file applies, and SIGHUP reloads it (a bad reload keeps the last good file).
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
		"SELECT setting || ' ' || coalesce(enabled::text, '-') || ' ' || source FROM indexpilot_status() WHERE name = '$name'");
}

sub write_config
{
	my ($node, $text) = @_;
	open(my $fh, '>', $node->data_dir . '/indexpilot.yaml') or die "cannot write config: $!";
	print $fh $text;
	close($fh);
}

# Missing file: the server starts, the problem is logged, the GUCs decide.
my $node = indexpilot_node('bypass_file', conf => "indexpilot.config_file = 'indexpilot.yaml'\n");
$node->safe_psql('postgres', 'CREATE EXTENSION indexpilot');
ok($node->log_contains(qr/WARNING:.*configuration file "indexpilot.yaml" is not usable; its settings are ignored/),
	'missing file: warning at start');
ok($node->log_contains(qr/indexpilot.yaml: cannot open file: No such file or directory/), 'missing file: says why');
is(status($node, 'advising'), 'on true guc', 'missing file: the GUCs decide');
like($node->safe_psql('postgres', "SELECT enabled || ' ' || detail FROM indexpilot_status() WHERE name = 'config_file'"),
	qr/^false .*cannot open file.*; ignored$/, 'missing file: status shows the problem');
ok(worker_pid($node, 'postgres'), 'missing file: the worker runs');

# Malformed at start.
$node->stop('fast');
write_config($node, "features:\n  advising: false\n  advisng: true\nmodules: [capture_hooks]\n");
$node->start;
ok($node->log_contains(qr/indexpilot.yaml:3: features.advisng: unknown feature/), 'malformed file: file, line and key');
ok($node->log_contains(qr/indexpilot.yaml:4: modules: expected a mapping/), 'malformed file: every problem is listed');
is(status($node, 'advising'), 'on true guc', 'malformed file: nothing from it applies');

# Syntax error at start.
$node->stop('fast');
write_config($node, "features: {advising: false\n");
$node->start;
ok($node->log_contains(qr/indexpilot.yaml:\d+: invalid YAML/), 'YAML syntax error: logged with a line');
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'YAML syntax error: the server runs');

# SIGHUP reload with a valid file.
write_config($node, "features:\n  advising: false\nmodules:\n  background_worker: false\n");
$node->reload;
ok( $node->poll_query_until('postgres',
		"SELECT source = 'config_file' AND setting = 'off' FROM indexpilot_status() WHERE name = 'advising'"),
	'reload: the valid file applies');
is(status($node, 'background_worker'), 'off false config_file', 'reload: modules too');
ok($node->log_contains(qr/indexpilot status after reload: .*advising=off\(config_file\)/), 'reload: status line logged');

# The GUC is weaker than the file; removing the key lets the GUC decide.
$node->append_conf('postgresql.conf', "indexpilot.index_building = off\n");
write_config($node, "features:\n  advising: false\n  index_building: true\n");
$node->reload;
ok( $node->poll_query_until('postgres',
		"SELECT source = 'guc' AND setting = 'on' FROM indexpilot_status() WHERE name = 'background_worker'"),
	'reload: a key removed from the file goes back to its GUC');
is(status($node, 'index_building'), 'on true config_file', 'the file beats the GUC');

# A malformed reload keeps the last good file in force.
write_config($node, "features:\n  advising: nope\n");
$node->reload;
ok( $node->poll_query_until('postgres',
		"SELECT detail LIKE '%features.advising: invalid value \"nope\"%stay in force' FROM indexpilot_status() WHERE name = 'config_file'"),
	'bad reload: status shows the problem');
is(status($node, 'advising'), 'off false config_file', 'bad reload: the last good settings stay');
ok($node->log_contains(qr/WARNING:.*not usable; the settings read before stay in force/), 'bad reload: logged');

# An empty path turns the file off.
$node->append_conf('postgresql.conf', "indexpilot.config_file = ''\n");
$node->reload;
ok( $node->poll_query_until('postgres',
		"SELECT source = 'guc' FROM indexpilot_status() WHERE name = 'advising'"),
	'config_file = \'\': the file no longer counts');
is(status($node, 'index_building'), 'off false guc', 'and the GUCs decide');

ok(!$node->log_contains(qr/PANIC|TRAP:|terminated by signal/), 'no crash in the server log');
$node->stop('fast');
done_testing();
