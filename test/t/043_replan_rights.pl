# Re-planning runs a captured statement with no more rights than the role that ran it, under the
# search_path it ran with, and under a timeout; IndexPilot's own queries resolve names in pg_catalog first.
#
# The attack (issue #11): a role with SELECT on one managed table and a schema of its own writes a STABLE
# function that calls a VOLATILE one running COPY ... TO PROGRAM, and swallows the error it gets when it
# runs the statement itself. The planner folds STABLE functions while estimating selectivity, so when a
# superuser's indexpilot_run_now() (or the worker) re-planned the statement with its own rights, the
# program ran as the server's operating-system user.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IndexPilotTest;

my $node = indexpilot_node('replan_rights',
	conf => "indexpilot.mode = 'advise'\nindexpilot.sample_rate = 1\nindexpilot.min_calls = 20\n"
	  . "indexpilot.flush_interval = '1h'\nindexpilot.advise_interval = '1h'\n"
	  . "indexpilot.replan_timeout = '500ms'\n");
my $marker = $node->basedir . '/pwned';
$node->safe_psql('postgres', 'CREATE EXTENSION indexpilot');
$node->safe_psql('postgres', q{
	CREATE SCHEMA app;
	CREATE TABLE app.contacts (id bigint PRIMARY KEY, tenant_id integer NOT NULL, email text NOT NULL,
	                           city text NOT NULL);
	INSERT INTO app.contacts SELECT g, g % 20, 'user' || g || '@example.com', 'city ' || (g % 500)
	FROM generate_series(1, 20000) g;
	ANALYZE app.contacts;
	CREATE TABLE app.deals (id bigint PRIMARY KEY, tenant_id integer NOT NULL, stage text NOT NULL);
	INSERT INTO app.deals SELECT g, g % 20, 'stage ' || (g % 500) FROM generate_series(1, 20000) g;
	ANALYZE app.contacts, app.deals;
	SELECT indexpilot_register('app.contacts', 'tenant_id');
	SELECT indexpilot_register('app.deals', 'tenant_id');
	CREATE ROLE mallory LOGIN;
	GRANT USAGE ON SCHEMA app TO mallory;
	GRANT SELECT ON app.contacts, app.deals TO mallory;
	CREATE SCHEMA mallory AUTHORIZATION mallory;
	-- Sequences count calls even when the transaction that made them rolls back (re-planning always does).
	CREATE SEQUENCE public.ran_as_mallory;
	CREATE SEQUENCE public.ran_as_other;
	CREATE SEQUENCE public.lookalike_calls;
	GRANT USAGE, SELECT ON SEQUENCE public.ran_as_mallory, public.ran_as_other, public.lookalike_calls TO PUBLIC;
});

# mallory's functions: the VOLATILE one tries the program (her own call fails: no pg_execute_server_program)
# and counts as whom it ran; the STABLE one the planner folds calls it. slow_city() never ends once she
# switches it on.
$node->safe_psql('postgres', qq{
	SET ROLE mallory;
	CREATE FUNCTION mallory.pwn() RETURNS void LANGUAGE plpgsql VOLATILE AS \$f\$
	BEGIN
		IF current_user = 'mallory' THEN
			PERFORM pg_catalog.nextval('public.ran_as_mallory');
		ELSE
			PERFORM pg_catalog.nextval('public.ran_as_other');
		END IF;
		BEGIN
			EXECUTE 'COPY (SELECT 1) TO PROGRAM ' || quote_literal('touch $marker');
		EXCEPTION WHEN OTHERS THEN NULL;
		END;
	END \$f\$;
	CREATE FUNCTION mallory.city() RETURNS text LANGUAGE plpgsql STABLE AS \$f\$
	BEGIN
		PERFORM mallory.pwn();
		RETURN 'city 7';
	END \$f\$;
	CREATE TABLE mallory.slow (on_ boolean);
	INSERT INTO mallory.slow VALUES (false);
	CREATE FUNCTION mallory.slow_city() RETURNS text LANGUAGE plpgsql STABLE AS \$f\$
	BEGIN
		IF (SELECT on_ FROM mallory.slow) THEN
			PERFORM pg_catalog.pg_sleep(30);
		END IF;
		RETURN 'city 8';
	END \$f\$;
});

