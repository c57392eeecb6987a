# IndexPilotTest.pm — helpers shared by IndexPilot's TAP tests (PostgreSQL::Test::Cluster).
package IndexPilotTest;

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Exporter 'import';

our @EXPORT = qw(indexpilot_node worker_pid launcher_pid wait_for_new_pid);

# A new, started node; with preload => 0 the library is not in shared_preload_libraries.
sub indexpilot_node
{
	my ($name, %opts) = @_;
	my $preload = exists $opts{preload} ? $opts{preload} : 1;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', "shared_preload_libraries = 'indexpilot'") if $preload;
	$node->append_conf('postgresql.conf', "indexpilot.naptime = '500ms'\nmax_worker_processes = 16\n");
	$node->append_conf('postgresql.conf', $opts{conf}) if $opts{conf};
	$node->start;
	return $node;
}

# The pid of the indexpilot worker serving $db, as pg_stat_activity shows it (waits up to the timeout).
sub worker_pid
{
	my ($node, $db) = @_;
	my $query = "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'indexpilot worker' AND datname = '$db'";
	$node->poll_query_until('postgres', $query) or return undef;
	return $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'indexpilot worker' AND datname = '$db'");
}

# The pid of the launcher (waits up to the timeout).
sub launcher_pid
{
	my ($node) = @_;
	$node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'indexpilot launcher'")
	  or return undef;
	return $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'indexpilot launcher'");
}

# Waits until a process of $backend_type (for $db, if given) runs with a pid other than $old_pid.
sub wait_for_new_pid
{
	my ($node, $backend_type, $old_pid, $db) = @_;
	my $dbcond = defined $db ? "AND datname = '$db'" : '';
	return $node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = '$backend_type' $dbcond AND pid <> $old_pid");
}

1;
