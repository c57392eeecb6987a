#!/usr/bin/env bash
# demo.sh — `make demo`: builds IndexPilot and the CRM simulator, installs the extension into a private
# tree, starts a throwaway cluster with it preloaded, creates it, shows the version and the background
# workers, then creates, seeds and registers the mini-CRM, runs the baseline and the autoindex runs, writes
# the before/after report into $SIM_OUT (default sim-out/), prints the success criteria, and stops the
# cluster (also on failure). Scale and timing: the SIM_* settings described in sim.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/scripts/lib.sh
. test/scripts/sim.sh
DEMO_START=$(date +%s)

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

DSN="host=127.0.0.1 port=$PORT user=postgres dbname=postgres"
echo "demo: creating, seeding and registering the mini-CRM ($SIM_TENANTS tenants x $SIM_CONTACTS contacts)"
sim_setup "$DSN"
echo "demo: baseline run (IndexPilot bypassed): warm-up $SIM_WARMUP s, measured $SIM_DURATION s"
sim_run "$DSN" baseline
echo "demo: autoindex run: warm-up $SIM_WARMUP s, IndexPilot decides and builds, measured $SIM_DURATION s"
sim_run "$DSN" autoindex
echo "demo: report"
echo
test/sim/crmsim report --baseline "$SIM_OUT/baseline.json" --autoindex "$SIM_OUT/autoindex.json" --out-dir "$SIM_OUT"
echo
echo "demo: finished in $(($(date +%s) - DEMO_START)) s; stopping the cluster"
