#!/usr/bin/env bash
# Installs what repute needs to build, run and test on Debian 12.
# Idempotent; runs apt-get only when a package is missing.
set -euo pipefail
pkgs=(build-essential cmake pkg-config clang-format libcurl4-openssl-dev
      librdkafka-dev libavro-dev libuv1-dev libjansson-dev libcriterion-dev
      kcat libhttp-parser-dev libssl-dev)
# Hardening (tests/run-all.sh): clang with libFuzzer for the fuzzers,
# valgrind for the unit tests under memcheck, openssl for the test CA of
# the broker's SASL_SSL listener.
pkgs+=(clang libclang-rt-14-dev valgrind openssl)
# The tests run a real Apache Kafka broker from Maven Central's jars
# (deploy/kafka-local.sh): Java 17 or later and Maven, unless present.
command -v java >/dev/null 2>&1 || pkgs+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || pkgs+=(maven)
# The dashboard's browser test drives Debian's Chromium with playwright-core
# from npm (tests/browser/); the benchmark harness draws its plots with
# gnuplot and talks to Kafka with Python's confluent-kafka (in a venv).
pkgs+=(chromium gnuplot-nox python3-venv)
command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)
# The Debian package and its manual pages (deploy/make-deb.sh,
# tests/package/run.sh): pandoc writes the pages, dpkg-dev gives
# dpkg-shlibdeps (the Depends line) and dpkg-buildflags, groff and man-db
# check the pages.
pkgs+=(pandoc dpkg-dev groff-base man-db)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q || true
  $SUDO apt-get install -y -q "${missing[@]}"
fi
