# IndexPilot touches only what it made: a DBA's own INVALID index named indexpilot_* and a partitioned
# INVALID index are left alone and do not stop the worker's cycle; the INVALID indexes of killed builds are
# dropped by the OID their index_build_started row recorded, and one drop that fails (its table is locked)
# does not keep the other from being dropped; two schemas with a table of the same name get two indexes.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IndexPilotTest;

my $node = indexpilot_node('own_objects',
	conf => "indexpilot.mode = 'auto'\nindexpilot.sample_rate = 1\nindexpilot.min_calls = 20\n"
	  . "indexpilot.flush_interval = '1h'\nindexpilot.advise_interval = '1h'\n"
	  . "indexpilot.build_lock_timeout = '1s'\n"
	  . "indexpilot.build_retry_backoff = '1s'\nindexpilot.build_retry_backoff_max = '2s'\n"
	  . "max_parallel_workers_per_gather = 0\n");
$node->safe_psql('postgres', 'CREATE EXTENSION indexpilot');

for my $schema ('s1', 's2')
{
	$node->safe_psql('postgres', qq{
		CREATE SCHEMA $schema;
		CREATE TABLE $schema.orders (id bigint PRIMARY KEY, tenant_id integer NOT NULL, customer text NOT NULL);
		INSERT INTO $schema.orders SELECT g, g % 20, 'c' || g FROM generate_series(1, 20000) g;
		SELECT pg_stat_force_next_flush();
	});
	$node->safe_psql('postgres', "ANALYZE $schema.orders; SELECT indexpilot_register('$schema.orders', 'tenant_id')");
}

# ---- what a DBA made: an INVALID index named indexpilot_*, and a partitioned INVALID index ------------
$node->safe_psql('postgres', q{
	CREATE TABLE s1.dups (x integer);
	INSERT INTO s1.dups VALUES (1), (1);
	CREATE TABLE s1.parted (x integer) PARTITION BY RANGE (x);
	CREATE TABLE s1.parted_1 PARTITION OF s1.parted FOR VALUES FROM (0) TO (100);
	CREATE INDEX indexpilot_parted_x ON ONLY s1.parted (x);
});
my ($rc, $stdout, $stderr) =
  $node->psql('postgres', 'CREATE UNIQUE INDEX CONCURRENTLY indexpilot_dba_unique ON s1.dups (x)');
like($stderr, qr/could not create unique index/, 'the DBA\'s unique index fails');
my $dba_invalid = q{SELECT string_agg(c.relname || ':' || c.relkind::text, ',' ORDER BY c.relname) FROM pg_index i
	JOIN pg_class c ON c.oid = i.indexrelid WHERE NOT i.indisvalid AND c.relname IN ('indexpilot_dba_unique', 'indexpilot_parted_x')};
is($node->safe_psql('postgres', $dba_invalid), 'indexpilot_dba_unique:i,indexpilot_parted_x:I',
	'both are INVALID');

my $worker = worker_pid($node, 'postgres');
ok($worker, 'the worker runs');

sub loops
{
	return $node->safe_psql('postgres',
		"SELECT coalesce(max(loops), 0) FROM indexpilot_worker_status() WHERE role = 'worker'");
}

sub wait_cycles
{
	my ($n) = @_;
	my $target = loops() + $n;
	return $node->poll_query_until('postgres',
		"SELECT max(loops) >= $target FROM indexpilot_worker_status() WHERE role = 'worker'");
}

ok(wait_cycles(5), 'the worker keeps cycling');
is($node->safe_psql('postgres', $dba_invalid), 'indexpilot_dba_unique:i,indexpilot_parted_x:I',
	'after five cycles both INVALID indexes of the DBA are still there');
is(worker_pid($node, 'postgres'), $worker, 'the same worker process (it never failed)');

# ---- builds killed mid-build; one leftover's drop fails, the other's still happens ------------------
sub traffic
{
	my ($schema) = @_;
	$node->safe_psql('postgres',
		"SELECT format('SELECT count(*) FROM $schema.orders WHERE tenant_id = %s AND customer = %L', g % 20, 'c' || g) "
		  . "FROM generate_series(1, 200) g \\gexec");
}
traffic('s1');
traffic('s2');

sub last_mutation
{
	return $node->safe_psql('postgres', 'SELECT coalesce(max(id), 0) FROM indexpilot.mutation_log');
}

my $blocker = $node->background_psql('postgres');
$blocker->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$blocker->query_safe('SELECT 1');

