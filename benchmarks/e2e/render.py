"""BENCHMARKS.md: the page generated from the newest full result.

The page is a function of the result files alone, so that it can be
rendered again at any time (run.sh --render-only) and never states a figure
that is not in a result; the one hand-written part, "What holds it back",
is read back from the page that is there and kept as written. Each section
is a function that appends its lines to the page, in the page's order:
where the figures come from (result, commit, machine, data), the targets,
throughput, latency, memory, restore, the soak (from the newest soak
result, since a soak is a run of its own), what holds it back, how to run,
and the history of every full result. The tables say how each figure was
measured next to it, because a number on this page is only as good as the
reader's idea of what it counts.
"""
import glob
import json
import os
import re

from .common import (BASELINE_CONFIGS, BENCHMARKS_MD, CONFIGS, RESULTS, ROOT,
                     dig, fmt_int, fmt_num, log, mib)
from .plots import render_plots, render_soak_plot
from .render_peers import peer_rows, peers_section
from .render_tenants import render_tenants
from .results import all_results, newest_result


def keep_section(text, heading):
    """The body of `## heading` in text (up to the next `## `), or None."""
    if not text:
        return None
    m = re.search(r"^## " + re.escape(heading) + r"[^\n]*\n(.*?)(?=^## |\Z)",
                  text, re.S | re.M)
    return m.group(1).strip("\n") if m else None


def render(path, r):
    """Writes BENCHMARKS.md from the result r (read from path), section by
    section, keeping the hand-written "What holds it back" of the page
    that is there."""
    old = None
    if os.path.exists(BENCHMARKS_MD):
        with open(BENCHMARKS_MD) as f:
            old = f.read()
    about = keep_section(old, "About the peers")
    held = keep_section(old, "What holds it back") or (
        "_To be filled from profiles: where the time goes in the exactly_once "
        "path (consume, decode, engine, changelog encode, produce, "
        "transaction commit), and what would lift each figure that missed "
        "its target._")
    rel = os.path.relpath(path, ROOT)
    stem = "latest"
    plots = render_plots(r, stem)
    L = []
    page_head(L, rel, r)
    targets_section(L, r, plots)
    throughput_section(L, r)
    latency_section(L, r)
    memory_section(L, r)
    restore_section(L, r)
    peers_section(L, r)
    if about:
        L.append("## About the peers\n")
        L.append(about + "\n")
    render_soak(L)
    render_tenants(L, r)
    L.append("## What holds it back\n")
    L.append(held + "\n")

    how_to_run(L)
    history(L)
    with open(BENCHMARKS_MD, "w") as f:
        f.write("\n".join(L))
    log(f"wrote {os.path.relpath(BENCHMARKS_MD, ROOT)} from {rel}")


def page_head(L, rel, r):
    """The title and where the figures come from."""
    m = r["machine"]
    g = r["git"]
    s = r["settings"]
    L.append("# Benchmarks\n")
    L.append("End-to-end figures of `repute run` against a real single-node "
             "Kafka broker, measured by `benchmarks/run.sh` "
             "(`benchmarks/harness.py`). This page is generated from the "
             "newest full result in `benchmarks/results/`; re-render it with "
             "`benchmarks/run.sh --render-only`. The section \"What holds it "
             "back\" is kept as written.\n")
    L.append(f"- Result: [`{rel}`]({rel}), {r.get('started')}, "
             f"commit `{g.get('describe')}`"
             + (" (work tree had changes)" if g.get("dirty") else "") + ".")
    L.append(f"- Machine: {m.get('nproc')} cores ({m.get('cpu_model')}), "
             f"{m.get('mem_total_bytes', 0) / 2**30:.0f} GiB, Linux "
             f"{m.get('kernel')}, {m.get('os')}; {m.get('broker')} on the same "
             f"machine (local broker, `deploy/kafka-local.sh`), librdkafka "
             f"{m.get('librdkafka')}, {m.get('java')}. Load average at the "
             f"start: {m.get('loadavg_at_start'):.2f}. The machine is shared "
             "with the broker and the load generator; figures move by tens of "
             "percent between runs on a busy machine.")
    L.append(f"- Data: {fmt_int(dig(r, 'data', 'throughput_records'))} records "
             f"over {fmt_int(s.get('tp_accounts'))} accounts in five input "
             f"topics of {s.get('partitions')} partitions, event times over "
             f"{s.get('span')} (repute-loadgen's mix), "
             f"{s.get('repeats')} round{'s' if s.get('repeats') != 1 else ''}; "
             "the whole run took "
             f"{r.get('total_seconds', 0) / 60:.1f} minutes.\n")


