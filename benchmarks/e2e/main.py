"""The command line of the harness: options, the run, the result file and
the exit status.

Sizes default to the full run's and shrink with --quick (a smoke test of
every phase in under two minutes of measuring, which CI runs); every size
can also be given alone. The exit status is the contract with run.sh and
CI: 0 when the result is valid, 1 when a figure or target is missing (the
result file is still written, to be looked at), 3 when a soak's verdict
failed, 130 when interrupted. A full run renders BENCHMARKS.md from its
result; a quick one never touches it; a soak re-renders the page from the
newest full result, so that the Soak section appears beside the figures it
belongs with.
"""
import argparse
import json
import os
import re
import signal
import sys

from .bench import Bench
from .common import CONFIGS, DEFAULT_CONFIGS, ROOT, dig, fmt_int, log, mib
from .peers import DEFAULT_PEERS, PEERS
from .render import render
from .results import latest_result, result_path, validate


def add_run_options(ap):
    """What to run and how big: the mode, the broker, the sizes of each
    phase (the defaults depend on --quick, see parse_args)."""
    ap.add_argument("--quick", action="store_true",
                    help="small sizes, results to benchmarks/results/tmp/, "
                         "BENCHMARKS.md untouched")
    ap.add_argument("--name", default=None,
                    help="result name: benchmarks/results/<date>-<name>.json")
    ap.add_argument("--bootstrap", default=os.environ.get(
        "REPUTE_BOOTSTRAP", "127.0.0.1:9092"))
    ap.add_argument("--build-dir", default="build-rel")
    ap.add_argument("--prefix", default=None,
                    help="topic prefix (default bench-<unix time>)")
    ap.add_argument("--partitions", type=int, default=4)
    ap.add_argument("--records", dest="tp_records", type=int, default=None,
                    help="records for the throughput runs "
                         "(full 4,000,000, quick 100,000)")
    ap.add_argument("--accounts", dest="tp_accounts", type=int, default=None,
                    help="accounts of the throughput and latency data "
                         "(full 100,000, quick 10,000)")
    ap.add_argument("--repeats", type=int, default=None,
                    help="throughput rounds (full 3, quick 1)")
    ap.add_argument("--configs", default=",".join(DEFAULT_CONFIGS),
                    help="throughput configurations to run")
    ap.add_argument("--span", default="48h",
                    help="event-time span of pre-filled data")
    ap.add_argument("--latency-seconds", type=int, default=None,
                    help="seconds of load per latency point (full 30, quick 6)")
    ap.add_argument("--latency-warmup", type=int, default=None,
                    help="seconds of load before the first probe (the first "
                         "second after ready includes the producer's first "
                         "metadata and transaction round trips)")
    ap.add_argument("--latency-loads", default=None,
                    help="latency points, percent of the exactly_once maximum")
    ap.add_argument("--latency-max-rate", type=float, default=100000,
                    help="maximum rate if the throughput phase did not run")
    ap.add_argument("--latency-idle-exit", type=int, default=5)
    ap.add_argument("--probe-rate", type=int, default=None,
                    help="latency probes per second (full 100, quick 50)")
    ap.add_argument("--mem-accounts", default=None,
                    help="account counts for memory; restore is measured at "
                         "the largest (full 100000,1000000; quick 10000,30000)")
    ap.add_argument("--mem-records-per-account", type=int, default=2)
    ap.add_argument("--tenant-share", type=float, default=0.0, metavar="F",
                    help="spread this share of the accounts' traffic over "
                         "tenants (repute-loadgen --tenant-share; default 0: "
                         "no tenants). The peers know no tenants, so with it "
                         "they and the equivalence check are skipped and "
                         "repute is measured alone")
    ap.add_argument("--tenants-max", type=int, default=50, metavar="N",
                    help="with --tenant-share: the most tenants of one "
                         "account (repute-loadgen --tenants-max; default 50)")
    ap.add_argument("--baseline", default=None, metavar="DIR",
                    help="a Release build directory of an earlier commit "
                         "(DIR/repute, DIR/benchmarks/repute-loadgen): the "
                         "throughput phase also runs its repute, one "
                         "process at each guarantee, on data from its own "
                         "load generator, and this build on the same data")
    ap.add_argument("--restore-repeats", type=int, default=None,
                    help="restarts timed for restore (full 3, quick 1)")


