"""Paths, constants and small helpers shared by every module of the harness.

Everything here is a plain value or a pure function. The repository root is
found from this file's place (benchmarks/e2e/common.py), so the harness works
from any current directory; the number formats (fmt_int, fmt_num, mib) live
here rather than with the rendering because the soak's progress log prints
figures the same way BENCHMARKS.md does, and the two should never disagree.
"""
import datetime as dt
import os
import statistics
import sys


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
QUICK_DIR = os.path.join(RESULTS, "tmp")
BENCHMARKS_MD = os.path.join(ROOT, "BENCHMARKS.md")
PLOT_GP = os.path.join(ROOT, "benchmarks", "plot.gp")
PLOT_SOAK_GP = os.path.join(ROOT, "benchmarks", "plot-soak.gp")

INPUTS = ["deliveries", "bounces", "complaints", "reports", "actions"]
OUTPUTS = ["status", "dlq", "changelog", "current"]
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
# 2026-01-01T00:00:00Z: event times of pre-filled data start here.
START_TIME_MS = 1767225600000
SCHEMA_VERSION = 1

CONFIGS = [  # key, guarantee, processes
    ("exactly_once_1", "exactly_once", 1),
    ("exactly_once_2", "exactly_once", 2),
    ("at_least_once_1", "at_least_once", 1),
    ("at_least_once_2", "at_least_once", 2),
    # One process with threads=1 (the others run with repute's default,
    # as many threads as the cores, capped at the partitions): not in the
    # default --configs, for comparing the two in one run.
    ("exactly_once_1_t1", "exactly_once", 1),
    ("at_least_once_1_t1", "at_least_once", 1),
]
# The threads key of each configuration that sets one.
CONFIG_THREADS = {"exactly_once_1_t1": 1, "at_least_once_1_t1": 1}
# With --baseline DIR (a build of an earlier commit, e.g. the one an issue
# started from): its repute, on data written by its own load generator
# (the record format of its day, which this build reads too), and this
# build on the same data, so that the two compare on the same bytes.
BASELINE_CONFIGS = [  # key, guarantee, which build
    ("baseline_exactly_once_1", "exactly_once", "baseline"),
    ("baseline_at_least_once_1", "at_least_once", "baseline"),
    ("exactly_once_1_baseline_data", "exactly_once", "this"),
]
DEFAULT_CONFIGS = ("exactly_once_1", "exactly_once_2", "at_least_once_1",
                   "at_least_once_2")


def log(*a):
    print("harness:", *a, file=sys.stderr, flush=True)


def now_iso():
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def median(xs):
    return statistics.median(xs) if xs else None


def dig(d, *path):
    for p in path:
        if isinstance(d, dict) and p in d:
            d = d[p]
        elif isinstance(d, list) and isinstance(p, int) and -len(d) <= p < len(d):
            d = d[p]
        else:
            return None
    return d


def fmt_int(x):
    return "–" if x is None else f"{int(round(x)):,}"


def fmt_num(x, nd=1):
    return "–" if x is None else f"{x:,.{nd}f}"


def mib(x):
    return "–" if not x else f"{x / 2**20:,.0f} MiB"
