#!/usr/bin/env bash
# conventions.sh — the project's conventions, checked mechanically (as citus's CI scripts check theirs).
# One line per check, "ok" or "FAILED" with what broke it; exit status 1 if any failed. Run by make test.
#
#   1. every C entry point goes through the C++/PostgreSQL guard (pg::Entry): SQL functions are defined
#      with INDEXPILOT_FUNCTION, background-worker mains and _PG_init call pg::Entry;
#   2. every GUC the library defines is documented in docs/reference.md and named in a regression test
#      (test/sql) or a TAP test (test/t);
#   3. every regression test has its expected output and every expected output its test; every isolation
#      spec its expected output; every TAP script is a .pl in test/t (the runner takes them all);
#   4. no file includes PostgreSQL headers where C++ must stay free of them (src/core: plain C++);
#   5. each part of the install script (sql/parts) starts with a comment saying what it holds, and every
#      GRANT, REVOKE and COMMENT in it is about an object that same part creates (privileges beside objects).
set -uo pipefail
cd "$(dirname "$0")/../.."

FAILED=0
check() { # check NAME PROBLEMS
	if [ -z "$2" ]; then
		echo "ok - $1"
	else
		echo "FAILED - $1:"
		echo "$2" | sed 's/^/    /'
		FAILED=$((FAILED + 1))
	fi
}

# 1. The guard at every C entry point.
problems=$(perl -0777 -ne '
	# A SQL function written by hand, outside the macro that wraps its body in pg::Entry.
	while (/PG_FUNCTION_INFO_V1\((\w+)\)/g) { print "$ARGV: PG_FUNCTION_INFO_V1($1) outside INDEXPILOT_FUNCTION\n" }
	# Any other extern "C" function definition must hand its body to pg::Entry.
	while (/extern "C"\s+(?:void|Datum)\s*\n?\s*(\w+)\s*\([^)]*\)\s*\{(.*?)\n\}/sg) {
		my ($name, $body) = ($1, $2);
		print "$ARGV: $name does not run its body through pg::Entry\n" unless $body =~ /pg::Entry\(/;
	}' $(find src -name '*.cpp' | sort))
check "every C entry point goes through pg::Entry" "$problems"

# 2. GUCs documented and tested.
gucs=$(perl -0777 -ne 'while (/"(indexpilot\.[a-z_]+)"/g) { print "$1\n" }' \
	$(grep -l 'DefineCustom[A-Za-z]*Variable' $(find src -name '*.cpp')) | sort -u |
	while read -r name; do
		# only names that are defined as a GUC somewhere (not other strings with the prefix)
		if perl -0777 -ne "exit(/DefineCustom\\w+Variable\\(\\s*(\"\\Q$name\\E\"|kGucNames)/ ? 0 : 1)" \
			$(grep -l "$name" $(find src -name '*.cpp')) 2>/dev/null; then echo "$name"; fi
	done)
undocumented=""
untested=""
for g in $gucs; do
	grep -q "\`$g\`" docs/reference.md || undocumented+="$g"$'\n'
	grep -rqF "$g" test/sql test/t || untested+="$g"$'\n'
done
check "every GUC ($(echo "$gucs" | grep -c .)) is documented in docs/reference.md" "${undocumented%$'\n'}"
check "every GUC is named in a regression or TAP test" "${untested%$'\n'}"

# 3. Every test is run and has what it needs.
problems=""
for f in test/sql/*.sql; do
	n=$(basename "$f" .sql)
	[ -f "expected/$n.out" ] || problems+="test/sql/$n.sql has no expected/$n.out"$'\n'
done
for f in expected/*.out; do
	n=$(basename "$f" .out)
	[ -f "test/sql/$n.sql" ] || [ -f "test/isolation/specs/$n.spec" ] || problems+="expected/$n.out belongs to no test"$'\n'
done
for f in test/isolation/specs/*.spec; do
	n=$(basename "$f" .spec)
	[ -f "expected/$n.out" ] || problems+="test/isolation/specs/$n.spec has no expected/$n.out"$'\n'
done
for f in $(find test/t -type f ! -name '*.pl' ! -name '*.pm'); do problems+="$f is neither a TAP script nor a helper"$'\n'; done
[ -L test/expected ] || problems+="test/expected must be a symlink to ../expected (pg_regress reads it)"$'\n'
check "every regression, isolation and TAP test is in the schedule" "${problems%$'\n'}"

# 4. src/core is plain C++: no PostgreSQL header, directly or through ours.
problems=$(grep -nE '#include[[:space:]]+["<](postgres\.h|postgres_ext\.h|fmgr\.h|indexpilot/pg/)' src/core/*.cpp include/indexpilot/core/*.hpp 2>/dev/null)
check "src/core includes no PostgreSQL header" "$problems"

# 5. The install script's parts: a header comment each, privileges and comments beside their objects.
problems=$(perl -0777 -ne '
	print "$ARGV: does not start with a comment saying what it holds\n" unless /\A--/;
	s/\$\$.*?\$\$//sg;        # function bodies
	s/^\s*--.*$//mg;           # comments
	my %made;
	$made{lc $2} = 1 while /\bCREATE\s+(FUNCTION|TABLE|VIEW|TYPE|SCHEMA)\s+([\w.]+)/g;
	while (/^\s*(GRANT|REVOKE|COMMENT)\b(.*?);/msg) {
		my ($verb, $rest) = ($1, $2);
		my $list = $verb eq "COMMENT" ? ($rest =~ /\bON\s+\w+\s+([\w.]+)/ ? $1 : "")
		                             : ($rest =~ /\bON\s+(?:FUNCTION\s+|SCHEMA\s+)?(.*?)\s+(?:TO|FROM)\s/s ? $1 : "");
		$list =~ s/\([^)]*\)//g;
		for my $name (split /\s*,\s*/, $list) {
			$name =~ s/^\s+|\s+$//g;
			print "$ARGV: $verb on $name, which another part creates\n" unless $made{lc $name};
		}
	}' sql/parts/*.sql)
check "every install-script part says what it holds and keeps its objects' privileges beside them" "$problems"

echo "$FAILED convention check(s) failed"
[ "$FAILED" -eq 0 ]
