#!/usr/bin/env bash
# Runs every unit test program of a build (CTest label "unit") under
# valgrind memcheck and fails on any memory error or definite leak.
#
# Criterion runs each test in a worker process of its own and reports the
# worker's result over a pipe, not by its exit status, so valgrind's
# --error-exitcode cannot fail a test. Instead every process valgrind
# traces (the runner, its workers, and the `repute` binaries the CLI tests
# start) writes its own log file, and with -q a log holds only errors: the
# run fails when any log is not empty, and prints those logs.
#
# Usage: tests/valgrind.sh BUILD_DIR   (from the repository's top; default
#        build). Two programs run at a time. REPUTE_VALGRIND_FILTER, a
#        regular expression, limits the tests (ctest -R).
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
command -v valgrind >/dev/null || {
  echo "valgrind is not installed (deploy/install-deps.sh installs it)" >&2
  exit 1
}
logs="$build/valgrind"
rm -rf "$logs"
mkdir -p "$logs"

# name<TAB>working directory<TAB>command... of each unit test, from CTest's
# own list.
# Tests labelled no-valgrind run other programs than repute's (groff for
# the man pages) and are left out.
list=$(cd "$build" && ctest -L unit -LE no-valgrind \
  -R "${REPUTE_VALGRIND_FILTER:-.}" \
  --show-only=json-v1 | python3 -c '
import json, sys
for t in json.load(sys.stdin)["tests"]:
    wd = [p["value"] for p in t.get("properties", [])
          if p["name"] == "WORKING_DIRECTORY"] or ["."]
    print("\t".join([t["name"].replace("/", "_"), wd[0]] + t["command"]))
')

# Runs one test program; a failure leaves a FAILED file beside its logs.
run_one() {
  local name="$1" wd="$2"
  shift 2
  local dir="$PWD/$logs/$name" t0=$SECONDS rc=0
  mkdir -p "$dir"
  (cd "$wd" && valgrind -q --log-file="$dir/vg.%p.log" --leak-check=full \
    --errors-for-leak-kinds=definite --show-leak-kinds=definite \
    --trace-children=yes --child-silent-after-fork=yes \
    "$@") >"$dir/stdout" 2>"$dir/stderr" || rc=$?
  echo "$name: exit $rc, $((SECONDS - t0)) s"
  if [ "$rc" != 0 ]; then
    tail -n 30 "$dir/stderr"
    : >"$dir/FAILED"
  fi
}

while IFS=$'\t' read -r -a cmd; do
  while [ "$(jobs -rp | wc -l)" -ge 2 ]; do sleep 0.2; done
  run_one "${cmd[@]}" &
done <<<"$list"
wait

fail=0
[ -z "$(find "$logs" -name FAILED)" ] || fail=1
bad=$(find "$logs" -name 'vg.*.log' -size +0 | sort)
if [ -n "$bad" ]; then
  # The first ten logs, 40 lines each: one error tends to repeat in
  # every test of a program.
  for f in $(printf '%s\n' $bad | head -n 10); do
    echo "== $f"
    head -n 40 "$f"
  done
  echo "$(printf '%s\n' $bad | wc -l) logs with errors in all"
  echo "valgrind found errors or leaks (the logs above)" >&2
  fail=1
fi
if [ "$fail" = 0 ]; then
  echo "valgrind: no errors and no definite leaks in $(find "$logs" -name 'vg.*.log' | wc -l) processes"
fi
exit $fail
