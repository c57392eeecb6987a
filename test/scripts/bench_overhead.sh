#!/usr/bin/env bash
# bench_overhead.sh — `make bench-overhead`: what capture costs a running server, measured side by side.
#
# One throwaway cluster; for each configuration the server restarts with its shared_preload_libraries, and
# pgbench runs two workloads: the built-in select-only script (scale 10) and a CRM read mix whose ideal
# indexes exist (so statements are fast and any overhead shows). Two phases, figures, not pass/fail:
#   throughput    configurations alternate round by round (each round starts one configuration later, so
#                 no configuration always runs first); prints the median TPS of each, its ratio to the
#                 server without extensions, and the median of the per-round ratios (each configuration
#                 against the no-extension run of the same round, so drift between rounds cancels out);
#   instructions  the server backend's instructions per transaction, counted by valgrind (callgrind) with
#                 one pgbench client: deterministic, so it resolves the 1-3% that throughput on a shared
#                 machine cannot. Counted as the difference between a run of N+1 transactions and a run of
#                 1, so connection start-up cancels out. Also measures the backends' share of all CPU time
#                 under the throughput workload (pgbench and the kernel use the rest) and prints the
#                 throughput ratio the counts imply at that share (est_tps).
# Settings: BENCH_SECONDS (per run, default 10), BENCH_ROUNDS (default 5), BENCH_CLIENTS (default 4),
# BENCH_TRANSACTIONS (instructions phase, default 3000), BENCH_PHASES (default "throughput instructions").
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/scripts/lib.sh

SECONDS_PER_RUN=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-5}
CLIENTS=${BENCH_CLIENTS:-4}
TRANSACTIONS=${BENCH_TRANSACTIONS:-3000}
PHASES=${BENCH_PHASES:-throughput instructions}

ip_cleanup_on_exit

bash test/scripts/deps.sh --bench
make -s all
ip_bench_cluster
ip_as_server_user tee -a "$DATADIR/postgresql.conf" >/dev/null <<CONF
indexpilot.naptime = '10s'
shared_buffers = '256MB'
max_connections = 50
CONF
ip_as_server_user cp "$DATADIR/postgresql.conf" "$DATADIR/postgresql.conf.base"

PSQL=("$IP_BINDIR/psql" -X -q -h 127.0.0.1 -p "$PORT" -U postgres)
PGBENCH=("$IP_BINDIR/pgbench" -h 127.0.0.1 -p "$PORT" -U postgres)

# name|shared_preload_libraries|extra settings (';'-separated)
CONFIGS=(
	"none||"
	"indexpilot (sample_rate 1)|indexpilot|indexpilot.sample_rate = 1"
	"indexpilot (default rate)|indexpilot|"
	"pg_qualstats (sample_rate 1)|pg_qualstats|pg_qualstats.sample_rate = 1"
	"pg_stat_statements|pg_stat_statements|"
)
# The instructions phase also counts what the hooks cost a statement they do not sample.
INSTRUCTION_CONFIGS=("${CONFIGS[@]}" "indexpilot (sample_rate 0)|indexpilot|indexpilot.sample_rate = 0")

configure() {
	local preload=$1 extra=$2
	ip_cluster_stop "$DATADIR"
	ip_as_server_user cp "$DATADIR/postgresql.conf.base" "$DATADIR/postgresql.conf"
	{
		echo "shared_preload_libraries = '$preload'"
		if [ -n "$extra" ]; then echo "$extra" | tr ';' '\n'; fi
	} | ip_as_server_user tee -a "$DATADIR/postgresql.conf" >/dev/null
	ip_cluster_start "$DATADIR"
}

echo "bench: preparing data (pgbench scale 10, CRM 200 tenants x 500 contacts)"
configure "" ""
"${PGBENCH[@]}" -i -q -s 10 postgres >/dev/null 2>&1
"${PSQL[@]}" -d postgres <<'SQL'
CREATE TABLE bench_orgs (id bigint PRIMARY KEY, tenant_id int NOT NULL, name text, industry text, country text);
CREATE TABLE bench_contacts (id bigint PRIMARY KEY, tenant_id int NOT NULL, org_id bigint, email text,
                             phone text, title text);
