#!/usr/bin/env bash
# Runs a real, single-node Apache Kafka 4.x broker (KRaft, combined
# broker+controller) on 127.0.0.1 for repute's tests and benchmarks.
# Needs only `java` (17+) on PATH and Maven with access to Maven Central
# for the first download. No root, no Docker.
#
#   deploy/kafka-local.sh fetch             download the jars only
#   deploy/kafka-local.sh start [--fresh]   start (no-op if already running)
#   deploy/kafka-local.sh stop              SIGTERM, then SIGKILL after 30 s
#   deploy/kafka-local.sh status            exit 0 if running and answering
#   deploy/kafka-local.sh restart [--fresh]
#
# On success, start and status print `bootstrap.servers=127.0.0.1:PORT`
# on stdout; every other message goes to stderr.
#
# Environment:
#   REPUTE_KAFKA_HOME    jar cache         (default ~/.cache/repute-kafka)
#   REPUTE_KAFKA_DATA    data dir: server.properties, kafka.pid, server.log,
#                        kraft/ (log.dirs)  (default /tmp/repute-kafka)
#   REPUTE_KAFKA_PORT    PLAINTEXT port; the controller uses PORT+1
#                        (default 9092)
#   REPUTE_KAFKA_FRESH=1 wipe the data dir on start (same as --fresh)
#   REPUTE_KAFKA_HEAP_OPTS   default "-Xmx768m -Xms256m"
#   REPUTE_KAFKA_JVM_OPTS    extra JVM options
#   REPUTE_KAFKA_PROPS       extra server.properties lines (appended last,
#                            so they override the defaults)
#   REPUTE_KAFKA_LOGLEVEL    root log level of server.log (default INFO)
#   REPUTE_KAFKA_START_TIMEOUT  seconds to wait for readiness (default 90)
#   REPUTE_KAFKA_STOP_TIMEOUT   seconds before SIGKILL (default 30)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
POM="$SCRIPT_DIR/kafka/pom.xml"
LOG4J_CONF="$SCRIPT_DIR/kafka/log4j2.properties"

CACHE="${REPUTE_KAFKA_HOME:-$HOME/.cache/repute-kafka}"
LIB="$CACHE/lib"
DATA="${REPUTE_KAFKA_DATA:-/tmp/repute-kafka}"
PORT="${REPUTE_KAFKA_PORT:-9092}"
HOST=127.0.0.1
HEAP_OPTS="${REPUTE_KAFKA_HEAP_OPTS:--Xmx768m -Xms256m}"
START_TIMEOUT="${REPUTE_KAFKA_START_TIMEOUT:-90}"
STOP_TIMEOUT="${REPUTE_KAFKA_STOP_TIMEOUT:-30}"
FRESH="${REPUTE_KAFKA_FRESH:-0}"

MARKER=".repute-kafka-data"

log() { printf 'kafka-local: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
  awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "${BASH_SOURCE[0]}" >&2
}

case "$PORT" in
  '' | *[!0-9]*) die "REPUTE_KAFKA_PORT must be a number, got '$PORT'" ;;
esac
if [ "$PORT" -lt 1 ] || [ "$PORT" -gt 65534 ]; then
  die "REPUTE_KAFKA_PORT out of range: $PORT"
fi
CPORT=$((PORT + 1))

PROPS="$DATA/server.properties"
PIDFILE="$DATA/kafka.pid"
SERVER_LOG="$DATA/server.log"
STDOUT_LOG="$DATA/stdout.log"
LOGPOS="$DATA/.server.log.pos"
KRAFT_DIR="$DATA/kraft"

# ---------------------------------------------------------------- helpers

now() { date +%s; }

need_java() {
  command -v java >/dev/null 2>&1 || die "java not found on PATH (Java 17+ needed)"
  local v major
  v="$(java -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n1)"
  major="${v%%.*}"
  [ "$major" = 1 ] && major="$(echo "$v" | cut -d. -f2)"
  case "$major" in
    '' | *[!0-9]*) log "warning: cannot read the Java version ('$v'); trying anyway" ;;
    *) [ "$major" -ge 17 ] || die "Java $v found; Kafka 4.x needs Java 17+" ;;
  esac
}

pom_stamp() { sha256sum "$POM" | cut -d' ' -f1; }

