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
#   REPUTE_KAFKA_CLUSTER_ID  the cluster id to format a new data dir with
#                            (default: a random one); with REPUTE_KAFKA_PROPS
#                            (node.id, process.roles=broker, listeners,
#                            controller.quorum.voters) several instances
#                            form one cluster (tests/integration/
#                            test_leader_change.c)
#
# An optional SASL_SSL listener (TLS + SASL PLAIN or SCRAM), off unless its
# port is set; inter-broker and controller traffic stay PLAINTEXT:
#   REPUTE_KAFKA_SASL_SSL_PORT  port of a SASL_SSL listener on 127.0.0.1
#   REPUTE_KAFKA_TLS_DIR     dir holding broker.pem: the broker's private
#                            key (PEM, PKCS#8, not encrypted) followed by
#                            its certificate chain (tests/tls/make-ca.sh
#                            makes one); required with the port
#   REPUTE_KAFKA_SASL_USERS  'user:password ...' (blank-separated; none of
#                            blank " , = [ ] \ ; inside): each a PLAIN user
#                            (server.properties) and a SCRAM-SHA-256 and
#                            -512 user, made when the data dir is formatted,
#                            so a changed list needs --fresh (start refuses
#                            otherwise). SCRAM needs librdkafka >= 2.6.1
#                            against Kafka 4.x (older ones fail to log in).
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

# The optional SASL_SSL listener. SASL_LISTENER and SASL_MAP are what it
# adds to the listener lines of server.properties: empty when it is off, so
# that the file is then exactly what it always was.
SASL_SSL_PORT="${REPUTE_KAFKA_SASL_SSL_PORT:-}"
TLS_DIR="${REPUTE_KAFKA_TLS_DIR:-}"
SASL_USERS="${REPUTE_KAFKA_SASL_USERS:-}"
SASL_LISTENER="" SASL_MAP=""
if [ -n "$SASL_SSL_PORT" ]; then
  case "$SASL_SSL_PORT" in
    *[!0-9]*) die "REPUTE_KAFKA_SASL_SSL_PORT must be a number, got '$SASL_SSL_PORT'" ;;
  esac
  if [ "$SASL_SSL_PORT" -lt 1 ] || [ "$SASL_SSL_PORT" -gt 65535 ] ||
    [ "$SASL_SSL_PORT" = "$PORT" ] || [ "$SASL_SSL_PORT" = "$CPORT" ]; then
    die "REPUTE_KAFKA_SASL_SSL_PORT must be a free port other than $PORT and $CPORT, got $SASL_SSL_PORT"
  fi
  SASL_LISTENER=",SASL_SSL://$HOST:$SASL_SSL_PORT"
  SASL_MAP=",SASL_SSL:SASL_SSL"
fi
SCRAM_ARGS=()

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
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CPORT$SASL_LISTENER
advertised.listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CPORT$SASL_LISTENER
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT$SASL_MAP
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
  [ -z "$SASL_SSL_PORT" ] || write_sasl_ssl_properties
  if [ -n "${REPUTE_KAFKA_PROPS:-}" ]; then
    printf '\n# From REPUTE_KAFKA_PROPS\n%s\n' "$REPUTE_KAFKA_PROPS" >>"$PROPS"
  fi
}