# mallory's traffic: 60 statements through the STABLE function, named with its schema (any role would
# find it) and without (only her search_path finds it: the statement must be planned with her path).
$node->safe_psql('postgres',
	"SET ROLE mallory; SET search_path = mallory, public; "
	  . "SELECT format('SELECT count(*) FROM app.contacts WHERE tenant_id = %s AND city = mallory.city()', g % 20) "
	  . "FROM generate_series(1, 30) g \\gexec\n"
	  . "SELECT format('SELECT count(*) FROM app.contacts WHERE tenant_id = %s AND city = city() AND id > 0', g % 20) "
	  . "FROM generate_series(1, 30) g \\gexec");
ok($node->safe_psql('postgres', 'SELECT last_value FROM public.ran_as_mallory') > 0,
	"mallory's own statements ran her function (as mallory)");
ok(!-e $marker, 'her own statements could not run the program');

my (undef, $samples) = $node->psql('postgres', q{
	SELECT count(*) FROM indexpilot.live_queries q JOIN pg_roles r ON r.oid = q.userid
	WHERE r.rolname = 'mallory' AND q.search_path = 'mallory, public' AND q.query LIKE '%= city()%'});
ok(($samples // 0) >= 1, 'capture recorded the role and the search_path with the statement text');

# A superuser's cycle: flush, cost model, recommendations.
my ($rc, $out, $err) = $node->psql('postgres',
	"SELECT array_to_string(columns, ','), verdict, cost_without > 0 FROM indexpilot_run_now() "
	  . "WHERE table_name = 'app.contacts' ORDER BY 1, 2");
is($rc, 0, 'indexpilot_run_now() as a superuser succeeds') or diag($err);
ok(!-e $marker, 'the program did not run when a superuser re-planned her statement');
is($node->safe_psql('postgres', 'SELECT is_called FROM public.ran_as_other'),
	'f', 'her function never ran as another role');
like($out, qr/^tenant_id,city\|[a-z_]+\|t$/m, 'her statements were still costed (as mallory)') or diag($out);

# The same through the worker's own cycle, on a table run_now has not seen.
$node->safe_psql('postgres', qq{
	SET ROLE mallory;
	CREATE FUNCTION mallory.stage() RETURNS text LANGUAGE plpgsql STABLE AS \$f\$
	BEGIN
		PERFORM mallory.pwn();
		RETURN 'stage 7';
	END \$f\$;
});
$node->safe_psql('postgres',
	"SET ROLE mallory; SET search_path = mallory, public; "
	  . "SELECT format('SELECT count(*) FROM app.deals WHERE tenant_id = %s AND stage = mallory.stage()', g % 20) "
	  . "FROM generate_series(1, 60) g \\gexec");
my $worker = worker_pid($node, 'postgres');
my $log_offset = -s $node->logfile;
$node->append_conf('postgresql.conf', "indexpilot.flush_interval = '1s'\nindexpilot.advise_interval = '1s'\n");
$node->reload;
ok($node->poll_query_until('postgres',
		"SELECT count(*) > 0 FROM indexpilot.mutation_log WHERE kind IN ('index_proposed', 'index_skipped') "
		  . "AND target_table = 'app.deals'"),
	'the worker ran its cost model on her statements');
ok(!-e $marker, 'the program did not run in the worker');
is($node->safe_psql('postgres', 'SELECT is_called FROM public.ran_as_other'),
	'f', 'her function never ran as another role in the worker');
is(worker_pid($node, 'postgres'), $worker, 'the worker kept running');
$node->append_conf('postgresql.conf', "indexpilot.flush_interval = '1h'\nindexpilot.advise_interval = '1h'\n");
$node->reload;

# A statement whose planning does not end is cut off by indexpilot.replan_timeout, not waited for.
$node->safe_psql('postgres', 'SELECT indexpilot_reset_live_stats()');
$node->safe_psql('postgres', 'DELETE FROM indexpilot.query_samples');
$node->safe_psql('postgres', 'DELETE FROM indexpilot.query_stats');
$node->safe_psql('postgres',
	"SET ROLE mallory; SET search_path = mallory, public; "
	  . "SELECT format('SELECT count(*) FROM app.contacts WHERE tenant_id = %s AND city = mallory.slow_city()', g % 20) "
	  . "FROM generate_series(1, 40) g \\gexec");
$node->safe_psql('postgres', 'UPDATE mallory.slow SET on_ = true');
my $t0 = time;
($rc, $out, $err) = $node->psql('postgres', "SELECT count(*) FROM indexpilot_run_now()", timeout => 40);
is($rc, 0, 'a cycle succeeds with a statement that plans forever') or diag($err);
ok(time - $t0 < 25, 'the endless planning was cut off by replan_timeout (' . (time - $t0) . ' s)');

# ---- pinned name resolution ---------------------------------------------------------------------------
# Look-alikes in public that match IndexPilot's calls better than pg_catalog's own (exact argument types
# beat variadic "any" and anyarray). Created by a superuser: whoever called them would run them.
$node->safe_psql('postgres', q{
	CREATE FUNCTION public.format(text, name, name) RETURNS text LANGUAGE plpgsql AS $f$
	BEGIN PERFORM pg_catalog.nextval('public.lookalike_calls'); RETURN 'x'; END $f$;
	CREATE FUNCTION public.format(text, text) RETURNS text LANGUAGE plpgsql AS $f$
	BEGIN PERFORM pg_catalog.nextval('public.lookalike_calls'); RETURN 'x'; END $f$;
	CREATE FUNCTION public.array_to_string(smallint[], text) RETURNS text LANGUAGE plpgsql AS $f$
	BEGIN PERFORM pg_catalog.nextval('public.lookalike_calls'); RETURN ''; END $f$;
	CREATE FUNCTION public.array_to_string(int2vector, text) RETURNS text LANGUAGE plpgsql AS $f$
	BEGIN PERFORM pg_catalog.nextval('public.lookalike_calls'); RETURN ''; END $f$;
	CREATE FUNCTION public.to_regclass(text) RETURNS regclass LANGUAGE plpgsql AS $f$
	BEGIN PERFORM pg_catalog.nextval('public.lookalike_calls'); RETURN NULL; END $f$;
	CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE plpgsql AS $f$
	BEGIN PERFORM pg_catalog.nextval('public.lookalike_calls'); RETURN pg_catalog.now(); END $f$;
	ALTER DATABASE postgres SET search_path = public, pg_catalog;
});
$node->safe_psql('postgres',
	"SELECT format('SELECT count(*) FROM app.contacts WHERE tenant_id = %s AND email = ''x''', g % 20) "
	  . "FROM generate_series(1, 60) g \\gexec");
($rc, $out, $err) = $node->psql('postgres',
	"SET search_path = public, pg_catalog; SELECT count(*) FROM indexpilot_run_now(); "
	  . "SELECT count(*) FROM indexpilot_recommendations(); SELECT * FROM indexpilot_status(); "
	  . "SELECT count(*) FROM indexpilot_lineage('app.contacts')");
is($rc, 0, 'a cycle from a session whose search_path puts public first') or diag($err);
# and the worker (its own session default is public, pg_catalog too): one cycle of each kind.
$node->append_conf('postgresql.conf', "indexpilot.flush_interval = '1s'\nindexpilot.advise_interval = '1s'\n");
$node->reload;
$worker = worker_pid($node, 'postgres');
$node->safe_psql('postgres', "SELECT pg_terminate_backend($worker)");
ok(wait_for_new_pid($node, 'indexpilot worker', $worker, 'postgres'), 'a worker that read the new default');
my $mark = $node->safe_psql('postgres', 'SELECT coalesce(max(id), 0) FROM indexpilot.mutation_log');
$node->safe_psql('postgres',
	"SELECT format('SELECT count(*) FROM app.contacts WHERE tenant_id = %s AND email = ''y''', g % 20) "
	  . "FROM generate_series(1, 60) g \\gexec");
ok($node->poll_query_until('postgres',
		"SELECT count(*) > 0 FROM indexpilot.query_stats WHERE relid = 'app.contacts'::regclass "
		  . "AND bucket_start > pg_catalog.now() - interval '5 minutes'"),
	'the worker flushed');
sleep 3;
is($node->safe_psql('postgres', 'SELECT is_called FROM public.lookalike_calls'),
	'f', 'IndexPilot never called a look-alike function in public');

$node->stop;
done_testing();
