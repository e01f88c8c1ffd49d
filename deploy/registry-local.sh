#!/usr/bin/env bash
# Runs a real Schema Registry on 127.0.0.1 for repute's tests: Apicurio
# Registry 2.6 from Maven Central, in memory, which speaks Confluent's REST
# API under /apis/ccompat/v7 (docs/schemas.md). Needs only `java` (17+) on
# PATH and Maven with access to Maven Central for the first download
# (about 140 MB). No root, no Docker. Like deploy/kafka-local.sh.
#
#   deploy/registry-local.sh fetch     download and unpack only
#   deploy/registry-local.sh start     start (no-op if already running)
#   deploy/registry-local.sh stop      SIGTERM, then SIGKILL after 20 s
#   deploy/registry-local.sh status    exit 0 if running and answering
#   deploy/registry-local.sh restart
#
# On success, start and status print
# `schema.registry.url=http://127.0.0.1:PORT/apis/ccompat/v7` on stdout;
# every other message goes to stderr. The registry keeps everything in
# memory: a restart forgets every schema.
#
# Environment:
#   REPUTE_REGISTRY_HOME   download cache (default ~/.cache/repute-registry)
#   REPUTE_REGISTRY_DATA   pid file and log (default /tmp/repute-registry)
#   REPUTE_REGISTRY_PORT   HTTP port (default 18081)
#   REPUTE_REGISTRY_HEAP_OPTS      default "-Xmx384m -Xms64m"
#   REPUTE_REGISTRY_START_TIMEOUT  seconds to wait for readiness (default 90)
set -euo pipefail

VERSION=2.6.13.Final
ARTIFACT="io.apicurio:apicurio-registry-app:$VERSION:tar.gz:all"
RUNNER="apicurio-registry-app-$VERSION-runner.jar"

CACHE="${REPUTE_REGISTRY_HOME:-$HOME/.cache/repute-registry}"
APP="$CACHE/app-$VERSION"
DATA="${REPUTE_REGISTRY_DATA:-/tmp/repute-registry}"
PORT="${REPUTE_REGISTRY_PORT:-18081}"
HOST=127.0.0.1
HEAP_OPTS="${REPUTE_REGISTRY_HEAP_OPTS:--Xmx384m -Xms64m}"
START_TIMEOUT="${REPUTE_REGISTRY_START_TIMEOUT:-90}"
PIDFILE="$DATA/registry.pid"
LOG="$DATA/registry.log"
URL="http://$HOST:$PORT/apis/ccompat/v7"

log() { printf 'registry-local: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
now() { date +%s; }

case "$PORT" in
  '' | *[!0-9]*) die "REPUTE_REGISTRY_PORT must be a number, got '$PORT'" ;;
esac

# Downloads the distribution with Maven (into ~/.m2 and then $CACHE) and
# unpacks it into a temporary directory renamed into place, so that an
# interrupted download never looks complete. A lock serialises two callers.
fetch() {
  if [ -f "$APP/$RUNNER" ]; then
    log "registry already in $APP"
    return 0
  fi
  mkdir -p "$CACHE"
  exec {lockfd}>"$CACHE/.fetch.lock"
  flock "$lockfd"
  if [ -f "$APP/$RUNNER" ]; then
    exec {lockfd}>&-
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found on PATH (needed once, to download the registry)"
  local tmp="$CACHE/tmp.$$" t0
  t0=$(now)
  rm -rf "$tmp"
  mkdir -p "$tmp/dl" "$tmp/app"
  log "downloading $ARTIFACT from Maven Central ..."
  if ! mvn -B -q dependency:copy -Dartifact="$ARTIFACT" -DoutputDirectory="$tmp/dl" \
    >"$CACHE/mvn.log" 2>&1; then
    sed 's/\x1b\[[0-9;]*m//g' "$CACHE/mvn.log" | tail -n 40 >&2
    rm -rf "$tmp"
    die "mvn dependency:copy failed (full output: $CACHE/mvn.log)"
  fi
  tar -xzf "$tmp"/dl/*.tar.gz -C "$tmp/app" || { rm -rf "$tmp"; die "cannot unpack the download"; }
  [ -f "$tmp/app/$RUNNER" ] || { rm -rf "$tmp"; die "no $RUNNER in the download"; }
  rm -rf "$APP"
  mv "$tmp/app" "$APP"
  rm -rf "$tmp"
  log "registry ready in $APP ($(($(now) - t0)) s)"
  exec {lockfd}>&-
}

read_pid() {
  [ -f "$PIDFILE" ] || return 1
  local pid
  pid="$(tr -dc '0-9' <"$PIDFILE")"
  [ -n "$pid" ] || return 1
  # Guards against a recycled pid: it must be our JVM.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$RUNNER" || return 1
  echo "$pid"
}

answering() {
  curl -sf -m 2 "$URL/config" >/dev/null 2>&1
}

do_start() {
  local pid t0
  t0=$(now)
  fetch
  command -v java >/dev/null 2>&1 || die "java not found on PATH (Java 17+ needed)"
  mkdir -p "$DATA"
  if pid="$(read_pid)"; then
    log "already running (pid $pid)"
  else
    if (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; then
      die "port $HOST:$PORT is already in use by another process (set REPUTE_REGISTRY_PORT)"
    fi
    printf '\n=== %s start ===\n' "$(date '+%F %T')" >>"$LOG"
    (
      cd "$APP"
      # shellcheck disable=SC2086  # HEAP_OPTS is a word list
      exec setsid java $HEAP_OPTS -Dquarkus.http.host=$HOST -Dquarkus.http.port="$PORT" \
        -jar "$RUNNER" </dev/null >>"$LOG" 2>&1
    ) &
    pid=$!
    echo "$pid" >"$PIDFILE"
    log "started JVM pid $pid; waiting up to ${START_TIMEOUT} s for $URL"
  fi
  local deadline=$(($(now) + START_TIMEOUT))
  until answering; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$LOG" >&2
      rm -f "$PIDFILE"
      die "the registry JVM (pid $pid) exited during startup"
    fi
    if [ "$(now)" -ge "$deadline" ]; then
      tail -n 30 "$LOG" >&2
      kill -KILL "$pid" 2>/dev/null || true
      rm -f "$PIDFILE"
      die "the registry did not answer within ${START_TIMEOUT} s"
    fi
    sleep 0.5
  done
  log "ready in $(($(now) - t0)) s (log $LOG)"
  echo "schema.registry.url=$URL"
}

do_stop() {
  local pid
  if ! pid="$(read_pid)"; then
    rm -f "$PIDFILE"
    log "not running"
    return 0
  fi
  log "stopping the registry (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$(($(now) + 20))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$(now)" -ge "$deadline" ]; then
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  rm -f "$PIDFILE"
  log "stopped"
}

do_status() {
  local pid
  if ! pid="$(read_pid)"; then
    log "not running"
    return 1
  fi
  if answering; then
    log "running (pid $pid), answering on $URL"
    echo "schema.registry.url=$URL"
    return 0
  fi
  log "running (pid $pid) but not answering on $URL"
  return 2
}

case "${1:-}" in
  fetch) fetch ;;
  start) do_start ;;
  stop) do_stop ;;
  restart) do_stop; do_start ;;
  status) do_status ;;
  *) awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "${BASH_SOURCE[0]}" >&2; exit 2 ;;
esac
