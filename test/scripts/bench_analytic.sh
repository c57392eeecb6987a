#!/usr/bin/env bash
# bench_analytic.sh — `make bench-analytic` (issue 14): IndexPilot on a reporting workload it was never told
# about, against the classic greedy what-if advisor under the same byte budget. Figures, not pass/fail.
#
# A throwaway cluster with IndexPilot preloaded and every threshold at its default (sample_rate, min_calls,
# min_time_share, …); only indexpilot.mode = auto (build what it decides), indexpilot.exclude = 'bench'
# (the harness's own schema) and indexpilot.advise_interval = 1d (the worker flushes what it captures at its
# default interval but decides only when asked, after the passes: it learns first, then decides) are set. Database `analytic` gets the star schema of test/sim/analytic_schema.sql
# (BENCH_FACT_ROWS sales, default 5,000,000; four dimensions) — nothing is registered — and the harness of
# test/sim/analytic_bench.sql. Then:
#   1. the planner cost of each statement's representative instance, with primary keys only;
#   2. BENCH_PASSES learning passes (default 3): each statement with its per-pass values, every execution in
#      its own session with statement_timeout = 30 s (Q4 is cut short every time);
#   3. indexpilot_run_now() until it starts no build (each build awaited): IndexPilot decides from what it
#      captured and builds;
#   4. the costs with IndexPilot's indexes, and each statement run once more under the 30 s timeout;
#   5. IndexPilot's indexes dropped and indexpilot.mode = off; the greedy baseline (bench.greedy) under a
#      budget of IndexPilot's index bytes, its indexes built for real, and the costs with them.
# The report (stdout and $BENCH_OUT/report.md): per statement the cost without indexes, with IndexPilot's and
# with the greedy set, both ratios, the geometric means, index bytes against the data (heap) size, and
# whether the statements that timed out before finish after. Goals (issue 14): geometric mean <= 0.30 with
# index bytes <= 0.25x the data, better than greedy at the same budget, every timed-out statement finishing.
#
# Settings: BENCH_FACT_ROWS (default 5000000), BENCH_PASSES (default 3), BENCH_TIMEOUT_S (default 30),
# BENCH_OUT (default bench-out/analytic), BENCH_CONF (lines added to postgresql.conf, e.g.
# "indexpilot.max_index_size_fraction = 0.2"; the report says when it is set). A quick run: BENCH_FACT_ROWS=500000 BENCH_PASSES=2 make bench-analytic
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/scripts/lib.sh

FACT_ROWS=${BENCH_FACT_ROWS:-5000000}
PASSES=${BENCH_PASSES:-3}
TIMEOUT_S=${BENCH_TIMEOUT_S:-30}
OUT=${BENCH_OUT:-bench-out/analytic}
for knob in FACT_ROWS PASSES TIMEOUT_S; do
	[[ ${!knob} =~ ^[0-9]+$ ]] && [ "${!knob}" -ge 1 ] || { echo "bench: $knob must be a positive integer" >&2; exit 2; }
done
START=$(date +%s)
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then COMMIT="$COMMIT+changes"; fi

ip_cleanup_on_exit
ip_results_dir "$OUT"

bash test/scripts/deps.sh
make -s all
ip_bench_cluster
ip_as_server_user tee -a "$DATADIR/postgresql.conf" >/dev/null <<CONF
shared_buffers = '1GB'
indexpilot.mode = 'auto'
indexpilot.exclude = 'bench'
indexpilot.advise_interval = '1d'
${BENCH_CONF:-}
CONF
ip_cluster_start "$DATADIR"
elapsed() { echo "$(($(date +%s) - START)) s"; }
echo "bench: throwaway cluster on 127.0.0.1:$PORT; $FACT_ROWS sales; $PASSES passes; timeout ${TIMEOUT_S} s; commit $COMMIT;" \
	"settings: ${BENCH_CONF:-the defaults}; decisions only when asked (advise_interval = 1d)"

