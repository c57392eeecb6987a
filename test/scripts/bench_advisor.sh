#!/usr/bin/env bash
# bench_advisor.sh — `make bench-advisor` (issue 12): the index set IndexPilot chooses and builds against a
# hand-tuned expert set, on the CRM in two forms, measured side by side in one throwaway cluster.
#
#   tenant     today's CRM (test/sim/crm_schema.sql): primary keys lead with tenant_id, addresses unique;
#   surrogate  test/sim/crm_schema_surrogate.sql: primary key `id` alone on every table, tenant_id a plain
#              column, the same e-mail addresses in every tenant (so email alone matches a row per tenant).
#
# Each form is seeded once (crmsim setup: COPY, VACUUM ANALYZE, IndexPilot's extension and registration)
# into a template database that no IndexPilot worker serves (templates are skipped). Each repetition makes two
# fresh copies of it (CREATE DATABASE ... TEMPLATE, STRATEGY file_copy: primary keys only, planner statistics
# from the seeding), empties IndexPilot's capture store (indexpilot_reset_live_stats()) and checks that the
# copies hold nothing of an earlier arm. The expert's copy then loses the extension (DROP EXTENSION: no
# worker, no shapes captured; IndexPilot's switches are cluster-wide, so switching it off there would switch
# off the other copy too; the preloaded library still counts its statements). Both arms are prepared, in
# alternating order (odd repetitions IndexPilot first, even ones the expert first), with the same warm-up on
# the copy without secondary indexes, and get their index set at the same point:
#   indexpilot  crmsim run --mode autoindex --duration 0: the warm-up is captured (default settings:
#               sample_rate 0.1, min_calls 10; indexpilot.mode = auto), then indexpilot_run_now() until it
#               chooses nothing more (at most 12 calls, each build awaited); the worker keeps its default
#               intervals (flush and cost model every 1 min) and stays on until the copy is dropped;
#   expert      crmsim run --mode expert --indexes test/sim/crm_expert.sql --duration 0: the warm-up, then
#               the expert set (plain CREATE INDEX).
# Then the measured runs (crmsim alternate, after a CHECKPOINT in both): BENCH_MEASURE_S on each copy, in
# BENCH_SLICES slices that alternate between them, the same statements (workload seed BENCH_SEED +
# repetition - 1, and the slice) on both, IndexPilot's copy first in even slices and the expert's in odd
# ones, so that what the machine does meanwhile falls on both alike. Clients run unthrottled, so throughput
# is statements per second.
# crmsim bench-report then prints, per form, a row per repetition (throughput ratio, the worst hot pattern's
# p95 ratio, bytes of both sets, which IndexPilot set), min / median / max rows, both sets and a verdict per
# goal. Figures, not pass/fail: the script exits 0 whatever the verdicts, non-zero only when the harness
# itself fails. The run JSON files, logs and summaries stay in $BENCH_OUT/<form>/.
#
# Settings: BENCH_TENANTS (default 1000), BENCH_CONTACTS (per tenant, default 1000), BENCH_REPS (default 5),
# BENCH_CLIENTS (default 4), BENCH_WARMUP_S (default 30), BENCH_MEASURE_S (default 30), BENCH_SLICES (default 6),
# BENCH_FORMS (default "tenant surrogate"), BENCH_SEED (default 42), BENCH_OUT (default bench-out/advisor).
# A quick run: BENCH_TENANTS=50 BENCH_REPS=2 BENCH_WARMUP_S=10 BENCH_MEASURE_S=10 make bench-advisor
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/scripts/lib.sh
# the simulator's server settings (indexpilot.mode = auto); shared_buffers as in the runs docs/benchmarks.md
# records (512MB: the two databases do not fit together, so each slice is re-warmed)
SIM_SHARED_BUFFERS=${SIM_SHARED_BUFFERS:-512MB}
. test/scripts/sim.sh

TENANTS=${BENCH_TENANTS:-1000}
CONTACTS=${BENCH_CONTACTS:-1000}
REPS=${BENCH_REPS:-5}
CLIENTS=${BENCH_CLIENTS:-4}
WARMUP=${BENCH_WARMUP_S:-30}
MEASURE=${BENCH_MEASURE_S:-30}
SLICES=${BENCH_SLICES:-6}
FORMS=${BENCH_FORMS:-tenant surrogate}
SEED=${BENCH_SEED:-42}
OUT=${BENCH_OUT:-bench-out/advisor}
CRMSIM=$(pwd)/test/sim/crmsim
START=$(date +%s)
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then COMMIT="$COMMIT+changes"; fi

