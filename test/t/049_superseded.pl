# The index lifecycle when two of IndexPilot's builds serve the same statements one after the other (issue
# #13): the buckets after the second build began measure both, so they are not counted for the first; with
# none left, nothing measures the first alone and the worker asks the planner. Where the statements keep
# their cost without it (the second one serves them), it is reverted as superseded; where they need it (the
# second one does not serve them), it is validated on the planner's word. Both with their evidence.
#
# The builds are recorded in the lineage by the test (as the builder records them) so that the second
# follows the first within seconds, as when the first cycles on little evidence choose a cheap index and a
# later cycle a better one for the same statements.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IndexPilotTest;

my $node = indexpilot_node('superseded',
	conf => "indexpilot.mode = 'auto'\nindexpilot.sample_rate = 1\nindexpilot.flush_interval = '2s'\n"
	  . "indexpilot.advise_interval = '1h'\nindexpilot.validate_window = '3s'\nmax_parallel_workers_per_gather = 0\n");
$node->safe_psql('postgres', q{
	CREATE EXTENSION indexpilot;
	CREATE TABLE s_orders (id bigint PRIMARY KEY, tenant_id int NOT NULL, customer text NOT NULL, pad text NOT NULL);
	INSERT INTO s_orders SELECT g, g % 20, 'c' || (g % 500), repeat('x', 100) FROM generate_series(1, 100000) g;
	CREATE TABLE k_orders (id bigint PRIMARY KEY, tenant_id int NOT NULL, customer text NOT NULL, pad text NOT NULL);
	INSERT INTO k_orders SELECT g, g % 20, 'c' || (g % 500), 'p' || g FROM generate_series(1, 100000) g;
	ANALYZE s_orders; ANALYZE k_orders;
	SELECT indexpilot_register('s_orders', 'tenant_id'), indexpilot_register('k_orders', 'tenant_id');
});

sub traffic
{
	my ($table, $n) = @_;
	$node->safe_psql('postgres',
		"SELECT format(\$f\$SELECT count(*) FROM $table WHERE tenant_id = %s AND customer = 'c' || %s\$f\$, g % 20, g % 500) "
		  . "FROM generate_series(1, $n) g \\gexec");
}

# The lineage of a build as the builder writes it: proposal (for the statement) -> started -> finished.
sub record_build
{
	my ($table, $index, $queryid) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT indexpilot._log_mutation('index_build_finished', 'public.$table', NULL, '$index', NULL,
		           jsonb_build_object('index_oid', '$index'::regclass::oid),
		           indexpilot._log_mutation('index_build_started', 'public.$table', NULL, '$index', NULL,
		               jsonb_build_object('index_oid', '$index'::regclass::oid),
		               indexpilot._log_mutation('index_proposed', 'public.$table', NULL, '$index', NULL,
		                   jsonb_build_object('queryids', jsonb_build_array(${queryid}::bigint)), NULL)))});
}

sub queryid_of
{
	my ($table) = @_;
	my $q;
	$node->poll_query_until('postgres', qq{
		SELECT count(*) > 0 FROM indexpilot.query_stats WHERE relid = '$table'::regclass AND queryid IS NOT NULL})
	  or die "no statement of $table was flushed";
	return $node->safe_psql('postgres', qq{
		SELECT queryid FROM indexpilot.query_stats WHERE relid = '$table'::regclass AND queryid IS NOT NULL
		GROUP BY queryid ORDER BY sum(calls) DESC LIMIT 1});
}

traffic($_, 100) for qw(s_orders k_orders);
my %qid = map { $_ => queryid_of($_) } qw(s_orders k_orders);

# First builds: s_orders (tenant_id), which its statements use; k_orders (tenant_id, customer), likewise.
$node->safe_psql('postgres', 'CREATE INDEX s_first ON s_orders (tenant_id); CREATE INDEX k_first ON k_orders (tenant_id, customer)');
record_build('s_orders', 's_first', $qid{s_orders});
record_build('k_orders', 'k_first', $qid{k_orders});
traffic($_, 60) for qw(s_orders k_orders);
sleep(3);    # a flush pass sees them used
# Second builds for the same statements, within seconds: s_orders (tenant_id, customer) serves them better
# than the first; k_orders (pad) does not serve them at all.
$node->safe_psql('postgres', 'CREATE INDEX s_second ON s_orders (tenant_id, customer); CREATE INDEX k_second ON k_orders (pad)');
record_build('s_orders', 's_second', $qid{s_orders});
record_build('k_orders', 'k_second', $qid{k_orders});
traffic($_, 60) for qw(s_orders k_orders);

ok($node->poll_query_until('postgres', q{
	SELECT count(*) = 1 FROM indexpilot.mutation_log WHERE kind = 'index_reverted' AND target_index = 's_first'}),
	'the first index, which a later one of ours serves better, is reverted');
is($node->safe_psql('postgres', q{
	SELECT details->>'reason' || ' ' || (details->>'superseded_by') || ' ' || (details->>'calls_after') || ' '
	       || ((details->>'cost_without')::float8 <= (details->>'cost_with')::float8 * 1.05)::text
	FROM indexpilot.mutation_log WHERE kind = 'index_reverted' AND target_index = 's_first'}),
	'superseded s_second 0 true',
	'as superseded: no bucket measured it alone, and the planner says its statements keep their cost without it');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_class WHERE relname = 's_first'"), '0', 'it is dropped');

ok($node->poll_query_until('postgres', q{
	SELECT count(*) = 1 FROM indexpilot.mutation_log WHERE kind = 'index_validated' AND target_index = 'k_first'}),
	'the first index that the later one does not replace is validated');
is($node->safe_psql('postgres', q{
	SELECT (details->>'judged_by') || ' ' || (details->>'superseded_by') || ' ' || coalesce(details->>'reason', 'none') || ' '
	       || ((details->>'cost_without')::float8 > (details->>'cost_with')::float8 * 1.05)::text
	FROM indexpilot.mutation_log WHERE kind = 'index_validated' AND target_index = 'k_first'}),
	'planner k_second none true', 'on the planner\'s word: its statements cost more without it');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_class WHERE relname = 'k_first'"), '1', 'it stays');
is($node->safe_psql('postgres', q{
	SELECT string_agg(kind, ',' ORDER BY id) FROM indexpilot.mutation_log
	WHERE target_index IN ('s_first', 'k_first') AND kind IN ('index_validated', 'index_reverted')}),
	'index_reverted,index_validated', 'exactly one outcome each');

ok(!$node->log_contains(qr/PANIC|TRAP:|terminated by signal/), 'server log is clean');
$node->stop;
done_testing();
