#!/usr/bin/env bash
# Makes a throwaway certificate authority and a broker certificate for
# 127.0.0.1 and localhost, as PEM files, for the tests that reach a local
# Kafka broker over TLS (tests/integration/test_security.c, with
# deploy/kafka-local.sh's REPUTE_KAFKA_TLS_DIR).
#
#   tests/tls/make-ca.sh DIR
#
# Writes into DIR (made if missing; files already there are replaced):
#   ca.pem       the CA's certificate: what a client trusts
#                (kafka.ssl.ca.location)
#   ca.key       the CA's private key (only to sign broker.crt)
#   broker.key   the broker's private key (PKCS#8, not encrypted)
#   broker.crt   the broker's certificate, signed by the CA, with the
#                subject alternative names IP:127.0.0.1 and DNS:localhost,
#                so that librdkafka's host name check passes
#   broker.pem   broker.key then broker.crt: the broker's PEM key store
#
# Everything is valid for 30 days and is meant to live no longer than a
# test run. Keys are EC P-256: quick to make and accepted by every TLS
# library involved (OpenSSL for librdkafka, the JDK for the broker).
# The CA's subject carries a random serial so that two CAs made by two
# runs are never mistaken for each other (the test's "wrong CA" case).
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
command -v openssl >/dev/null 2>&1 || {
  echo "make-ca.sh: openssl not found on PATH" >&2
  exit 1
}
DIR="$1"
mkdir -p "$DIR"
cd "$DIR"
umask 077

tag="$(openssl rand -hex 6)"
ossl() {
  # openssl is chatty on stderr even when it succeeds; keep that for failures.
  local out
  if ! out="$(openssl "$@" 2>&1)"; then
    printf 'make-ca.sh: openssl %s failed:\n%s\n' "$1" "$out" >&2
    exit 1
  fi
}

ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key
ossl req -x509 -new -key ca.key -sha256 -days 30 -out ca.pem \
  -subj "/CN=repute test CA $tag" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign"

ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out broker.key
ossl req -new -key broker.key -out broker.csr -subj "/CN=localhost"
cat >broker.ext <<'EXT'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost
EXT
ossl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
  -sha256 -days 30 -extfile broker.ext -out broker.crt
cat broker.key broker.crt >broker.pem
rm -f broker.csr broker.ext ca.srl
# The public parts may be read by anyone; the keys stay private.
chmod 644 ca.pem broker.crt
echo "make-ca.sh: CA and broker certificate in $(pwd)" >&2
