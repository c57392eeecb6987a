# Any database (issue #14): IndexPilot manages the tables people have, registered or not, with or without a
# tenant key, with analytic statements and partitioned tables.
#
#  1. manage = all (the default): an unregistered table with no tenant column is discovered (genome row
#     marked discovered, genome_discover in the lineage) and gets its hot index; a table created later is
#     picked up, a dropped one forgotten.
#  2. manage = registered: nothing unregistered gets an index, discovered tables are forgotten
#     (genome_forget); indexpilot_register(table) without a tenant key then serves it.
#  3. indexpilot.exclude: a table of an excluded schema gets nothing, its neighbour outside it its index.
#  4. Join keys on the inner side: of a nested loop (the index lets the planner look up the inner rows per
#     outer row) and of a correlated subquery (a SubPlan whose scan compares with the outer row).
#  5. A statement cancelled by statement_timeout on every run still gets its index, and then finishes.
#  6. A partitioned table gets a partitioned index attached on every partition (lineage: started, one
#     index_partition_built per partition, finished); a partition added afterwards gets its index.
#  7. A build that fails on one partition leaves no index behind: nothing INVALID, nothing half-attached.
#
# Each case has its own database; decisions come from indexpilot_run_now() (the worker's flush and advise
# intervals are an hour). Every statement is sampled (sample_rate 1) so the case does not hang on the draw.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IndexPilotTest;

my $node = indexpilot_node('anydb',
	conf => "indexpilot.mode = 'auto'\nindexpilot.sample_rate = 1\n"
	  . "indexpilot.flush_interval = '1h'\nindexpilot.advise_interval = '1h'\n"
	  . "indexpilot.build_lock_timeout = '1min'\nmax_parallel_workers_per_gather = 0\n");

# A database with the extension, loaded by $sql, then analyzed ($analyze: which tables; all by default).
sub new_database
{
	my ($db, $sql, $analyze) = @_;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, "CREATE EXTENSION indexpilot; $sql; SELECT pg_stat_force_next_flush();");
	$node->safe_psql($db, 'ANALYZE' . ($analyze ? " $analyze" : ''));
}

sub set_conf
{
	my ($name, $value) = @_;
	$node->safe_psql('postgres', "ALTER SYSTEM SET $name = '$value'; SELECT pg_reload_conf()");
	$node->poll_query_until('postgres', "SELECT current_setting('$name') = '$value'")
	  or die "$name did not become $value";
}

# Runs $sql $n times (one session), each with constants from $n distinct values of :v.
sub run_workload
{
	my ($db, $n, @sqls) = @_;
	my $script = '';
	for my $i (1 .. $n)
	{
		$script .= join('', map { (my $s = $_) =~ s/:v/$i/g; "$s;\n" } @sqls);
	}
	$node->safe_psql($db, $script);
}

sub last_mutation
{
	my ($db) = @_;
	return $node->safe_psql($db, 'SELECT coalesce(max(id), 0) FROM indexpilot.mutation_log');
}

# One cycle; then waits for the build it started (if any). Returns the run_now rows as 'table|cols|action'.
sub cycle
{
	my ($db) = @_;
	my $since = last_mutation($db);
	my $rows = $node->safe_psql($db,
		"SELECT table_name || '|' || array_to_string(columns, ',') || '|' || coalesce(action, '') "
		  . "FROM indexpilot_run_now() ORDER BY 1");
	if ($rows =~ /\|build_started/)
	{
		$node->poll_query_until($db,
			"SELECT count(*) > 0 FROM indexpilot.mutation_log WHERE id > $since "
			  . "AND kind IN ('index_build_finished', 'index_build_failed', 'index_skipped')")
		  or diag("no build outcome after mutation $since");
		$node->poll_query_until('postgres',
			"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'indexpilot builder'");
	}
	return $rows;
}

# Cycles until one starts no build (at most $rounds).
sub settle
{
	my ($db, $rounds) = @_;
	my $all = '';
	for (1 .. $rounds)
	{
		my $rows = cycle($db);
		$all .= "$rows\n";
		last unless $rows =~ /\|build_started/;
	}
	return $all;
}

# IndexPilot's indexes on $table as 'col,col' (valid ones; INVALID ones marked).
sub own_indexes
{
	my ($db, $table) = @_;
	my $out = $node->safe_psql($db, qq{
		SELECT (SELECT string_agg(a.attname, ',' ORDER BY k.ord)
		        FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
		        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum)
		       || CASE WHEN i.indisvalid THEN '' ELSE ' (INVALID)' END
		FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		WHERE i.indrelid = '$table'::regclass AND c.relname LIKE 'indexpilot\\_%' ORDER BY 1});
	return $out;
}

sub lineage_kinds
{
	my ($db, $table) = @_;
	return $node->safe_psql($db,
		"SELECT string_agg(kind, ',' ORDER BY id) FROM indexpilot.mutation_log WHERE target_table = '$table'");
}

