# A thousand C++ exceptions and a thousand PostgreSQL errors across the boundary, in one backend: its
# resident memory stays flat, no C++ object is left alive, and the server stays up.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IndexPilotTest;

my $node = indexpilot_node('boundary');
$node->safe_psql('postgres', 'CREATE EXTENSION indexpilot');

my $script = <<'SQL';
CREATE FUNCTION pg_temp.provoke(n integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    caught integer := 0;
BEGIN
    FOR i IN 1..n LOOP
        BEGIN
            PERFORM indexpilot._selftest_cpp_error(200, CASE i % 4 WHEN 0 THEN 'error' WHEN 1 THEN 'runtime'
                                                                   WHEN 2 THEN 'bad_alloc' ELSE 'unknown' END);
        EXCEPTION WHEN OTHERS THEN caught := caught + 1;
        END;
        BEGIN
            PERFORM indexpilot._selftest_pg_error('not a number ' || i);
        EXCEPTION WHEN invalid_text_representation THEN caught := caught + 1;
        END;
    END LOOP;
    RETURN caught;
END
$$;
CREATE FUNCTION pg_temp.rss_kb() RETURNS bigint LANGUAGE sql AS
$$ SELECT (regexp_match(pg_read_file('/proc/self/status'), 'VmRSS:\s+(\d+)'))[1]::bigint $$;
SELECT pg_temp.provoke(300);
SELECT pg_temp.rss_kb();
SELECT pg_temp.provoke(1000);
SELECT pg_temp.rss_kb();
SELECT indexpilot._selftest_live_objects();
SQL

my @out = split /\n/, $node->safe_psql('postgres', $script);
my ($warm, $rss_before, $caught, $rss_after, $live) = @out;
is($warm, 600, 'warm-up: 300 C++ and 300 PostgreSQL errors caught');
is($caught, 2000, '1000 C++ exceptions and 1000 PostgreSQL errors reached SQL as ERRORs');
my $growth = $rss_after - $rss_before;
diag("backend VmRSS: $rss_before kB before, $rss_after kB after 2000 errors ($growth kB growth)");
cmp_ok($growth, '<', 1024, 'resident memory grew by less than 1 MB');
is($live, 0, 'every C++ object was destroyed');
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'server still answers');
ok(!$node->log_contains(qr/PANIC|TRAP:|terminated by signal|terminate called/), 'no crash in the server log');
$node->stop('fast');
done_testing();
