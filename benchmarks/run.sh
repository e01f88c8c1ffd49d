#!/usr/bin/env bash
# The end-to-end benchmark in one command (after `bash deploy/install-deps.sh`):
#
#   benchmarks/run.sh                 full run (~10 min on 2 cores): writes
#                                     benchmarks/results/<date>-<name>.json,
#                                     the plots and BENCHMARKS.md
#   benchmarks/run.sh --quick         smoke test (< 2 min of measuring):
#                                     writes benchmarks/results/tmp/quick-*.json,
#                                     leaves BENCHMARKS.md alone; exits non-zero
#                                     unless the result has every figure
#   benchmarks/run.sh --render-only   re-render BENCHMARKS.md and the plots
#                                     from the newest full result
#   benchmarks/run.sh --soak [--soak-minutes N] [--soak-max RATE]
#                                     the soak (not in CI; ~N + 4 min): repute
#                                     at 80% of its exactly_once maximum for N
#                                     minutes (default 10), RSS and lag sampled;
#                                     writes benchmarks/results/<date>-soak.json,
#                                     latest-soak.png and BENCHMARKS.md's Soak
#                                     section; exits 3 unless RSS stayed flat
#                                     and the lag bounded
#   benchmarks/run.sh --tenant-share F
#                                     repute alone on traffic where a share F
#                                     of the accounts send for tenants (the
#                                     peers know none; BENCHMARKS.md, Tenants):
#                                     writes benchmarks/results/<date>-tenants.json
#                                     and the page's Tenants section
#   benchmarks/run.sh --pin --phases throughput,latency --configs exactly_once_1
#                                     latency with repute on a core of its own
#                                     (the broker and the load generator on
#                                     the other; BENCHMARKS.md, Latency)
#   benchmarks/run.sh --soak --soak-load 130 --repute-cpus 0.35
#                                     the overload soak: input outrunning
#                                     repute (held to 0.35 cores), the RSS
#                                     must stay flat (Soak, Overload)
#   benchmarks/run.sh --baseline DIR  a full run with DIR's repute (a Release
#                                     build of an earlier commit, with its
#                                     repute-loadgen) beside this one in the
#                                     throughput phase, on data its own load
#                                     generator wrote (BENCHMARKS.md, Throughput)
#   benchmarks/run.sh --help          the harness's options (sizes, ...)
#
# It builds a Release build in build-rel/ (and the tools in
# build-rel/benchmarks/), builds the peers (Kafka Streams; Flink except in
# --quick) with Maven, installs
# the harness's Python package (confluent-kafka) into build-rel/venv, starts
# the local broker (deploy/kafka-local.sh) unless one answers, installs
# gnuplot-nox for the plots if missing, and runs benchmarks/harness.py with
# every other argument.
#
# Environment: REPUTE_BOOTSTRAP (use this broker instead of the local one),
# PEER_JAVA_OPTS (the peer's JVM options), REPUTE_BENCH_NO_BUILD=1 (skip the
# builds, e.g. right after one).
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0 render=0 help=0 skip_peer=0
for a in "$@"; do
  case "$a" in
    --quick) quick=1 ;;
    --render-only) render=1 ;;
    --soak) skip_peer=1 ;; # the soak measures repute alone
    --skip-peer) skip_peer=1 ;;
    --tenant-share | --tenant-share=*) skip_peer=1 ;; # the peers know no tenants
    --pin) skip_peer=1 ;; # a pinned run measures repute alone
    -h | --help) help=1 ;;
  esac
done

say() { printf 'run.sh: %s\n' "$*" >&2; }
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q >/dev/null || true
  $SUDO apt-get install -y -q "$@" >/dev/null
}

# Python: a venv under build-rel/ with confluent-kafka.
VENV=build-rel/venv
PY=$VENV/bin/python
if ! "$PY" -c 'import confluent_kafka' 2>/dev/null; then
  mkdir -p build-rel
  if ! python3 -m venv "$VENV" 2>/dev/null; then
    say "python3 -m venv failed; installing python3-venv"
    rm -rf "$VENV"
    apt_install python3-venv
    python3 -m venv "$VENV"
  fi
  say "installing confluent-kafka into $VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check confluent-kafka
fi

if [ "$help" = 1 ]; then exec "$PY" benchmarks/harness.py --help; fi

if [ "$render" = 1 ]; then
  command -v gnuplot >/dev/null 2>&1 || apt_install gnuplot-nox
  exec "$PY" benchmarks/harness.py --render-only
fi

if [ "$quick" = 0 ] && ! command -v gnuplot >/dev/null 2>&1; then
  say "installing gnuplot-nox for the plots"
  apt_install gnuplot-nox || say "warning: no gnuplot; BENCHMARKS.md without plots"
fi

if [ "${REPUTE_BENCH_NO_BUILD:-0}" != 1 ]; then
  say "building build-rel/ (Release)"
  cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release -DREPUTE_TESTS=OFF >/dev/null
  cmake --build build-rel -j2 >/dev/null
fi

# The peers (benchmarks/peers/*, Maven; downloads cached in ~/.m2). A peer
# that does not build is left out by the harness (no jar: skipped, saying
# why). The quick run (CI) builds and runs only the Kafka Streams peer,
# unless REPUTE_BENCH_FLINK=1: the Flink peer's first build downloads about
# 150 MB.
peer_args=()
peers=(benchmarks/peers/kafka-streams)
if [ "$quick" = 0 ] || [ "${REPUTE_BENCH_FLINK:-0}" = 1 ]; then
  peers+=(benchmarks/peers/flink)
fi
if [ "$quick" = 1 ] && [ "${REPUTE_BENCH_FLINK:-0}" != 1 ]; then
  peer_args=(--peers ks)
fi
if [ "$skip_peer" = 0 ] && [ "${REPUTE_BENCH_NO_BUILD:-0}" != 1 ]; then
  for PEER in "${peers[@]}"; do
    [ -f "$PEER/pom.xml" ] || continue
    say "building the peer $PEER"
    if ! (cd "$PEER" && mvn -q -B package -DskipTests) >&2; then
      say "warning: $PEER did not build (mvn package failed); measuring without it"
      rm -f "$PEER"/target/*.jar
    fi
  done
fi

if [ "$quick" = 1 ]; then
  say "unit tests of the equivalence check (benchmarks/e2e/test_*.py)"
  "$PY" -m unittest discover -s benchmarks -p 'test_*.py' >&2
fi

if [ -n "${REPUTE_BOOTSTRAP:-}" ]; then
  BS=$REPUTE_BOOTSTRAP
else
  BS=$(bash deploy/kafka-local.sh start | sed -n 's/^bootstrap.servers=//p' | tail -n 1)
  [ -n "$BS" ] || { say "error: the local broker did not start"; exit 1; }
fi
say "broker $BS"

# Any --peers or --skip-peer given by the caller comes after ours and wins.
exec "$PY" benchmarks/harness.py --bootstrap "$BS" "${peer_args[@]}" "$@"