DSN="host=127.0.0.1 port=$PORT user=postgres dbname=analytic"
psql_a() { PGOPTIONS="-c client_min_messages=warning" "$IP_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 "$DSN" "$@"; }
"$IP_BINDIR/psql" -X -q "host=127.0.0.1 port=$PORT user=postgres dbname=postgres" -c "CREATE DATABASE analytic"

echo "bench: generating the star schema ($(elapsed))"
psql_a -c "CREATE EXTENSION indexpilot"
psql_a -v fact_rows="$FACT_ROWS" -f test/sim/analytic_schema.sql
psql_a -f test/sim/analytic_bench.sql
psql_a -o /dev/null -c "SELECT bench.record_costs('none')"

# The harness keeps its own statements out of the workload IndexPilot measures (they would count among the
# database's statements, and make the workload's shapes look rare): every instance is generated up front in
# one query, and each run's time is kept in a file and loaded into bench.runs once, after IndexPilot's
# decisions.
RUNS=$WORK/runs.tsv
: >"$RUNS"
# run_statement PHASE NAME V SQL: one execution in its own session under the timeout, appended to $RUNS.
run_statement() {
	local phase=$1 name=$2 v=$3 sql=$4 t0 t1 timed_out=false
	t0=$(date +%s%N)
	if ! err=$(PGOPTIONS="-c statement_timeout=${TIMEOUT_S}s" "$IP_BINDIR/psql" -X -q -o /dev/null "$DSN" -c "$sql" 2>&1); then
		if [[ $err == *"statement timeout"* ]]; then timed_out=true; else echo "bench: $name failed: $err" >&2; exit 1; fi
	fi
	t1=$(date +%s%N)
	printf '%s\t%s\t%s\t%s\t%s\n' "$phase" "$name" "$v" $(((t1 - t0) / 1000000)) "$timed_out" >>"$RUNS"
}
# The learning passes' instances (pass, name, v, statement), then the representative ones (v = 5) for after.
mapfile -t LEARN < <(psql_a -At -F $'\t' -c "SELECT p, s.name, 10 * p + k, bench.instance(s.template, 10 * p + k)
                                            FROM generate_series(1, $PASSES) p, bench.statements s, generate_series(1, s.per_pass) k
                                            ORDER BY p, s.ord, k")
mapfile -t AFTER < <(psql_a -At -F $'\t' -c "SELECT s.name, 5, bench.instance(s.template, 5) FROM bench.statements s ORDER BY s.ord")
[ "${#LEARN[@]}" -gt 0 ] && [ "${#AFTER[@]}" -gt 0 ] || { echo "bench: no statements to run" >&2; exit 1; }
pass_now=0
for entry in "${LEARN[@]}"; do
	IFS=$'\t' read -r pass name v sql <<<"$entry"
	if [ "$pass" != "$pass_now" ]; then
		echo "bench: learning pass $pass of $PASSES ($(elapsed))"
		pass_now=$pass
	fi
	run_statement learn "$name" "$v" "$sql"
done

echo "bench: IndexPilot decides and builds ($(elapsed))"
# Each round waits for the build it started: builds run one at a time, and the builder writes its
# index_build_started row itself, after the round's commit, so the wait is for an outcome of that index
# (finished, failed or abandoned) after the round began, polled once a second.
wait_for_build() {
	local name=$1 since=$2 waited=0
	until [ "$(psql_a -At -c "SELECT count(*) FROM indexpilot.mutation_log WHERE id > $since AND target_index = '$name'
	                         AND kind IN ('index_build_finished', 'index_build_failed', 'index_build_abandoned')")" != 0 ]; do
		sleep 1
		waited=$((waited + 1))
		[ "$waited" -lt 1800 ] || { echo "bench: the build of $name has had no outcome for 30 min" >&2; exit 1; }
	done
}
for round in $(seq 1 12); do
	since=$(psql_a -At -c "SELECT coalesce(max(id), 0) FROM indexpilot.mutation_log")
	psql_a -c "DROP TABLE IF EXISTS bench.decisions; CREATE TABLE bench.decisions AS SELECT * FROM indexpilot_run_now()"
	actions=$(psql_a -At -c "SELECT coalesce(string_agg(table_name || ' (' || array_to_string(columns, ', ') || '): ' || action, '; '), '')
	                         FROM bench.decisions WHERE verdict = 'chosen' AND action <> 'exists'")
	echo "bench:   run_now $round: ${actions:-nothing left to build}"
	started=$(psql_a -At -c "SELECT index_name FROM bench.decisions WHERE action IN ('build_started', 'build_at_commit') LIMIT 1")
	if [ -z "$started" ]; then
		[[ $actions == *build_not_started* ]] || break
		sleep 2 # a build could not be launched this round: the next one tries again
		continue
	fi
	wait_for_build "$started" "$since"
done
# The last decision, every candidate with its verdict and figures: why the others were not built.
psql_a -c "SELECT table_name, columns, kind, verdict, action, round(calls) AS calls, round(cost_without) AS cost_without,
                  round(cost_with) AS cost_with, round(estimated_bytes) AS bytes FROM bench.decisions ORDER BY table_name, verdict, index_name" \
	>"$OUT/decisions.txt"
psql_a -o /dev/null -c "SELECT bench.record_costs('indexpilot')"
psql_a -c "INSERT INTO bench.indexes
           SELECT 'indexpilot', c.relname, i.indrelid::regclass::text,
                  (SELECT string_agg(a.attname, ',' ORDER BY k.ord) FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
                   JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum),
                  pg_relation_size(c.oid)
           FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
           WHERE i.indisvalid AND c.oid IN (SELECT (details->>'index_oid')::oid FROM indexpilot.mutation_log
                                            WHERE kind = 'index_build_finished')"
echo "bench: the statements once more, with IndexPilot's indexes ($(elapsed))"
for entry in "${AFTER[@]}"; do
	IFS=$'\t' read -r name v sql <<<"$entry"
	run_statement after "$name" "$v" "$sql"
done
psql_a -c "\\copy bench.runs FROM '$RUNS'"
psql_a -At -c "SELECT kind || ' ' || coalesce(target_index, target_table) || ' ' || coalesce(details->>'verdict', details->>'reason', '')
               FROM indexpilot.mutation_log WHERE kind LIKE 'index%' ORDER BY id" >"$OUT/lineage.txt"

echo "bench: the greedy what-if baseline under IndexPilot's byte budget ($(elapsed))"
"$IP_BINDIR/psql" -X -q "host=127.0.0.1 port=$PORT user=postgres dbname=postgres" \
	-c "ALTER SYSTEM SET indexpilot.mode = 'off'" -c "SELECT pg_reload_conf()" >/dev/null
psql_a -At -c "SELECT format('DROP INDEX dw.%I;', index_name) FROM bench.indexes WHERE phase = 'indexpilot'" | psql_a
BUDGET=$(psql_a -At -c "SELECT coalesce(sum(bytes), 0) FROM bench.indexes WHERE phase = 'indexpilot'")
psql_a -At -c "SELECT * FROM bench.greedy($BUDGET)" | tee "$OUT/greedy.txt" | sed 's/^/bench:   /'
psql_a -o /dev/null -c "SELECT bench.record_costs('greedy')"

psql_a -At -F '|' -c "
	WITH r AS (SELECT s.ord, s.name, n.cost AS none, i.cost AS ip, g.cost AS greedy,
	                  (SELECT bool_or(timed_out) FROM bench.runs x WHERE x.name = s.name AND x.phase = 'learn') AS timed_out_before,
	                  (SELECT bool_or(timed_out) FROM bench.runs x WHERE x.name = s.name AND x.phase = 'after') AS timed_out_after,
	                  (SELECT max(ms) FROM bench.runs x WHERE x.name = s.name AND x.phase = 'learn') AS ms_before,
	                  (SELECT max(ms) FROM bench.runs x WHERE x.name = s.name AND x.phase = 'after') AS ms_after
	           FROM bench.statements s
	           JOIN bench.costs n ON n.name = s.name AND n.phase = 'none'
	           JOIN bench.costs i ON i.name = s.name AND i.phase = 'indexpilot'
	           JOIN bench.costs g ON g.name = s.name AND g.phase = 'greedy')
	SELECT '| ' || name || ' | ' || round(none::numeric) || ' | ' || round(ip::numeric) || ' | ' || round((ip / none)::numeric, 3)
	       || ' | ' || round(greedy::numeric) || ' | ' || round((greedy / none)::numeric, 3)
	       || ' | ' || CASE WHEN timed_out_before THEN 'timed out' ELSE round(ms_before::numeric) || ' ms' END
	       || ' | ' || CASE WHEN timed_out_after THEN 'timed out' ELSE round(ms_after::numeric) || ' ms' END || ' |'
	FROM r ORDER BY ord" >"$OUT/rows.txt"
SUMMARY=$(psql_a -At -F '|' -c "
	WITH r AS (SELECT n.name, i.cost / n.cost AS ip, g.cost / n.cost AS greedy FROM bench.costs n
	           JOIN bench.costs i ON i.name = n.name AND i.phase = 'indexpilot'
	           JOIN bench.costs g ON g.name = n.name AND g.phase = 'greedy' WHERE n.phase = 'none'),
	     d AS (SELECT sum(pg_table_size(c.oid))::float8 AS bytes FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
	           WHERE ns.nspname = 'dw' AND c.relkind = 'r')
	SELECT round(exp(avg(ln(ip)))::numeric, 3), round(exp(avg(ln(greedy)))::numeric, 3),
	       (SELECT coalesce(sum(bytes), 0) FROM bench.indexes WHERE phase = 'indexpilot'),
	       (SELECT coalesce(sum(bytes), 0) FROM bench.indexes WHERE phase = 'greedy'),
	       (SELECT bytes FROM d)::bigint,
	       (SELECT count(DISTINCT name) FROM bench.runs WHERE phase = 'learn' AND timed_out),
	       (SELECT count(DISTINCT b.name) FROM bench.runs b WHERE b.phase = 'learn' AND b.timed_out
	          AND EXISTS (SELECT 1 FROM bench.runs a WHERE a.phase = 'after' AND a.name = b.name AND a.timed_out)),
	       (SELECT string_agg(table_name || ' (' || columns || ') ' || pg_size_pretty(bytes), ', ' ORDER BY table_name, columns) FROM bench.indexes WHERE phase = 'indexpilot'),
	       (SELECT string_agg(table_name || ' (' || columns || ') ' || pg_size_pretty(bytes), ', ' ORDER BY table_name, columns) FROM bench.indexes WHERE phase = 'greedy')
	FROM r")
IFS='|' read -r GM_IP GM_GREEDY BYTES_IP BYTES_GREEDY DATA_BYTES N_TIMED_OUT N_STILL IDX_IP IDX_GREEDY <<<"$SUMMARY"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }'; }
verdict() { if [ "$1" = 1 ]; then echo MET; else echo "NOT MET"; fi; }
met_gm=$(awk -v g="$GM_IP" -v b="$(ratio "$BYTES_IP" "$DATA_BYTES")" 'BEGIN { print (g <= 0.30 && b <= 0.25) ? 1 : 0 }')
met_greedy=$(awk -v a="$GM_IP" -v b="$GM_GREEDY" 'BEGIN { print (a < b) ? 1 : 0 }')
met_finish=$([ "$N_STILL" = 0 ] && echo 1 || echo 0)
{
	echo "# make bench-analytic: IndexPilot on a star schema it was not told about"
	echo
	echo "Commit $COMMIT; $FACT_ROWS sales rows; $PASSES learning passes; statement_timeout ${TIMEOUT_S} s; $(elapsed);" \
		"settings: ${BENCH_CONF:-the defaults}; decisions only when asked (advise_interval = 1d), after the passes."
	echo
	echo "| statement | cost, primary keys only | with IndexPilot's | ratio | with greedy's | ratio | slowest run before | run after |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|"
	cat "$OUT/rows.txt"
	echo
	echo "- geometric mean of the cost ratios: IndexPilot **$GM_IP**, greedy **$GM_GREEDY**"
	echo "- index bytes: IndexPilot $BYTES_IP ($(ratio "$BYTES_IP" "$DATA_BYTES")x the data, $DATA_BYTES bytes of tables), greedy $BYTES_GREEDY (budget: IndexPilot's bytes)"
	echo "- IndexPilot's indexes: $IDX_IP"
	echo "- greedy's indexes: $IDX_GREEDY"
	echo "- statements that timed out before: $N_TIMED_OUT; still timing out after: $N_STILL"
	echo
	echo "Goals: geometric mean <= 0.30 with index bytes <= 0.25x the data: $(verdict "$met_gm"); better than greedy at the same budget: $(verdict "$met_greedy"); every statement that timed out finishes: $(verdict "$met_finish")"
} | tee "$OUT/report.md"
