#!/usr/bin/env bash
# conventions.sh — the project's conventions, checked mechanically (as citus's CI scripts check theirs).
# One line per check, "ok" or "FAILED" with what broke it; exit status 1 if any failed. Run by make test.
#
#   1. every C entry point goes through the C++/PostgreSQL guard (pg::Entry): SQL functions are defined
#      with INDEXPILOT_FUNCTION and background-worker mains with INDEXPILOT_WORKER_MAIN (both wrap the
#      body in pg::Entry by construction); any other extern "C" function (_PG_init) calls pg::Entry;
#   2. every GUC the library defines is documented in docs/reference.md and named in a regression test
#      (test/sql) or a TAP test (test/t);
#   3. every regression test has its expected output and every expected output its test; every isolation
#      spec its expected output; every TAP script is a .pl in test/t (the runner takes them all);
#   4. no file includes PostgreSQL headers where C++ must stay free of them (src/core: plain C++);
#   5. layers: each folder of src/ includes only folders below it (no folder calls back up);
#   6. each part of the install script (sql/parts) starts with a comment saying what it holds, and every
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
# Every background worker's main (bgw_function_name) is defined with INDEXPILOT_WORKER_MAIN.
for main in $(grep -rhoE 'bgw_function_name, "[a-z_]+"' src | sed -E 's/.*"([a-z_]+)"/\1/' | sort -u); do
	grep -rq "INDEXPILOT_WORKER_MAIN($main)" src || problems+=$'\n'"$main: a worker main not defined with INDEXPILOT_WORKER_MAIN"
done
problems=$(echo "$problems" | sed '/^$/d')
check "every C entry point goes through pg::Entry" "$problems"

# 2. GUCs documented and tested.
# Names defined directly (DefineCustom*Variable("indexpilot.x", ...)) or through a name table that is
# handed to DefineCustom*Variable (control.cpp's kGucNames).
gucs=$(perl -0777 -e '
	for my $f (@ARGV) {
		open(my $fh, "<", $f) or die; local $/; my $src = <$fh>;
		while ($src =~ /DefineCustom\w+Variable\(\s*"(indexpilot\.[a-z_]+)"/g) { print "$1\n" }
		while ($src =~ /DefineCustom\w+Variable\(\s*(\w+)\[/g) {
			my $table = $1;
			if ($src =~ /\Q$table\E\s*\[[^\]]*\]\s*=\s*\{(.*?)\};/s) {
				my $body = $1; while ($body =~ /"(indexpilot\.[a-z_]+)"/g) { print "$1\n" }
			}
		}
	}' $(find src -name '*.cpp' | sort) | sort -u)
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

# The C++-only files of the advisor (its decisions, input reading and planner oracle) reach PostgreSQL only
# through pg/ wrappers: each ends its includes with pg/cpp_only.hpp, which makes a PostgreSQL header there
# a compile error.
CPP_ONLY_FILES="src/advisor/advisor.cpp src/advisor/inputs.cpp"
problems=""
for f in $CPP_ONLY_FILES; do
	last=$(grep -E '^#include' "$f" | tail -1)
	[[ "$last" == *'"indexpilot/pg/cpp_only.hpp"'* ]] || problems+="$f: the last #include is not indexpilot/pg/cpp_only.hpp"$'\n'
done
for f in include/indexpilot/advisor/advisor.hpp include/indexpilot/advisor/inputs.hpp \
	include/indexpilot/advisor/oracle.hpp include/indexpilot/advisor/whatif.hpp include/indexpilot/advisor/settings.hpp; do
	grep -qE '#include "(indexpilot/pg/(postgres|guard|spi|args|compat|shmem)\.hpp|postgres\.h)"' "$f" &&
		problems+="$f includes a PostgreSQL header (the advisor's headers are C++ only)"$'\n'
done
check "the advisor's C++-only files include no PostgreSQL header" "${problems%$'\n'}"

# 5. Layers: a folder includes only folders below it, so no folder calls back up into one that calls it.
#    Lowest first; src/indexpilot.cpp (_PG_init) sits above all of them.
LAYERS="core pg control capture advisor worker catalog"
problems=""
rank() { local i=0 l; for l in $LAYERS; do [ "$l" = "$1" ] && { echo $i; return; }; i=$((i + 1)); done; echo 99; }
for dir in $LAYERS; do
	mine=$(rank "$dir")
	for f in src/$dir/*.cpp include/indexpilot/$dir/*.hpp; do
		[ -f "$f" ] || continue
		for used in $(grep -oE '#include "indexpilot/[a-z_]+/' "$f" | sed -E 's|.*indexpilot/([a-z_]+)/|\1|' | sort -u); do
			[ "$used" = "$dir" ] && continue
			[ "$(rank "$used")" -lt "$mine" ] || problems+="$f includes indexpilot/$used/ (above or beside $dir/)"$'\n'
		done
	done
done
for d in src/*/; do
	d=$(basename "$d")
	[ "$(rank "$d")" -lt 99 ] || problems+="src/$d/ is in no layer (add it to LAYERS in test/scripts/conventions.sh)"$'\n'
done
check "layers ($LAYERS): each folder includes only those below it" "${problems%$'\n'}"

# 6. The install script's parts: a header comment each, privileges and comments beside their objects.
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