jars_present() {
  [ -f "$LIB/.pom.sha256" ] && [ "$(cat "$LIB/.pom.sha256")" = "$(pom_stamp)" ] &&
    compgen -G "$LIB/kafka_2.13-*.jar" >/dev/null &&
    compgen -G "$LIB/log4j-core-*.jar" >/dev/null
}

FETCH_LOCK_FD=""

# Download the broker's classpath into $CACHE/lib unless it is already
# there for this exact pom.xml. Fills a temp dir and renames it, so an
# interrupted download never looks complete.
fetch() {
  [ -f "$POM" ] || die "missing $POM"
  if jars_present; then
    log "jars already in $LIB"
    return 0
  fi
  mkdir -p "$CACHE"
  if command -v flock >/dev/null 2>&1; then
    exec {FETCH_LOCK_FD}>"$CACHE/.fetch.lock"
    flock "$FETCH_LOCK_FD"
    if jars_present; then # another process fetched meanwhile
      log "jars already in $LIB"
      unlock_fetch
      return 0
    fi
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found on PATH (needed once, to download the Kafka jars)"
  local tmp="$CACHE/lib.tmp.$$" t0
  rm -rf "$tmp"
  t0=$(now)
  log "downloading Kafka jars from Maven Central into $LIB ..."
  # Maven's output goes to a file (Debian's mvn prints stray colour codes
  # even with -B -q); it is shown when the download fails.
  if ! mvn -B -q -f "$POM" dependency:copy-dependencies -DoutputDirectory="$tmp" \
    >"$CACHE/mvn.log" 2>&1; then
    rm -rf "$tmp"
    sed 's/\x1b\[[0-9;]*m//g' "$CACHE/mvn.log" | tail -n 40 >&2
    die "mvn dependency:copy-dependencies failed (full output: $CACHE/mvn.log)"
  fi
  compgen -G "$tmp/kafka_2.13-*.jar" >/dev/null || {
    rm -rf "$tmp"
    die "download finished but no kafka_2.13 jar in it"
  }
  pom_stamp >"$tmp/.pom.sha256"
  rm -rf "$LIB"
  mv "$tmp" "$LIB"
  log "jars ready in $LIB ($(($(now) - t0)) s)"
  unlock_fetch
}

unlock_fetch() {
  if [ -n "$FETCH_LOCK_FD" ]; then
    exec {FETCH_LOCK_FD}>&-
    FETCH_LOCK_FD=""
  fi
}

read_pid() {
  [ -f "$PIDFILE" ] || return 1
  local pid
  pid="$(tr -dc '0-9' <"$PIDFILE")"
  [ -n "$pid" ] && echo "$pid"
}

# True if $1 is a live kafka.Kafka JVM (guards against a recycled pid).
is_kafka_pid() {
  local pid="$1" cmd
  kill -0 "$pid" 2>/dev/null || return 1
  if [ -r "/proc/$pid/cmdline" ]; then
    cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
  else
    cmd="$(ps -p "$pid" -o args= 2>/dev/null || true)"
  fi
  case "$cmd" in *kafka.Kafka*) return 0 ;; *) return 1 ;; esac
}