def targets_section(L, r, plots):
    """The table of targets, then the plots."""
    L.append("## Targets\n")
    L.append("| target | figure | |")
    L.append("|---|---|---|")
    for key, t in r.get("targets", {}).items():
        v = t.get("value")
        unit = t.get("unit", "")
        if v is None:
            fig = "not measured"
        elif unit == "ratio" and key.endswith("ceiling"):
            fig = f"{v * 100:.0f}%"
        elif unit == "ratio":
            fig = f"{v:.3f} ({1 / v:.1f}x less)" if v else "0"
        elif unit == "x":
            fig = f"{v:.1f}x"
        elif unit == "ms":
            fig = f"{v:,.0f} ms"
        else:
            fig = f"{v:.2f} s"
        if t.get("note") and v is not None:
            fig += f" ({t['note']})"
        met = {True: "**met**", False: "**missed**", None: "–"}[t.get("met")]
        L.append(f"| {t['target']} | {fig} | {met} |")
    pinned_target_row(L)
    dedupe_target_row(L)
    L.append("")
    if plots:
        L.append(" ".join(f"![{os.path.basename(p)}]({p})" for p in plots) + "\n")


DEDUPE_TARGET = 14.0  # bytes a key (issue 17)
PINNED_P99_TARGET = 250.0  # ms at 50% load, pinned (issue 17)


def pinned_target_row(L):
    """Issue 17's latency target, where it can be met: p99 at 50% of the
    maximum with repute on a core of its own, from the newest pinned run
    (a run of its own: Latency, Pinned)."""
    path, r = _latest_pinned()
    v = dig(r, "latency", "exactly_once_50", "p99_ms") if r else None
    if v is None:
        return
    met = "**met**" if v <= PINNED_P99_TARGET else "**missed**"
    L.append(f"| p99 latency <= {PINNED_P99_TARGET:.0f} ms at 50% load, "
             "pinned (repute on a core of its own; Latency, Pinned) | "
             f"{v:,.0f} ms (`{os.path.basename(path)}`, commit "
             f"`{dig(r, 'git', 'describe')}`) | {met} |")


def _dedupe_bytes_per_key(r):
    """The dedupe tables' bytes over their keys at a soak's last sample
    (repute_engine_state_bytes{part="dedupe"} over repute_dedupe_entries)."""
    s = (dig(r, "soak", "samples") or [{}])[-1]
    n = s.get("dedupe_entries")
    return s["state_dedupe_bytes"] / n if n and s.get("state_dedupe_bytes") else None


def dedupe_target_row(L):
    """The dedupe table's bytes a key, from the soaks (each a run of its
    own, with the tables full at the default dedupe.max.entries): the
    newest soak, with the first beside it (before issue 17's table)."""
    soaks = [(p, r, _dedupe_bytes_per_key(r))
             for p, r in all_results() if r.get("mode") == "soak"]
    soaks = [x for x in soaks if x[2]]
    if not soaks:
        return
    soaks.sort(key=lambda x: x[1].get("started", ""), reverse=True)
    soaks = soaks[:1] + soaks[-1:] if len(soaks) > 1 else soaks

    def name(p, r):
        return (f"`{os.path.basename(p)}`, commit `{dig(r, 'git', 'describe')}`, "
                f"{fmt_int((dig(r, 'soak', 'samples') or [{}])[-1].get('dedupe_entries'))} keys")
    p, r, v = soaks[0]
    fig = f"{v:.1f} ({name(p, r)}"
    for p2, r2, v2 in soaks[1:]:
        fig += f"; the first soak, {name(p2, r2)}: {v2:.1f}"
    fig += ")"
    met = "**met**" if v <= DEDUPE_TARGET else "**missed**"
    L.append(f"| dedupe table <= {DEDUPE_TARGET:.0f} bytes per key at the "
             f"default `dedupe.max.entries` (the soaks, tables full) | {fig} "
             f"| {met} |")