# ==== 1. manage = all: an unregistered table without a tenant key ================================
is($node->safe_psql('postgres', 'SHOW indexpilot.manage'), 'all', 'indexpilot.manage is all by default');
new_database('plain', q{
	CREATE TABLE public.readings (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, sensor integer NOT NULL,
	                              value float8 NOT NULL, note text);
	INSERT INTO public.readings (sensor, value, note)
	SELECT g % 4000, g * 0.5, 'reading ' || g FROM generate_series(1, 300000) g
});
run_workload('plain', 40, 'SELECT count(*) FROM public.readings WHERE sensor = :v');
my $rows = settle('plain', 3);
is($node->safe_psql('plain',
		"SELECT discovered::text || '/' || coalesce(tenant_key, '(none)') FROM indexpilot.genome_tables "
		  . "WHERE relid = 'public.readings'::regclass"),
	'true/(none)', 'case 1: the unregistered table is in the genome, discovered, without a tenant key');
like(lineage_kinds('plain', 'public.readings'), qr/^genome_discover,index_proposed,index_build_started,index_build_finished/,
	'... its lineage begins with its discovery, then the build');
is(own_indexes('plain', 'public.readings'), 'sensor', '... and it got its hot index (sensor)') or diag($rows);

$node->safe_psql('plain', 'CREATE TABLE public.later (id int, k int)');
cycle('plain');
is($node->safe_psql('plain',
		"SELECT count(*) FROM indexpilot.mutation_log WHERE kind = 'genome_discover' AND target_table = 'public.later'"),
	'1', '... a table created later is discovered by the next cycle');
$node->safe_psql('plain', 'DROP TABLE public.later');
is($node->safe_psql('plain',
		"SELECT (SELECT count(*) FROM indexpilot.genome_tables WHERE table_name = 'public.later') || '/' || "
		  . "(SELECT count(*) FROM indexpilot.mutation_log WHERE kind = 'table_dropped' AND target_table = 'public.later')"),
	'0/1', '... and a dropped one is forgotten, with a table_dropped row');

# ==== 2. manage = registered ==================================================================
new_database('reg', q{
	CREATE TABLE public.items (id bigint PRIMARY KEY, code integer NOT NULL, label text);
	INSERT INTO public.items SELECT g, g % 5000, 'item ' || g FROM generate_series(1, 300000) g
});
$node->safe_psql('reg', 'SELECT indexpilot_run_now()'); # discovers public.items
set_conf('indexpilot.manage', 'registered');
run_workload('reg', 40, 'SELECT count(*) FROM public.items WHERE code = :v');
$rows = cycle('reg');
is(own_indexes('reg', 'public.items'), '', 'case 2: with manage = registered an unregistered table gets no index');
is($node->safe_psql('reg',
		"SELECT count(*) FROM indexpilot.mutation_log WHERE kind = 'genome_forget' AND target_table = 'public.items' "
		  . "AND details->>'reason' = 'indexpilot.manage = registered'"),
	'1', '... and the table discovered before is forgotten (genome_forget)');
$node->safe_psql('reg', "SELECT indexpilot_register('public.items')");
$rows = settle('reg', 3);
is(own_indexes('reg', 'public.items'), 'code', '... registered without a tenant key, it gets its index (code)')
  or diag($rows);
set_conf('indexpilot.manage', 'all');

# ==== 3. indexpilot.exclude =====================================================================
new_database('excl', q{
	CREATE SCHEMA quiet;
	CREATE TABLE quiet.logs (id bigint PRIMARY KEY, code integer NOT NULL);
	INSERT INTO quiet.logs SELECT g, g % 5000 FROM generate_series(1, 300000) g;
	CREATE TABLE public.logs (id bigint PRIMARY KEY, code integer NOT NULL);
	INSERT INTO public.logs SELECT g, g % 5000 FROM generate_series(1, 300000) g
});
set_conf('indexpilot.exclude', 'Quiet');
run_workload('excl', 40, 'SELECT count(*) FROM quiet.logs WHERE code = :v',
	'SELECT count(*) FROM public.logs WHERE code = :v');
$rows = settle('excl', 3);
is(own_indexes('excl', 'quiet.logs'), '', 'case 3: a table of an excluded schema gets no index');
is($node->safe_psql('excl', "SELECT count(*) FROM indexpilot.genome_tables WHERE table_name = 'quiet.logs'"),
	'0', '... and is not in the genome');
is(own_indexes('excl', 'public.logs'), 'code', '... while the table of the same name outside it gets its index')
  or diag($rows);
my ($ret, $out, $err) = $node->psql('postgres', q{ALTER SYSTEM SET indexpilot.exclude = 'a.b.c'});
like($err, qr/invalid value for parameter "indexpilot.exclude".*more than two parts/s,
	'... a malformed exclusion list is refused with the reason');