for form in $FORMS; do
	case $form in
	tenant | surrogate) ;;
	*) echo "bench: unknown form '$form' (tenant, surrogate)" >&2; exit 2 ;;
	esac
done
for knob in TENANTS CONTACTS REPS CLIENTS WARMUP MEASURE SLICES SEED; do
	[[ ${!knob} =~ ^[0-9]+$ ]] && [ "${!knob}" -ge 1 ] || { echo "bench: $knob must be a positive integer" >&2; exit 2; }
done

ip_cleanup_on_exit
ip_results_dir "$OUT" # the server log goes with the results, also when the harness fails

bash test/scripts/deps.sh
make -s all sim
ip_bench_cluster
ip_sim_conf "$DATADIR"
ip_cluster_start "$DATADIR"
echo "bench: throwaway cluster on 127.0.0.1:$PORT; forms: $FORMS; $TENANTS tenants x $CONTACTS contacts;" \
	"$REPS repetitions; $CLIENTS clients; warm-up ${WARMUP} s, measured ${MEASURE} s in $SLICES slices; commit $COMMIT"

DSN_BASE="host=127.0.0.1 port=$PORT user=postgres"
psql_db() {
	local db=$1
	shift
	PGOPTIONS="-c client_min_messages=warning" "$IP_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 "$DSN_BASE dbname=$db" "$@"
}

# fresh_copy DB: DB as a copy of the form's template (the previous copy of that name dropped first). With
# fsync off the copy's files are dirty in the page cache: sync, so their writeback does not fall into the runs.
fresh_copy() {
	psql_db postgres -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" \
		-c "CREATE DATABASE $1 TEMPLATE bench_template STRATEGY file_copy"
	sync
}

# drop_db DB: no new connections first, so the launcher starts no worker for it any more; FORCE ends the one
# it has (a FATAL "terminating background worker ... due to administrator command" in the log).
drop_db() {
	psql_db postgres -c "ALTER DATABASE $1 ALLOW_CONNECTIONS false" -c "ALTER DATABASE $1 IS_TEMPLATE false" \
		-c "DROP DATABASE $1 WITH (FORCE)"
}

