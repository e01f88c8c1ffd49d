#!/usr/bin/env bash
# Builds repute twice (plain with -Werror, and with AddressSanitizer+UBSan)
# and runs every test under CTest in both, then checks the formatting.
# Usage: tests/run-all.sh            (from the repository's top)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

echo "== build (warnings are errors)"
cmake -S . -B build -DREPUTE_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
echo "== tests"
(cd build && ctest --output-on-failure -j"$jobs")

echo "== build with AddressSanitizer + UBSan"
cmake -S . -B build-asan -DREPUTE_SANITIZE=ON -DREPUTE_WERROR=ON \
      -DREPUTE_BENCHMARKS=OFF >/dev/null
cmake --build build-asan -j"$jobs"
echo "== tests under the sanitizers"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
   UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
   ctest --output-on-failure -j"$jobs")

echo "== formatting"
tests/check-format.sh
echo "== all tests passed"
