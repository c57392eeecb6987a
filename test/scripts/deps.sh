#!/usr/bin/env bash
# deps.sh — installs the Debian packages IndexPilot needs to build, test and run its demo.
# The one list, used by `make test`, `make demo` and `make deps`. As root it installs what is missing;
# as another user it only checks and says what to install.
set -euo pipefail

PACKAGES=(
	build-essential            # g++, make
	postgresql-15              # the server the tests and the demo run
	postgresql-contrib         # pgbench and contrib modules for benchmarks
	postgresql-server-dev-15   # PGXS, server headers, pg_regress, TAP modules (pulls clang-14/llvm-14 for bitcode)
	libpq-dev                  # client library for the simulator (test/sim/crmsim)
	nlohmann-json3-dev         # JSON for the simulator's runs and report (header-only)
	libyaml-cpp-dev            # YAML configuration
	libboost-test-dev          # unit tests
	libipc-run-perl            # PostgreSQL::Test::Cluster (TAP)
	clang-format               # make format / format check
	clang-14                   # fuzz target (libFuzzer)
	libclang-rt-14-dev         # libFuzzer and sanitizer runtimes for clang-14
)

# Benchmarks compare against other extensions: `deps.sh --bench` adds them.
if [ "${1:-}" = "--bench" ]; then
	PACKAGES+=(postgresql-15-pg-qualstats valgrind) # valgrind: instruction counts (callgrind)
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$pkg")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#PACKAGES[@]} packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages: ${missing[*]}" >&2
	echo "deps: install them as root: sudo apt-get install ${missing[*]}  (or: sudo make deps)" >&2
	exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# The package lists of a fresh machine may be empty or stale: refresh once, only when needed.
if ! apt-get install -y -q --no-install-recommends "${missing[@]}"; then
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# Debian creates and starts a "main" cluster on install; we never use it, and it would hold port 5432.
if command -v pg_ctlcluster >/dev/null 2>&1; then
	pg_ctlcluster 15 main stop >/dev/null 2>&1 || true
fi
