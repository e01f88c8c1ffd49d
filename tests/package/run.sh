#!/usr/bin/env bash
# The Debian package, end to end: builds it (deploy/make-deb.sh), checks
# its files, conffiles and Depends (dpkg-deb), checks the manual pages for
# groff warnings, installs it with apt as root, runs the installed binary
# (--version, a replay of the installed example and of the installed
# configuration, both compared with the build's binary), checks the user,
# permissions, unit and man -w, then purges it and checks that nothing is
# left. It leaves the machine as it found it:
#   - it refuses (and skips) when a repute package it did not install is
#     there, or when a file of the package exists outside any package
#     (a hand install): apt would overwrite it;
#   - a purge always follows an install, also when a check fails (trap),
#     and packages apt pulled in for the dependencies are purged too;
#   - run twice, the second run finds a clean machine again; after an
#     interrupted run (kill -9) its mark lets the next run purge first.
#
# Usage: tests/package/run.sh [BUILD_DIR]   (default build-deb), as root.
# Not root, or no apt: prints SKIP and exits 0. Takes about 40 s on 2
# cores, most of it the Release build.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-deb}
mark=/var/lib/repute-package-test.mark
say() { echo "package: $*"; }
fail() { echo "package: FAIL: $*" >&2; exit 1; }
skip() { echo "package: SKIP: $*"; exit 0; }

[ "$(id -u)" = 0 ] || skip "not root (apt install needs it)"
command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null ||
  skip "no apt-get or dpkg-deb"
export DEBIAN_FRONTEND=noninteractive

installed() { dpkg-query -W -f='${Status}' repute 2>/dev/null |
  grep -q 'install ok\|config-files\|half'; }
if installed; then
  [ -e "$mark" ] ||
    skip "a repute package this test did not install is on this machine"
  say "purging the package an interrupted run left"
  apt-get purge -y -q repute >/dev/null 2>&1
fi

# ---------------------------------------------------------------- build
say "building the package ($build)"
mkdir -p "$build"
log="$build/package-test.log"
deb=$(deploy/make-deb.sh "$build" 2>"$log") ||
  { tail -30 "$log" >&2; fail "deploy/make-deb.sh failed (log: $log)"; }
[ -f "$deb" ] || fail "deploy/make-deb.sh wrote no package"
built="$build/repute"

# ---------------------------------------------------------------- contents
listing=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|')
for f in /usr/bin/repute /usr/bin/repute-loadgen /usr/bin/repute-bench-consume \
  /usr/bin/repute-bench-latency /etc/repute/repute.properties \
  /lib/systemd/system/repute.service /var/lib/repute/ \
  /usr/share/doc/repute/README.md /usr/share/doc/repute/CHANGELOG.md \
  /usr/share/doc/repute/copyright /usr/share/doc/repute/docs/rules.md \
  /usr/share/doc/repute/docs/configuration.md \
  /usr/share/doc/repute/examples/review-and-pause.jsonl \
  /usr/share/doc/repute/examples/review-and-pause.properties \
  /usr/share/man/man1/repute.1.gz /usr/share/man/man5/repute.properties.5.gz; do
  grep -qxF "$f" <<<"$listing" || fail "$f is not in the package"
done
if grep -v -E '^/(usr/(bin|share/(doc|man))|etc/repute|lib/systemd/system|var/lib/repute)(/|$)|^/(etc|lib|lib/systemd|usr|usr/share|var|var/lib)/$' \
  <<<"$listing"; then
  fail "the files above are outside the package's directories"
fi
depends=$(dpkg-deb -f "$deb" Depends)
for d in librdkafka1 libavro23 libuv1 libjansson4 libhttp-parser2.9 libssl3 libcurl4 libc6 \
  adduser; do
  grep -qE "(^|, )$d( |,|$)" <<<"$depends" || fail "Depends lacks $d: $depends"
done
[ "$(dpkg-deb -I "$deb" conffiles)" = /etc/repute/repute.properties ] ||
  fail "conffiles is not /etc/repute/repute.properties"
say "files, Depends and conffiles as expected"

# ---------------------------------------------------------------- man pages
tests/package/check-man.sh "$build/man" || fail "groff warns about a page"
say "manual pages: no groff warnings"

# ---------------------------------------------------------------- clobbering
# dpkg overwrites a file that no package owns: refuse rather than replace a
# hand install's /usr/bin/repute or /etc/repute/repute.properties.
while read -r f; do
  case "$f" in */) continue ;; esac
  if [ -e "$f" ] && ! dpkg -S "$f" >/dev/null 2>&1; then
    skip "$f exists outside any package (a hand install?): not overwriting it"
  fi
