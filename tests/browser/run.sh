#!/usr/bin/env bash
# The dashboard's browser test against a real `repute run --embedded`: start
# repute with the bundled example's configuration, produce the example,
# wait until acme is paused, then drive the dashboard in headless Chromium
# (tests/browser/dashboard.test.mjs). repute is always stopped.
#
# By default repute asks for tokens (a viewer's and an operator's, made
# with `repute token add`): the test signs in through the page as the
# viewer first, and at the end as the operator, who resumes the paused
# account from its page; BROWSER_AUTH=0 runs it without tokens, as an
# open, read-only API.
#
#   bash tests/browser/run.sh                 # REPUTE_BIN=build/repute
#   REPUTE_BIN=build-asan/repute PORT=18081 SCREENSHOT_DIR=/tmp/shots bash tests/browser/run.sh
#
# Needs node (with npm) and Debian's chromium (/usr/bin/chromium).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
BIN=${REPUTE_BIN:-build/repute}
PORT=${PORT:-18080}
WAIT=${WAIT_SECONDS:-60}
export REPUTE_URL=${REPUTE_URL:-http://127.0.0.1:$PORT/}
export SCREENSHOT_DIR=${SCREENSHOT_DIR:-$here/out}
CONF=(--config examples/review-and-pause.properties --set clock=event)

[ -x "$BIN" ] || { echo "browser test: $BIN is not built" >&2; exit 1; }
[ -x /usr/bin/chromium ] || { echo "browser test: /usr/bin/chromium is missing (apt-get install -y chromium)" >&2; exit 1; }
if [ ! -d "$here/node_modules/playwright-core" ]; then
  (cd "$here" && { npm ci --no-audit --no-fund || npm install --no-audit --no-fund; })
fi

work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -INT "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "browser test: $*" >&2
  echo "--- repute run's log (last 40 lines)" >&2
  tail -n 40 "$work/run.log" >&2 || true
  exit 1
}

AUTH_SET=()
CURL_AUTH=()
if [ "${BROWSER_AUTH:-1}" = 1 ]; then
  REPUTE_TOKEN=$("$BIN" token add browser viewer --file "$work/tokens" 2>/dev/null) ||
    fail "repute token add failed"
  REPUTE_OPERATOR_TOKEN=$("$BIN" token add oscar operator --file "$work/tokens" 2>/dev/null) ||
    fail "repute token add failed"
  export REPUTE_TOKEN REPUTE_OPERATOR_TOKEN
  AUTH_SET=(--set "http.auth.tokens.file=$work/tokens")
  CURL_AUTH=(-H "Authorization: Bearer $REPUTE_TOKEN")
fi
"$BIN" run --embedded "${CONF[@]}" --set "http.listen=127.0.0.1:$PORT" \
  "${AUTH_SET[@]}" >"$work/run.out" 2>"$work/run.log" &
pid=$!

bs=""
for _ in $(seq 1 200); do
  bs=$(sed -n 's/^bootstrap.servers=//p' "$work/run.out" | head -n 1)
  [ -n "$bs" ] && break
  kill -0 "$pid" 2>/dev/null || fail "repute run --embedded exited"
  sleep 0.05
done
[ -n "$bs" ] || fail "repute run --embedded printed no bootstrap.servers= line"
echo "== repute run --embedded is up at $bs, HTTP on 127.0.0.1:$PORT"
"$BIN" produce "${CONF[@]}" --set "kafka.bootstrap.servers=$bs" \
  examples/review-and-pause.jsonl >"$work/produce.log" 2>&1 ||
  { cat "$work/produce.log" >&2; fail "repute produce failed"; }
echo "== produced examples/review-and-pause.jsonl; waiting for a paused account"

deadline=$((SECONDS + WAIT))
ready=""
while [ $SECONDS -lt $deadline ]; do
  kill -0 "$pid" 2>/dev/null || fail "repute run exited"
  if [ -z "$ready" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' "${REPUTE_URL}readyz")" = 200 ]; then
    ready=1
  fi
  # acme paused, and hooli's tenant promotions paused (the tenants' part).
  if [ -n "$ready" ] && curl -sf "${CURL_AUTH[@]}" "${REPUTE_URL}v1/summary" |
    grep -q '"by_status":{[^}]*"SENDING_PAUSED":[1-9].*"tenants_by_status":{[^}]*"SENDING_PAUSED":[1-9]'; then
    break
  fi
  sleep 0.5
done
[ $SECONDS -lt $deadline ] || fail "no SENDING_PAUSED account and tenant within ${WAIT}s ($(curl -s "${CURL_AUTH[@]}" "${REPUTE_URL}v1/summary"))"
echo "== $(curl -s "${CURL_AUTH[@]}" "${REPUTE_URL}v1/summary")"

node "$here/dashboard.test.mjs"