running_pid() {
  local pid
  pid="$(read_pid)" || return 1
  is_kafka_pid "$pid" || return 1
  echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# Does the broker answer? A metadata request with kcat when it is
# installed, else an open port plus "Kafka Server started" in the log
# written since the last launch.
answering() {
  local mt="${1:-5}"
  if command -v kcat >/dev/null 2>&1; then
    kcat -L -b "$HOST:$PORT" -m "$mt" 2>/dev/null | grep -Eq '^ *[1-9][0-9]* brokers:'
    return
  fi
  port_open "$PORT" || return 1
  [ -f "$SERVER_LOG" ] || return 1
  local pos=0 size
  [ -f "$LOGPOS" ] && pos="$(tr -dc '0-9' <"$LOGPOS")"
  size="$(wc -c <"$SERVER_LOG")"
  [ -n "$pos" ] && [ "$size" -ge "$pos" ] || pos=0 # rolled over
  tail -c +"$((pos + 1))" "$SERVER_LOG" | grep -q 'Kafka Server started'
}

show_logs() {
  if [ -f "$SERVER_LOG" ]; then
    log "last 50 lines of $SERVER_LOG:"
    tail -n 50 "$SERVER_LOG" >&2
  else
    log "no $SERVER_LOG"
  fi
  if [ -s "$STDOUT_LOG" ]; then
    log "last 20 lines of $STDOUT_LOG (JVM stdout/stderr):"
    tail -n 20 "$STDOUT_LOG" >&2
  fi
}

DATA_LOCK_FD=""

# Serialises start/stop/restart on one data dir. The lock fd is closed for
# the broker JVM, so it dies with this script.
lock_data() {
  [ -n "$DATA_LOCK_FD" ] && return 0
  mkdir -p "$DATA"
  DATA="$(cd "$DATA" && pwd)"
  PROPS="$DATA/server.properties" PIDFILE="$DATA/kafka.pid"
  SERVER_LOG="$DATA/server.log" STDOUT_LOG="$DATA/stdout.log"
  LOGPOS="$DATA/.server.log.pos" KRAFT_DIR="$DATA/kraft"
  if command -v flock >/dev/null 2>&1; then
    exec {DATA_LOCK_FD}>"$DATA/.lock"
    flock "$DATA_LOCK_FD"
  fi
}

wipe_data() {
  if [ ! -f "$DATA/$MARKER" ] &&
    [ -n "$(find "$DATA" -mindepth 1 -maxdepth 1 ! -name .lock -print -quit)" ]; then
    die "refusing to wipe $DATA: not empty and not made by this script (no $MARKER)"
  fi
  log "wiping $DATA"
  find "$DATA" -mindepth 1 -maxdepth 1 ! -name .lock -exec rm -rf {} +
}

write_properties() {
  cat >"$PROPS" <<EOF
# Generated by deploy/kafka-local.sh on every start; edits are lost.
# Put overrides in REPUTE_KAFKA_PROPS instead.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$CPORT
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CPORT
advertised.listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CPORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KRAFT_DIR

# One node: every replication factor and min ISR is 1.
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1

# Fast first group / first transaction in tests.
offsets.topic.num.partitions=4
transaction.state.log.num.partitions=4
share.coordinator.state.topic.num.partitions=4
group.initial.rebalance.delay.ms=0

# Tests create their topics explicitly.
auto.create.topics.enable=false
delete.topic.enable=true
EOF
  if [ -n "${REPUTE_KAFKA_PROPS:-}" ]; then
    printf '\n# From REPUTE_KAFKA_PROPS\n%s\n' "$REPUTE_KAFKA_PROPS" >>"$PROPS"
  fi
}

java_tool() {
  java -Dlog4j2.configurationFile="$LOG4J_CONF" -Dkafka.logs.dir="$DATA" \
    -Drepute.kafka.loglevel=WARN \
    -cp "$LIB/*" "$@"
}

# A cluster id as `StorageTool random-uuid` makes it (16 random bytes,
# base64url without padding, not starting with '-'), without paying for a
# JVM start; falls back to StorageTool.
new_cluster_id() {
  local id
  if [ -r /dev/urandom ] && command -v base64 >/dev/null 2>&1; then
    for _ in 1 2 3 4 5 6 7 8; do
      id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
      case "$id" in -* | AAAAAAAAAAAAAAAAAAAAA*) continue ;; esac
      [ "${#id}" = 22 ] && { echo "$id"; return 0; }
    done
  fi
  java_tool kafka.tools.StorageTool random-uuid 2>>"$STDOUT_LOG" | tail -n1
}

format_if_needed() {
  if [ -f "$KRAFT_DIR/meta.properties" ]; then
    return 0
  fi
  local cid
  cid="$(new_cluster_id)"
  [ -n "$cid" ] || die "StorageTool random-uuid printed nothing (see $STDOUT_LOG)"
  log "formatting $KRAFT_DIR (cluster id $cid)"
  if ! java_tool kafka.tools.StorageTool format -t "$cid" -c "$PROPS" >>"$STDOUT_LOG" 2>&1; then
    tail -n 20 "$STDOUT_LOG" >&2
    die "StorageTool format failed"
  fi
}

wait_ready() {
  local pid="$1" deadline=$(($(now) + START_TIMEOUT))
  while :; do
    # kill -0, not is_kafka_pid: just after the launch the pid may still
    # be the subshell or setsid, before it execs java.
    if ! kill -0 "$pid" 2>/dev/null; then
      log "the broker JVM (pid $pid) exited during startup"
      return 1
    fi
    if answering 2; then
      return 0
    fi
    if [ "$(now)" -ge "$deadline" ]; then
      log "the broker did not answer within ${START_TIMEOUT} s"
      return 1
    fi
    sleep 0.5
  done
}

# ---------------------------------------------------------------- commands

