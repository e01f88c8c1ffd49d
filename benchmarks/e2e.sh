#!/usr/bin/env bash
# End-to-end throughput and restore time of `repute run` against the local
# Kafka broker (deploy/kafka-local.sh start). Usage:
#   benchmarks/e2e.sh [ACCOUNTS] [RECORDS] [exactly_once|at_least_once]
# It writes RECORDS synthetic records over ACCOUNTS accounts to fresh
# topics, runs repute over them (clock=event) and reports the records
# applied per second from its progress log; then restarts it and reports
# how long restoring every account's state from the changelog took.
set -euo pipefail
cd "$(dirname "$0")/.."
ACCOUNTS=${1:-1000000}
RECORDS=${2:-2000000}
GUARANTEE=${3:-exactly_once}
BIN=${REPUTE_BIN:-build/repute}
BS=${REPUTE_BOOTSTRAP:-127.0.0.1:9092}
work=$(mktemp -d)
trap 'pkill -INT -f "group.id=$P" 2>/dev/null || true; rm -rf "$work"' EXIT
P=e2e$$
SET=(--set "kafka.bootstrap.servers=$BS" --set "group.id=$P" --set clock=event
     --set "processing.guarantee=$GUARANTEE" --set topics.partitions=4
     --set log.level=debug --set http.listen=off)
for t in deliveries bounces complaints reports actions status dlq changelog; do
  SET+=(--set "topic.$t=$P.$t")
done

python3 benchmarks/gen-jsonl.py "$ACCOUNTS" "$RECORDS" >"$work/in.jsonl"
# Create the topics, then fill them before repute reads them.
"$BIN" run "${SET[@]}" --set topics.create=true 2>"$work/create.log" &
pid=$!
for _ in $(seq 1 100); do grep -q "run: ready" "$work/create.log" && break; sleep 0.2; done
kill -INT $pid; wait $pid || true
"$BIN" produce "${SET[@]}" "$work/in.jsonl" 2>&1 | tail -n 1

start=$(date +%s.%N)
"$BIN" run "${SET[@]}" 2>"$work/run.log" &
pid=$!
while ! grep -q "run: $RECORDS records applied" "$work/run.log"; do
  sleep 0.2
  if ! kill -0 $pid 2>/dev/null; then cat "$work/run.log"; exit 1; fi
done
kill -INT $pid; wait $pid || true
ready=$(grep -m1 "run: ready" "$work/run.log" | cut -c1-23)
done_at=$(grep -m1 "run: $RECORDS records applied" "$work/run.log" | cut -c1-23)
secs=$(python3 -c "import datetime as d,sys;f=lambda s:d.datetime.fromisoformat(s);print((f(sys.argv[2])-f(sys.argv[1])).total_seconds())" "$ready" "$done_at")
echo "throughput: $RECORDS records in ${secs}s after ready ($GUARANTEE): $(python3 -c "print(round($RECORDS/$secs))") records/s (to within the 1 s progress interval)"

"$BIN" run "${SET[@]}" 2>"$work/restore.log" &
pid=$!
while ! grep -q "run: ready" "$work/restore.log"; do sleep 0.2; done
kill -INT $pid; wait $pid || true
grep "run: ready" "$work/restore.log" | sed 's/.*run: /restore: /'
