#!/usr/bin/env bash
# bench_overhead.sh — `make bench-overhead`: what capture costs a running server, measured side by side.
#
# One throwaway cluster; for each configuration the server restarts with its shared_preload_libraries, and
# pgbench runs two workloads: the built-in select-only script (scale 10) and a CRM read mix whose ideal
# indexes exist (so statements are fast and any overhead shows). Configurations alternate round by round
# so drift affects all alike. Prints the median TPS of each and its ratio to the server without
# extensions. Figures, not pass/fail. BENCH_SECONDS (per run, default 15), BENCH_ROUNDS (default 3),
# BENCH_CLIENTS (default 4).
set -euo pipefail
cd "$(dirname "$0")/../.."
. test/scripts/lib.sh

SECONDS_PER_RUN=${BENCH_SECONDS:-15}
ROUNDS=${BENCH_ROUNDS:-3}
CLIENTS=${BENCH_CLIENTS:-4}

ip_cleanup_on_exit

bash test/scripts/deps.sh --bench
make -s all
WORK=$(mktemp -d "${TMPDIR:-/tmp}/indexpilot-bench.XXXXXX")
chmod 755 "$WORK"
ip_private_install "$WORK/install"
DATADIR=$(ip_server_dir bench)
PORT=$(ip_free_port)
ip_cluster_init "$DATADIR" "$PORT"
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

declare -A TPS
run() { # run WORKLOAD -> prints tps (SECONDS_PER_RUN may be overridden for a warm-up)
	local args
	if [ "$1" = "select-only" ]; then args=(-S); else args=(-f "$WORK/crm_mix.sql"); fi
	"${PGBENCH[@]}" -n -M prepared -c "$CLIENTS" -j 2 -T "$SECONDS_PER_RUN" "${args[@]}" postgres 2>/dev/null |
		sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}

echo "bench: $ROUNDS rounds x ${#CONFIGS[@]} configurations x 2 workloads, ${SECONDS_PER_RUN}s each, $CLIENTS clients"
for round in $(seq 1 "$ROUNDS"); do
	for cfg in "${CONFIGS[@]}"; do
		IFS='|' read -r name preload extra <<<"$cfg"
		configure "$preload" "$extra"
		for workload in select-only crm-mix; do
			SECONDS_PER_RUN=3 run "$workload" >/dev/null # warm caches after the restart; not measured
			tps=$(run "$workload")
			TPS["$workload|$name"]+="$tps "
			printf '  round %d  %-12s %-30s %10.1f tps\n' "$round" "$workload" "$name" "$tps"
		done
	done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo
echo "Median TPS over $ROUNDS rounds (pgbench -M prepared -c $CLIENTS -j 2 -T $SECONDS_PER_RUN), ratio to no extension:"
printf '%-12s %-30s %12s %8s\n' workload configuration median_tps ratio
for workload in select-only crm-mix; do
	base=$(echo "${TPS["$workload|none"]}" | median)
	for cfg in "${CONFIGS[@]}"; do
		IFS='|' read -r name _ _ <<<"$cfg"
		m=$(echo "${TPS["$workload|$name"]}" | median)
		printf '%-12s %-30s %12.1f %8.3f\n' "$workload" "$name" "$m" "$(echo "$m $base" | awk '{printf "%.3f", $1/$2}')"
	done
done
