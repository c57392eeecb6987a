# lib.sh — shell helpers shared by run_tests.sh and demo.sh (sourced, not run).
#
# A private installation: PostgreSQL finds its share/ and lib/ directories relative to its own binary, so a
# copy of the server's bin/ next to symlinks of share/ and lib/, plus our files from `make install
# DESTDIR=...`, is a complete installation that any user can create, and that tests exactly this build.
#
# Servers never run as root: as root, server-side commands run as $IP_SERVER_USER (default postgres).

IP_SERVER_USER=${IP_SERVER_USER:-postgres}
PG_CONFIG=${PG_CONFIG:-pg_config}

# Runs a command as the unprivileged server user (as root) or as ourselves (otherwise).
ip_as_server_user() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u "$IP_SERVER_USER" -- "$@"
	else
		"$@"
	fi
}

# A fresh directory the server user owns.
ip_server_dir() {
	local dir
	dir=$(mktemp -d "${TMPDIR:-/tmp}/indexpilot-$1.XXXXXX")
	chmod 755 "$dir"
	if [ "$(id -u)" -eq 0 ]; then chown "$IP_SERVER_USER": "$dir"; fi
	echo "$dir"
}

# Makes $2 show every entry of $1 it does not have yet, as symlinks (recursing into shared directories).
ip_overlay() {
	local src=$1 dst=$2 entry name
	mkdir -p "$dst"
	for entry in "$src"/*; do
		name=${entry##*/}
		if [ -d "$entry" ] && [ -d "$dst/$name" ] && [ ! -L "$dst/$name" ]; then
			ip_overlay "$entry" "$dst/$name"
		elif [ ! -e "$dst/$name" ]; then
			ln -s "$entry" "$dst/$name"
		fi
	done
}

# Installs this build into a private tree $1; sets IP_BINDIR to its bin/.
ip_private_install() {
	local root=$1 bindir sharedir pkglibdir
	bindir=$($PG_CONFIG --bindir)
	sharedir=$($PG_CONFIG --sharedir)
	pkglibdir=$($PG_CONFIG --pkglibdir)
	make -s install DESTDIR="$root" PG_CONFIG="$PG_CONFIG" >/dev/null
	mkdir -p "$root$bindir"
	cp -a "$bindir"/. "$root$bindir"/ # copies, not links: the binary's own path decides where share/ is
	ip_overlay "$sharedir" "$root$sharedir"
	ip_overlay "$pkglibdir" "$root$pkglibdir"
	chmod -R a+rX "$root"
	IP_BINDIR="$root$bindir"
}

# A free TCP port on the loopback interface.
ip_free_port() {
	perl -MIO::Socket::INET -e \
		'my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1", LocalPort => 0) or die $!; print $s->sockport'
}

# ip_cluster_init DATADIR PORT: initdb with the extension preloaded, listening on loopback only.
ip_cluster_init() {
	local datadir=$1 port=$2
	ip_as_server_user "$IP_BINDIR/initdb" -D "$datadir" -U postgres -A trust -E UTF8 --locale=C --no-sync >/dev/null
	ip_as_server_user tee -a "$datadir/postgresql.conf" >/dev/null <<CONF
# added by IndexPilot's test scripts
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$datadir'
shared_preload_libraries = 'indexpilot'
indexpilot.naptime = '1s'
max_worker_processes = 16
fsync = off
log_line_prefix = '%m [%p] %b '
CONF
}

ip_cluster_start() {
	ip_as_server_user "$IP_BINDIR/pg_ctl" -D "$1" -l "$1/server.log" -w -t 120 start >/dev/null
}

# Stops a cluster if it runs: fast first, immediate if that does not work.
ip_cluster_stop() {
	[ -f "$1/postmaster.pid" ] || return 0
	ip_as_server_user "$IP_BINDIR/pg_ctl" -D "$1" -m fast -w -t 60 stop >/dev/null 2>&1 ||
		ip_as_server_user "$IP_BINDIR/pg_ctl" -D "$1" -m immediate -w stop >/dev/null 2>&1 || true
}

# The scripts keep what they create in WORK (private install), DATADIR (the cluster) and TAPDIR (TAP runs):
# ip_cleanup_on_exit empties them and, on exit, also on failure or interrupt, stops the cluster and
# removes all three.
ip_cleanup() {
	if [ -n "${DATADIR:-}" ]; then
		ip_cluster_stop "$DATADIR"
		rm -rf "$DATADIR"
	fi
	if [ -n "${WORK:-}" ]; then rm -rf "$WORK"; fi
	if [ -n "${TAPDIR:-}" ]; then rm -rf "$TAPDIR"; fi
}
ip_cleanup_on_exit() {
	WORK=""
	DATADIR=""
	TAPDIR=""
	trap ip_cleanup EXIT
	trap 'exit 130' INT TERM
}

# ip_results_dir DIR (after ip_cleanup_on_exit): a fresh results directory that gets the cluster's
# server.log at exit, also when the harness fails, before the usual cleanup.
ip_results_dir() {
	IP_RESULTS=$1
	rm -rf "$IP_RESULTS"
	mkdir -p "$IP_RESULTS"
	trap ip_keep_log_and_cleanup EXIT
}
ip_keep_log_and_cleanup() {
	if [ -n "${DATADIR:-}" ] && [ -f "$DATADIR/server.log" ]; then cp "$DATADIR/server.log" "$IP_RESULTS/server.log" || true; fi
	ip_cleanup
}

# ip_bench_cluster: this build installed privately and a throwaway benchmark cluster initialised, not
# started (append settings, then ip_cluster_start "$DATADIR"); sets WORK, DATADIR, PORT and IP_BINDIR.
ip_bench_cluster() {
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/indexpilot-bench.XXXXXX")
	chmod 755 "$WORK"
	ip_private_install "$WORK/install"
	DATADIR=$(ip_server_dir bench)
	PORT=$(ip_free_port)
	ip_cluster_init "$DATADIR" "$PORT"
}
