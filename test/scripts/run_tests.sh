#!/usr/bin/env bash
# run_tests.sh — `make test`: every test IndexPilot has, in order, ending with one line "N passed, N failed".
#
#   deps -> format check -> conventions -> build -> unit (Boost.Test) -> fuzz (libFuzzer) -> private install -> throwaway cluster ->
#   pg_regress (make installcheck) -> isolation -> TAP (prove)
#
# Every server it starts is stopped on exit, also on failure or interrupt.
#
# For quicker runs while developing: STAGES="unit regress" make test  (stages: format conventions unit fuzz regress tap;
# the build always runs) and TAP_FILES="001_worker.pl" to pick TAP scripts.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
. test/scripts/lib.sh

PASSED=0
FAILED=0
STAGES=${STAGES:-format conventions unit fuzz regress tap}
want() { [[ " $STAGES " == *" $1 "* ]]; }
LOGDIR="$ROOT/log"
mkdir -p "$LOGDIR"
ip_cleanup_on_exit

# tally NAME PASSED FAILED
tally() {
	PASSED=$((PASSED + $2))
	FAILED=$((FAILED + $3))
	echo "== $1: $2 passed, $3 failed"
}

finish() {
	echo
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
	exit $?
}

# A stage that cannot run makes everything after it meaningless: count it and stop.
abort() {
	echo "== $1 failed; see above. Later stages were not run." >&2
	FAILED=$((FAILED + 1))
	finish
}

echo "== dependencies"
bash test/scripts/deps.sh || abort "dependency check"

if want format; then
	echo "== format check (clang-format $(clang-format --version | grep -o '[0-9][0-9.]*' | head -1))"
	if make -s format-check >"$LOGDIR/format.log" 2>&1; then tally "format check" 1 0; else
		head -40 "$LOGDIR/format.log"
		echo "(run 'make format' to fix)"
		tally "format check" 0 1
	fi
fi

# The project's conventions (guard at every entry point, GUCs documented and tested, every test scheduled).
if want conventions; then
	echo "== conventions (test/scripts/conventions.sh)"
	if bash test/scripts/conventions.sh >"$LOGDIR/conventions.log" 2>&1; then
		tally "conventions" 1 0
	else
		grep -v '^ok - ' "$LOGDIR/conventions.log"
		tally "conventions" 0 1
	fi
fi

echo "== build"
# the extension, and the CRM simulator (a libpq client the TAP tests run)
make -s all sim >"$LOGDIR/build.log" 2>&1 || { tail -40 "$LOGDIR/build.log"; abort "build"; }
if grep -E '(^|: )warning:' "$LOGDIR/build.log" >/dev/null; then
	grep -E '(^|: )warning:' "$LOGDIR/build.log"
	tally "build without warnings" 0 1
else
	tally "build without warnings" 1 0
fi

if want unit; then
	echo "== unit tests (Boost.Test)"
	rm -f test/unit/report.xml
	if make -s test/unit/unit_tests >"$LOGDIR/unit-build.log" 2>&1; then
		./test/unit/unit_tests --report_format=XML --report_level=detailed --report_sink=test/unit/report.xml \
			--log_level=error >"$LOGDIR/unit.log" 2>&1
		cat "$LOGDIR/unit.log"
		up=$(grep -o '<TestCase [^>]*result="passed"' test/unit/report.xml 2>/dev/null | wc -l)
		uf=$(grep -o '<TestCase [^>]*result="[^p][^"]*"' test/unit/report.xml 2>/dev/null | wc -l)
		[ "$up" -eq 0 ] && [ "$uf" -eq 0 ] && uf=1 # no report at all: the runner itself failed
		tally "unit" "$up" "$uf"
	else
		tail -40 "$LOGDIR/unit-build.log"
		tally "unit (build)" 0 1
	fi
fi

# The config parser under libFuzzer for a few seconds (longer: make fuzz-config FUZZ_SECONDS=300): one test.
if want fuzz; then
	echo "== fuzz (libFuzzer, config parser, ${IP_FUZZ_SECONDS:-5} s)"
	if make -s fuzz-config FUZZ_SECONDS="${IP_FUZZ_SECONDS:-5}" >"$LOGDIR/fuzz.log" 2>&1; then
		grep -E '^(Done|stat::number_of_executed_units)' "$LOGDIR/fuzz.log" || true
		tally "fuzz" 1 0
	else
		grep -vE '^(INFO|#[0-9])' "$LOGDIR/fuzz.log" | tail -30
		tally "fuzz" 0 1
	fi
