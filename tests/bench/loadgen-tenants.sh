#!/usr/bin/env bash
# repute-loadgen's tenants (--tenant-share; benchmarks/loadgen_tenant.c):
#
# 1. Without the option the stream is byte for byte what it was before
#    tenants existed, but for the two nullable fields the schemas gained:
#    every tenant is null, and the JSON lines of a fixed run, without
#    their `"tenant":null` and `"actor":null`, hash to the value they had
#    on main before the change (so every benchmark and published figure
#    stays comparable; the JSON lines writer writes every nullable field,
#    null or not).
# 2. With it, the stream is still a function of the seed, the tenants'
#    names and counts keep to --tenants-max, account-level actions never
#    name a tenant, and the summary's counts match the lines.
#
# Usage: loadgen-tenants.sh PATH/TO/repute-loadgen
set -euo pipefail
lg="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

common=(--no-kafka --records 20000 --accounts 500 --seed 7 --bad-share 0.2
  --report-share 0.02 --action-share 0.02 --dup-share 0.01)

# 1. The default stream.
"$lg" "${common[@]}" --jsonl "$tmp/plain.jsonl" >/dev/null 2>&1
if grep -q '"tenant":"' "$tmp/plain.jsonl"; then
  echo "FAIL: a run without --tenant-share wrote a tenant" >&2
  exit 1
fi
want=cd05c9e8001110f0feda4045492d3d4f6dfc585d18ae07fc21d7a061f3624c5a
got=$(sed -e 's/,"tenant":null//' -e 's/,"actor":null//' "$tmp/plain.jsonl" |
  sha256sum | cut -d' ' -f1)
if [ "$got" != "$want" ]; then
  echo "FAIL: the default stream changed: sha256 $got, expected $want" >&2
  exit 1
fi

# 2. With tenants, twice with the same seed.
"$lg" "${common[@]}" --tenant-share 0.3 --tenants-max 8 \
  --jsonl "$tmp/t1.jsonl" >"$tmp/t1.sum" 2>/dev/null
"$lg" "${common[@]}" --tenant-share 0.3 --tenants-max 8 \
  --jsonl "$tmp/t2.jsonl" >/dev/null 2>&1
if ! cmp -s "$tmp/t1.jsonl" "$tmp/t2.jsonl"; then
  echo "FAIL: the same seed gave two streams with tenants" >&2
  exit 1
fi

python3 - "$tmp/t1.jsonl" "$tmp/t1.sum" <<'PY'
import collections, json, re, sys

lines, summary = sys.argv[1], json.load(open(sys.argv[2]))
per_account = collections.defaultdict(set)
named = untenanted_send = 0
account_level = {"SET_MANUAL_REVIEW", "CLEAR_MANUAL_REVIEW", "LINK_ACCOUNT",
                 "UNLINK_ACCOUNT"}
kinds = collections.Counter()
for line in open(lines):
    r = json.loads(line)
    t = r.get("tenant")
    if t is None:
        if r["account_id"] in per_account and r["type"] == "delivery":
            untenanted_send += 1
        continue
    assert re.fullmatch(r"tenant-\d{4}", t), t
    assert int(t[7:]) < 8, t
    if r["type"] == "action":
        assert r["action"] not in account_level, line
    per_account[r["account_id"]].add(t)
    kinds[r["type"]] += 1
    named += 1

fail = []
if not 0 < len(per_account) <= summary["tenanted_accounts"]:
    fail.append(f"{len(per_account)} accounts name tenants, "
                f"{summary['tenanted_accounts']} have them")
used = sum(len(v) for v in per_account.values())
if used != summary["tenants_used"]:
    fail.append(f"{used} tenants named, summary says {summary['tenants_used']}")
if any(len(v) > 8 for v in per_account.values()):
    fail.append("an account has more than --tenants-max tenants")
if named < summary["tenant_records"]:
    fail.append(f"{named} lines name a tenant, summary says "
                f"{summary['tenant_records']} records (duplicates add lines)")
for k in ("delivery", "bounce", "report", "action"):
    if kinds[k] == 0:
        fail.append(f"no {k} names a tenant")
if untenanted_send == 0:
    fail.append("no send of a tenanted account is without a tenant")
if fail:
    print("FAIL: " + "; ".join(fail), file=sys.stderr)
    sys.exit(1)
print(f"ok: {len(per_account)} accounts, {used} tenants, {named} lines")
PY
