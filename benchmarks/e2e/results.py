"""What a result is made of and how it is judged: machine and git facts,
the targets, validation, and the result files.

A result file is the whole record of a run (settings, machine, every sample
and figure), so that BENCHMARKS.md can be rendered again from it at any
time and a later run can be compared with it. The targets are the
project's published goals (exactly_once at half the bare consumer's rate,
five times Kafka Streams per core, a tenth of its memory, p99 under 250 ms
at half load, a million accounts restored in ten seconds), each evaluated
into met, missed or not measured with the figure and its unit.

validate() is what makes `run.sh --quick` a test: every figure the settings
promise must be a finite number and every target must have been evaluated,
except the peer's when the peer was skipped on purpose; a quick run that
lost a probe or a figure fails instead of rendering a hole. Full results go
to benchmarks/results/<date>-<name>.json (never overwriting: -2, -3, ...),
quick ones to benchmarks/results/tmp/, which git ignores.
"""
import datetime as dt
import glob
import json
import math
import os
import platform
import re
import subprocess

from .common import BASELINE_CONFIGS, CONFIGS, DEFAULT_CONFIGS, QUICK_DIR, RESULTS, ROOT, dig


TARGETS = {
    # key: (description, how the value is read, comparison, threshold)
    "exactly_once_vs_ceiling": (
        "exactly_once throughput (1 process) >= 65% of the bare consumer's",
        "ratio", ">=", 0.65),
    "at_least_once_vs_ceiling": (
        "at_least_once throughput (1 process) >= 75% of the bare consumer's",
        "ratio", ">=", 0.75),
    "per_core_vs_peer": (
        ">= 5x the best peer's throughput per CPU-second (exactly_once, 1 "
        "process)",
        "x", ">=", 5.0),
    "memory_vs_peer": (
        "<= 1/5 of the best peer's memory (RSS after processing the same "
        "accounts)", "ratio", "<=", 0.2),
    "p99_latency_50": (
        "p99 latency <= 250 ms at 50% load (exactly_once)", "ms", "<=", 250.0),
    "restore_seconds": (
        "restore of 1,000,000 accounts within 10 s", "s", "<=", 10.0),
}


def sh(args):
    try:
        return subprocess.run(args, capture_output=True, text=True,
                              timeout=20, cwd=ROOT).stdout.strip()
    except Exception:  # noqa: BLE001
        return ""


def machine_facts():
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) * 1024
    broker = ""
    libdir = os.path.expanduser(os.environ.get(
        "REPUTE_KAFKA_HOME", "~/.cache/repute-kafka")) + "/lib"
    for j in glob.glob(libdir + "/kafka-server-[0-9]*.jar"):
        broker = "Apache Kafka " + os.path.basename(j)[len("kafka-server-"):-4]
    jv = subprocess.run(["java", "-version"], capture_output=True, text=True)
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "mem_total_bytes": mem,
        "kernel": platform.release(),
        "os": sh(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
        "broker": broker,
        "librdkafka": sh(["pkg-config", "--modversion", "rdkafka"]),
        "java": (jv.stderr.splitlines() or [""])[0],
        "loadavg_at_start": os.getloadavg()[0],
        "hostname": platform.node(),
    }


def git_facts():
    return {
        "commit": sh(["git", "rev-parse", "HEAD"]),
        "describe": sh(["git", "describe", "--always", "--dirty"]),
        "dirty": bool(sh(["git", "status", "--porcelain", "--untracked-files=no"])),
    }


def baseline_facts(repute):
    """The commit a baseline build names in its --version ("commit: ...")."""
    out = sh([repute, "--version"])
    m = re.search(r"commit: (\S+)", out or "")
    if not m:
        raise RuntimeError(f"--baseline: {repute} --version names no commit")
    return {"repute": repute, "commit": m.group(1)}


def settings_of(a):
    keys = ["tp_records", "tp_accounts", "repeats", "partitions", "span",
            "latency_seconds", "latency_warmup", "latency_loads", "probe_rate",
            "mem_accounts",
            "mem_records_per_account", "restore_repeats", "peer_repeats",
            "peer_records", "peer_mem_accounts",
            "peer_java_opts", "peer_threads", "peer_latency_loads", "configs",
            "tenant_share", "tenants_max", "repute_cpus", "pin", "baseline"]
    if a.soak:
        keys += ["soak_minutes", "soak_max", "soak_load", "soak_accounts",
                 "soak_interval", "soak_warmup", "soak_max_slope",
                 "soak_max_lag", "soak_drain_timeout"]
    return {k: getattr(a, k) for k in keys}


