"""The Tenants section of BENCHMARKS.md: what the peer comparison leaves out,
and repute's figures with tenants beside those without.

The peers (Kafka Streams, Flink) implement the rules of accounts
(docs/rules.md sections 2 to 7), not those of tenants (section 10). On
traffic with tenants they would apply a tenant's reports and actions to its
account, so their output would differ from repute's and their speed would
be for less work: no comparison of like with like. So every figure of the
page, repute's and the peers', is on traffic without tenants, and repute
is measured a second time, alone, with tenants: `benchmarks/run.sh
--tenant-share F` (mode "tenants"), whose newest result this section shows
beside the newest full run.
"""
import os

from .common import ROOT, dig, fmt_int, fmt_num
from .results import latest_result


def _largest_memory_run(r):
    runs = dig(r, "memory", "runs") or []
    return max(runs, key=lambda x: x["accounts"]) if runs else {}


def _ratio(a, b):
    if not a or not b:
        return "-"
    return f"{a / b:.2f}x"


def render_tenants(L, full):
    """Appends the section; `full` is the full result the page is from."""
    L.append("## Tenants\n")
    L.append("The peer comparison runs **without tenants**: the peers "
             "implement the rules of accounts (docs/rules.md sections 2 to "
             "7), not those of tenants (section 10), and on traffic with "
             "tenants they would apply a tenant's reports and actions to its "
             "account, so neither their output nor their speed would compare "
             "like with like. Every figure above, repute's and the peers', is "
             "on `repute-loadgen`'s default traffic, which has no tenants. "
             "repute is measured both ways: `benchmarks/run.sh --tenant-share "
             "0.1` runs the same phases on traffic where 10% of the accounts "
             "send for 2 to `--tenants-max` (default 50) tenants each, skewed "
             "(`repute-loadgen --tenant-share`, in every fill and latency "
             "load), with the peers and the equivalence check skipped, and "
             "writes `benchmarks/results/<date>-tenants.json` and the table "
             "below.\n")
    path, r = latest_result("tenants")
    if not r:
        L.append("No run with tenants yet.\n")
        return
    rel = os.path.relpath(path, ROOT)
    s = r.get("settings", {})
    L.append(f"Result [`{rel}`]({rel}), {r.get('started')}, commit "
             f"`{dig(r, 'git', 'describe')}`, `--tenant-share "
             f"{s.get('tenant_share')} --tenants-max {s.get('tenants_max')}`; "
             "the other column is the full result this page is from. Both "
             "ran on a shared machine, so only differences over ~15% mean "
             "anything.\n")
    fill = dig(r, "data", "loadgen_fill") or {}
    if fill.get("tenants"):
        L.append(f"Throughput data: {fmt_int(fill.get('tenanted_accounts'))} "
                 f"of {fmt_int(fill.get('accounts'))} accounts with "
                 f"{fmt_int(fill.get('tenants'))} tenants, "
                 f"{fmt_int(fill.get('tenants_used'))} of them named by a "
                 f"record; {fmt_int(fill.get('tenant_records'))} of "
                 f"{fmt_int(fill.get('records'))} records name a tenant.\n")
    L.append("| figure | without tenants | with tenants | with / without |")
    L.append("|---|---|---|---|")
    for key, label in (("exactly_once_1", "exactly_once x1, records/s"),
                       ("at_least_once_1", "at_least_once x1, records/s")):
        a = dig(full, "throughput", key, "events_per_sec")
        b = dig(r, "throughput", key, "events_per_sec")
        if a or b:
            L.append(f"| {label} | {fmt_int(a)} | {fmt_int(b)} | "
                     f"{_ratio(b, a)} |")
    a = dig(full, "latency", "exactly_once_50", "p99_ms")
    b = dig(r, "latency", "exactly_once_50", "p99_ms")
    if a or b:
        L.append(f"| exactly_once p99 at 50% load | {fmt_num(a, 0)} ms | "
                 f"{fmt_num(b, 0)} ms | {_ratio(b, a)} |")
    mf, mt = _largest_memory_run(full), _largest_memory_run(r)
    if mf or mt:
        L.append(f"| bytes per account ({fmt_int(mt.get('accounts'))} "
                 f"accounts) | {fmt_num(mf.get('bytes_per_account'), 0)} | "
                 f"{fmt_num(mt.get('bytes_per_account'), 0)} | "
                 f"{_ratio(mt.get('bytes_per_account'), mf.get('bytes_per_account'))} |")
        if mt.get("bytes_per_entity") is not None:
            L.append(f"| bytes per entity (accounts + "
                     f"{fmt_int(mt.get('tenants'))} tenants) | - | "
                     f"{fmt_num(mt.get('bytes_per_entity'), 0)} | - |")
    L.append("")