CREATE TABLE bench_interactions (id bigint PRIMARY KEY, tenant_id int NOT NULL, contact_id bigint, type text,
                                 occurred_at timestamptz);
INSERT INTO bench_orgs SELECT g, g % 200, 'org' || g, (ARRAY['retail','tech','health','finance'])[g % 4 + 1], 'NZ'
FROM generate_series(1, 20000) g;
INSERT INTO bench_contacts SELECT g, g % 200, g % 20000 + 1, 'c' || g || '@x.test', 'p' || g, 'staff'
FROM generate_series(1, 100000) g;
INSERT INTO bench_interactions SELECT g, g % 200, g % 100000 + 1, (ARRAY['call','email','meeting'])[g % 3 + 1],
       '2026-01-01'::timestamptz + (g % 8760) * interval '1 hour'
FROM generate_series(1, 300000) g;
CREATE INDEX ON bench_contacts (tenant_id, email);
CREATE INDEX ON bench_contacts (tenant_id, phone);
CREATE INDEX ON bench_orgs (tenant_id, industry);
CREATE INDEX ON bench_interactions (tenant_id, type, occurred_at);
VACUUM ANALYZE;
CHECKPOINT;
SQL
cat >"$WORK/crm_mix.sql" <<'SQL'
\set t random(0, 199)
\set n random(1, 100000)
\set d random(0, 360)
SELECT id FROM bench_contacts WHERE tenant_id = :t AND email = 'c' || :n || '@x.test';
SELECT id FROM bench_contacts WHERE tenant_id = :t AND phone = 'p' || :n;
SELECT count(*) FROM bench_orgs WHERE tenant_id = :t AND industry = 'tech';
SELECT count(*) FROM bench_interactions WHERE tenant_id = :t AND type = 'call'
  AND occurred_at >= '2026-01-01'::timestamptz + :d * interval '1 day'
  AND occurred_at < '2026-01-01'::timestamptz + (:d + 7) * interval '1 day';
SQL
chmod a+r "$WORK/crm_mix.sql"

