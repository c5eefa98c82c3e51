# The two commands: `make run` and `make test`. Everything else is a helper for them.
BUILD        ?= build
BUILD_TYPE   ?= Release
DATA         ?= ./touchpoint-data
LISTEN       ?= 127.0.0.1:8080
FUZZ_SECONDS ?= 60
JOBS         ?= 2

.PHONY: run test build bootstrap unit fuzz fuzz-smoke browser-test tsan asan bench bench-report bench-storage package package-test clean

bootstrap:
	@scripts/bootstrap.sh

build: bootstrap
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# Build (Release) and start Touchpoint on its embedded store.
run: build
	@scripts/run.sh $(BUILD)/src/touchpoint $(DATA) $(LISTEN)

# Build and run every test: unit + integration (ctest), the same under ThreadSanitizer and under
# AddressSanitizer + UndefinedBehaviorSanitizer, fuzz smoke runs, browser tests, and the Debian
# package installed and started (as root).
test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600
	@$(MAKE) --no-print-directory tsan
	@$(MAKE) --no-print-directory asan
	@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory browser-test
	@$(MAKE) --no-print-directory package-test

# The tests again, built with ThreadSanitizer (a data race fails them): the store's writer,
# syncer and acker, the HTTP threads, the live dataset's applier and the report workers all
# share data. Not the two simulation suites, which take minutes under it (`TSAN_SKIP=` runs
# them too).
TSAN_SKIP ?= ^(sim_test|insights_sim_test)$$
tsan: bootstrap
	@cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTP_SANITIZE=thread \
	  -DTP_JEMALLOC=OFF -DTP_BUILD_BENCHMARKS=OFF >/dev/null
	@cmake --build build-tsan -j $(JOBS)
	@cd build-tsan && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	  ctest --output-on-failure -j 1 --timeout 900 $(if $(TSAN_SKIP),-E '$(TSAN_SKIP)')

# Every test built with AddressSanitizer and UndefinedBehaviorSanitizer (memory errors, leaks,
# undefined behaviour; the first report fails the test). The fuzz targets use the same pair.
asan: bootstrap
	@cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DTP_SANITIZE=address,undefined -DTP_JEMALLOC=OFF -DTP_BUILD_BENCHMARKS=OFF >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j 1 --timeout 900

fuzz-build: bootstrap
	@CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DTP_BUILD_FUZZERS=ON -DTP_BUILD_TESTS=OFF -DTP_BUILD_BENCHMARKS=OFF >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target fuzzers

# Each fuzz target for FUZZ_SECONDS (default 60).
fuzz: fuzz-build
	@scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS)

# A short, repeatable run of each fuzz target: the seed corpus (incl. regression inputs), then
# 50,000 inputs from a fixed seed (capped at 60 s). `make fuzz` explores with random seeds.
fuzz-smoke: fuzz-build
	@FUZZ_EXTRA_ARGS="-seed=1 -runs=50000" scripts/fuzz.sh build-fuzz 60

browser-test: build
	@st=0; node tests/browser/run.mjs $(BUILD)/src/touchpoint || st=1; \
	  node tests/browser/dashboard.mjs $(BUILD)/src/touchpoint || st=1; \
	  node tests/browser/insights.mjs $(BUILD)/src/touchpoint || st=1; \
	  node tests/browser/loading.mjs $(BUILD)/src/touchpoint || st=1; \
	  node tests/browser/lift.mjs $(BUILD)/src/touchpoint || st=1; exit $$st

# The Debian package (binary, systemd unit, /etc/touchpoint, the touchpoint user made at install).
package: build
	@scripts/package.sh $(BUILD)/src/touchpoint $(BUILD)/package

# Installs the package on this machine, starts the service, reads /healthz, purges it (root only:
# it installs a package; skipped with a message otherwise).
package-test: package
	@if [ "$$(id -u)" = 0 ]; then tests/package/package_test.sh $(BUILD)/package/touchpoint_*.deb; \
	  else echo "package-test: skipped, it installs a package and needs root"; fi

bench:
	@scripts/bootstrap.sh --bench
	@cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build-release -j $(JOBS)
	@bench/http_bench.sh build-release/src/touchpoint

# Report engine vs ClickHouse, DuckDB and SQLite on 10 M events (docs/benchmarks.md).
bench-report:
	@scripts/bootstrap.sh --bench
	@cd bench && { [ -d node_modules/@duckdb/node-api ] || npm ci --no-audit --no-fund --loglevel=error; }
	@cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build-release -j $(JOBS) --target report_bench
	@bench/report_bench.sh build-release/bench/report_bench

# Disk bytes per event, store open and full-scan times: sealed segments against JSON rows in the
# log, on report_bench's 10 M events and a 2 M-event simulation (docs/benchmarks.md).
# EVENTS=100000000 for the 100 M run.
bench-storage:
	@scripts/bootstrap.sh
	@cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build-release -j $(JOBS) --target report_bench storage_bench touchpoint
	@bench/storage_bench.sh $(if $(EVENTS),--events $(EVENTS)) build-release

clean:
	rm -rf $(BUILD) build-fuzz build-release build-tsan build-asan
