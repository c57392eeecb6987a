# IndexPilot — PGXS build of a C++17 PostgreSQL extension.
#
#   make / make install        build and install (install needs write access to pg_config's directories)
#   make installcheck          pg_regress against a running server that preloads indexpilot (PGHOST/PGPORT/PGUSER)
#   make test                  everything: deps, format check, unit, private install, throwaway cluster, regress, TAP
#   make demo                  throwaway cluster, CRM seeded, baseline, autoindex (the worker alone) and expert runs, report
#   make sim                   the CRM simulator test/sim/crmsim (a libpq client, not part of indexpilot.so)
#   make sim-baseline / sim-autoindex / report   one step of the demo (see README.md)
#   make sim-shift             the shift scenario: the worker alone, a timeline of builds, validations, retirements
#   make bench-overhead        what capture costs (figures, docs/benchmarks.md)
#   make bench-advisor         IndexPilot's index set against a hand-tuned one, both CRM forms (figures, docs/benchmarks.md)
#   make bench-analytic        a reporting workload on a star schema, nothing registered, against greedy what-if (figures)
#   make unit                  Boost.Test unit tests for src/core only (no server)
#   make fuzz-config           libFuzzer on the config parsers for FUZZ_SECONDS (default 300)
#   make format / format-check clang-format over our C++ sources