# The SASL_SSL listener's lines (REPUTE_KAFKA_SASL_SSL_PORT). Every key is
# scoped to the listener (listener.name.sasl_ssl.*), so the PLAINTEXT and
# CONTROLLER listeners are untouched. The key store is the PEM file as it
# is: Kafka reads an unencrypted PKCS#8 key without ssl.key.password.
# PLAIN is offered beside SCRAM because Kafka 4.x checks the SCRAM nonce
# strictly (the fix of CVE-2024-56128), which librdkafka before 2.6.1
# gets wrong: with Debian 12's librdkafka 2.0.2 only PLAIN logs in. The
# users' names and passwords were checked by scram_prepare, which runs
# first, so none can break out of its quotes.
write_sasl_ssl_properties() {
  [ -n "$TLS_DIR" ] || die "REPUTE_KAFKA_SASL_SSL_PORT needs REPUTE_KAFKA_TLS_DIR (a dir with broker.pem)"
  [ -d "$TLS_DIR" ] || die "REPUTE_KAFKA_TLS_DIR: no such directory: $TLS_DIR"
  TLS_DIR="$(cd "$TLS_DIR" && pwd)"
  [ -r "$TLS_DIR/broker.pem" ] || die "REPUTE_KAFKA_TLS_DIR: no readable $TLS_DIR/broker.pem (key + certificate chain, PEM)"
  local jaas="org.apache.kafka.common.security.scram.ScramLoginModule required;"
  # PLAIN's users are listed in its login module, user_NAME="PASSWORD".
  local plain="org.apache.kafka.common.security.plain.PlainLoginModule required" u users
  read -r -a users <<<"$SASL_USERS"
  for u in ${users[@]+"${users[@]}"}; do plain+=" user_${u%%:*}=\"${u#*:}\""; done
  plain+=";"
  cat >>"$PROPS" <<EOF

# SASL_SSL listener (REPUTE_KAFKA_SASL_SSL_PORT): TLS with the PEM key
# store of REPUTE_KAFKA_TLS_DIR, users from REPUTE_KAFKA_SASL_USERS.
listener.name.sasl_ssl.ssl.keystore.type=PEM
listener.name.sasl_ssl.ssl.keystore.location=$TLS_DIR/broker.pem
listener.name.sasl_ssl.sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_ssl.plain.sasl.jaas.config=$plain
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=$jaas
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=$jaas
EOF
}

# Checks REPUTE_KAFKA_SASL_USERS. SCRAM credentials live in the cluster's
# metadata; StorageTool writes them when it formats the data dir
# (--add-scram), which is the only way to make them without the admin API
# (which librdkafka 2.0.2 lacks). Fills SCRAM_ARGS for format_if_needed. The
# list's hash is kept beside the data, so that a start with another list
# on a formatted dir fails loudly instead of running without the users.
scram_prepare() {
  local users u name pw
  read -r -a users <<<"$SASL_USERS"
  SCRAM_ARGS=()
  for u in ${users[@]+"${users[@]}"}; do
    name="${u%%:*}" pw="${u#*:}"
    case "$u" in *:*) ;; *) die "REPUTE_KAFKA_SASL_USERS: expected user:password, got '$u'" ;; esac
    case "$name$pw" in
      *[\",=\;[]* | *]* | *\\*) die "REPUTE_KAFKA_SASL_USERS: user '$name': none of \" , = [ ] \\ ; allowed" ;;
    esac
    [ -n "$name" ] && [ -n "$pw" ] || die "REPUTE_KAFKA_SASL_USERS: empty user name or password in '$name:...'"
    SCRAM_ARGS+=(--add-scram "SCRAM-SHA-256=[name=$name,password=$pw]"
      --add-scram "SCRAM-SHA-512=[name=$name,password=$pw]")
  done
  local stamp="$DATA/.sasl-users.sha256" want have=""
  want="$(printf '%s' "$SASL_USERS" | sha256sum | cut -d' ' -f1)"
  [ -f "$stamp" ] && have="$(cat "$stamp")"
  [ -n "$have" ] || have="$(printf '' | sha256sum | cut -d' ' -f1)"
  if [ -f "$KRAFT_DIR/meta.properties" ]; then
    [ "$have" = "$want" ] ||
      die "REPUTE_KAFKA_SASL_USERS differs from the list $DATA was formatted with; start with --fresh"
    SCRAM_ARGS=()
    return 0
  fi
  if [ -n "$SASL_USERS" ]; then echo "$want" >"$stamp"; else rm -f "$stamp"; fi
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
  cid="${REPUTE_KAFKA_CLUSTER_ID:-$(new_cluster_id)}"
  [ -n "$cid" ] || die "StorageTool random-uuid printed nothing (see $STDOUT_LOG)"
  log "formatting $KRAFT_DIR (cluster id $cid)"
  if ! java_tool kafka.tools.StorageTool format -t "$cid" -c "$PROPS" ${SCRAM_ARGS[@]+"${SCRAM_ARGS[@]}"} >>"$STDOUT_LOG" 2>&1; then
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

  for p in "$PORT" "$CPORT" $SASL_SSL_PORT; do
    if port_open "$p"; then
      die "port $HOST:$p is already in use by another process (set REPUTE_KAFKA_PORT)"
    fi
  done

  scram_prepare
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