set_conf('indexpilot.exclude', '');

# ==== 4. join keys on the inner side ============================================================
# 2,000 customers, two in each region; 400,000 orders. "Orders of region 7's customers" and "each
# region-7 customer's latest order" (a correlated subquery).
new_database('joins', q{
	CREATE TABLE public.customers (id integer PRIMARY KEY, region integer NOT NULL, name text NOT NULL);
	INSERT INTO public.customers SELECT g, g % 1000, 'customer ' || g FROM generate_series(1, 2000) g;
	CREATE INDEX customers_region ON public.customers (region);
	CREATE TABLE public.orders (id bigint PRIMARY KEY, customer_id integer NOT NULL, amount numeric NOT NULL,
	                            placed date NOT NULL);
	INSERT INTO public.orders SELECT g, 1 + g % 2000, g % 1000, date '2025-01-01' + g % 365
	FROM generate_series(1, 400000) g;
	CREATE TABLE public.payments (id bigint PRIMARY KEY, customer_id integer NOT NULL, paid numeric NOT NULL);
	INSERT INTO public.payments SELECT g, 1 + g % 2000, g % 700 FROM generate_series(1, 400000) g
});
run_workload('joins', 30,
	'SELECT count(*), sum(o.amount) FROM public.customers c JOIN public.orders o ON o.customer_id = c.id '
	  . 'WHERE c.region = :v',
	'SELECT c.id, (SELECT max(p.paid) FROM public.payments p WHERE p.customer_id = c.id) FROM public.customers c '
	  . 'WHERE c.id = :v * 7');
$rows = settle('joins', 4);
is(own_indexes('joins', 'public.orders'), 'customer_id', 'case 4: the join key on the inner side of the join (orders.customer_id)')
  or diag($rows);
is(own_indexes('joins', 'public.payments'), 'customer_id', '... and of the correlated subquery (payments.customer_id)')
  or diag($rows);
like($node->safe_psql('joins', 'EXPLAIN SELECT count(*), sum(o.amount) FROM public.customers c '
		  . 'JOIN public.orders o ON o.customer_id = c.id WHERE c.region = 3'),
	qr/Nested Loop.*(?:Index Scan using|Index Only Scan using|Bitmap Index Scan on) indexpilot_public_orders_customer_id/s, '... and the join is now a nested loop over the index');

# ==== 5. a statement cut short by statement_timeout every time ===================================
# 1,500,000 wide rows: a sequential scan takes far longer than the 25 ms the sessions allow.
new_database('slow', q{
	CREATE TABLE public.archive (id bigint PRIMARY KEY, ref integer NOT NULL, body text NOT NULL);
	INSERT INTO public.archive SELECT g, g % 100000, repeat('x', 200) FROM generate_series(1, 1500000) g
});
my $cancelled = 0;
for my $i (1 .. 15)
{
	my ($r, $o, $e) = $node->psql('slow',
		"SET statement_timeout = '25ms'; SELECT count(*) FROM public.archive WHERE ref = $i");
	$cancelled++ if $e =~ /canceling statement due to statement timeout/;
}
is($cancelled, 15, 'case 5: the statement is cancelled by statement_timeout on every run');
$rows = settle('slow', 3);
is(own_indexes('slow', 'public.archive'), 'ref', '... and still gets its index (ref)') or diag($rows);
($ret, $out, $err) = $node->psql('slow', "SET statement_timeout = '25ms'; SELECT count(*) FROM public.archive WHERE ref = 3");
is($ret, 0, '... after which it finishes within the timeout') or diag($err);

# ==== 6. a partitioned table ==================================================================
new_database('parts', q{
	CREATE TABLE public.events (id bigint NOT NULL, account integer NOT NULL, at date NOT NULL, kind text NOT NULL)
	    PARTITION BY RANGE (at);
	CREATE TABLE public.events_2025 PARTITION OF public.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
	CREATE TABLE public.events_2026 PARTITION OF public.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
	INSERT INTO public.events SELECT g, g % 5000, date '2025-01-01' + g % 700, 'k' || g % 9
	FROM generate_series(1, 400000) g
});
run_workload('parts', 40, 'SELECT count(*) FROM public.events WHERE account = :v');
$rows = settle('parts', 3);
is(own_indexes('parts', 'public.events'), 'account', 'case 6: the partitioned table gets a valid partitioned index (account)')
  or diag($rows);
is($node->safe_psql('parts', q{
		SELECT count(*) || '/' || bool_and(i.indisvalid) FROM pg_inherits h JOIN pg_index i ON i.indexrelid = h.inhrelid
		WHERE h.inhparent = (SELECT c.oid FROM pg_class c
		                     WHERE c.relname LIKE 'indexpilot\_public\_events\_account\_%' AND c.relkind = 'I')}),
	'2/true', '... attached on both partitions, each valid');