done <<<"$listing"
user_before=0
getent passwd repute >/dev/null && user_before=1

# ---------------------------------------------------------------- install
pkgs_before=$(dpkg-query -W -f='${Package}\n' | sort)
cleanup() {
  set +e
  if installed; then
    say "purging the package"
    apt-get purge -y -q repute >>"$log" 2>&1
  fi
  # What apt installed for the dependencies goes too.
  local added
  added=$(comm -13 <(echo "$pkgs_before") \
    <(dpkg-query -W -f='${Package}\n' | sort) | grep -vx repute)
  if [ -n "$added" ]; then
    say "purging what came with it: $(echo $added)"
    apt-get purge -y -q $added >>"$log" 2>&1
  fi
  rm -f "$mark"
}
trap cleanup EXIT
touch "$mark"
say "apt-get install ./$(basename "$deb")"
apt-get install -y -q "$deb" >>"$log" 2>&1 ||
  { tail -30 "$log" >&2; fail "apt-get install failed (log: $log)"; }

# ---------------------------------------------------------------- installed
v=$(/usr/bin/repute --version) || fail "repute --version failed"
[ "$v" = "$("$built" --version)" ] ||
  fail "installed --version differs from the build's: $v"
grep -q '^commit: ' <<<"$v" || fail "--version has no commit: $v"
say "$(head -1 <<<"$v"), $(sed -n 2p <<<"$v")"
ex=/usr/share/doc/repute/examples
a=$(repute replay --config $ex/review-and-pause.properties \
  $ex/review-and-pause.jsonl | sha256sum)
b=$("$built" replay --config examples/review-and-pause.properties \
  examples/review-and-pause.jsonl | sha256sum)
[ "$a" = "$b" ] || fail "the installed example's replay differs from the build's"
a=$(repute replay --config /etc/repute/repute.properties \
  $ex/review-and-pause.jsonl | sha256sum)
b=$("$built" replay --config deploy/repute.properties \
  examples/review-and-pause.jsonl | sha256sum)
[ "$a" = "$b" ] || fail "a replay with /etc/repute/repute.properties differs"
say "replays of the installed example equal the build's"
for t in repute-loadgen repute-bench-consume repute-bench-latency; do
  "$t" --help >/dev/null 2>&1 || fail "$t --help failed"
done
[ "$(man -w repute)" = /usr/share/man/man1/repute.1.gz ] ||
  fail "man -w repute: $(man -w repute 2>&1)"
[ "$(man -w 5 repute.properties)" = /usr/share/man/man5/repute.properties.5.gz ] ||
  fail "man -w 5 repute.properties: $(man -w 5 repute.properties 2>&1)"
out=$(MANWIDTH=80 man --warnings=all repute 2>&1 >/dev/null)
[ -z "$out" ] || fail "man repute warns: $out"
getent passwd repute >/dev/null || fail "no repute user"
[ "$(stat -c %U:%G:%a /etc/repute/repute.properties)" = root:repute:640 ] ||
  fail "/etc/repute/repute.properties is $(stat -c %U:%G:%a /etc/repute/repute.properties)"
[ "$(stat -c %U:%G:%a /var/lib/repute)" = repute:repute:750 ] ||
  fail "/var/lib/repute is $(stat -c %U:%G:%a /var/lib/repute)"
grep -qx 'ExecStart=/usr/bin/repute run --config /etc/repute/repute.properties' \
  /lib/systemd/system/repute.service || fail "the unit's ExecStart"
if command -v systemd-analyze >/dev/null; then
  out=$(systemd-analyze verify /lib/systemd/system/repute.service 2>&1) ||
    fail "systemd-analyze verify: $out"
fi
# The service user can read its configuration and run the binary.
su -s /bin/sh repute -c 'repute replay --config /etc/repute/repute.properties </dev/null' ||
  fail "the repute user cannot run replay with /etc/repute/repute.properties"
say "user, permissions, unit and man -w as expected"

# ---------------------------------------------------------------- purge
trap - EXIT
cleanup
for p in /usr/bin/repute /etc/repute /var/lib/repute \
  /lib/systemd/system/repute.service /usr/share/doc/repute \
  /usr/share/man/man1/repute.1.gz; do
  [ ! -e "$p" ] || fail "$p is left after the purge"
done
if [ "$user_before" = 0 ] && getent passwd repute >/dev/null; then
  fail "the repute user is left after the purge"
fi
installed && fail "the package is still installed"
say "purged: nothing left"
say "OK"
