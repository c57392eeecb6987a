#!/usr/bin/env bash
# demo.sh — `make demo`: builds IndexPilot and the CRM simulator, installs the extension into a private
# tree, starts a throwaway cluster with it preloaded, creates it, shows the version and the background
# workers, then seeds the mini-CRM once into a template database and copies it three times (the same data):
#   demo_baseline   the baseline run (IndexPilot bypassed), dropped after it;
#   demo_autoindex  IndexPilot's worker alone learns, decides and builds while the warm-up traffic goes on
#                   (its timeline is recorded);
#   demo_expert     without the extension; the same traffic, as long, then the expert's hand-tuned index
#                   set (test/sim/crm_expert.sql).
# Then the measured runs of both at the fixed demand, every client switching between the two databases
# every second, and a short closed-loop phase for throughput at saturation, switching every 0.5 s. The report (baseline, autoindex and expert,
# criteria against the expert, the convergence timeline) goes into $SIM_OUT (default sim-out/); the demo
# prints the criteria and stops the cluster (also on failure). Scale and timing: the SIM_* settings
# described in sim.sh (here SIM_SHARED_BUFFERS defaults to 3GB), SIM_SLICES (default 6) and SIM_THROUGHPUT
# (seconds of the closed-loop phase on each database, default 30). SIM_SCENARIO (steady, spike or skew)
# applies to all three runs; SIM_DECIDE does not apply: the demo's IndexPilot decides with its worker alone.
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/scripts/lib.sh
# room for both measured databases (and their indexes) in shared buffers at 1,000 tenants: the closed-loop
# phase switches between them every half second and must not measure re-reads
SIM_SHARED_BUFFERS=${SIM_SHARED_BUFFERS:-3GB}
. test/scripts/sim.sh
DEMO_START=$(date +%s)
case "$SIM_SCENARIO" in
steady | spike | skew) ;;
*)
	echo "demo: SIM_SCENARIO=$SIM_SCENARIO: the demo runs steady, spike or skew (make sim-shift runs the shift)" >&2
	exit 2
	;;
esac

ip_cleanup_on_exit

bash test/scripts/deps.sh
echo "demo: building"
make -s all sim
WORK=$(mktemp -d "${TMPDIR:-/tmp}/indexpilot-demo.XXXXXX")
chmod 755 "$WORK"
echo "demo: installing into a private tree"
ip_private_install "$WORK/install"

DATADIR=$(ip_server_dir demo)
PORT=$(ip_free_port)
echo "demo: starting a throwaway cluster on 127.0.0.1:$PORT"
ip_cluster_init "$DATADIR" "$PORT"
ip_sim_conf "$DATADIR"
ip_cluster_start "$DATADIR"

