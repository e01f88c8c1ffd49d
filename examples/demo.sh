#!/usr/bin/env bash
# The whole pipeline on one machine with nothing installed: `repute run
# --embedded` (an in-process Kafka-protocol broker), the bundled example
# produced to the input topics with `repute produce`, and the status changes
# read back from the output topic with `repute tail`.
#
# The example's records are from March 2026, so the run uses clock=event
# (review ends follow the records' times); with the default clock=wall a
# seven-day review would end seven days from now.
#
# With --keep, repute keeps running at the end, with its dashboard at
# http://127.0.0.1:8080/ (http.listen), until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
KEEP=0
[ "${1:-}" = "--keep" ] && KEEP=1
BIN=${REPUTE_BIN:-build/repute}
CONF=(--config examples/review-and-pause.properties --set clock=event)
work=$(mktemp -d)
"$BIN" run --embedded "${CONF[@]}" >"$work/run.out" 2>"$work/run.log" &
pid=$!
cleanup() {
  kill -INT "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

bs=""
for _ in $(seq 1 200); do
  bs=$(sed -n 's/^bootstrap.servers=//p' "$work/run.out" | head -n 1)
  [ -n "$bs" ] && break
  sleep 0.05
done
if [ -z "$bs" ]; then
  echo "demo: repute run --embedded did not start:" >&2
  cat "$work/run.log" >&2
  exit 1
fi
echo "== repute run --embedded is up at $bs"
echo "== producing examples/review-and-pause.jsonl"
"$BIN" produce "${CONF[@]}" --set "kafka.bootstrap.servers=$bs" \
  examples/review-and-pause.jsonl
echo "== status changes and notifications (repute tail)"
"$BIN" tail "${CONF[@]}" --set "kafka.bootstrap.servers=$bs" \
  --from-beginning --idle-exit 8s | tee "$work/tail.jsonl"
echo "== $(grep -c '"kind":"STATUS_CHANGE"' "$work/tail.jsonl" || true) status changes," \
  "$(grep -c '"kind":"NOTIFICATION"' "$work/tail.jsonl" || true) notifications"
if [ "$KEEP" = 1 ]; then
  echo "== dashboard: http://127.0.0.1:8080/  (metrics: /metrics; Ctrl-C stops repute)"
  wait "$pid" || true
fi
