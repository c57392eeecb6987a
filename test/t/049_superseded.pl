# The index lifecycle when two of IndexPilot's builds serve the same statements one after the other (issue
# #13): the buckets after the second build began measure both, so they are not counted for the first; with
# none left, nothing measures the first alone: it waits for the second one's verdict, then the worker asks
# the planner. Where the statements keep their cost without it (the second one serves them), it is
# reverted as superseded; where they need it (the second one does not serve them), it is validated on the
# planner's word. Each with its evidence, one outcome each.
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
	  . "indexpilot.advise_interval = '1h'\nindexpilot.validate_window = '30s'\nmax_parallel_workers_per_gather = 0\n");
$node->safe_psql('postgres', q{
	CREATE EXTENSION indexpilot;
	CREATE TABLE s_orders (id bigint PRIMARY KEY, tenant_id int NOT NULL, customer text NOT NULL, pad text NOT NULL);
	INSERT INTO s_orders SELECT g, g % 20, 'c' || (g % 500), repeat('x', 100) FROM generate_series(1, 100000) g;
	CREATE TABLE k_orders (id bigint PRIMARY KEY, tenant_id int NOT NULL, customer text NOT NULL, pad text NOT NULL);
	INSERT INTO k_orders SELECT g, g % 20, 'c' || (g % 500), 'p' || g FROM generate_series(1, 100000) g;
	ANALYZE s_orders; ANALYZE k_orders;
	SELECT indexpilot_register('s_orders', 'tenant_id'), indexpilot_register('k_orders', 'tenant_id');
});

my %pattern = (
	s_orders => "SELECT count(*) FROM s_orders WHERE tenant_id = %s AND customer = 'c' || %s",
	k_orders => "SELECT count(*) FROM k_orders WHERE tenant_id = %s AND customer = 'c' || %s",
	k_pad    => "SELECT count(*) FROM k_orders WHERE pad = 'p' || %s AND tenant_id >= %s");

sub traffic
{
	my ($name, $n) = @_;
	$node->safe_psql('postgres',
		"SELECT format(\$f\$$pattern{$name}\$f\$, g % 20, g % 500) FROM generate_series(1, $n) g \\gexec");
}

sub queryid_of
{
	my ($name) = @_;
	my $like = $pattern{$name} =~ s/%s.*//r;
	$node->poll_query_until('postgres', qq{
		SELECT count(*) > 0 FROM indexpilot.query_samples WHERE query LIKE \$q\$$like%\$q\$})
	  or die "$name was not captured";
	return $node->safe_psql('postgres', qq{
		SELECT queryid FROM indexpilot.query_samples WHERE query LIKE \$q\$$like%\$q\$ LIMIT 1});
}

# The lineage of a build as the builder writes it: proposal (its statements, and what they took as the
# decision saw them: 50 ms a call) -> started -> finished.
sub record_build
{
	my ($table, $index, @queryids) = @_;
	my $ids = join(', ', map { "${_}::bigint" } @queryids);
	my $before = join(', ', map { "'$_', jsonb_build_object('calls', 100, 'ms_per_call', 50)" } @queryids);
	return $node->safe_psql('postgres', qq{
		SELECT indexpilot._log_mutation('index_build_finished', 'public.$table', NULL, '$index', NULL,
		           jsonb_build_object('index_oid', '$index'::regclass::oid),
		           indexpilot._log_mutation('index_build_started', 'public.$table', NULL, '$index', NULL,
		               jsonb_build_object('index_oid', '$index'::regclass::oid),
		               indexpilot._log_mutation('index_proposed', 'public.$table', NULL, '$index', NULL,
		                   jsonb_build_object('queryids', jsonb_build_array($ids),
		                                      'before', jsonb_build_object($before)), NULL)))});
}

# Polls until $sql is true, running the traffic between tries.
sub until_true
{
	my ($sql, $timeout) = @_;
	for (my $t = 0; $t < $timeout; $t += 2)
	{
		return 1 if $node->safe_psql('postgres', $sql) eq 't';
		traffic($_, 10) for qw(s_orders k_orders k_pad);
		sleep(2);
	}
	return 0;
}

