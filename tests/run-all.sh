#!/usr/bin/env bash
# Builds repute twice (plain with -Werror, and with AddressSanitizer+UBSan)
# and runs:
#   - the unit tests (CTest label "unit") in the plain build, then again
#     under valgrind memcheck (tests/valgrind.sh) and in the sanitized build;
#   - every fuzzer for about a minute (tests/fuzz/run.sh, clang + libFuzzer);
#   - the integration tests (label "integration", against a real Kafka
#     broker) with the sanitized binary, scanning the logs of every repute
#     process they started for sanitizer reports. They run once, in that
#     build: it checks everything the plain one would, and more, and the
#     plain binary is exercised against the broker by the next two steps;
#   - the dashboard's browser test (headless Chromium, tests/browser/) and
#     the benchmark harness in its quick mode (benchmarks/run.sh --quick),
#     with the plain build;
#   - the Debian package (tests/package/run.sh): built, its files and
#     dependencies checked, installed with apt, run, purged; skipped when
#     not root;
#   - the formatting check.
#
# The integration tests need the broker of deploy/kafka-local.sh (java 17+,
# and mvn for the first download of its jars). This script starts it before
# them and, if it was not already running, stops it at the end, also when
# something fails. REPUTE_BOOTSTRAP is set from the broker's address.
# Likewise the schema registry of deploy/registry-local.sh (Apicurio
# Registry, downloaded by mvn the first time): REPUTE_REGISTRY_URL is set
# from its address, so that the registry's integration tests run.
#
# Usage: tests/run-all.sh            (from the repository's top)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

started_broker=0 started_registry=0
stop_broker() {
  if [ "$started_broker" = 1 ]; then
    echo "== stopping the Kafka broker"
    deploy/kafka-local.sh stop || true
    started_broker=0
  fi
  if [ "$started_registry" = 1 ]; then
    echo "== stopping the schema registry"
    deploy/registry-local.sh stop || true
    started_registry=0
  fi
}
trap stop_broker EXIT

echo "== build (warnings are errors)"
cmake -S . -B build -DREPUTE_WERROR=ON -DREPUTE_TEST_HOOKS=ON >/dev/null
cmake --build build -j"$jobs"
echo "== unit tests"
(cd build && ctest --output-on-failure -j"$jobs" -L unit)

echo "== unit tests under valgrind memcheck (no errors, no definite leaks)"
tests/valgrind.sh build

echo "== build with AddressSanitizer + UBSan (the whole suite)"
cmake -S . -B build-asan -DREPUTE_SANITIZE=ON -DREPUTE_WERROR=ON -DREPUTE_TEST_HOOKS=ON \
      -DREPUTE_BENCHMARKS=OFF >/dev/null
cmake --build build-asan -j"$jobs"
# A sanitizer report stops the process (halt_on_error, abort_on_error for
# ASan), so it fails the test that ran it; the logs of the repute
# processes the integration tests start are scanned as well, below.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
echo "== unit tests under the sanitizers"
(cd build-asan && ctest --output-on-failure -j"$jobs" -L unit)

echo "== fuzzers, about a minute each (tests/fuzz/run.sh)"
tests/fuzz/run.sh "${REPUTE_FUZZ_SECONDS:-60}"

echo "== integration tests under the sanitizers (a real Kafka broker)"
if ! deploy/kafka-local.sh status >/dev/null 2>&1; then
  started_broker=1
fi
bootstrap=$(deploy/kafka-local.sh start)
export REPUTE_BOOTSTRAP="${bootstrap#bootstrap.servers=}"
if ! deploy/registry-local.sh status >/dev/null 2>&1; then
  started_registry=1
fi
registry=$(deploy/registry-local.sh start)
export REPUTE_REGISTRY_URL="${registry#schema.registry.url=}"
# Every repute process these tests start is the sanitized binary. Its
# standard error is kept (REPUTE_IT_KEEP) and scanned afterwards: a report
# from a process the test killed on purpose, or one whose exit status the
# test does not check, must fail the run too.
rm -rf build-asan/tests/integration/work
# Two at a time: each test runs up to three `repute run` beside the broker's
# JVM; test_broker_restart runs alone (RUN_SERIAL).
(cd build-asan && REPUTE_IT_KEEP=1 ctest --output-on-failure -j2 -L integration)
if grep -rlE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' \
  build-asan/tests/integration/work; then
  echo "a sanitizer reported an error in the files above" >&2
  exit 1
fi
unset ASAN_OPTIONS UBSAN_OPTIONS

echo "== dashboard in headless Chromium (repute run --embedded)"
REPUTE_BIN=build/repute SCREENSHOT_DIR=build/browser-screenshots \
  bash tests/browser/run.sh
echo "== benchmark harness, quick mode (a smoke test: it completes and writes valid results)"
benchmarks/run.sh --quick

stop_broker
started_broker=0

echo "== the Debian package: build, check, install, run, purge (as root; tests/package/run.sh)"
tests/package/run.sh

echo "== formatting"
tests/check-format.sh
echo "== all tests passed"