def throughput_section(L, r):
    """The throughput table: the bare consumer, each configuration, the peer."""
    th = r.get("throughput", {})
    peer = r.get("peer", {})
    ceil = dig(r, "ceiling", "messages_per_sec")
    L.append("## Throughput\n")
    L.append("Records per second from the first `run: ready` until the "
             "consumer group's committed offsets reach the end offsets the "
             "five input topics had before the run (output, changelog and "
             "offsets committed), median of the rounds. Per CPU-second: the "
             "records over the CPU time (user + system, all threads) the "
             "processes used over the same interval. The bare consumer "
             "(`repute-bench-consume`, read_committed, no group, nothing "
             "decoded, timed from its first message to its last) reads the "
             "same topics at the start of each round. The peers "
             "(`benchmarks/peers/`, each at exactly once; the Peers section "
             "says which and whether each computed the same output) are "
             "timed the same way from their `peer: running`, over the first "
             f"{fmt_int(peer.get('records'))} records of the same topics "
             "(the same share of every partition), since it is much slower.\n")
    L.append("| system | guarantee | processes | records/s | of the bare "
             "consumer | records per CPU-second | seconds | samples (records/s) |")
    L.append("|---|---|---|---|---|---|---|---|")
    L.append(f"| bare librdkafka consumer | read_committed | 1 | {fmt_int(ceil)} "
             f"| 100% | – | – | "
             f"{', '.join(fmt_int(x) for x in dig(r, 'ceiling', 'samples') or [])} |")
    for key, _, _ in CONFIGS:
        t = th.get(key)
        if not t:
            continue
        # threads: 0 is repute's default (the cores); older results have
        # none (one thread a process).
        procs = str(t['processes'])
        if t.get("threads"):
            procs += f" (threads={t['threads']})"
        elif "threads" in t:
            procs += " (threads=cores)"
        L.append(f"| repute | {t['guarantee']} | {procs} | "
                 f"{fmt_int(t['events_per_sec'])} | "
                 f"{t['ratio_to_ceiling'] * 100:.0f}% | "
                 f"{fmt_int(t['events_per_cpu_sec'])} | {t['seconds']} | "
                 f"{', '.join(fmt_int(x) for x in t['samples'])} |")
    base = dig(r, "baseline", "commit")
    for key, _, build in BASELINE_CONFIGS:
        t = th.get(key)
        if not t:
            continue
        who = (f"repute at `{base[:7]}` (baseline)" if build == "baseline"
               else "repute (this commit), baseline's data")
        procs = "1" if build == "baseline" else "1 (threads=cores)"
        L.append(f"| {who} | {t['guarantee']} | {procs} | "
                 f"{fmt_int(t['events_per_sec'])} | "
                 f"{t['ratio_to_ceiling'] * 100:.0f}% | "
                 f"{fmt_int(t['events_per_cpu_sec'])} | {t['seconds']} | "
                 f"{', '.join(fmt_int(x) for x in t['samples'])} |")
    for _, p in peer_rows(r):
        if not p.get("events_per_sec"):
            continue
        pr = p['ratio_to_ceiling'] * 100
        L.append(f"| {p.get('label')} | {p.get('guarantee', 'exactly_once_v2')} "
                 f"| 1 | {fmt_int(p['events_per_sec'])} | "
                 f"{pr:.{0 if pr >= 10 else 1}f}% | "
                 f"{fmt_int(p['events_per_cpu_sec'])} | "
                 f"{p['throughput_runs'][0]['seconds']} | "
                 f"{', '.join(fmt_int(x) for x in p['samples'])} |")
    if peer.get("skipped"):
        L.append(f"\nThe peers were skipped: {peer['skipped']}.")
    cores_table(L, r)
    if base:
        L.append(f"\nThe baseline (`benchmarks/run.sh --baseline DIR`) is a "
                 f"Release build of commit `{base[:7]}`, run in the same "
                 "rounds, one process with its one loop thread, on topics its "
                 "own load generator filled with the same accounts, records "
                 "and seed: the record format of its day (no `tenant` field), "
                 "which it needs and this build reads too. \"repute (this "
                 "commit), baseline's data\" is this build on those same "
                 "topics, so that the two compare on the same bytes.")
    L.append("")