# check_fresh DB: empties IndexPilot's capture store (all databases) and checks that nothing of an earlier
# arm is left: no shape in shared memory outside DB, no flushed statistics or statement texts in DB, no
# decision or build in its log, no index but the primary keys.
check_fresh() {
	local state
	psql_db "$1" -c "SELECT indexpilot_reset_live_stats()" >/dev/null
	state=$(psql_db "$1" -At -c "
		SELECT (SELECT count(*) FROM indexpilot._live_stats() s
		         WHERE s.dbid <> (SELECT oid FROM pg_database WHERE datname = current_database())
		            OR s.relid IN (SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		                           WHERE n.nspname = 'crm'))
		    || ' ' || (SELECT count(*) FROM indexpilot.query_stats)
		    || ' ' || (SELECT count(*) FROM indexpilot.query_samples)
		    || ' ' || (SELECT count(*) FROM indexpilot.mutation_log WHERE kind LIKE 'index%')
		    || ' ' || (SELECT count(*) FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid
		               JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'crm' AND NOT x.indisprimary)")
	if [ "$state" != "0 0 0 0 0" ]; then
		echo "bench: the copy $1 is not fresh (shapes elsewhere or on crm, query_stats, query_samples," \
			"index rows in mutation_log, secondary indexes: $state)" >&2
		exit 1
	fi
}

# prepare FORM REP ARM: one arm of one repetition on its fresh copy, everything but the measured run; writes
# $OUT/FORM/rep-REP/ARM.json (crmsim run --duration 0: the switches stay as the run set them until measured).
prepare() {
	local form=$1 rep=$2 which=$3 db="bench_$3" dir="$OUT/$1/rep-$2" t0 log mode=(--mode autoindex)
	[ "$which" = indexpilot ] || mode=(--mode expert --indexes "$(pwd)/test/sim/crm_expert.sql")
	log="$dir/$which.log"
	t0=$(date +%s)
	if ! "$CRMSIM" run --dsn "$DSN_BASE dbname=$db" "${mode[@]}" --clients "$CLIENTS" --warmup "$WARMUP" \
		--duration 0 --seed "$((SEED + rep - 1))" --out "$dir/$which.json" 2>"$log"; then
		echo "bench: $form repetition $rep, $which: crmsim run failed:" >&2
		tail -20 "$log" >&2
		exit 1
	fi
	grep -E '^run: (called|indexpilot_run_now|the expert|error)' "$log" | sed "s/^run: /    $which: /" || true
	echo "    $which: $(($(date +%s) - t0)) s (warm-up, indexes)"
}

# repetition FORM REP: both fresh copies first (checking one empties the capture store of all), the expert's
# without the extension (IndexPilot's switches are cluster-wide: its copy must not switch off the other's;
# the preloaded library still counts its statements), both arms prepared in the repetition's order, then
# the measured runs in alternating slices (crmsim alternate), and both copies dropped.
repetition() {
	local form=$1 rep=$2 dir="$OUT/$1/rep-$2" order t0
	if [ $((rep % 2)) = 1 ]; then order="indexpilot expert"; else order="expert indexpilot"; fi
	echo "bench: $form form, repetition $rep/$REPS (prepared: $order)"
	for which in indexpilot expert; do
		fresh_copy "bench_$which"
		check_fresh "bench_$which"
	done
	psql_db bench_expert -c "DROP EXTENSION indexpilot CASCADE"
	for which in $order; do prepare "$form" "$rep" "$which"; done
	t0=$(date +%s)
	if ! "$CRMSIM" alternate --dsn "$DSN_BASE dbname=bench_indexpilot" --pair-dsn "$DSN_BASE dbname=bench_expert" \
		--in "$dir/indexpilot.json" --pair-in "$dir/expert.json" --clients "$CLIENTS" --duration "$MEASURE" \
		--slices "$SLICES" --checkpoint yes 2>"$dir/alternate.log"; then
		echo "bench: $form repetition $rep: crmsim alternate failed:" >&2
		tail -20 "$dir/alternate.log" >&2
		exit 1
	fi
	grep -E '^alternate: slice' "$dir/alternate.log" | sed 's/^alternate: /    /' || true
	echo "    measured: $(($(date +%s) - t0)) s ($SLICES slices of $MEASURE/$SLICES s on each copy)"
	for which in indexpilot expert; do drop_db "bench_$which"; done
}

for form in $FORMS; do
	mkdir -p "$OUT/$form"
	echo "bench: $form form: seeding the template ($TENANTS tenants x $CONTACTS contacts, seed $SEED)"
	t0=$(date +%s)
	psql_db postgres -c "CREATE DATABASE bench_template IS_TEMPLATE true"
	psql_db bench_template -c "CREATE EXTENSION indexpilot"
	if ! "$CRMSIM" setup --dsn "$DSN_BASE dbname=bench_template" --form "$form" --tenants "$TENANTS" \
		--contacts "$CONTACTS" --seed "$SEED" 2>"$OUT/$form/setup.log"; then
		tail -20 "$OUT/$form/setup.log" >&2
		exit 1
	fi
	echo "bench: $form form: template ready in $(($(date +%s) - t0)) s ($(psql_db postgres -Atc \
		"SELECT pg_size_pretty(pg_database_size('bench_template'))"))"
	for rep in $(seq 1 "$REPS"); do
		mkdir -p "$OUT/$form/rep-$rep"
		repetition "$form" "$rep"
	done
	drop_db bench_template
	"$CRMSIM" bench-report --dir "$OUT/$form" --title "form $form: $TENANTS tenants x $CONTACTS contacts, $CLIENTS clients, \
warm-up $WARMUP s, measured $MEASURE s in $SLICES alternating slices, $REPS repetitions, workload seeds $SEED..$((SEED + REPS - 1)), commit $COMMIT" >/dev/null
done

echo
echo "bench: finished in $(($(date +%s) - START)) s; the server log (kept in $OUT/server.log) has" \
	"$(grep -cE '(WARNING|ERROR|PANIC):|terminated by signal' "$DATADIR/server.log" || true) WARNING, ERROR," \
	"PANIC or crash lines"
for form in $FORMS; do
	echo
	cat "$OUT/$form/summary.txt"
done
