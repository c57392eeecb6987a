# Without shared_preload_libraries: CREATE EXTENSION works, nothing runs in the background, and functions
# that need shared memory say how to preload.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IndexPilotTest;

my $node = indexpilot_node('no_preload', preload => 0);

my ($ret, $out, $err) = $node->psql('postgres', 'CREATE EXTENSION indexpilot');
is($ret, 0, 'CREATE EXTENSION works without preloading') or diag($err);
is($node->safe_psql('postgres', 'SELECT indexpilot_version() IS NOT NULL'), 't', 'indexpilot_version() works');
is($node->safe_psql('postgres', 'SHOW indexpilot.naptime'), '500ms', 'reloadable settings take their configured values');
($ret, $out, $err) = $node->psql('postgres', 'SHOW indexpilot.max_workers');
like($err, qr/unrecognized configuration parameter/, 'server-start settings exist only when preloaded');

($ret, $out, $err) = $node->psql('postgres', 'SELECT * FROM indexpilot_worker_status()');
isnt($ret, 0, 'indexpilot_worker_status() fails');
like($err, qr/ERROR:\s+indexpilot_worker_status\(\) requires indexpilot to be loaded via shared_preload_libraries/,
	'error names shared_preload_libraries');
like($err, qr/HINT:\s+Add 'indexpilot' to shared_preload_libraries/, 'hint says how to fix it');

sleep 2;
is( $node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'indexpilot%'"),
	'0', 'no IndexPilot process runs');

is($node->safe_psql('postgres', "SELECT indexpilot._selftest_cpp_error(5, 'none')"), '5',
	'C++ code runs in a backend that loaded the library on demand');
($ret, $out, $err) = $node->psql('postgres', "SELECT indexpilot._selftest_cpp_error(5, 'error')");
like($err, qr/selftest error thrown at depth 5/, 'errors cross the boundary without preloading too');

$node->safe_psql('postgres', 'DROP EXTENSION indexpilot');
ok(!$node->log_contains(qr/PANIC|TRAP:|terminated by signal/), 'no crash in the server log');
$node->stop('fast');
done_testing();