EXTENSION   = indexpilot
EXTVERSION  = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" indexpilot.control)
MODULE_big  = indexpilot
PG_SRCS     = $(sort $(wildcard src/*.cpp src/*/*.cpp))
OBJS        = $(PG_SRCS:.cpp=.o)
# The install script of the current version is assembled from the per-concern parts in sql/parts (in name
# order: each part's objects depend only on earlier ones); it is built, never committed. Upgrade scripts
# (sql/indexpilot--A--B.sql) are plain files, installed as they are.
SQL_PARTS   = $(sort $(wildcard sql/parts/*.sql))
DATA_built  = sql/indexpilot--$(EXTVERSION).sql
DATA        = $(filter-out $(DATA_built),$(sort $(wildcard sql/indexpilot--*.sql)))
PGFILEDESC  = "IndexPilot - automatic index management"

REGRESS      = $(sort $(basename $(notdir $(wildcard test/sql/*.sql))))
# Inputs in test/sql; expected outputs in top-level expected/ (PostgreSQL 15 pg_regress reads them from
# <inputdir>/expected, so test/expected is a symlink to ../expected).
REGRESS_OPTS = --inputdir=test

# Isolation specs in test/isolation/specs, run by installcheck after pg_regress. ':=' (not '=') keeps the
# variable empty, and so undefined for PGXS's ifdef, should the directory ever hold no spec.
ISOLATION      := $(sort $(basename $(notdir $(wildcard test/isolation/specs/*.spec))))
ISOLATION_OPTS  = --inputdir=test/isolation

PG_CONFIG ?= pg_config
PGXS      := $(shell $(PG_CONFIG) --pgxs)

# PostgreSQL headers count as system headers, so -Wall -Wextra speak only about our own code.
PG_CPPFLAGS = -I$(CURDIR)/include -isystem $(includedir_server) -DINDEXPILOT_VERSION='"$(EXTVERSION)"'
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -fno-omit-frame-pointer
SHLIB_LINK  = -lyaml-cpp -lstdc++

# PGXS reads EXTRA_CLEAN when it is included: set before it (the names are expanded when clean runs).
EXTRA_CLEAN = $(UNIT_BIN) $(FUZZ_BIN) test/unit/*.xml tmp_install tmp_check log $(SIM_BIN) $(SIM_OUT) bench-out

include $(PGXS)

# PGXS compiles JIT bitcode with clang and BITCODE_CXXFLAGS, which PG_CXXFLAGS never reaches:
# give clang the same language standard so the .bc files match the .o files.
override BITCODE_CXXFLAGS += -std=c++17

sql/indexpilot--$(EXTVERSION).sql: $(SQL_PARTS) indexpilot.control
	cat $(SQL_PARTS) >$@

# Every object depends on every header: the tree is small and a stale object is a worse bug than a rebuild.
HEADERS = $(wildcard include/indexpilot/*.hpp include/indexpilot/*/*.hpp)
$(OBJS): $(HEADERS)
$(OBJS:.o=.bc): $(HEADERS)

# ---- pure C++ unit tests (src/core, no PostgreSQL headers) -------------------------------------------
CORE_SRCS  = $(sort $(wildcard src/core/*.cpp))
UNIT_SRCS  = $(sort $(wildcard test/unit/*.cpp))
UNIT_BIN   = test/unit/unit_tests

# The simulator's pure logic (test/sim/sim_logic.cpp, report.cpp, bench.cpp: no libpq) is unit-tested here too.
SIM_LOGIC_SRCS = test/sim/sim_logic.cpp test/sim/report.cpp test/sim/bench.cpp test/sim/timeline.cpp
SIM_HEADERS    = $(wildcard test/sim/*.hpp)

$(UNIT_BIN): $(CORE_SRCS) $(UNIT_SRCS) $(SIM_LOGIC_SRCS) $(HEADERS) $(SIM_HEADERS) $(wildcard test/unit/*.hpp)
	$(CXX) -std=c++17 -O1 -g -Wall -Wextra -Werror -DINDEXPILOT_CORE_ONLY -DBOOST_TEST_DYN_LINK -Iinclude -Itest/sim -o $@ $(UNIT_SRCS) $(CORE_SRCS) $(SIM_LOGIC_SRCS) -lboost_unit_test_framework -lyaml-cpp

.PHONY: unit
unit: $(UNIT_BIN)
	./$(UNIT_BIN) --report_level=short

# ---- fuzzing the config parser (libFuzzer; clang and libclang-rt-14-dev) ---------------------------------
# `make fuzz-config FUZZ_SECONDS=300` fuzzes for that long; make test runs it for a few seconds. New inputs go
# to a temporary directory (the seeds in test/fuzz/seeds stay as they are); a crash lands in log/fuzz-*.
FUZZ_BIN     = test/fuzz/fuzz_config
FUZZ_SECONDS ?= 300
FUZZ_CXX     ?= $(firstword $(shell command -v clang++-14 clang++ 2>/dev/null) clang++)

$(FUZZ_BIN): test/fuzz/fuzz_config.cpp $(CORE_SRCS) $(HEADERS)
	$(FUZZ_CXX) -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-DINDEXPILOT_CORE_ONLY -Iinclude -o $@ test/fuzz/fuzz_config.cpp $(CORE_SRCS) -lyaml-cpp

.PHONY: fuzz-config
fuzz-config: $(FUZZ_BIN)
	@mkdir -p log
	@corpus=$$(mktemp -d); \
	./$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix=$(CURDIR)/log/fuzz- -print_final_stats=1 $$corpus test/fuzz/seeds; rc=$$?; \
	rm -rf $$corpus; exit $$rc
# ---- the CRM simulator: a client program (libpq, threads), never part of the extension's OBJS -------------
SIM_BIN  = test/sim/crmsim
SIM_OUT ?= sim-out
PG_INCLUDEDIR := $(shell $(PG_CONFIG) --includedir)
PG_LIBDIR     := $(shell $(PG_CONFIG) --libdir)

$(SIM_BIN): test/sim/crmsim.cpp $(SIM_LOGIC_SRCS) $(SIM_HEADERS)
	$(CXX) -std=c++17 -O2 -g -Wall -Wextra -pthread -Itest/sim -I$(PG_INCLUDEDIR) -o $@ test/sim/crmsim.cpp $(SIM_LOGIC_SRCS) -L$(PG_LIBDIR) -lpq

.PHONY: sim sim-baseline sim-autoindex sim-shift report
sim: $(SIM_BIN)
sim-baseline: $(SIM_BIN)
	bash test/scripts/sim.sh baseline
sim-autoindex: $(SIM_BIN)
	bash test/scripts/sim.sh autoindex
sim-shift: $(SIM_BIN)
	bash test/scripts/sim.sh shift
report: $(SIM_BIN)
	./$(SIM_BIN) report --baseline $(SIM_OUT)/baseline.json --autoindex $(SIM_OUT)/autoindex.json \
		$(if $(wildcard $(SIM_OUT)/expert.json),--expert $(SIM_OUT)/expert.json) \
		$(if $(wildcard $(SIM_OUT)/autoindex.throughput.json),--throughput $(SIM_OUT)/autoindex.throughput.json) \
		--out-dir $(SIM_OUT)

# ---- formatting ---------------------------------------------------------------------------------------
FORMAT_FILES = $(sort $(wildcard src/*.cpp src/*/*.cpp include/indexpilot/*.hpp include/indexpilot/*/*.hpp test/unit/*.hpp test/fuzz/*.cpp \
                                 test/unit/*.cpp test/sim/*.cpp test/sim/*.hpp))
.PHONY: format format-check
format:
	clang-format -i $(FORMAT_FILES)
format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)

# ---- the two commands a new user runs ------------------------------------------------------------------
.PHONY: deps test demo
deps:
	bash test/scripts/deps.sh
test:
	bash test/scripts/run_tests.sh
demo:
	bash test/scripts/demo.sh


# ---- benchmarks: figures, never pass/fail ---------------------------------------------------------------
.PHONY: bench-overhead bench-advisor bench-analytic
bench-overhead:
	bash test/scripts/bench_overhead.sh
# BENCH_TENANTS, BENCH_REPS, BENCH_CLIENTS, BENCH_WARMUP_S, BENCH_MEASURE_S, BENCH_FORMS: see the script
bench-advisor:
	bash test/scripts/bench_advisor.sh
# BENCH_FACT_ROWS, BENCH_PASSES, BENCH_TIMEOUT_S: see the script
bench-analytic:
	bash test/scripts/bench_analytic.sh
