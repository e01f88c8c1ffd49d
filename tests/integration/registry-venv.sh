#!/usr/bin/env bash
# Makes the Python venv of tests/integration/test_registry.c: Python's
# confluent-kafka with its Schema Registry and Avro extras (fastavro,
# httpx, ...), the independent client the test holds repute to. Idempotent,
# and serialised by a lock, so that two tests may call it at once.
#
#   tests/integration/registry-venv.sh VENV_DIR     prints VENV_DIR/bin/python
set -euo pipefail
venv="$1"
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9
py="$venv/bin/python"
if ! "$py" -c 'from confluent_kafka.schema_registry.avro import AvroSerializer' 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check \
    "confluent-kafka[avro,schemaregistry]" >&2
fi
echo "$py"
