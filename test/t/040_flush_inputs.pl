# The flush never loses or blocks statistics: a flush that rolls back or fails (indexpilot_run_now() in a
# transaction that aborts) leaves the shapes in the store; two flushes at once (indexpilot_run_now() in two
# sessions, and the worker alongside) count each call exactly once; a session that flushed and stays in its
# transaction does not stall the worker (it skips that flush); and with the worker flushing every
# second, odd tenant values (two sharing their first 39 bytes, multibyte ones longer than the clip, an
# empty one) never stop a hot shape's calls from reaching query_stats.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use IndexPilotTest;

my $node = indexpilot_node('flush_inputs',
	conf => "indexpilot.sample_rate = 1\nindexpilot.flush_interval = '1h'\nindexpilot.advise_interval = '1h'\n");
$node->safe_psql('postgres', 'CREATE EXTENSION indexpilot');
$node->safe_psql('postgres', q{
	CREATE TABLE notes (id int PRIMARY KEY, tenant_id text NOT NULL, body text, topic text);
	INSERT INTO notes SELECT g, 't' || (g % 10), 'b' || g, 'x' || (g % 7) FROM generate_series(1, 2000) g;
	ANALYZE notes;
});

# $n statements of the hot shape (body = constant, no tenant).
sub hot
{
	my ($n) = @_;
	$node->safe_psql('postgres', join('', map { "SELECT count(*) FROM notes WHERE body = 'b$_';\n" } 1 .. $n));
}

# calls of the hot shape in query_stats and in the store
sub counts
{
	return $node->safe_psql('postgres', q{
		SELECT (SELECT coalesce(sum(calls), 0) FROM indexpilot.query_stats
		        WHERE relid = 'notes'::regclass AND attnums = '{3}' AND tenant_scope = 'none')
		       || '/' ||
		       (SELECT coalesce(sum(calls), 0) FROM indexpilot.live_stats
		        WHERE relation = 'notes'::regclass AND columns = '{body}' AND tenant_scope = 'none')});
}

# ---- a flush that does not commit takes nothing --------------------------------------------------------
hot(20);
is(counts(), '0/20', 'twenty calls in the store');
$node->safe_psql('postgres', 'BEGIN; SELECT count(*) FROM indexpilot_run_now(); ROLLBACK;');
is(counts(), '0/20', 'run_now rolled back: the calls are still in the store');
my ($ret, $out, $err) =
  $node->psql('postgres', 'BEGIN; SELECT count(*) FROM indexpilot_run_now(); SELECT 1 / 0; COMMIT;');
isnt($ret, 0, 'a transaction that fails after run_now');
is(counts(), '0/20', 'failed after run_now: the calls are still in the store');
$node->safe_psql('postgres', 'SELECT count(*) FROM indexpilot_run_now()');
is(counts(), '20/0', 'run_now committed: the calls moved to query_stats');

# ---- two run_now at once ---------------------------------------------------------------------------------
hot(10);
my $first = $node->background_psql('postgres');
$first->query_safe('BEGIN');
$first->query_safe('SELECT count(*) FROM indexpilot_run_now()');
hot(5);
my $second = $node->background_psql('postgres');
$second->query_until(qr/started/, q{
	\echo started
	SELECT count(*) FROM indexpilot_run_now();
	\echo done
});
ok( $node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%indexpilot_run_now%'"),
	'the second run_now waits for the first one to end');
$first->query_safe('COMMIT');
$second->query_until(qr/done/, '');
is(counts(), '35/0', 'two run_now at once: every call counted once');
hot(3);
$first->query_safe('BEGIN');
$first->query_safe('SELECT count(*) FROM indexpilot_run_now()');
hot(4);
$second->query_until(qr/started/, q{
	\echo started
	SELECT count(*) FROM indexpilot_run_now();
	\echo done
});
$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%indexpilot_run_now%'");
$first->query_safe('ROLLBACK');
$second->query_until(qr/done/, '');
is(counts(), '42/0', 'the first run_now rolled back: the second took its calls too');
$second->quit;

# ---- the worker flushes every second, alongside run_now and odd tenants --------------------------------
$node->safe_psql('postgres', "ALTER SYSTEM SET indexpilot.flush_interval = '1s'");
$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
# A session that flushed and sits in its open transaction: the worker skips its flushes, it does not wait.
hot(2);
my $offset = -s $node->logfile;
$first->query_safe('BEGIN');
$first->query_safe('SELECT count(*) FROM indexpilot_run_now()');
hot(3);
$node->wait_for_log(qr/flush skipped: another transaction is flushing this database/, $offset);
is(counts(), '42/5', 'the worker skips while a session holds the flush; others still see what it took');
$first->query_safe('COMMIT');
$first->quit;
ok( $node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM indexpilot.live_stats WHERE relation = 'notes'::regclass"),
	'after that commit the worker flushes again');
is(counts(), '47/0', 'nothing taken twice, nothing lost');
my $odd = join('',
	"SELECT count(*) FROM notes WHERE tenant_id = repeat('x', 39) || 'a' AND topic = 'x1';\n",
	"SELECT count(*) FROM notes WHERE tenant_id = repeat('x', 39) || 'b' AND topic = 'x1';\n",
	"SELECT count(*) FROM notes WHERE tenant_id = repeat('é', 30) AND topic = 'x1';\n",
	"SELECT count(*) FROM notes WHERE tenant_id = repeat('€', 20) || 'a' AND topic = 'x1';\n",
	"SELECT count(*) FROM notes WHERE tenant_id = repeat('€', 20) || 'b' AND topic = 'x1';\n",
	"SELECT count(*) FROM notes WHERE tenant_id = '' AND topic = 'x1';\n");
for my $round (1 .. 10)
{
	$node->safe_psql('postgres', $odd);
	hot(6);
	$node->safe_psql('postgres', 'SELECT count(*) FROM indexpilot_run_now()') if $round % 3 == 0;
	usleep(300_000);
}
ok( $node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM indexpilot.live_stats WHERE relation = 'notes'::regclass"),
	'the worker flushed everything');
is(counts(), '107/0', 'with odd tenants and concurrent run_now, every hot call reached query_stats once');
is( $node->safe_psql('postgres', q{
		SELECT sum(calls) FROM indexpilot.query_stats WHERE relid = 'notes'::regclass AND attnums = '{2,4}'}),
	'60', 'every odd-tenant call reached query_stats');
is( $node->safe_psql('postgres', q{
		SELECT string_agg(DISTINCT tenant_scope || ':' || octet_length(tenant) || ':' || length(tenant), ',' ORDER BY tenant_scope || ':' || octet_length(tenant) || ':' || length(tenant))
		FROM indexpilot.query_stats WHERE relid = 'notes'::regclass AND attnums = '{2,4}'}),
	'other_tenants:0:0,tenant:38:19,tenant:39:13,tenant:39:39',
	'tenant texts clipped on a character boundary; the empty tenant counts with the other tenants');
is($node->safe_psql('postgres', "SELECT pg_catalog.convert_to(string_agg(tenant, ''), 'UTF8') IS NOT NULL FROM indexpilot.query_stats"),
	't', 'the stored tenant texts are valid in the database encoding');
my $log = slurp_file($node->logfile);
unlike($log, qr/cycle failed/, 'no worker cycle failed');
unlike($log, qr/ON CONFLICT DO UPDATE command cannot affect row a second time/, 'no flush hit one key twice');

$node->stop;
done_testing();
