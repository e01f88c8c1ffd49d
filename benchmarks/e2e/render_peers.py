"""BENCHMARKS.md's rows and section about the peers, from a result.

A result since the Flink peer holds every peer under "peers" (key -> its
label, guarantee, equivalence verdict and figures) and the best comparable
one under "peer" (bench.choose_best_peer); an older result holds one Kafka
Streams peer under "peer" only. peer_rows() gives both the same shape, so
that the throughput, latency and memory tables list every peer, and the
Peers section says for each whether its output was checked equal to
`repute replay` (equiv.py) and how it compares per CPU-second with repute.
"""
from .common import dig, fmt_int, fmt_num, mib


def peer_rows(r):
    """[(key, peer dict)] in the order run: every peer of a new result, or
    the one peer of an older one."""
    peers = r.get("peers")
    if peers:
        return list(peers.items())
    p = r.get("peer") or {}
    if p and "skipped" not in p:
        return [("ks", dict(p, label="Kafka Streams peer"))]
    return []


def verdict(p):
    if p.get("comparable") is True:
        return "same as replay"
    if p.get("comparable") is False:
        return "**differs** (not comparable)"
    return "not checked"


def peers_section(L, r):
    """The Peers section: the equivalence check's verdicts, then one row per
    peer with its figures and repute's ratio per CPU-second."""
    L.append("## Peers\n")
    eq = r.get("equivalence")
    if eq:
        L.append(f"Equivalence check (before anything is timed; "
                 f"`benchmarks/e2e/equiv.py`): {fmt_int(eq.get('records'))} "
                 f"records over {fmt_int(eq.get('accounts'))} accounts "
                 f"(seed {eq.get('seed')}, engine keys "
                 f"`{' '.join(eq.get('engine_keys') or [])}`), one partition "
                 f"per topic; `repute replay` wrote "
                 f"{fmt_int(eq.get('expected_events'))} events. Each system's "
                 "output topic is compared per account with it, every field "
                 "(texts of notifications aside for the peers); linked "
                 "accounts only up to their first RELATED_ACCOUNT event "
                 "(the run-versus-replay difference of docs/run.md).\n")
        L.append("| system | verdict | events compared | exempt (linked) | "
                 "seconds | first difference |")
        L.append("|---|---|---|---|---|---|")
        for k, c in (eq.get("systems") or {}).items():
            if c.get("skipped"):
                L.append(f"| {k} | skipped: {c['skipped']} | – | – | – | – |")
                continue
            first = (c.get("first_differences") or [None])[0]
            fd = "–"
            if c.get("error"):
                fd = f"error: {c['error'][:120]}"
            elif first:
                fd = (f"{first['account']} event {first['event']}: "
                      f"{first['what']}")
            L.append(f"| {k} | {'same' if c.get('equal') else '**differs**'} | "
                     f"{fmt_int(c.get('events_compared'))} | "
                     f"{fmt_int(dig(c, 'exempt', 'events'))} events in "
                     f"{fmt_int(dig(c, 'exempt', 'accounts'))} accounts | "
                     f"{c.get('seconds', '–')} | {fd} |")
        L.append("")
    rp = dig(r, "throughput", "exactly_once_1", "events_per_cpu_sec")
    L.append("Each peer on the throughput data (the first records of the same "
             "topics), its latency at 50% of its own maximum and its RSS after "
             "the memory run's accounts; the ratio is repute's records per "
             "CPU-second (exactly_once, 1 process) over the peer's.\n")
    L.append("| peer | guarantee | output | records/s | records per "
             "CPU-second | repute per CPU-second / peer's | p99 ms at 50% | "
             "RSS |")
    L.append("|---|---|---|---|---|---|---|---|")
    for k, p in peer_rows(r):
        if p.get("skipped"):
            L.append(f"| {p.get('label', k)} | – | skipped: {p['skipped']} "
                     "| – | – | – | – | – |")
            continue
        pc = p.get("events_per_cpu_sec")
        L.append(f"| {p.get('label', k)} | {p.get('guarantee', '–')} | "
                 f"{verdict(p)} | {fmt_int(p.get('events_per_sec'))} | "
                 f"{fmt_int(pc)} | "
                 f"{fmt_num(rp / pc, 1) + 'x' if rp and pc else '–'} | "
                 f"{fmt_num(dig(p, 'latency', 'load_50', 'p99_ms'), 0)} | "
                 f"{mib(p.get('rss_bytes'))} |")
    best = r.get("peer") or {}
    if best.get("key"):
        L.append(f"\nThe targets compare with the best comparable peer per "
                 f"CPU-second: {best.get('label')}.")
    L.append("")
