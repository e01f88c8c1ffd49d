#!/usr/bin/env bash
# Checks the generated manual pages as man shows them on an 80-column
# terminal: groff with every warning on (tbl included), then man itself.
# Any warning fails. Usage: tests/package/check-man.sh MAN_DIR (build/man).
# Run by CTest (unit/man_pages) and by tests/package/run.sh.
set -euo pipefail
dir=${1:?usage: check-man.sh MAN_DIR}
status=0
for page in repute.1 repute.properties.5; do
  [ -s "$dir/$page" ] || { echo "no $dir/$page" >&2; status=1; continue; }
  out=$(groff -t -man -z -ww -Tutf8 "$dir/$page" 2>&1)
  out+=$(MANWIDTH=80 man --warnings=all -l "$dir/$page" 2>&1 >/dev/null)
  if [ -n "$out" ]; then
    echo "$page: $out" >&2
    status=1
  fi
done
exit $status