is(lineage_kinds('parts', 'public.events') =~ s/^genome_discover,index_proposed,//r,
	'index_build_started,index_partition_built,index_partition_built,index_build_finished',
	'... with one index_partition_built row per partition between started and finished');
$node->safe_psql('parts',
	"CREATE TABLE public.events_2027 PARTITION OF public.events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')");
is($node->safe_psql('parts', q{
		SELECT count(*) FROM pg_index i JOIN pg_inherits h ON h.inhrelid = i.indexrelid
		JOIN pg_class p ON p.oid = h.inhparent
		WHERE i.indrelid = 'public.events_2027'::regclass AND p.relname LIKE 'indexpilot\_%' AND i.indisvalid}),
	'1', '... and a partition added afterwards gets its index, attached');
like($node->safe_psql('parts', 'EXPLAIN SELECT count(*) FROM public.events WHERE account = 12'),
	qr/Index Only Scan|Index Scan|Bitmap Index Scan/, '... which the planner uses');

# ==== 7. a build that fails on one partition =====================================================
# The second partition holds one label longer than a btree entry can be (random hex, which pglz does not
# shrink enough): CREATE INDEX fails there after the first partition's index was built.
new_database('partfail', q{
	CREATE TABLE public.docs (id bigint NOT NULL, at date NOT NULL, label text NOT NULL) PARTITION BY RANGE (at);
	CREATE TABLE public.docs_a PARTITION OF public.docs FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
	CREATE TABLE public.docs_b PARTITION OF public.docs FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
	INSERT INTO public.docs SELECT g, date '2025-01-01' + g % 300, 'label ' || g % 20000 FROM generate_series(1, 300000) g;
	INSERT INTO public.docs SELECT 0, date '2026-06-01', string_agg(md5(g::text || random()::text), '')
	FROM generate_series(1, 300) g
});
run_workload('partfail', 40, q{SELECT count(*) FROM public.docs WHERE label = 'label :v'});
$rows = cycle('partfail');
like($rows, qr/public\.docs\|label\|build_started/, 'case 7: a build of (label) on the partitioned table starts');
like(lineage_kinds('partfail', 'public.docs'),
	qr/index_build_started,index_partition_built,index_build_failed,index_dropped$/,
	'... fails on the second partition after the first one\'s index was built, and records the drop');
is($node->safe_psql('partfail', q{
		SELECT count(*) FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid
		WHERE c.relname LIKE 'indexpilot\_%'
		   OR (NOT i.indisvalid AND i.indrelid IN (SELECT inhrelid FROM pg_inherits UNION SELECT 'public.docs'::regclass))}),
	'0', '... and leaves no index behind: none of its own, nothing INVALID');
# ==== 8. one table that cannot be costed does not stop the others' decisions =========================
# A partitioned table with a foreign partition (a wrapper without a handler: queries that prune it run, an
# index cannot be described on it) gets no index, and says why; the plain table beside it gets its index.
new_database('onefails', q{
	CREATE FOREIGN DATA WRAPPER nohandler;
	CREATE SERVER elsewhere FOREIGN DATA WRAPPER nohandler;
	CREATE TABLE public.ledger (id bigint NOT NULL, account integer NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);
	CREATE TABLE public.ledger_now PARTITION OF public.ledger FOR VALUES FROM ('2025-01-01') TO ('2027-01-01');
	CREATE FOREIGN TABLE public.ledger_archive PARTITION OF public.ledger FOR VALUES FROM ('2000-01-01') TO ('2025-01-01')
	    SERVER elsewhere;
	INSERT INTO public.ledger_now SELECT g, g % 5000, date '2025-01-01' + g % 700 FROM generate_series(1, 300000) g;
	CREATE TABLE public.notes (id bigint PRIMARY KEY, code integer NOT NULL);
	INSERT INTO public.notes SELECT g, g % 5000 FROM generate_series(1, 300000) g
}, 'public.ledger_now, public.notes');  # not the foreign partition: it has no handler
run_workload('onefails', 40,
	q{SELECT count(*) FROM public.ledger WHERE at >= '2025-01-01' AND account = :v},
	'SELECT count(*) FROM public.notes WHERE code = :v');
$rows = settle('onefails', 3);
like($rows, qr/public\.ledger\|account\|not costed: .*ledger_archive/,
	'case 8: the partitioned table with a foreign partition is not costed, and the rows say why');
is(own_indexes('onefails', 'public.notes'), 'code', '... while the other table still gets its index') or diag($rows);
like(slurp_file($node->logfile), qr/indexpilot could not cost index \S+ on public\.ledger: .*the other candidates are decided as usual/,
	'... and the server log says so');

$node->stop;
done_testing();
