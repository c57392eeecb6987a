#!/usr/bin/env bash
# sim.sh — the CRM simulator's steps, for `make demo`, `make sim-baseline` and `make sim-autoindex`.
#
#   sim.sh baseline | autoindex     one run, written to $SIM_OUT/<mode>.json
#   sim.sh shift                    the shift scenario: one autoindex run with the background worker alone
#                                   ($SIM_SHIFT_DURATION s; halfway contacts_by_phone stops and
#                                   contacts_by_title starts), written to $SIM_OUT/shift.json, and its
#                                   timeline report ($SIM_OUT/timeline.md, timeline.html, timeline.svg)
#
# With PGHOST or PGPORT set, it uses that running server (which must preload indexpilot): it creates the
# extension if missing and, if schema crm does not exist, creates and seeds it (setup) first. Without
# them, it starts its own throwaway cluster (private install, as demo.sh does), sets up the CRM, runs,
# and stops the cluster.
#
# Settings (environment, with the demo's defaults): SIM_TENANTS=1000 SIM_CONTACTS=1000 SIM_CLIENTS=8
# SIM_RATE=400 (statements/s over all clients: a fixed demand, so latencies compare service, not queueing)
# SIM_PROTOCOL=prepared (or unnamed: parsed and planned at every execution) SIM_DURATION=90 SIM_WARMUP=60
# SIM_DECIDE=worker (the background worker alone decides and builds, during the warm-up and until
# nothing has been built for 30 s, with the simulator's short worker settings; run_now: the
# indexpilot_run_now() loop instead) SIM_DECIDE_WAIT=180 (at most that long after the warm-up)
# SIM_SCENARIO=steady SIM_SEED=42 SIM_OUT=sim-out; for the shift scenario
# SIM_SHIFT_DURATION=360 and SIM_SHIFT_WARMUP=30. SIM_SHARED_BUFFERS: the throwaway cluster's
# shared_buffers, 1536MB: the CRM at 1,000 tenants and its indexes fit, so the runs measure IndexPilot's
# doing rather than this machine's disk reads (with 512MB they stalled every backend for up to a second).
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/scripts/lib.sh

SIM_TENANTS=${SIM_TENANTS:-1000}
SIM_CONTACTS=${SIM_CONTACTS:-1000}
SIM_CLIENTS=${SIM_CLIENTS:-8}
SIM_RATE=${SIM_RATE:-400}
SIM_PROTOCOL=${SIM_PROTOCOL:-prepared}
SIM_DURATION=${SIM_DURATION:-90}
SIM_WARMUP=${SIM_WARMUP:-60}
SIM_DECIDE_WAIT=${SIM_DECIDE_WAIT:-180}
SIM_DECIDE=${SIM_DECIDE:-worker}
SIM_SCENARIO=${SIM_SCENARIO:-steady}
SIM_SEED=${SIM_SEED:-42}
SIM_OUT=${SIM_OUT:-sim-out}
SIM_SHIFT_DURATION=${SIM_SHIFT_DURATION:-360}
SIM_SHIFT_WARMUP=${SIM_SHIFT_WARMUP:-30}
CRMSIM=$(pwd)/test/sim/crmsim

# Server settings for a cluster the simulator runs on: room for the CRM in shared buffers, clients, builds.
ip_sim_conf() {
	ip_as_server_user tee -a "$1/postgresql.conf" >/dev/null <<CONF
shared_buffers = '${SIM_SHARED_BUFFERS:-1536MB}'
max_connections = 60
maintenance_work_mem = '256MB'
max_wal_size = '4GB'
# the time each database's block reads take (crmsim alternate records them per database)
track_io_timing = on
# IndexPilot decides and builds by itself (the baseline run switches it off with indexpilot_disable_system())
indexpilot.mode = 'auto'
CONF
}

# sim_setup DSN: create and seed the CRM, register it with IndexPilot.
sim_setup() {
	"$CRMSIM" setup --dsn "$1" --tenants "$SIM_TENANTS" --contacts "$SIM_CONTACTS" --seed "$SIM_SEED"
}

# sim_run DSN MODE: one run, written to $SIM_OUT/MODE.json.
sim_run() {
	mkdir -p "$SIM_OUT"
	"$CRMSIM" run --dsn "$1" --mode "$2" --scenario "$SIM_SCENARIO" --clients "$SIM_CLIENTS" --rate "$SIM_RATE" \
		--protocol "$SIM_PROTOCOL" --decide "$SIM_DECIDE" \
		--duration "$SIM_DURATION" --warmup "$SIM_WARMUP" --decide-wait "$SIM_DECIDE_WAIT" --seed "$SIM_SEED" \
		--out "$SIM_OUT/$2.json"
}

# sim_shift DSN: the shift scenario (the worker alone), written to $SIM_OUT/shift.json, and its report.
sim_shift() {
	mkdir -p "$SIM_OUT"
	"$CRMSIM" run --dsn "$1" --mode autoindex --scenario shift --clients "$SIM_CLIENTS" --rate "$SIM_RATE" \
		--protocol "$SIM_PROTOCOL" --duration "$SIM_SHIFT_DURATION" --warmup "$SIM_SHIFT_WARMUP" --seed "$SIM_SEED" \
		--out "$SIM_OUT/shift.json"
	"$CRMSIM" timeline --run "$SIM_OUT/shift.json" --out-dir "$SIM_OUT"
}

# sim_step DSN MODE: what `sim.sh MODE` runs once the server is there.
sim_step() {
	if [ "$2" = shift ]; then
		sim_shift "$1"
	else
		sim_run "$1" "$2"
	fi
}

# Sourced by demo.sh for the functions above; run, it does one step.
if [ "${BASH_SOURCE[0]}" != "$0" ]; then
	return 0
fi

MODE=${1:-}
case "$MODE" in
	baseline | autoindex | shift) ;;
	*)
		echo "usage: sim.sh baseline|autoindex|shift" >&2
		exit 2
		;;
esac
make -s sim

if [ -n "${PGHOST:-}" ] || [ -n "${PGPORT:-}" ]; then
	echo "sim: using the running server at ${PGHOST:-default host}:${PGPORT:-5432}"
	psql -X -q -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION IF NOT EXISTS indexpilot'
	if [ "$(psql -X -Atc "SELECT count(*) FROM pg_namespace WHERE nspname = 'crm'")" = 0 ]; then
		sim_setup ""
	fi
	sim_step "" "$MODE"
	exit 0
fi

ip_cleanup_on_exit

bash test/scripts/deps.sh
make -s all
WORK=$(mktemp -d "${TMPDIR:-/tmp}/indexpilot-sim.XXXXXX")
chmod 755 "$WORK"
ip_private_install "$WORK/install"
DATADIR=$(ip_server_dir sim)
PORT=$(ip_free_port)
echo "sim: starting a throwaway cluster on 127.0.0.1:$PORT"
ip_cluster_init "$DATADIR" "$PORT"
ip_sim_conf "$DATADIR"
ip_cluster_start "$DATADIR"
DSN="host=127.0.0.1 port=$PORT user=postgres dbname=postgres"
"$IP_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 "$DSN" -c 'CREATE EXTENSION indexpilot'
sim_setup "$DSN"
sim_step "$DSN" "$MODE"
echo "sim: stopping the cluster"