def add_peer_options(ap):
    """The Kafka Streams peer."""
    ap.add_argument("--skip-peer", default=None, metavar="REASON",
                    help="skip the Kafka Streams peer, saying why")
    ap.add_argument("--peer-repeats", type=int, default=1)
    ap.add_argument("--peer-records", type=int, default=None,
                    help="records of the throughput topics the peer is timed "
                         "over: the same share of every partition, from the "
                         "start (full 400,000, quick 30,000)")
    ap.add_argument("--peer-mem-accounts", default=None,
                    help="account counts of the memory runs the peer also "
                         "processes (full 100000, quick 10000)")
    ap.add_argument("--peer-threads", type=int, default=0,
                    help="the peer's stream threads (0: its default)")
    ap.add_argument("--peer-java-opts", default=os.environ.get("PEER_JAVA_OPTS", ""),
                    help="JVM options of the peer")
    ap.add_argument("--peer-latency-loads", default=None,
                    help="peer latency points, percent of its own maximum "
                         "(full 50, quick 50)")
    ap.add_argument("--peer-settle", type=float, default=2.0,
                    help="seconds to wait after the peer says running")


def add_equiv_options(ap):
    """The peers and the equivalence check (equiv.py)."""
    ap.add_argument("--peers", default=DEFAULT_PEERS,
                    help="peers to check and measure, of: " + ", ".join(PEERS))
    ap.add_argument("--peer-args", action="append", default=[],
                    metavar="KEY=ARGS",
                    help="more command-line arguments for peer KEY, e.g. "
                         "'ks-tuned=--cache-mb 16 --commit-ms 200' (for "
                         "tuning experiments)")
    ap.add_argument("--phases", default=None,
                    help="phases to run, of equivalence,throughput,latency,"
                         "memory (default all)")
    ap.add_argument("--equivalence", action="store_true",
                    help="only the equivalence check: repute run and each "
                         "peer against repute replay; exits 4 when one "
                         "differs")
    ap.add_argument("--skip-equivalence", action="store_true",
                    help="time the peers without checking their output")
    ap.add_argument("--equiv-records", type=int, default=None,
                    help="records of the check's stream (full 200,000, "
                         "quick 20,000)")
    ap.add_argument("--equiv-accounts", type=int, default=None,
                    help="accounts of the check's stream (full 3,000, "
                         "quick 1,000)")
    ap.add_argument("--equiv-seed", type=int, default=11)
    ap.add_argument("--equiv-span", default=None,
                    help="event time the check's stream covers (full 30d, so "
                         "that 7-day reviews end; quick 3d: the textbook "
                         "Kafka Streams peer opens a RocksDB segment of its "
                         "dedupe window store every 30 minutes of event "
                         "time, which dominates a small check)")
    ap.add_argument("--equiv-set", action="append", default=None,
                    metavar="KEY=VALUE",
                    help="engine keys of the check, given to replay, repute "
                         "and every peer (default window.min.volume=1000, "
                         "rate.min.volume=200)")


def add_soak_options(ap):
    """The soak (--soak) and its verdict."""
    ap.add_argument("--soak", action="store_true",
                    help="only the soak: repute's exactly_once maximum (or "
                         "--soak-max), then --soak-minutes at --soak-load "
                         "percent of it; writes benchmarks/results/<date>-soak"
                         ".json and the Soak section of BENCHMARKS.md")
    ap.add_argument("--soak-minutes", type=float, default=10,
                    help="minutes of load")
    ap.add_argument("--soak-max", type=float, default=None, metavar="RATE",
                    help="take this as the maximum (records/s) instead of "
                         "measuring it")
    ap.add_argument("--soak-load", type=int, default=80,
                    help="load, percent of the maximum")
    ap.add_argument("--soak-accounts", type=int, default=100_000,
                    help="the fixed account set")
    ap.add_argument("--soak-interval", type=float, default=5,
                    help="seconds between samples")
    ap.add_argument("--soak-warmup", type=int, default=30,
                    help="percent of the load left out of the flatness test")
    ap.add_argument("--soak-max-slope", type=float, default=1.0,
                    help="flat: RSS slope after the warm-up at most this "
                         "(MiB/min)")
    ap.add_argument("--soak-max-lag", type=float, default=10,
                    help="bounded: committed lag at the end of the load at "
                         "most this many seconds of the rate")
    ap.add_argument("--soak-drain-timeout", type=int, default=120,
                    help="seconds for the group to commit everything once "
                         "the load stops")
    ap.add_argument("--pin", action="store_true",
                    help="pin the broker, the load generator and the latency "
                         "reader to the first core and repute (and the bare "
                         "consumer) to the last (taskset), for the latency "
                         "that repute can meet with a core of its own; "
                         "written into the result's settings")
    ap.add_argument("--repute-cpus", type=float, default=None,
                    metavar="CORES",
                    help="run every repute process under a CPU quota of "
                         "CORES (a cgroup; root): with --soak and a "
                         "--soak-load over 100, an overload soak whose "
                         "input outruns repute on a machine whose load "
                         "generator cannot outrun a whole core. The maximum "
                         "is then measured under the same quota")