def _median_run(runs, rate):
    """The run whose rate is nearest the median of the runs' rates."""
    runs = [x for x in runs or [] if x.get(rate)]
    if not runs:
        return None
    med = sorted(x[rate] for x in runs)[len(runs) // 2]
    return min(runs, key=lambda x: abs(x[rate] - med))


def cores_table(L, r):
    """Where the cores go: CPU per record of each system, of the broker
    that serves it, and the machine's busy cores, over the median run
    (results of 2026-12-07 on; older ones have no such figures)."""
    rows = []

    def row(who, run, records, own):
        if not run or run.get("machine_cores_busy") is None:
            return
        b = run.get("broker_cpu_seconds")
        rows.append(f"| {who} | {own / records * 1e6:.2f} | "
                    f"{'–' if b is None else f'{b / records * 1e6:.2f}'} | "
                    f"{run['machine_cores_busy']:.2f} |")
    c = _median_run(dig(r, "ceiling", "runs"), "messages_per_sec")
    if c and c.get("cpu_seconds") is not None:
        row("bare librdkafka consumer", c, c["messages"], c["cpu_seconds"])
    th = r.get("throughput", {})
    base = dig(r, "baseline", "commit") or ""
    for key, _, _ in CONFIGS + [(k, g, 1) for k, g, _ in BASELINE_CONFIGS]:
        t = th.get(key)
        if not t:
            continue
        run = _median_run(t.get("runs"), "events_per_sec")
        who = (f"repute at `{base[:7]}`, {t['guarantee']}" if t.get("build") == "baseline"
               else f"repute, {t['guarantee']}, {t['processes']} process"
               + ("es" if t["processes"] > 1 else "")
               + (f", threads={t['threads']}" if t.get("threads") else "")
               + (", baseline's data" if t.get("data") else ""))
        if run:
            row(who, run, run["records"], run["cpu_seconds"])
    if not rows:
        return
    cores = dig(r, "machine", "nproc")
    L.append("\n**Where the cores go** (the median round of each; CPU time "
             "from `/proc`: the system's own processes, the local broker's "
             "JVM, and the busy cores of the whole machine over the same "
             "interval). A system that needs more CPU per record than the "
             "machine has left after the broker cannot go faster by adding "
             "threads.\n")
    L.append("| system | its CPU per record (µs) | the broker's CPU per record "
             f"(µs) | machine busy (cores{f' of {cores}' if cores else ''}) |")
    L.append("|---|---|---|---|")
    L.extend(rows)


def latency_section(L, r):
    """The latency table, repute and the peer at each load."""
    s = r["settings"]
    peer = r.get("peer", {})
    L.append("## Latency\n")
    L.append("From a probe's append to the input topic to the append of the "
             "status change it causes to the output topic (both LogAppendTime, "
             "the broker's clock), over probes mixed into load generated at a "
             "fixed rate for "
             f"{s.get('latency_seconds')} s after {s.get('latency_warmup')} s "
             "of the same load without probes (the first second after ready "
             "is not steady: the producer's first metadata and transaction "
             "round trips) (`repute-loadgen --rate R "
             f"--probes {s.get('probe_rate')} --probe-delay "
             f"{s.get('latency_warmup')}s`), read by "
             "`repute-bench-latency`. repute runs exactly_once with one "
             "process; the load is a share of its measured maximum "
             f"({fmt_int(dig(r, 'latency', 'max_rate'))} records/s). The peer "
             "is loaded at the same shares of its own maximum.\n")
    L.append("| system | load | records/s offered (achieved) | probes matched "
             "| p50 ms | p99 ms | p99.9 ms | max ms |")
    L.append("|---|---|---|---|---|---|---|---|")
    lat = r.get("latency", {})

    def latrow(sysname, pct, v):
        L.append(f"| {sysname} | {pct}% | {fmt_int(v.get('rate'))} "
                 f"({fmt_int(v.get('achieved_rate'))}) | "
                 f"{v.get('matched')}/{v.get('probes_sent')} | "
                 f"{fmt_num(v.get('p50_ms'), 0)} | {fmt_num(v.get('p99_ms'), 0)} | "
                 f"{fmt_num(v.get('p999_ms'), 0)} | {fmt_num(v.get('max_ms'), 0)} |")
    for k in sorted(x for x in lat if x.startswith("exactly_once_")):
        latrow("repute", k.rsplit("_", 1)[1], lat[k])
    for _, p in peer_rows(r):
        for k, v in sorted((p.get("latency") or {}).items()):
            if k.startswith("load_"):
                latrow(p.get("label"), k[5:], v)
    L.append("")
    pinned_latency(L, latrow)


def _latest_pinned():
    """The newest result of a run with --pin that measured latency."""
    return newest_result(
        lambda r: bool(dig(r, "settings", "pin")) and bool(r.get("latency")))


def pinned_latency(L, latrow):
    """The same measurement with repute on a core of its own (--pin)."""
    path, r = _latest_pinned()
    if not r:
        return
    rel = os.path.relpath(path, ROOT)
    ceil = dig(r, "ceiling", "messages_per_sec")
    L.append("**Pinned** (`benchmarks/run.sh --pin`): the broker, the load "
             "generator and the latency reader on the first core, repute on "
             "the second (taskset), so that what is measured is repute's "
             "latency and not a queue in front of a saturated machine. The "
             "maximum is measured under the same pinning: exactly_once, one "
             f"process, {fmt_int(dig(r, 'latency', 'max_rate'))} records/s "
             + (f"(the bare consumer, pinned to repute's core: "
                f"{fmt_int(ceil)} messages/s; repute at "
                f"{fmt_int(dig(r, 'latency', 'max_rate'))} is "
                f"{100 * (dig(r, 'latency', 'max_rate') or 0) / ceil:.0f}% of "
                "it). " if ceil else ". ")
             + "At the higher loads the load generator, sharing its core "
             "with the broker, falls short of the offered rate (the achieved "
             "rate is in parentheses). "
             + f"Result [`{rel}`]({rel}), {r.get('started')}, commit "
             f"`{dig(r, 'git', 'describe')}`; load average "
             f"{dig(r, 'machine', 'loadavg_at_start') or 0:.2f} at the "
             "start.\n")
    L.append("| system | load | records/s offered (achieved) | probes matched "
             "| p50 ms | p99 ms | p99.9 ms | max ms |")
    L.append("|---|---|---|---|---|---|---|---|")
    lat = r.get("latency", {})
    for k in sorted((x for x in lat if x.startswith("exactly_once_")),
                    key=lambda x: int(x.rsplit("_", 1)[1])):
        latrow("repute, pinned", k.rsplit("_", 1)[1], lat[k])
    L.append("")


def memory_section(L, r):
    """The memory table, per account count."""
    s = r["settings"]
    peer = r.get("peer", {})
    L.append("## Memory\n")
    idle = dig(r, "memory", "idle_rss_bytes")
    L.append("Resident set size (VmRSS) of one exactly_once process after it "
             "has processed input covering every account "
             f"(`repute-loadgen --cover`, {s.get('mem_records_per_account')} "
             "records per account), minus that of an idle process that is "
             f"ready with no accounts ({mib(idle)}), per account. The peer's "
             "RSS is of the JVM after processing the same topics"
             + (f" (`{peer.get('java_opts')}`)" if peer.get("java_opts") else
                " (default JVM options)") + ".\n")
    plabel = peer.get("label") or "Kafka Streams"
    L.append("| accounts | repute RSS | repute peak RSS | bytes per account "
             f"| {plabel} RSS | {plabel} peak RSS |")
    L.append("|---|---|---|---|---|---|")
    for run in dig(r, "memory", "runs") or []:
        L.append(f"| {fmt_int(run['accounts'])} | {mib(run['rss_bytes'])} | "
                 f"{mib(run.get('peak_rss_bytes'))} | "
                 f"{fmt_num(run['bytes_per_account'], 0)} | "
                 f"{mib(dig(run, 'peer', 'rss_bytes'))} | "
                 f"{mib(dig(run, 'peer', 'peak_rss_bytes'))} |")
    L.append("")


def restore_section(L, r):
    """The restore paragraph."""
    L.append("## Restore\n")
    rs = r.get("restore", {})
    L.append(f"After the {fmt_int(rs.get('accounts'))}-account run, repute is "
             "stopped (SIGINT) and started again in the same group: from "
             "process start to its `run: ready` log line, which comes once "
             "every task has read its changelog partition to the end: "
             f"**{fmt_num(rs.get('seconds'), 2)} s** for "
             f"{fmt_int(rs.get('accounts_restored'))} accounts restored "
             f"(samples: {', '.join(str(x['seconds']) for x in rs.get('samples', []))} s; "
             "RSS once ready: "
             f"{', '.join(mib(x.get('rss_bytes')) for x in rs.get('samples', []))}).\n")


def how_to_run(L):
    """How to run the benchmark."""
    L.append("## How to run\n")
    L.append("```sh\nbash deploy/install-deps.sh\nbenchmarks/run.sh            "
             "# full run (~10 min on 2 cores), writes benchmarks/results/ and "
             "this page\nbenchmarks/run.sh --quick    # smoke test (< 2 min), "
             "writes benchmarks/results/tmp/, leaves this page alone\n"
             "benchmarks/run.sh --render-only  # re-render this page from the "
             "newest full result\nbenchmarks/run.sh --soak       # the soak "
             "(~15 min), writes benchmarks/results/ and its section here\n"
             "benchmarks/run.sh --equivalence  # only the check that every "
             "peer computes what repute replay does (~10 min)\n"
             "benchmarks/run.sh --tenant-share 0.1  # repute alone on traffic "
             "with tenants, for the Tenants section\n"
             "benchmarks/run.sh --soak --soak-load 130 --repute-cpus 0.35  # "
             "the overload soak (Soak, Overload)\n"
             "benchmarks/run.sh --pin --phases throughput,latency --configs "
             "exactly_once_1  # latency with repute on a core of its own\n"
             "git worktree add ../base COMMIT && cmake -S ../base -B "
             "../base/build-rel -DCMAKE_BUILD_TYPE=Release && cmake --build "
             "../base/build-rel -j2 --target repute repute-loadgen\n"
             "benchmarks/run.sh --baseline ../base/build-rel  # the full run "
             "with COMMIT's build beside this one in the throughput table\n"
             "```\n")
    L.append("`benchmarks/run.sh --help` lists the sizes that can be changed "
             "(records, accounts, rounds, latency duration and loads, account "
             "counts for memory, the peer's JVM options, ...).\n")


def history(L):
    """One row per full result in benchmarks/results/."""
    L.append("## History\n")
    L.append("| result | commit | EOS x1 records/s | ALO x1 records/s | bare "
             "consumer | EOS p99 at 50% | restore | peer records/s |")
    L.append("|---|---|---|---|---|---|---|---|")
    for f in sorted(glob.glob(os.path.join(RESULTS, "*.json"))):
        try:
            with open(f) as fh:
                h = json.load(fh)
        except (OSError, ValueError):
            continue
        if h.get("mode") != "full":
            continue
        L.append(f"| {os.path.basename(f)} | `{dig(h, 'git', 'describe')}` | "
                 f"{fmt_int(dig(h, 'throughput', 'exactly_once_1', 'events_per_sec'))} | "
                 f"{fmt_int(dig(h, 'throughput', 'at_least_once_1', 'events_per_sec'))} | "
                 f"{fmt_int(dig(h, 'ceiling', 'messages_per_sec'))} | "
                 f"{fmt_num(dig(h, 'latency', 'exactly_once_50', 'p99_ms'), 0)} ms | "
                 f"{fmt_num(dig(h, 'restore', 'seconds'), 2)} s | "
                 f"{fmt_int(dig(h, 'peer', 'events_per_sec'))} |")
    L.append("")


def _latest_soak(overload):
    """The newest soak result whose load is over 100% (overload) or not."""
    return newest_result(
        lambda r: r.get("mode") == "soak" and "soak" in r and
        (r["soak"].get("load_percent", 0) > 100) == overload)


def render_soak(L):
    """The Soak section of BENCHMARKS.md: the newest soak under the maximum
    and the newest overload soak (a load over 100%), each with its plot."""
    L.append("## Soak\n")
    path, r = _latest_soak(False)
    if not r:
        L.append("No soak result yet: `benchmarks/run.sh --soak` (about 15 "
                 "minutes; not part of CI).\n")
    else:
        render_soak_one(L, path, r, "latest", None)
    path, r = _latest_soak(True)
    if r:
        L.append("### Overload\n")
        render_soak_one(L, path, r, "latest-overload",
                        "Overload soak: memory flat while the lag grows")


def _soak_verdict_row(so, v):
    if so["load_percent"] > 100:
        grew = v.get("lag_grew")
        if grew is None:  # a result written before the overload verdict
            grew = (v.get("lag_slope_per_sec") or 0) > 0.01 * so["rate"]
        return (f"| verdict | RSS **{'flat' if v['flat'] else 'not flat'}**, "
                f"lag **{'grew' if grew else 'did not grow'}** (the input "
                "outran repute, as meant) |")
    return (f"| verdict | RSS **{'flat' if v['flat'] else 'not flat'}**, lag "
            f"**{'bounded' if v['lag_bounded'] else 'not bounded'}** |")


def render_soak_one(L, path, r, stem, title):
    """One soak's text, table and plot (benchmarks/results/STEM-soak.png)."""
    rel = os.path.relpath(path, ROOT)
    so, v, m = r["soak"], r["soak"]["verdict"], r["machine"]
    plot = render_soak_plot(so, stem, title)
    cpus = dig(r, "settings", "repute_cpus")
    if so["load_percent"] > 100:
        L.append("The same soak with more input than repute can take: the "
                 f"load generator offers {so['load_percent']}% of repute's "
                 "maximum, so the lag grows for the whole run, and the RSS "
                 "must stay flat all the same (a daemon whose input outruns "
                 "it must not grow without bound)."
                 + (f" repute runs under a CPU quota of {cpus:g} cores (a "
                    "cgroup, `--repute-cpus`), and its maximum is measured "
                    "under the same quota: on this machine the load "
                    "generator and the broker cannot outrun a repute that "
                    "has a whole core." if cpus else "") + "\n")
    L.append(f"repute (exactly_once, one process) fed live by `repute-loadgen "
             f"--rate {so['rate']} --accounts {so['accounts']}` for "
             f"{so['seconds'] / 60:g} minutes: {so['load_percent']}% of its "
             f"maximum, a fixed account set, event times from the wall clock. "
             f"Every {so['interval']} s the harness samples its resident set "
             "size (VmRSS), the engine's state and accounts held "
             "(`repute_engine_state_bytes`, `repute_accounts` on `/metrics`) "
             "and the consumer group's committed lag (end offsets of the "
             "inputs minus committed offsets). **Flat**: after the warm-up "
             f"(the first {dig(r, 'settings', 'soak_warmup')}% of the load, or "
             "until the dedupe tables are full if that is later: each task's "
             "fills up to `dedupe.max.entries` keys, then forgets the oldest), "
             "the least-squares slope of RSS is at most "
             f"{v['max_slope_mib_per_min']:g} MiB/min and the accounts held "
             "grow by at most 0.1% of the set. "
             + ("**Lag grew**: its least-squares slope is over 1% of the rate "
                "(else the input did not outrun repute, and the soak proved "
                "nothing).\n" if so["load_percent"] > 100 else
                "**Lag bounded**: the lag at the end of the load is at most "
                f"{dig(r, 'settings', 'soak_max_lag')} s of the rate, its "
                "slope is under 1% of the rate, and everything is committed "
                "soon after the load stops.\n"))
    L.append(f"Result [`{rel}`]({rel}), {r.get('started')}, commit "
             f"`{dig(r, 'git', 'describe')}`; load average "
             f"{m.get('loadavg_at_start'):.2f} at the start and "
             f"{m.get('loadavg_at_end', 0):.2f} at the end. The machine "
             f"({m.get('nproc')} cores) is shared with the broker, the load "
             "generator and other people's builds and tests, so the rate and "
             "the lag move with whatever else runs; the engine's state "
             "does not depend on them.\n")
    short = so["achieved_rate"] < 0.95 * so["rate"]
    L.append("| figure | value |")
    L.append("|---|---|")
    L.append(f"| maximum (exactly_once, 1 process) | {fmt_int(so['max_rate'])} "
             f"records/s ({so['max_rate_source']}) |")
    L.append(f"| target ({so['load_percent']}%) | {fmt_int(so['rate'])} "
             "records/s |")
    L.append(f"| achieved by the load generator | "
             f"{fmt_int(so['achieved_rate'])} records/s "
             f"({fmt_int(so['records'])} records)"
             + (" - short of the target" if short else "") + " |")
    L.append(f"| RSS after the warm-up ({v['window_from_seconds']:.0f} s) and "
             f"at the end | {mib(v['rss_first_bytes'])}, "
             f"{mib(v['rss_last_bytes'])} (min {mib(v['rss_min_bytes'])}, "
             f"max {mib(v['rss_max_bytes'])}) |")
    L.append(f"| RSS slope after the warm-up | "
             f"{fmt_num(v['rss_slope_mib_per_min'], 2)} MiB/min |")
    L.append(f"| RSS mean: first minute after the warm-up, second half | "
             f"{mib(v['rss_first_minute_mean_bytes'])}, "
             f"{mib(v['rss_second_half_mean_bytes'])} |")
    s0 = next(s for s in so["samples"] if s["t"] >= v["window_from_seconds"])
    s1 = [s for s in so["samples"] if s["phase"] == "load"][-1]
    L.append(f"| engine state (accounts + dedupe) after the warm-up and at "
             f"the end | {mib(v['state_first_bytes'])}, "
             f"{mib(v['state_last_bytes'])} (accounts "
             f"{fmt_num(s0['state_accounts_bytes'] / 2**20)}, "
             f"{fmt_num(s1['state_accounts_bytes'] / 2**20)} MiB) |")
    L.append(f"| dedupe tables full from, entries at the end | "
             + (f"{v['dedupe_full_at_seconds']:.0f} s"
                if v.get("dedupe_full_at_seconds") is not None else "never")
             + f", {fmt_int(v.get('dedupe_entries_last'))} |")
    L.append(f"| accounts held after the warm-up and at the end | "
             f"{fmt_int(v['accounts_first'])}, {fmt_int(v['accounts_last'])} |")
    L.append(f"| committed lag: largest after the warm-up, at the end | "
             f"{fmt_int(v['lag_max'])}, {fmt_int(v['lag_final'])} records "
             f"(bound {fmt_int(v['lag_bound'])}) |")
    L.append(f"| all committed after the load stopped | "
             + (f"{so['drain_seconds']:.1f} s" if so["drain_seconds"] is not None
                else "not within the timeout") + " |")
    L.append(f"| repute's CPU | {fmt_num(v['cpu_share'], 2)} cores |")
    L.append(_soak_verdict_row(so, v))
    L.append("")
    if short:
        L.append("The load generator fell short of the target: it shares the "
                 f"{m.get('nproc')} cores with repute, the broker and, on a "
                 "busy machine, everything else.\n")
    if plot:
        L.append(f"![{os.path.basename(plot)}]({plot})\n")
