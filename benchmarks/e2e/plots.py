"""The figures of BENCHMARKS.md, drawn by gnuplot.

The harness writes the numbers of one result into small data files in a
temporary directory and lets benchmarks/plot.gp (throughput, per-core,
latency and memory bars) and benchmarks/plot-soak.gp (RSS, engine state and
lag over the soak) draw them into benchmarks/results/latest-*.png. gnuplot
is optional: without it the page is rendered without pictures and says
nothing false, so a missing gnuplot is logged, not an error.
"""
import os
import shutil
import subprocess
import tempfile

from .common import CONFIGS, PLOT_GP, PLOT_SOAK_GP, RESULTS, dig, fmt_int, log


def render_plots(r, stem):
    """Writes the data files and runs gnuplot; returns the PNGs written
    (relative to the repo), or [] when gnuplot is missing."""
    if not shutil.which("gnuplot"):
        log("gnuplot not found: no plots (apt-get install -y gnuplot-nox)")
        return []
    d = tempfile.mkdtemp(prefix="repute-plot-")
    th = r.get("throughput", {})
    peer = r.get("peer", {})
    labels = [("bare consumer", dig(r, "ceiling", "messages_per_sec"))]
    names = {"exactly_once_1": "repute EOS x1", "exactly_once_2": "repute EOS x2",
             "at_least_once_1": "repute ALO x1", "at_least_once_2": "repute ALO x2",
             "exactly_once_1_t1": "repute EOS x1 t1",
             "at_least_once_1_t1": "repute ALO x1 t1"}
    for key, _, _ in CONFIGS:
        if key in th:
            labels.append((names[key], th[key]["events_per_sec"]))
    if peer.get("events_per_sec"):
        labels.append(("Kafka Streams EOS", peer["events_per_sec"]))
    with open(os.path.join(d, "throughput.dat"), "w") as f:
        for lab, v in labels:
            f.write(f'"{lab}" {v or 0} "{fmt_int(v)}"\n')
    with open(os.path.join(d, "percore.dat"), "w") as f:
        for key, _, _ in CONFIGS:
            if key in th:
                v = th[key]["events_per_cpu_sec"]
                f.write(f'"{names[key]}" {v} "{fmt_int(v)}"\n')
        if peer.get("events_per_cpu_sec"):
            v = peer["events_per_cpu_sec"]
            f.write(f'"Kafka Streams EOS" {v} "{fmt_int(v)}"\n')
    with open(os.path.join(d, "latency.dat"), "w") as f:
        lat = r.get("latency", {})
        for k in sorted(x for x in lat if x.startswith("exactly_once_")):
            v = lat[k]
            f.write(f'"repute {k.rsplit("_", 1)[1]}%" {v["p50_ms"]} {v["p99_ms"]} '
                    f'{v["p999_ms"]}\n')
        for k, v in sorted((peer.get("latency") or {}).items()):
            if k.startswith("load_") and v.get("p50_ms") is not None:
                f.write(f'"Kafka Streams {k[5:]}%" {v["p50_ms"]} {v["p99_ms"]} '
                        f'{v["p999_ms"]}\n')
    with open(os.path.join(d, "memory.dat"), "w") as f:
        for run in dig(r, "memory", "runs") or []:
            prss = dig(run, "peer", "rss_bytes")
            f.write(f'"{run["accounts"]:,} accounts" {run["rss_bytes"] / 2**20:.1f} '
                    f'{prss / 2**20 if prss else "NaN"}\n')
    outdir = RESULTS
    cmd = ["gnuplot", "-e", f"datadir='{d}'; outdir='{outdir}'; stem='{stem}'",
           PLOT_GP]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        log(f"gnuplot failed: {res.stderr[-2000:]}")
        return []
    shutil.rmtree(d, ignore_errors=True)
    return [f"benchmarks/results/{stem}-{k}.png"
            for k in ("throughput", "percore", "latency", "memory")
            if os.path.exists(os.path.join(outdir, f"{stem}-{k}.png"))]


def render_soak_plot(so, stem="latest", title=None):
    """benchmarks/results/STEM-soak.png: RSS, engine state and committed
    lag over the soak; returns its path (relative to the repo) or None."""
    if not shutil.which("gnuplot"):
        return None
    d = tempfile.mkdtemp(prefix="repute-plot-")
    with open(os.path.join(d, "soak.dat"), "w") as f:
        for s in so["samples"]:
            st = (s["state_accounts_bytes"] or 0) + (s["state_dedupe_bytes"] or 0)
            f.write(f"{s['t'] / 60:.3f} {s['rss_bytes'] / 2**20:.2f} "
                    f"{st / 2**20:.2f} {s['lag_committed']}\n")
    warm = dig(so, "verdict", "window_from_seconds") or 0
    res = subprocess.run(
        ["gnuplot", "-e", f"datadir='{d}'; outdir='{RESULTS}'; stem='{stem}'; "
         + (f"ttl='{title}'; " if title else "") +
         f"warmup={warm / 60:.3f}", PLOT_SOAK_GP],
        capture_output=True, text=True)
    shutil.rmtree(d, ignore_errors=True)
    if res.returncode != 0:
        log(f"gnuplot failed: {res.stderr[-2000:]}")
        return None
    return f"benchmarks/results/{stem}-soak.png"