def parse_args(argv):
    ap = argparse.ArgumentParser(
        description="End-to-end benchmark of repute run (see the module "
                    "docstring).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_run_options(ap)
    add_peer_options(ap)
    add_soak_options(ap)
    add_equiv_options(ap)
    ap.add_argument("--render-only", action="store_true",
                    help="re-render BENCHMARKS.md from the newest full result")
    ap.add_argument("--no-render", action="store_true")
    ap.add_argument("--validate", metavar="FILE",
                    help="only validate a result file")
    a = ap.parse_args(argv)
    q = a.quick

    def dflt(attr, full, quick):
        if getattr(a, attr) is None:
            setattr(a, attr, quick if q else full)
    dflt("tp_records", 4_000_000, 100_000)
    dflt("tp_accounts", 100_000, 10_000)
    dflt("repeats", 3, 1)
    dflt("latency_seconds", 30, 6)
    dflt("latency_warmup", 5, 2)
    dflt("latency_loads", "10,25,50,80", "50")
    dflt("probe_rate", 100, 50)
    dflt("mem_accounts", "100000,1000000", "10000,30000")
    dflt("restore_repeats", 3, 1)
    dflt("peer_latency_loads", "50", "50")
    dflt("peer_records", 400_000, 30_000)
    dflt("peer_mem_accounts", "100000", "10000")
    dflt("equiv_records", 200_000, 20_000)
    dflt("equiv_accounts", 3_000, 1_000)
    dflt("equiv_span", "30d", "3d")
    if a.equiv_set is None:
        a.equiv_set = ["window.min.volume=1000", "rate.min.volume=200"]
    a.peers = [x for x in a.peers.split(",") if x]
    extra = {}
    for pa in a.peer_args:
        k, _, v = pa.partition("=")
        extra.setdefault(k, []).extend(v.split())
    a.peer_args = extra
    if a.phases is not None:
        a.phases = [x for x in a.phases.split(",") if x]
    for p in a.peers:
        if p.split("@")[0] not in PEERS:
            ap.error(f"--peers: unknown peer {p} (known: {', '.join(PEERS)})")
    a.peer_mem_accounts = [int(x) for x in a.peer_mem_accounts.split(",") if x]
    a.mem_accounts = [int(x) for x in a.mem_accounts.split(",") if x]
    a.latency_loads = [int(x) for x in a.latency_loads.split(",") if x]
    a.peer_latency_loads = [int(x) for x in a.peer_latency_loads.split(",") if x]
    a.configs = [x for x in a.configs.split(",") if x]
    if not 0 <= a.tenant_share <= 1:
        ap.error("--tenant-share: a share from 0 to 1")
    if not 2 <= a.tenants_max <= 65535:
        ap.error("--tenants-max: from 2 to 65535")
    if a.tenant_share > 0:
        # The peers implement the rules of accounts only: on traffic with
        # tenants they would apply a tenant's reports and actions to its
        # account, so neither their figures nor the check would compare
        # like with like (BENCHMARKS.md, "Tenants").
        a.skip_peer = a.skip_peer or ("the peers know no tenants; this run "
                                      "measures repute with --tenant-share "
                                      f"{a.tenant_share:g}")
        a.skip_equivalence = True
        if a.equivalence:
            ap.error("--equivalence compares the peers, which know no "
                     "tenants: not with --tenant-share")
    if a.name is None:
        a.name = ("soak" if a.soak else "equiv" if a.equivalence
                  else "quick" if q else "tenants" if a.tenant_share
                  else "e2e")
    if a.soak and q:
        ap.error("--soak and --quick: one or the other")
    if a.pin:
        # The peers are not pinned: a pinned run measures repute alone.
        a.skip_peer = a.skip_peer or "a pinned run (--pin) measures repute alone"
        a.skip_equivalence = True
    if a.repute_cpus is not None and not 0.05 <= a.repute_cpus <= 64:
        ap.error("--repute-cpus: from 0.05 to 64 cores")
    if a.soak and a.tenant_share:
        ap.error("--soak and --tenant-share: the soak runs without tenants")
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", a.name):
        ap.error("--name: letters, digits, '_', '.', '-' only")
    return a


def main(argv):
    a = parse_args(argv)
    if a.validate:
        with open(a.validate) as f:
            errs = validate(json.load(f))
        for e in errs:
            print(f"invalid: {e}", file=sys.stderr)
        print("valid" if not errs else f"{len(errs)} problems")
        return 1 if errs else 0
    if a.render_only:
        path, r = latest_result()
        if not r:
            log("no full result in benchmarks/results/")
            return 1
        render(path, r)
        return 0

    def on_term(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)
    b = Bench(a)
    log(f"prefix {b.prefix}, logs in {b.logdir}")
    try:
        r = b.run()
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    path = result_path(a)
    with open(path, "w") as f:
        json.dump(r, f, indent=1)
        f.write("\n")
    log(f"wrote {os.path.relpath(path, ROOT)} in {r['total_seconds']} s")
    if a.equivalence:
        return summary_equiv(r)
    (summary_soak if a.soak else summary)(r)
    errs = validate(r)
    for e in errs:
        log(f"invalid: {e}")
    if errs:
        log(f"{len(errs)} problems in {os.path.relpath(path, ROOT)}")
        return 1
    if a.soak or (a.tenant_share and not a.quick):
        # A soak and a run with tenants have sections of their own beside
        # the figures of the newest full run, which stays the page's source.
        full, fr = latest_result()
        if not a.no_render and fr:
            render(full, fr)
        elif not a.no_render:
            log("no full result to render BENCHMARKS.md from")
        if a.soak:
            return 0 if r["soak"]["verdict"]["passed"] else 3
        return 0
    if not a.quick and not a.no_render:
        render(path, r)
    return 0


def summary(r):
    th = r.get("throughput", {})
    c = dig(r, "ceiling", "messages_per_sec")
    print(f"ceiling (bare consumer): {fmt_int(c)} messages/s")
    for key, _, _ in CONFIGS:
        if key in th:
            t = th[key]
            print(f"{key}: {fmt_int(t['events_per_sec'])} records/s "
                  f"({t['ratio_to_ceiling'] * 100:.0f}% of the ceiling), "
                  f"{fmt_int(t['events_per_cpu_sec'])} per CPU-second")
    for k, v in (r.get("latency") or {}).items():
        if isinstance(v, dict):
            print(f"latency {k}: p50 {v.get('p50_ms')} p99 {v.get('p99_ms')} "
                  f"p99.9 {v.get('p999_ms')} ms ({v.get('matched')}/"
                  f"{v.get('probes_sent')} probes)")
    for run in dig(r, "memory", "runs") or []:
        print(f"memory {run['accounts']} accounts: {mib(run['rss_bytes'])}, "
              f"{run['bytes_per_account']} bytes/account")
    print(f"restore {dig(r, 'restore', 'accounts')} accounts: "
          f"{dig(r, 'restore', 'seconds')} s")
    p = r.get("peer", {})
    if p.get("skipped"):
        print(f"peer: skipped ({p['skipped']})")
    else:
        print(f"peer: {fmt_int(p.get('events_per_sec'))} records/s, "
              f"{fmt_int(p.get('events_per_cpu_sec'))} per CPU-second, "
              f"RSS {mib(p.get('rss_bytes'))}, latency p99 "
              f"{dig(p, 'latency', 'load_50', 'p99_ms')} ms")
    for k, t in (r.get("targets") or {}).items():
        print(f"target {k}: {t.get('value')} -> "
              f"{ {True: 'met', False: 'missed', None: 'n/a'}[t.get('met')] }")
    print(f"total: {r.get('total_seconds')} s")


def summary_soak(r):
    so = r["soak"]
    v = so["verdict"]
    print(f"soak: {so['seconds']} s at {fmt_int(so['rate'])} records/s "
          f"({so['load_percent']}% of {fmt_int(so['max_rate'])}), achieved "
          f"{fmt_int(so['achieved_rate'])}, {so['accounts']} accounts")
    print(f"soak RSS: {mib(v['rss_first_bytes'])} -> {mib(v['rss_last_bytes'])}"
          f", slope {v['rss_slope_mib_per_min']} MiB/min, spread "
          f"{mib(v['rss_spread_bytes'])}; accounts {v['accounts_first']} -> "
          f"{v['accounts_last']}")
    print(f"soak lag: max {v['lag_max']}, final {v['lag_final']} (bound "
          f"{v['lag_bound']}), drained in {so['drain_seconds']} s")
    if v.get("overload"):
        print(f"soak verdict (overload): {'flat' if v['flat'] else 'NOT flat'}"
              f", lag {'grew' if v['lag_grew'] else 'did NOT grow'}")
    else:
        print(f"soak verdict: {'flat' if v['flat'] else 'NOT flat'}, lag "
              f"{'bounded' if v['lag_bounded'] else 'NOT bounded'}")


def summary_equiv(r):
    """Prints the check's verdict per system; 0 when all are equal, 4 when
    one differs (or failed), 1 when the check itself did not run."""
    eq = r.get("equivalence")
    if not eq:
        print("equivalence: did not run")
        return 1
    print(f"equivalence: {eq['records']} records, {eq['accounts']} accounts, "
          f"replay {eq['expected_events']} events")
    bad = 0
    for k, c in eq["systems"].items():
        if c.get("skipped"):
            print(f"  {k}: skipped ({c['skipped']})")
        elif c.get("equal"):
            print(f"  {k}: same ({c['events_compared']} events compared, "
                  f"{c['exempt']['events']} exempt, {c.get('seconds')} s)")
        else:
            bad += 1
            print(f"  {k}: DIFFERS ({c.get('error') or c.get('problems')})")
    return 4 if bad else 0
