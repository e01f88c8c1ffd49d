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
from .results import all_results, latest_result


def _largest_memory_run(r):
    runs = dig(r, "memory", "runs") or []
    return max(runs, key=lambda x: x["accounts"]) if runs else {}


def _ratio(a, b):
    if not a or not b:
        return "-"
    return f"{a / b:.2f}x"


def _memory_pairs():
    """The memory-only runs (`--phases memory`), newest day first, paired
    by records per account: runs with tenants beside those without, taken
    one after the other on the same machine. Only such a pair compares like
    with like, since the dedupe table (a key per record) is part of the
    RSS and grows with the records per account."""
    by = {}
    for f, r in sorted(all_results(), key=lambda x: x[0]):
        if r.get("mode") != "partial" or dig(r, "settings", "configs") is None:
            continue
        runs = dig(r, "memory", "runs")
        if not runs or r.get("throughput"):
            continue
        s = r.get("settings", {})
        # Paired only with a run of the same account counts (a memory run
        # made for the peers, say, is not one of these).
        key = (os.path.basename(f)[:10], s.get("mem_records_per_account"),
               tuple(s.get("mem_accounts") or ()))
        by.setdefault(key, {})["t" if s.get("tenant_share") else "p"] = (f, r)
    return [(k, v) for k, v in sorted(by.items(), reverse=True)
            if "t" in v and "p" in v]


def _render_memory_pairs(L):
    pairs = _memory_pairs()
    if not pairs:
        return
    day = pairs[0][0][0]
    L.append(f"Memory with and without tenants, side by side ({day}: each "
             "pair ran one after the other, `benchmarks/run.sh --phases "
             "memory [--tenant-share 0.1] --mem-records-per-account N`). "
             "The dedupe table holds a key per record (about 13 bytes), so "
             "the bytes per account grow with the records per account, "
             "tenants or not; bytes per entity is the RSS over the accounts "
             "plus the tenants some record named.\n")
    L.append("| records per account | accounts | tenants named | RSS without "
             "| RSS with | bytes per account without | bytes per account with "
             "| bytes per entity with | restore without | restore with | "
             "results |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for (d, rpa, _), v in pairs:
        if d != day:
            continue
        (fp, p), (ft, t) = v["p"], v["t"]
        for mp in dig(p, "memory", "runs"):
            mt = next((x for x in dig(t, "memory", "runs")
                       if x["accounts"] == mp["accounts"]), None)
            if not mt:
                continue
            rp = dig(p, "restore", "seconds") if mp is dig(
                p, "memory", "runs", -1) else None
            rt = dig(t, "restore", "seconds") if mt is dig(
                t, "memory", "runs", -1) else None
            L.append(
                f"| {rpa} | {fmt_int(mp['accounts'])} | "
                f"{fmt_int(mt.get('tenants'))} | "
                f"{fmt_num(mp['rss_bytes'] / 2**20, 0)} MiB | "
                f"{fmt_num(mt['rss_bytes'] / 2**20, 0)} MiB | "
                f"{fmt_num(mp['bytes_per_account'], 0)} | "
                f"{fmt_num(mt['bytes_per_account'], 0)} | "
                f"{fmt_num(mt.get('bytes_per_entity'), 0)} | "
                f"{'-' if rp is None else fmt_num(rp, 2) + ' s'} | "
                f"{'-' if rt is None else fmt_num(rt, 2) + ' s'} | "
                f"`{os.path.basename(fp)}`, `{os.path.basename(ft)}` |")
    L.append("")


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
        L.append("No full run with tenants yet.\n")
        _render_memory_pairs(L)
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
    _render_memory_pairs(L)