psql_demo() { "$IP_BINDIR/psql" -X -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"; }
psql_demo -q -c 'CREATE EXTENSION indexpilot'
psql_demo -c 'SELECT indexpilot_version() AS version'
echo "demo: waiting for the database worker"
for _ in $(seq 1 60); do
	[ "$(psql_demo -Atc "SELECT count(*) FROM indexpilot_worker_status() WHERE role = 'worker'")" = 1 ] && break
	sleep 0.5
done
psql_demo -c 'SELECT role, database, pid, started_at, loops FROM indexpilot_worker_status() ORDER BY role'
psql_demo -c "SELECT pid, backend_type, datname, application_name FROM pg_stat_activity WHERE backend_type LIKE 'indexpilot%' ORDER BY backend_type"
echo "demo: server log lines from IndexPilot"
grep -E 'indexpilot' "$DATADIR/server.log" | grep -v ' statement: ' || true

DSN_BASE="host=127.0.0.1 port=$PORT user=postgres"
SIM_SLICES=${SIM_SLICES:-6}
SIM_THROUGHPUT=${SIM_THROUGHPUT:-30}
psql_db() {
	local db=$1
	shift
	PGOPTIONS="-c client_min_messages=warning" "$IP_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 "$DSN_BASE dbname=$db" "$@"
}
mkdir -p "$SIM_OUT"
rm -f "$SIM_OUT"/baseline.json "$SIM_OUT"/autoindex*.json "$SIM_OUT"/expert*.json
step() { echo "demo: $* ($(($(date +%s) - DEMO_START)) s so far)"; }

step "creating, seeding and registering the mini-CRM ($SIM_TENANTS tenants x $SIM_CONTACTS contacts) in a template database"
# a template is served by no IndexPilot worker, so nothing holds it open while it is copied
psql_db postgres -c "CREATE DATABASE demo_template IS_TEMPLATE true"
psql_db demo_template -c "CREATE EXTENSION indexpilot"
sim_setup "$DSN_BASE dbname=demo_template"
for db in demo_baseline demo_autoindex demo_expert; do
	psql_db postgres -c "CREATE DATABASE $db TEMPLATE demo_template STRATEGY file_copy"
done
sync
# The expert's copy has no IndexPilot: nothing of it decides or builds there (its switches are cluster-wide).
psql_db demo_expert -c "DROP EXTENSION indexpilot CASCADE"
echo "demo: three copies of the same data: demo_baseline, demo_autoindex and demo_expert," \
	"$(psql_db postgres -Atc "SELECT pg_size_pretty(pg_database_size('demo_autoindex'))") each"
AUTO="$DSN_BASE dbname=demo_autoindex"
EXPERT="$DSN_BASE dbname=demo_expert"

# The baseline has a copy of its own: its writes do not change the data the other two runs start from.
step "baseline run on demo_baseline (IndexPilot bypassed): warm-up $SIM_WARMUP s, measured $SIM_DURATION s"
sim_run "$DSN_BASE dbname=demo_baseline" baseline
psql_db postgres -c "ALTER DATABASE demo_baseline ALLOW_CONNECTIONS false" -c "DROP DATABASE demo_baseline WITH (FORCE)"

step "autoindex on demo_autoindex: IndexPilot's worker alone learns, decides and builds while the warm-up" \
	"traffic goes on ($SIM_WARMUP s, then until it has built nothing for 30 s, at most $SIM_DECIDE_WAIT s more)"
"$CRMSIM" run --dsn "$AUTO" --mode autoindex --decide worker --scenario "$SIM_SCENARIO" --clients "$SIM_CLIENTS" \
	--rate "$SIM_RATE" --protocol "$SIM_PROTOCOL" --warmup "$SIM_WARMUP" --decide-wait "$SIM_DECIDE_WAIT" \
	--duration 0 --seed "$SIM_SEED" --out "$SIM_OUT/autoindex.prepared.json"

# as long as the autoindex run's warm-up and decisions: both databases get the same statements (and writes)
step "expert on demo_expert: the same traffic, as long as the autoindex run's, then the expert's indexes" \
	"(test/sim/crm_expert.sql)"
"$CRMSIM" run --dsn "$EXPERT" --mode expert --indexes "$(pwd)/test/sim/crm_expert.sql" --scenario "$SIM_SCENARIO" \
	--clients "$SIM_CLIENTS" --rate "$SIM_RATE" --protocol "$SIM_PROTOCOL" \
	--warmup-like "$SIM_OUT/autoindex.prepared.json" --duration 0 \
	--seed "$SIM_SEED" --out "$SIM_OUT/expert.prepared.json"

# every client switches between the two databases every second, at the same demand: both meet the same
# moments of the machine (one database at a time, in 15 s slices, the worst hot-pattern p95 ratio of three
# runs of the same build went from 0.79 to 1.52)
step "measured runs: $SIM_DURATION s on each database at $SIM_RATE statements/s, alternating every second"
"$CRMSIM" alternate --dsn "$AUTO" --pair-dsn "$EXPERT" --in "$SIM_OUT/autoindex.prepared.json" \
	--pair-in "$SIM_OUT/expert.prepared.json" --out "$SIM_OUT/autoindex.json" --pair-out "$SIM_OUT/expert.json" \
	--interleave 1 --clients "$SIM_CLIENTS" --duration "$SIM_DURATION" --slices "$SIM_SLICES" --checkpoint yes

# every client holds a connection to each database and all switch between them every half second: both see
# the machine alike (an A/A run with the same index set in both measured 0.96 to 1.08 per pair; one
# database at a time for 5 s each, 0.75 to 1.27)
step "throughput at saturation: $SIM_THROUGHPUT s on each database, closed loop, alternating every 0.5 s," \
	"judged in $SIM_SLICES pairs"
"$CRMSIM" alternate --dsn "$AUTO" --pair-dsn "$EXPERT" --in "$SIM_OUT/autoindex.prepared.json" \
	--pair-in "$SIM_OUT/expert.prepared.json" --out "$SIM_OUT/autoindex.throughput.json" \
	--pair-out "$SIM_OUT/expert.throughput.json" --rate 0 --interleave 0.5 --clients "$SIM_CLIENTS" \
	--duration "$SIM_THROUGHPUT" --slices "$SIM_SLICES" --checkpoint yes

step "report"
echo
"$CRMSIM" report --baseline "$SIM_OUT/baseline.json" --autoindex "$SIM_OUT/autoindex.json" \
	--expert "$SIM_OUT/expert.json" --throughput "$SIM_OUT/autoindex.throughput.json" --out-dir "$SIM_OUT"
echo
echo "demo: finished in $(($(date +%s) - DEMO_START)) s; stopping the cluster"