do_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PIDFILE"
    log "not running"
    return 0
  fi
  log "stopping broker (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$(($(now) + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$(now)" -ge "$deadline" ]; then
      log "still alive after ${STOP_TIMEOUT} s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      local n=0
      while kill -0 "$pid" 2>/dev/null && [ "$n" -lt 50 ]; do
        sleep 0.1
        n=$((n + 1))
      done
      break
    fi
    sleep 0.2
  done
  rm -f "$PIDFILE"
  log "stopped"
}

do_start() {
  local t0 pid
  t0=$(now)
  fetch
  need_java
  lock_data

  if pid="$(running_pid)"; then
    if [ "$FRESH" = 1 ]; then
      log "--fresh: stopping the running broker first"
      do_stop
    else
      log "already running (pid $pid)"
      if ! answering 5 && ! wait_ready "$pid"; then
        show_logs
        exit 1
      fi
      echo "bootstrap.servers=$HOST:$PORT"
      return 0
    fi
  fi
  rm -f "$PIDFILE"

  [ "$FRESH" = 1 ] && wipe_data
  if [ -z "$(find "$DATA" -mindepth 1 -maxdepth 1 ! -name .lock -print -quit)" ]; then
    : >"$DATA/$MARKER"
  fi

  for p in "$PORT" "$CPORT"; do
    if port_open "$p"; then
      die "port $HOST:$p is already in use by another process (set REPUTE_KAFKA_PORT)"
    fi
  done

  write_properties
  format_if_needed

  if [ -f "$SERVER_LOG" ]; then wc -c <"$SERVER_LOG" >"$LOGPOS"; else echo 0 >"$LOGPOS"; fi
  printf '\n=== %s start ===\n' "$(date '+%F %T')" >>"$STDOUT_LOG"

  local launcher=()
  command -v setsid >/dev/null 2>&1 && launcher=(setsid) || launcher=(nohup)
  # The subshell closes the lock fd (the JVM must not hold the lock), then
  # execs setsid, which execs java in a session of its own: $! is the JVM.
  (
    if [ -n "$DATA_LOCK_FD" ]; then exec {DATA_LOCK_FD}>&-; fi
    # shellcheck disable=SC2086  # HEAP_OPTS and JVM_OPTS are word lists
    exec "${launcher[@]}" java $HEAP_OPTS \
      -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
      -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
      -Dlog4j2.configurationFile="$LOG4J_CONF" -Dkafka.logs.dir="$DATA" \
      -Drepute.kafka.loglevel="${REPUTE_KAFKA_LOGLEVEL:-INFO}" \
      ${REPUTE_KAFKA_JVM_OPTS:-} \
      -cp "$LIB/*" kafka.Kafka "$PROPS" \
      </dev/null >>"$STDOUT_LOG" 2>&1
  ) &
  pid=$!
  echo "$pid" >"$PIDFILE"
  log "started JVM pid $pid; waiting up to ${START_TIMEOUT} s for $HOST:$PORT"

  if ! wait_ready "$pid"; then
    show_logs
    if kill -0 "$pid" 2>/dev/null; then
      log "killing the half-started broker (pid $pid)"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$PIDFILE"
    exit 1
  fi
  log "ready in $(($(now) - t0)) s (data in $DATA, log $SERVER_LOG)"
  echo "bootstrap.servers=$HOST:$PORT"
}

do_status() {
  local pid
  if [ -d "$DATA" ]; then DATA="$(cd "$DATA" && pwd)"; fi
  if ! pid="$(running_pid)"; then
    log "not running (data dir $DATA)"
    return 1
  fi
  if answering 5; then
    log "running (pid $pid), answering on $HOST:$PORT"
    echo "bootstrap.servers=$HOST:$PORT"
    return 0
  fi
  log "running (pid $pid) but not answering on $HOST:$PORT"
  return 2
}

# ---------------------------------------------------------------- main

cmd="${1:-}"
[ $# -gt 0 ] && shift
for a in "$@"; do
  case "$a" in
    --fresh) FRESH=1 ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option '$a' (try --help)" ;;
  esac
done

case "$cmd" in
  fetch) fetch ;;
  start) do_start ;;
  stop) lock_data; do_stop ;;
  restart) lock_data; do_stop; do_start ;;
  status) do_status ;;
  -h | --help | help) usage ;;
  '') usage; exit 2 ;;
  *) log "unknown command '$cmd'"; usage; exit 2 ;;
esac