fi

echo "== private installation"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/indexpilot-test.XXXXXX")
chmod 755 "$WORK"
ip_private_install "$WORK/install" || abort "private installation"

echo "== throwaway cluster"
DATADIR=$(ip_server_dir data)
PORT=$(ip_free_port)
# pg_regress output must not depend on when the worker's first cost model run comes: the suite's tables
# are registered by the tests themselves, and discovery (indexpilot.manage = all) is tested in TAP 050.
ip_cluster_init "$DATADIR" "$PORT" &&
	echo "indexpilot.manage = 'registered'" | ip_as_server_user tee -a "$DATADIR/postgresql.conf" >/dev/null &&
	ip_cluster_start "$DATADIR" || {
	cat "$DATADIR/server.log" 2>/dev/null | tail -30
	abort "cluster start"
}
echo "   port $PORT, data $DATADIR"

# installcheck runs pg_regress and, once test/isolation/specs has specs, pg_isolation_regress: both
# print one "... ok" / "... FAILED" line per test, counted together here.
if want regress; then
	echo "== regression and isolation tests (make installcheck)"
	rm -rf results regression.diffs regression.out
	PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=postgres make -s installcheck >"$LOGDIR/regress.log" 2>&1
	cat "$LOGDIR/regress.log"
	rp=$(grep -cE '\.\.\. ok' "$LOGDIR/regress.log")
	rf=$(grep -cE '\.\.\. (FAILED|failed)' "$LOGDIR/regress.log")
	if [ "$rp" -eq 0 ] && [ "$rf" -eq 0 ]; then rf=1; fi
	[ -f regression.diffs ] && head -100 regression.diffs
	tally "regression and isolation" "$rp" "$rf"
fi

ip_cluster_stop "$DATADIR"
grep -E 'PANIC|TRAP:|terminated by signal' "$DATADIR/server.log" && tally "server log clean" 0 1

if want tap; then
	echo "== TAP tests (prove, PostgreSQL::Test::Cluster)"
	TAPDIR=$(ip_server_dir tap)
	cp test/t/*.pl test/t/*.pm "$TAPDIR"/
	# the simulator and its SQL files, where the server user can read them (the checkout may not be readable)
	mkdir "$TAPDIR/sim"
	cp test/sim/crmsim test/sim/crm_schema.sql test/sim/crm_register.sql test/sim/crm_expert.sql "$TAPDIR/sim"/
	chmod -R a+rX "$TAPDIR"
	PGXS_DIR="$($PG_CONFIG --pkglibdir)/pgxs"
	(cd "$TAPDIR" && ip_as_server_user env PATH="$IP_BINDIR:$PATH" INDEXPILOT_SIM="$TAPDIR/sim/crmsim" PERL5LIB="$PGXS_DIR/src/test/perl:$TAPDIR" TESTDIR="$TAPDIR" \
		PG_REGRESS="$PGXS_DIR/src/test/regress/pg_regress" prove -v --timer ${TAP_FILES:-./*.pl}) >"$LOGDIR/tap.log" 2>&1
	cat "$LOGDIR/tap.log" | grep -vE '^\s*#' || true
	tp=$(grep -cE '^\s*ok [0-9]+' "$LOGDIR/tap.log")
	tf=$(grep -cE '^\s*not ok [0-9]+' "$LOGDIR/tap.log")
	# A script that died without a failing assertion (bad plan, exception, no tests) still counts as a failure.
	td=$(perl -ne '$n++ if /\(Wstat: (\d+).*Failed: (\d+)\)/ && $1 != 0 && $2 == 0; END { print $n + 0 }' "$LOGDIR/tap.log")
	tally "TAP" "$tp" "$((tf + td))"
	if [ "$((tf + td))" -ne 0 ]; then
		for f in "$TAPDIR"/tmp_check/log/*.log; do
			[ -f "$f" ] && { echo "---- $f (last 30 lines)"; tail -30 "$f"; }
		done
fi
fi

finish