cat >"$WORK/select_only.sql" <<'SQL'
\set aid random(1, 1000000)
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
SQL
chmod a+r "$WORK/select_only.sql"
script() { if [ "$1" = "select-only" ]; then echo "$WORK/select_only.sql"; else echo "$WORK/crm_mix.sql"; fi; }
WORKLOADS=(select-only crm-mix)
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# ---- throughput ---------------------------------------------------------------------------------------
throughput() {
	declare -A TPS RATIOS
	local n=${#CONFIGS[@]} round k cfg name preload extra workload tps
	run() { # run WORKLOAD SECONDS -> prints tps
		"${PGBENCH[@]}" -n -M prepared -c "$CLIENTS" -j 2 -T "$2" -f "$(script "$1")" postgres 2>/dev/null |
			sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
	}
	echo "bench: throughput, $ROUNDS rounds x $n configurations x ${#WORKLOADS[@]} workloads, ${SECONDS_PER_RUN}s each, $CLIENTS clients"
	for round in $(seq 1 "$ROUNDS"); do
		declare -A THIS=()
		for k in $(seq 0 $((n - 1))); do
			cfg=${CONFIGS[$(((k + round - 1) % n))]}
			IFS='|' read -r name preload extra <<<"$cfg"
			configure "$preload" "$extra"
			for workload in "${WORKLOADS[@]}"; do
				run "$workload" 3 >/dev/null # warm caches after the restart; not measured
				tps=$(run "$workload" "$SECONDS_PER_RUN")
				TPS["$workload|$name"]+="$tps "
				THIS["$workload|$name"]=$tps
				printf '  round %d  %-12s %-30s %10.1f tps\n' "$round" "$workload" "$name" "$tps"
			done
		done
		for workload in "${WORKLOADS[@]}"; do
			for cfg in "${CONFIGS[@]}"; do
				IFS='|' read -r name _ _ <<<"$cfg"
				RATIOS["$workload|$name"]+="$(echo "${THIS["$workload|$name"]} ${THIS["$workload|none"]}" | awk '{printf "%.4f", $1/$2}') "
			done
		done
	done
	echo
	echo "Throughput over $ROUNDS rounds (pgbench -M prepared -c $CLIENTS -j 2 -T $SECONDS_PER_RUN), against no extension:"
	printf '%-12s %-30s %12s %8s %14s\n' workload configuration median_tps ratio median_paired
	for workload in "${WORKLOADS[@]}"; do
		local base m
		base=$(echo "${TPS["$workload|none"]}" | median)
		for cfg in "${CONFIGS[@]}"; do
			IFS='|' read -r name _ _ <<<"$cfg"
			m=$(echo "${TPS["$workload|$name"]}" | median)
			printf '%-12s %-30s %12.1f %8.3f %14.3f\n' "$workload" "$name" "$m" \
				"$(echo "$m $base" | awk '{printf "%.3f", $1/$2}')" "$(echo "${RATIOS["$workload|$name"]}" | median)"
		done
	done
	echo
}

# ---- instructions -------------------------------------------------------------------------------------
CG="$WORK/callgrind"
mkdir -p "$CG"
chmod 777 "$CG"

# backend_instructions LOGFILE FROM_LINE -> the largest instruction count among the pgbench backends whose
# connections were logged after line FROM_LINE (the transaction backend; the other is pgbench's set-up
# connection). Waits for valgrind to write their files when they exit.
backend_instructions() {
	local log=$1 from=$2 pids pid best=0 ir
	pids=$(tail -n +"$((from + 1))" "$log" | sed -n 's/.*\[\([0-9]*\)\].*connection authorized:.*application_name=pgbench.*/\1/p')
	[ -n "$pids" ] || { echo "bench: no pgbench backend in the server log" >&2; return 1; }
	for pid in $pids; do
		for _ in $(seq 1 120); do
			grep -qs "^summary:" "$CG/cg.$pid" && break
			sleep 0.5
		done
		ir=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$CG/cg.$pid")
		[ -n "$ir" ] || { echo "bench: no callgrind totals for backend $pid" >&2; return 1; }
		[ "$ir" -gt "$best" ] && best=$ir
	done
	echo "$best"
}

# backend_share WORKLOAD -> the server backends' user-mode CPU time as a share (0-1) of all CPU time the
# backends and pgbench use while pgbench runs WORKLOAD with $CLIENTS clients on the server without
# extensions: what turns extra backend instructions into lost throughput (pgbench and the kernel work for
# the backends use the rest). Process times, so other load on the machine does not count.
backend_share() {
	local pgbench postmaster pids b0 b1
	"${PGBENCH[@]}" -n -M prepared -c "$CLIENTS" -j 2 -T 12 -f "$(script "$1")" postgres >/dev/null 2>&1 &
	pgbench=$!
	sleep 3
	postmaster=$(head -1 "$DATADIR/postmaster.pid")
	pids=$(pgrep -P "$postmaster" -f 'postgres: postgres postgres' || true)
	# user and all (user + system) clock ticks of the backends, and all ticks of pgbench
	ticks() {
		{
			for p in $pids; do awk '{print "b", $14, $15}' "/proc/$p/stat" 2>/dev/null; done
			awk '{print "p", $14, $15}' "/proc/$pgbench/stat" 2>/dev/null
		} | awk '{if ($1 == "b") bu += $2; all += $2 + $3} END {print bu + 0, all + 0}'
	}
	b0=$(ticks); sleep 6; b1=$(ticks)
	wait "$pgbench" || true
	echo "$b0 $b1" | awk '{d = $4 - $2; printf "%.3f", (d > 0 ? ($3 - $1) / d : 1)}'
}

instructions() {
	declare -A PER_TX SHARE
	local cfg name preload extra workload settings log from small large
	echo "bench: instructions, ${#INSTRUCTION_CONFIGS[@]} configurations x ${#WORKLOADS[@]} workloads, 1 client," \
		"1 and $((TRANSACTIONS + 1)) transactions under valgrind --tool=callgrind"
	configure "" ""
	for workload in "${WORKLOADS[@]}"; do
		SHARE[$workload]=$(backend_share "$workload")
		echo "  $workload: server backends (user mode) use ${SHARE[$workload]} of the CPU time of backends and pgbench ($CLIENTS clients)"
	done
	ip_cluster_stop "$DATADIR"
	ip_as_server_user cp "$DATADIR/postgresql.conf.base" "$DATADIR/postgresql.conf"
	for cfg in "${INSTRUCTION_CONFIGS[@]}"; do
		IFS='|' read -r name preload extra <<<"$cfg"
		settings=(-c "shared_preload_libraries=$preload" -c log_connections=on -c autovacuum=off)
		if [ -n "$extra" ]; then
			while IFS= read -r kv; do settings+=(-c "$(echo "$kv" | sed 's/ *= */=/')"); done < <(echo "$extra" | tr ';' '\n')
		fi
		log="$CG/server-${name//[^a-z0-9_]/_}.log"
		rm -f "$CG"/cg.*
		ip_as_server_user bash -c 'exec valgrind --tool=callgrind --callgrind-out-file="$1/cg.%p" --dump-instr=no \
			--error-limit=no "${@:3}" >"$2" 2>&1' _ "$CG" "$log" "$IP_BINDIR/postgres" -D "$DATADIR" "${settings[@]}" &
		for _ in $(seq 1 120); do
			"$IP_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PORT" && break
			sleep 0.5
		done
		for workload in "${WORKLOADS[@]}"; do
			"${PGBENCH[@]}" -n -M prepared -c 1 -t 20 -f "$(script "$workload")" postgres >/dev/null 2>&1 # warm
			from=$(wc -l <"$log")
			"${PGBENCH[@]}" -n -M prepared -c 1 -t 1 -f "$(script "$workload")" postgres >/dev/null 2>&1
			small=$(backend_instructions "$log" "$from")
			from=$(wc -l <"$log")
			"${PGBENCH[@]}" -n -M prepared -c 1 -t "$((TRANSACTIONS + 1))" -f "$(script "$workload")" postgres >/dev/null 2>&1
			large=$(backend_instructions "$log" "$from")
			PER_TX["$workload|$name"]=$(((large - small) / TRANSACTIONS))
			printf '  %-12s %-30s %10d instructions per transaction\n' "$workload" "$name" "${PER_TX["$workload|$name"]}"
		done
		ip_as_server_user "$IP_BINDIR/pg_ctl" -D "$DATADIR" -m fast -w -t 300 stop >/dev/null
		wait
	done
	echo
	echo "Server backend instructions per transaction (callgrind, $TRANSACTIONS transactions, pgbench -M prepared -c 1);"
	echo "est_tps: the throughput ratio these imply when the backends' share of CPU is as measured above,"
	echo "1 / (1 + (ratio - 1) x share); tps_bound: the same if the backends were all that used CPU (share 1):"
	printf '%-12s %-30s %14s %8s %8s %10s\n' workload configuration instructions ratio est_tps tps_bound
	for workload in "${WORKLOADS[@]}"; do
		local base=${PER_TX["$workload|none"]} ir
		for cfg in "${INSTRUCTION_CONFIGS[@]}"; do
			IFS='|' read -r name _ _ <<<"$cfg"
			ir=${PER_TX["$workload|$name"]}
			printf '%-12s %-30s %14d %8.3f %8.3f %10.3f\n' "$workload" "$name" "$ir" \
				"$(echo "$ir $base" | awk '{printf "%.4f", $1/$2}')" \
				"$(echo "$ir $base ${SHARE[$workload]}" | awk '{printf "%.4f", 1 / (1 + ($1 / $2 - 1) * $3)}')" \
				"$(echo "$ir $base" | awk '{printf "%.4f", $2/$1}')"
		done
	done
	echo
}

for phase in $PHASES; do
	case $phase in
	throughput) throughput ;;
	instructions) instructions ;;
	*) echo "bench: unknown phase '$phase' (throughput, instructions)" >&2; exit 2 ;;
	esac
done
