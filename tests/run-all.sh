#!/usr/bin/env bash
# Builds repute twice (plain with -Werror, and with AddressSanitizer+UBSan),
# runs the unit tests under CTest in both and the integration tests (label
# "integration", against a real Kafka broker) in the plain build only, the
# dashboard's browser test (headless Chromium, tests/browser/) and the
# benchmark harness in its quick mode (benchmarks/run.sh --quick), then
# checks the formatting.
#
# The integration tests need the broker of deploy/kafka-local.sh (java 17+,
# and mvn for the first download of its jars). This script starts it before
# them and, if it was not already running, stops it at the end, also when
# something fails. REPUTE_BOOTSTRAP is set from the broker's address.
#
# Usage: tests/run-all.sh            (from the repository's top)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

started_broker=0
stop_broker() {
  if [ "$started_broker" = 1 ]; then
    echo "== stopping the Kafka broker"
    deploy/kafka-local.sh stop || true
  fi
}
trap stop_broker EXIT

echo "== build (warnings are errors)"
cmake -S . -B build -DREPUTE_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
echo "== unit tests"
(cd build && ctest --output-on-failure -j"$jobs" -L unit)

echo "== integration tests (a real Kafka broker)"
if ! deploy/kafka-local.sh status >/dev/null 2>&1; then
  started_broker=1
fi
bootstrap=$(deploy/kafka-local.sh start)
export REPUTE_BOOTSTRAP="${bootstrap#bootstrap.servers=}"
# Two at a time: each test runs up to three `repute run` beside the broker's
# JVM; test_broker_restart runs alone (RUN_SERIAL).
(cd build && ctest --output-on-failure -j2 -L integration)

echo "== dashboard in headless Chromium (repute run --embedded)"
REPUTE_BIN=build/repute SCREENSHOT_DIR=build/browser-screenshots \
  bash tests/browser/run.sh
echo "== benchmark harness, quick mode (a smoke test: it completes and writes valid results)"
benchmarks/run.sh --quick

stop_broker # frees its memory for the next build
started_broker=0

echo "== build with AddressSanitizer + UBSan"
cmake -S . -B build-asan -DREPUTE_SANITIZE=ON -DREPUTE_WERROR=ON \
      -DREPUTE_BENCHMARKS=OFF -DREPUTE_INTEGRATION_TESTS=OFF >/dev/null
cmake --build build-asan -j"$jobs"
echo "== unit tests under the sanitizers"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
   UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
   ctest --output-on-failure -j"$jobs" -L unit)

echo "== formatting"
tests/check-format.sh
echo "== all tests passed"