# Starts a build with run_now and kills its builder while it waits for the blocker's snapshot.
# Returns (schema, index name, index oid).
sub start_waiting_build
{
	my $out = $node->safe_psql('postgres',
		"SELECT table_name || ' ' || index_name FROM indexpilot_run_now() WHERE action = 'build_started'");
	my ($table, $index) = split / /, ($out // '');
	$table //= 'none';
	$index //= 'none';
	ok($node->poll_query_until('postgres',
			"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'indexpilot builder' AND wait_event = 'virtualxid'"),
		"the build of $index on $table waits for the old snapshot");
	my $oid = $node->safe_psql('postgres', "SELECT coalesce(to_regclass('" . ($table =~ s/\..*//r) . ".$index')::oid, 0)");
	return ($table, $index, $oid);
}

sub kill_builder
{
	$node->safe_psql('postgres',
		"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'indexpilot builder'");
	return $node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'indexpilot builder'");
}

my $since = last_mutation();
my ($locked_table, $locked_index, $locked_oid) = start_waiting_build();
# A session that will hold the table's lock once the builder is gone: the leftover's DROP times out.
my $locker = $node->background_psql('postgres');
$locker->query_until(qr/locking/, "\\echo locking\nBEGIN; LOCK TABLE $locked_table IN SHARE UPDATE EXCLUSIVE MODE;\n");
ok(kill_builder(), 'builder killed');
ok($node->poll_query_until('postgres', qq{
		SELECT count(*) = 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.relation = '$locked_table'::regclass AND l.granted AND l.mode = 'ShareUpdateExclusiveLock'
		  AND a.backend_type = 'client backend'}),
	"the locker holds $locked_table");
ok($node->poll_query_until('postgres', qq{
		SELECT count(*) = 1 FROM indexpilot.mutation_log WHERE kind = 'index_build_abandoned' AND id > $since
		  AND target_index = '$locked_index'}),
	'the killed build is recorded as abandoned');
ok(wait_cycles(2), 'the worker keeps cycling while the drop fails');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_class WHERE oid = $locked_oid"), '1',
	'the leftover on the locked table is still there');

my ($other_table, $other_index, $other_oid) = start_waiting_build();
isnt($other_table, $locked_table, "the second build is on the other table ($other_table)");
ok(kill_builder(), 'second builder killed');
ok($node->poll_query_until('postgres', "SELECT count(*) = 0 FROM pg_class WHERE oid = $other_oid"),
	'the second leftover is dropped although the first one\'s drop fails');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_class WHERE oid = $locked_oid"), '1',
	'... and the first is still there');
is(worker_pid($node, 'postgres'), $worker, 'the same worker process');
ok($node->log_contains(qr/could not drop INVALID index .*\Q$locked_index\E/), 'the failed drop is logged');

$locker->query_safe('COMMIT');
$locker->quit;
ok($node->poll_query_until('postgres', "SELECT count(*) = 0 FROM pg_class WHERE oid = $locked_oid"),
	'once the lock is released the first leftover is dropped too');
is($node->safe_psql('postgres', qq{
		SELECT string_agg(kind, ',' ORDER BY id) FROM indexpilot.mutation_log WHERE id > $since
		AND target_index = '$locked_index' AND kind <> 'index_proposed'}),
	'index_build_started,index_build_abandoned,index_dropped', 'its lineage: started, abandoned, dropped');
$blocker->query_safe('COMMIT');
$blocker->quit;

# ---- two schemas, one table name: two indexes ---------------------------------------------------------
my $ours = q{SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
	WHERE i.indisvalid AND c.relname LIKE 'indexpilot\_%' AND i.indrelid = 'SCHEMA.orders'::regclass};
for my $round (1 .. 10)
{
	last if $node->safe_psql('postgres', $ours =~ s/SCHEMA/s1/r) eq '1'
	  && $node->safe_psql('postgres', $ours =~ s/SCHEMA/s2/r) eq '1';
	sleep(2);    # past the backoff of the killed builds
	$node->safe_psql('postgres', 'SELECT count(*) FROM indexpilot_run_now()');
	$node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'indexpilot builder'");
}
is($node->safe_psql('postgres', $ours =~ s/SCHEMA/s1/r), '1', 's1.orders has its index');
is($node->safe_psql('postgres', $ours =~ s/SCHEMA/s2/r), '1', 's2.orders has its own index');
is($node->safe_psql('postgres', q{SELECT count(DISTINCT c.relname) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
	WHERE c.relname LIKE 'indexpilot\_%' AND i.indrelid IN ('s1.orders'::regclass, 's2.orders'::regclass)}),
	'2', 'with two different names');

is($node->safe_psql('postgres', $dba_invalid), 'indexpilot_dba_unique:i,indexpilot_parted_x:I',
	'the DBA\'s INVALID indexes are still there at the end');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM indexpilot.mutation_log WHERE target_index IN ('indexpilot_dba_unique', 'indexpilot_parted_x')"),
	'0', 'and IndexPilot never recorded anything about them');
is(worker_pid($node, 'postgres'), $worker, 'the same worker process throughout');
ok(!$node->log_contains(qr/PANIC|TRAP:|terminated by signal/), 'no PANIC, assertion failure or signal death');
$node->stop('fast');
done_testing();
