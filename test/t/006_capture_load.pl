# Capture under load: a full store evicts without error, and 8 concurrent clients running a mixed CRM-like
# workload (reads by tenant, joins, writes, statements cut short by statement_timeout) see no error while
# every call is counted.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IndexPilotTest;

my $node = indexpilot_node('capture_load',
	conf => "indexpilot.max_tracked = 100\nindexpilot.sample_rate = 1\nmax_connections = 40\n"
	  . "indexpilot.flush_interval = '1h'\n");  # the store stays unflushed for the counts below
$node->safe_psql('postgres', 'CREATE EXTENSION indexpilot');

# ---- a store that overflows: 30 columns, every pair of them filtered once = 435 shapes for 100 places ----
my $cols = join(', ', map { "c$_ int" } 1 .. 30);
$node->safe_psql('postgres', "CREATE TABLE wide (id int PRIMARY KEY, $cols)");
$node->safe_psql('postgres',
	'INSERT INTO wide SELECT g, ' . join(', ', map { "g % $_" } 1 .. 30) . ' FROM generate_series(1, 200) g');
my $sql = '';
for my $i (1 .. 30)
{
	for my $j ($i + 1 .. 30)
	{
		$sql .= "SELECT count(*) FROM wide WHERE c$i = 1 AND c$j = 2;\n";
	}
}
my ($ret, $out, $err) = $node->psql('postgres', $sql);
is($ret, 0, '435 distinct shapes into a store of 100: every statement succeeds');
is($err, '', 'no error or warning reached the client');
my ($entries, $max, $evictions, $dropped, $internal) = split /\|/,
  $node->safe_psql('postgres',
	'SELECT entries, max_entries, evictions, dropped, internal_errors FROM indexpilot.capture_counters');
cmp_ok($entries, '<=', $max, "store stays within its bound ($entries of $max entries)");
cmp_ok($evictions, '>', 300, "least-used entries were evicted in batches ($evictions evictions)");
is($internal, 0, 'no internal capture error');
is($node->safe_psql('postgres', "SELECT count(*) > 0 FROM indexpilot.live_stats WHERE relation = 'wide'::regclass"),
	't', 'recent shapes are kept');

# ---- 8 clients for a while --------------------------------------------------------------------------
$node->safe_psql('postgres', 'SELECT indexpilot_reset_live_stats()');
$node->safe_psql('postgres', q{
	CREATE TABLE orgs (id bigint PRIMARY KEY, tenant_id int NOT NULL, industry text);
	CREATE TABLE contacts (id bigserial PRIMARY KEY, tenant_id int NOT NULL, org_id bigint, email text, phone text);
	INSERT INTO orgs SELECT g, g % 50, (ARRAY['retail','tech','health'])[g % 3 + 1] FROM generate_series(1, 500) g;
	INSERT INTO contacts (tenant_id, org_id, email, phone)
	SELECT g % 50, g % 500 + 1, 'c' || g || '@x.test', (g % 997)::text FROM generate_series(1, 20000) g;
	CREATE INDEX ON contacts (tenant_id, email);
	ANALYZE orgs, contacts;
});
my $script = q{
\set t random(0, 49)
\set n random(1, 20000)
SELECT count(*) FROM contacts WHERE tenant_id = :t AND email = 'c' || :n || '@x.test';
SELECT count(*) FROM contacts WHERE tenant_id = :t AND phone = (:n % 997)::text;
SELECT count(*) FROM contacts c JOIN orgs o ON o.id = c.org_id WHERE c.tenant_id = :t AND o.industry = 'tech';
UPDATE contacts SET phone = phone WHERE id = :n;
INSERT INTO contacts (tenant_id, org_id, email, phone) VALUES (:t, :n % 500 + 1, 'new' || :n, '1');
};
$node->pgbench('--no-vacuum --client=8 --jobs=2 --time=15 --protocol=prepared',
	0, [qr/number of failed transactions: 0 \(0\.000%\)/], [qr/^$/],
	'8 clients for 15 s: no failed transaction, nothing on stderr',
	{ 'capture_load_mix' => $script });
my $xacts = $node->safe_psql('postgres', "SELECT count(*) FROM contacts WHERE email LIKE 'new%'");
my $phone_calls = $node->safe_psql('postgres',
	"SELECT sum(calls) FROM indexpilot.live_stats WHERE relation = 'contacts'::regclass AND columns = '{tenant_id,phone}'");
is($phone_calls, $xacts, "every sampled call was counted ($phone_calls calls for $xacts transactions)");
is( $node->safe_psql('postgres',
		"SELECT count(DISTINCT tenant) FILTER (WHERE tenant_scope = 'tenant') <= 16 FROM indexpilot.live_stats WHERE columns = '{tenant_id,phone}'"),
	't', 'tenants kept apart stay bounded');
is($node->safe_psql('postgres', 'SELECT internal_errors FROM indexpilot.capture_counters'), '0',
	'no internal capture error under load');

# Statements cancelled by statement_timeout from several clients are counted as cancelled.
my $slow = q{
SET statement_timeout = '50ms';
SELECT count(*) FROM contacts WHERE phone = '5' AND pg_sleep(0.2) IS NOT NULL;
};
$node->pgbench('--no-vacuum --client=4 --jobs=2 --transactions=3 --protocol=simple',
	2, [qr/processed/], [qr/canceling statement due to statement timeout/],
	'cancelled statements fail only as the timeout says', { 'capture_load_slow' => $slow });
cmp_ok($node->safe_psql('postgres',
		"SELECT coalesce(sum(cancelled_calls), 0) FROM indexpilot.live_stats WHERE columns = '{phone}'"),
	'>=', 4, 'statements cut short by statement_timeout were recorded as cancelled');

# ---- only the extension's genome names tenant keys --------------------------------------------------
# In a database without the extension, a look-alike indexpilot.genome_tables (anyone who may create a
# schema could make one) must not choose which column's values capture keeps as tenants.
$node->safe_psql('postgres', 'CREATE DATABASE lookalike');
$node->safe_psql('lookalike', q{
CREATE SCHEMA indexpilot;
CREATE TABLE indexpilot.genome_tables (relid regclass PRIMARY KEY, tenant_key name NOT NULL);
CREATE TABLE accounts (acct int, tenant_id int, v text);
INSERT INTO accounts SELECT g % 10, g % 7, 'v' || g FROM generate_series(1, 100) g;
INSERT INTO indexpilot.genome_tables VALUES ('accounts', 'acct');
});
$node->safe_psql('lookalike', "SELECT count(*) FROM accounts WHERE acct = 5 AND tenant_id = 3 AND v = 'v1'");
is($node->safe_psql('postgres', q{
	SELECT string_agg(s.tenant_scope || ':' || coalesce(s.tenant, ''), ',')
	FROM indexpilot._live_stats() s
	WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = 'lookalike') AND s.kind <> 'statement'}),
	'tenant:3', 'a look-alike genome is ignored: the tenant comes from indexpilot.tenant_column');

ok(!$node->log_contains(qr/PANIC|TRAP:|terminated by signal|injected capture fault/), 'server log is clean');
$node->stop('fast');
done_testing();