traffic($_, 100) for qw(s_orders k_orders k_pad);
my %qid = map { $_ => queryid_of($_) } qw(s_orders k_orders k_pad);

# First builds: s_orders (tenant_id) and k_orders (tenant_id, customer), each used by its statements.
$node->safe_psql('postgres', 'CREATE INDEX s_first ON s_orders (tenant_id); CREATE INDEX k_first ON k_orders (tenant_id, customer)');
record_build('s_orders', 's_first', $qid{s_orders});
record_build('k_orders', 'k_first', $qid{k_orders});
traffic($_, 60) for qw(s_orders k_orders);
# Second builds for the same statements, seconds later, before any bucket measured the first ones alone:
# s_orders (tenant_id, customer) serves its statements better than the first; k_orders (pad) serves the
# pad statement, which it is validated for, but not the statements of k_first.
$node->safe_psql('postgres', 'CREATE INDEX s_second ON s_orders (tenant_id, customer); CREATE INDEX k_second ON k_orders (pad)');
record_build('s_orders', 's_second', $qid{s_orders});
record_build('k_orders', 'k_second', $qid{k_orders}, $qid{k_pad});

# The later ones are judged first, on the buckets after them; the first ones wait for that.
ok(until_true(q{SELECT count(*) = 2 FROM indexpilot.mutation_log WHERE kind = 'index_validated'
                AND target_index IN ('s_second', 'k_second')}, 240), 'the later builds are validated on their own measurements');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM indexpilot.mutation_log m JOIN indexpilot.mutation_log v ON v.kind = 'index_validated'
	    AND v.target_index = 's_second' AND m.id < v.id
	WHERE m.target_index IN ('s_first', 'k_first') AND m.kind IN ('index_validated', 'index_reverted')}),
	'0', 'no verdict on the first ones came before the later one\'s');

ok(until_true(q{SELECT count(*) = 1 FROM indexpilot.mutation_log WHERE kind = 'index_reverted' AND target_index = 's_first'}, 60),
	'the first index, which the later one serves as well, is reverted');
is($node->safe_psql('postgres', q{
	SELECT details->>'reason' || ' ' || (details->>'superseded_by') || ' ' || (details->>'calls_after') || ' '
	       || ((details->>'cost_without')::float8 <= (details->>'cost_with')::float8 * 1.05)::text
	FROM indexpilot.mutation_log WHERE kind = 'index_reverted' AND target_index = 's_first'}),
	'superseded s_second 0 true',
	'as superseded: no bucket measured it alone, and the planner says its statements keep their cost without it');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_class WHERE relname = 's_first'"), '0', 'it is dropped');

ok(until_true(q{SELECT count(*) = 1 FROM indexpilot.mutation_log WHERE kind = 'index_validated' AND target_index = 'k_first'}, 60),
	'the first index that the later one does not replace is validated');
is($node->safe_psql('postgres', q{
	SELECT (details->>'judged_by') || ' ' || (details->>'superseded_by') || ' ' || coalesce(details->>'reason', 'none') || ' '
	       || ((details->>'cost_without')::float8 > (details->>'cost_with')::float8 * 1.05)::text
	FROM indexpilot.mutation_log WHERE kind = 'index_validated' AND target_index = 'k_first'}),
	'planner k_second none true', 'on the planner\'s word: its statements cost more without it');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_class WHERE relname = 'k_first'"), '1', 'it stays');
is($node->safe_psql('postgres', q{
	SELECT string_agg(target_index || ':' || kind, ',' ORDER BY target_index) FROM indexpilot.mutation_log
	WHERE kind IN ('index_validated', 'index_reverted')}),
	'k_first:index_validated,k_second:index_validated,s_first:index_reverted,s_second:index_validated',
	'exactly one outcome each');

ok(!$node->log_contains(qr/PANIC|TRAP:|terminated by signal/), 'server log is clean');
$node->stop;
done_testing();
