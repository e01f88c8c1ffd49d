#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ with clang (build-fuzz,
# -DREPUTE_FUZZ=ON: libFuzzer + AddressSanitizer + UBSan) and runs each for
# SECONDS (default 60), two at a time. Each fuzzer starts from a scratch copy
# of its seed corpus in build-fuzz/fuzz-run/<target>/, so the repository's
# corpus never grows here; grow it by hand with care (small, interesting
# files only).
#
# Prints one line per fuzzer (executions, exec/s, coverage, corpus size,
# crashes) and writes the same lines to build-fuzz/fuzz-summary.txt. Exits
# non-zero when a fuzzer found a crash, a leak or a failed oracle; the line
# names the saved input (build-fuzz/fuzz-run/<target>-crash-*) and the log.
# To keep a finding: minimize it (fuzz-<target> -minimize_crash=1
# -runs=10000 FILE), fix the bug, and copy it into
# tests/fuzz/regressions/<target>/, which the fuzz-replay/<target> unit test
# replays in every build.
#
# Usage: tests/fuzz/run.sh [SECONDS]        (from anywhere)
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
targets=(avro avro_resolve jsonl config http http_query http_action tokens registry acctstate state)
build=build-fuzz
run=$build/fuzz-run

echo "== build $build (clang, libFuzzer + ASan + UBSan)"
CC=clang cmake -S . -B $build -DREPUTE_FUZZ=ON -DREPUTE_BENCHMARKS=OFF \
  -DREPUTE_INTEGRATION_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build $build -j2 --target "${targets[@]/#/fuzz-}"

rm -rf "$run"
mkdir -p "$run"

# Runs one fuzzer; its summary line goes to $run/<target>.summary.
fuzz_one() {
  local t=$1 dict=()
  local corpus=$run/$t log=$run/$t.log
  cp -r tests/fuzz/corpus/$t "$corpus"
  [ -f tests/fuzz/$t.dict ] && dict=(-dict=tests/fuzz/$t.dict)
  local rc=0
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build/tests/fuzz/fuzz-$t" -max_total_time="$seconds" -timeout=25 \
    -print_final_stats=1 -artifact_prefix="$run/$t-" "${dict[@]}" \
    "$corpus" >"$log" 2>&1 || rc=$?
  local execs speed cov corp crashes
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  corp=$(find "$corpus" -type f | wc -l)
  crashes=$(find "$run" -maxdepth 1 -name "$t-*" -type f | tr '\n' ' ')
  printf '%-11s execs %-10s exec/s %-7s cov %-6s corpus %-5s %s\n' \
    "$t" "${execs:-?}" "${speed:-?}" "${cov:-?}" "$corp" \
    "$([ $rc = 0 ] && echo 'no crash' || echo "CRASH (exit $rc): ${crashes:-see log} log $log")" \
    >"$run/$t.summary"
}

echo "== fuzzing ${#targets[@]} targets for ${seconds}s each, two at a time"
for t in "${targets[@]}"; do
  fuzz_one "$t" &
  while [ "$(jobs -rp | wc -l)" -ge 2 ]; do
    wait -n || true
  done
done
wait

: >"$build/fuzz-summary.txt"
status=0
for t in "${targets[@]}"; do
  cat "$run/$t.summary" | tee -a "$build/fuzz-summary.txt"
  grep -q 'no crash' "$run/$t.summary" || status=1
done
echo "summary: $build/fuzz-summary.txt"
exit $status
