# Left on by itself (issue #12, "leave it on"): with auto mode and no indexpilot_run_now() call, every hot
# index is valid within three flush intervals plus the build time. The worker alone flushes, decides and
# builds; once a run of the cost model has started a build, the next one comes as soon as that build ends
# (builds proceed in order of value until the chosen set exists), not an advise interval later.
#
# Intervals are shortened to 10 s (flush and advise alike) so the test takes seconds, not minutes; the
# capture settings are the defaults. Five hot patterns on a table with an ORM's surrogate key and no index
# on the tenant each need an index of their own: one build an interval would take five intervals.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use IndexPilotTest;

my $interval = 10;
my $node = indexpilot_node('leave_it_on',
	conf => "indexpilot.mode = 'auto'\n"
	  . "indexpilot.flush_interval = '${interval}s'\nindexpilot.advise_interval = '${interval}s'\n"
	  . "max_parallel_workers_per_gather = 0\n");
$node->safe_psql('postgres', q{
	CREATE EXTENSION indexpilot;
	CREATE TABLE contacts (
		id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		tenant_id int NOT NULL, email text NOT NULL, phone text NOT NULL, city text NOT NULL, title text NOT NULL,
		country text NOT NULL);
	INSERT INTO contacts (tenant_id, email, phone, city, title, country)
	SELECT g % 100, 'u' || g || '@example.com', 'p' || g, 'city ' || (g % 400), 'title ' || (g % 300),
	       'country ' || (g % 200)
	FROM generate_series(1, 300000) g;
	SELECT pg_stat_force_next_flush();
});
$node->safe_psql('postgres', "ANALYZE contacts; SELECT indexpilot_register('contacts', 'tenant_id')");

# The workload: five hot patterns, a few hundred statements, interleaved; no run_now.
my $started = time;
my @statements;
for my $i (1 .. 60)
{
	my $t = $i % 100;
	push @statements,
	  "SELECT count(*) FROM contacts WHERE tenant_id = $t AND email = 'u${i}7\@example.com';",
	  "SELECT count(*) FROM contacts WHERE tenant_id = $t AND phone = 'p${i}3';",
	  "SELECT count(*) FROM contacts WHERE tenant_id = $t AND city = 'city " . ($i % 400) . "';",
	  "SELECT count(*) FROM contacts WHERE tenant_id = $t AND title = 'title " . ($i % 300) . "';",
	  "SELECT count(*) FROM contacts WHERE tenant_id = $t AND country = 'country " . ($i % 200) . "';";
}
$node->safe_psql('postgres', join("\n", @statements));

my @hot = qw(email phone city title country);    # each pattern's own column, in one of IndexPilot's indexes
my $valid_sql = q{
	SELECT coalesce(string_agg(cols, ';' ORDER BY cols), '') FROM (
		SELECT (SELECT string_agg(a.attname, ',' ORDER BY k.ord)
		        FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
		        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum) AS cols
		FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		WHERE i.indrelid = 'contacts'::regclass AND i.indisvalid AND c.relname LIKE 'indexpilot%') s};
# Whether the valid indexes (";"-separated column lists) include every hot column.
sub serves_all
{
	my %have = map { $_ => 1 } map { split /,/ } split /;/, shift;
	return !grep { !$have{$_} } @hot;
}
my $allowance = 10;    # the five builds' time (each well under a second here)
my $deadline = $started + 3 * $interval + $allowance;
my ($got, $done_at) = ('', undef);
while (time < $deadline)
{
	$got = $node->safe_psql('postgres', $valid_sql);
	if (serves_all($got))
	{
		$done_at = time;
		last;
	}
	sleep 0.5;
}
my $builds = $node->safe_psql('postgres', q{
	SELECT string_agg(to_char(m.occurred_at, 'HH24:MI:SS.MS') || ' ' || m.target_index, ', ' ORDER BY m.id)
	FROM indexpilot.mutation_log m WHERE m.kind = 'index_build_finished'});
diag("valid IndexPilot indexes: $got");
diag("builds finished: $builds");
diag(sprintf('all hot indexes valid %.1f s after the workload started (deadline %d s)',
	$done_at - $started, 3 * $interval + $allowance)) if defined $done_at;
ok(defined $done_at, 'every hot index is valid within three flush intervals plus the build time, no run_now');
ok(serves_all($got), "each of the five hot patterns has an index with its column (@hot)");
is($node->safe_psql('postgres',
		"SELECT count(*) FROM indexpilot.mutation_log WHERE kind = 'index_build_failed'"), '0', 'no build failed');

$node->stop;
done_testing();