def targets(r):
    out = {}
    ceiling = dig(r, "ceiling", "messages_per_sec")

    def put(key, value, note=None):
        desc, unit, cmp, thr = TARGETS[key]
        if value is None or (isinstance(value, float) and math.isnan(value)):
            out[key] = {"target": desc, "threshold": thr, "value": None,
                        "met": None, "note": note or "not measured"}
            return
        met = value >= thr if cmp == ">=" else value <= thr
        out[key] = {"target": desc, "threshold": thr, "value": round(value, 4),
                    "unit": unit, "met": bool(met)}
        if note:
            out[key]["note"] = note

    def was(key):
        """The baseline's figure beside this one (--baseline), as a note."""
        v = dig(r, "throughput", key, "ratio_to_ceiling")
        c = dig(r, "baseline", "commit")
        return f"starting commit `{c[:7]}`: {v * 100:.0f}%" if v and c else None

    put("exactly_once_vs_ceiling",
        dig(r, "throughput", "exactly_once_1", "ratio_to_ceiling"),
        was("baseline_exactly_once_1"))
    put("at_least_once_vs_ceiling",
        dig(r, "throughput", "at_least_once_1", "ratio_to_ceiling"),
        was("baseline_at_least_once_1"))
    rp = dig(r, "throughput", "exactly_once_1", "events_per_cpu_sec")
    pp = dig(r, "peer", "events_per_cpu_sec")
    put("per_core_vs_peer", rp / pp if rp and pp else None)
    runs = [x for x in dig(r, "memory", "runs") or [] if dig(x, "peer", "rss_bytes")]
    big = runs[-1] if runs else {}
    prss = dig(big, "peer", "rss_bytes")
    put("memory_vs_peer",
        big.get("rss_bytes") / prss if prss and big.get("rss_bytes") else None,
        f"RSS at {big.get('accounts'):,} accounts" if big else None)
    put("p99_latency_50", dig(r, "latency", "exactly_once_50", "p99_ms"))
    acc = dig(r, "restore", "accounts")
    put("restore_seconds", dig(r, "restore", "seconds"),
        None if acc == 1000000 else
        f"measured at {acc:,} accounts, not 1,000,000" if acc else None)
    _ = ceiling
    return out


def expected_paths(r):
    paths = [("ceiling", "messages_per_sec")]
    for key, _, _ in CONFIGS:
        if key in (dig(r, "settings", "configs") or DEFAULT_CONFIGS):
            for f in ("events_per_sec", "ratio_to_ceiling", "events_per_cpu_sec",
                      "seconds", "peak_rss_bytes"):
                paths.append(("throughput", key, f))
    if dig(r, "settings", "baseline") and "throughput" in r:
        for key, _, _ in BASELINE_CONFIGS:
            for f in ("events_per_sec", "ratio_to_ceiling", "events_per_cpu_sec"):
                paths.append(("throughput", key, f))
    for pct in dig(r, "settings", "latency_loads") or [50, 80]:
        for f in ("rate", "p50_ms", "p99_ms", "p999_ms", "max_ms", "matched"):
            paths.append(("latency", f"exactly_once_{pct}", f))
    paths.append(("memory", "idle_rss_bytes"))
    for i, _ in enumerate(dig(r, "settings", "mem_accounts") or [0]):
        for f in ("accounts", "rss_bytes", "bytes_per_account"):
            paths.append(("memory", "runs", i, f))
        if dig(r, "settings", "tenant_share"):
            for f in ("tenants", "bytes_per_entity"):
                paths.append(("memory", "runs", i, f))
    for f in ("accounts", "seconds", "accounts_restored"):
        paths.append(("restore", f))
    if "skipped" not in (r.get("peer") or {}):
        for f in ("events_per_sec", "events_per_cpu_sec"):
            paths.append(("peer", f))
        if set(dig(r, "settings", "peer_mem_accounts") or []) & \
                set(dig(r, "settings", "mem_accounts") or []):
            paths.append(("peer", "rss_bytes"))
        for pct in dig(r, "settings", "peer_latency_loads") or []:
            for f in ("p50_ms", "p99_ms", "p999_ms", "matched"):
                paths.append(("peer", "latency", f"load_{pct}", f))
    for key in TARGETS:
        paths.append(("targets", key, "threshold"))
    return paths


def validate(r):
    """Returns a list of problems: every expected key must hold a finite
    number; every target must have been evaluated (met true/false) unless
    its figure was skipped on purpose (the peer's, when skipped)."""
    errs = []
    if not isinstance(r, dict):
        return ["not a JSON object"]
    if r.get("mode") == "soak":
        return validate_soak(r)
    for k in ("schema", "machine", "git", "settings", "targets"):
        if k not in r:
            errs.append(f"missing {k}")
    for p in expected_paths(r):
        v = dig(r, *p)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or \
                (isinstance(v, float) and not math.isfinite(v)):
            errs.append(f"{'.'.join(map(str, p))}: expected a number, got {v!r}")
    peer_skipped = "skipped" in (r.get("peer") or {})
    for key, t in (r.get("targets") or {}).items():
        if t.get("met") is None and not (
                peer_skipped and key in ("per_core_vs_peer", "memory_vs_peer")):
            errs.append(f"targets.{key}: not evaluated ({t.get('note')})")
    for e in (r.get("peer") or {}).get("errors", []):
        errs.append(f"peer: {e[:300]}")
    for k, p in (r.get("peers") or {}).items():
        if k == (r.get("peer") or {}).get("key"):
            continue
        for e in p.get("errors", []):
            errs.append(f"peers.{k}: {e[:300]}")
        if p.get("comparable") is False:
            errs.append(f"peers.{k}: its output differs from repute replay "
                        f"({dig(p, 'equivalence', 'first_difference')!r:.300})")
    m = dig(r, "latency")
    for pct in dig(r, "settings", "latency_loads") or []:
        x = dig(m, f"exactly_once_{pct}")
        if x and x.get("matched") is not None and x.get("probes_sent") and \
                x["matched"] < x["probes_sent"]:
            errs.append(f"latency.exactly_once_{pct}: matched {x['matched']} "
                        f"of {x['probes_sent']} probes")
    return errs


def validate_soak(r):
    errs = [f"missing {k}" for k in ("schema", "machine", "git", "settings",
                                     "soak") if k not in r]
    for p in [("soak", k) for k in ("max_rate", "rate", "achieved_rate",
                                    "seconds", "accounts")] + \
            [("soak", "verdict", k) for k in (
                "rss_first_bytes", "rss_last_bytes", "rss_slope_mib_per_min",
                "accounts_first", "accounts_last", "lag_final")]:
        v = dig(r, *p)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            errs.append(f"{'.'.join(p)}: expected a number, got {v!r}")
    if len(dig(r, "soak", "samples") or []) < 3:
        errs.append("soak.samples: fewer than 3")
    return errs


def all_results():
    """(path, result) of every readable result file in benchmarks/results/."""
    out = []
    for f in glob.glob(os.path.join(RESULTS, "*.json")):
        try:
            with open(f) as fh:
                out.append((f, json.load(fh)))
        except (OSError, ValueError):
            continue
    return out


def newest_result(keep):
    """The result that started last (by its "started" time, not the file's
    modification time, which a checkout or a copy changes) among those for
    which keep(result) is true: (path, result), or (None, None)."""
    best = (None, None, "")
    for f, r in all_results():
        if keep(r) and str(r.get("started", "")) >= best[2]:
            best = (f, r, str(r.get("started", "")))
    return best[0], best[1]


def latest_result(mode="full"):
    """The newest result of `mode`."""
    return newest_result(lambda r: r.get("mode") == mode)


def result_path(a):
    day = dt.date.today().isoformat()
    if a.quick:
        os.makedirs(QUICK_DIR, exist_ok=True)
        return os.path.join(
            QUICK_DIR, f"quick-{dt.datetime.now().strftime('%Y-%m-%d-%H%M%S')}.json")
    os.makedirs(RESULTS, exist_ok=True)
    p = os.path.join(RESULTS, f"{day}-{a.name}.json")
    n = 2
    while os.path.exists(p):
        p = os.path.join(RESULTS, f"{day}-{a.name}-{n}.json")
        n += 1
    return p
