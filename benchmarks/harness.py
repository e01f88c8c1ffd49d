#!/usr/bin/env python3
"""End-to-end benchmark harness for `repute run` against a real Kafka broker.

Measures, in one run, on fresh topics (prefix bench-<timestamp>):

  equivalence first, repute run and every peer over one seeded stream on
              one-partition topics, each output compared per account with
              `repute replay` of the same records (a peer that differs is
              reported with its first difference and not timed);
  ceiling     a bare librdkafka consumer (repute-bench-consume) reading the
              five input topics, decoding nothing;
  throughput  repute, exactly_once and at_least_once, 1 and 2 processes in one
              consumer group: input records / seconds from the first
              `run: ready` until the group's committed offsets reach the end
              offsets the input topics had when the run started;
  latency     input append time to output append time of the status change a
              probe causes (repute-bench-latency), at 50% and 80% of the
              measured exactly_once maximum;
  memory      resident set size per account at the configured account counts;
  restore     time from process start to `run: ready` with the largest state;
  peers       Kafka Streams (textbook and tuned) and Flink (HashMap and
              RocksDB state) on the same topics and data: throughput,
              latency at 50% of their own maximum, memory.

With --equivalence, only the equivalence check (exit 4 when a system
differs).

With --soak, only the soak instead: the exactly_once (1 process) maximum as
above, or --soak-max; then repute fed live at --soak-load percent of it for
--soak-minutes over a fixed account set, sampling its RSS, engine state,
accounts and the group's committed lag, and a verdict: RSS flat and lag
bounded (soak_verdict). Writes benchmarks/results/<date>-soak.json, exits 3
when the verdict fails, and renders BENCHMARKS.md from the newest full result
with a Soak section from the newest soak result (every render has it).

Writes benchmarks/results/<date>-<name>.json (full mode) or
benchmarks/results/tmp/quick-<date>-<time>.json (--quick), validates it, and in
full mode renders BENCHMARKS.md and the plots (gnuplot) from the newest full
result. `--render-only` re-renders from the results already there;
`--validate FILE` only checks a result file.

Run it through benchmarks/run.sh, which builds everything first.

This file is only the entry point, kept so that run.sh, CI and the docs call
the harness where they always did; the harness itself is the package
benchmarks/e2e/, one module per subject (its __init__.py lists them).
"""
import sys

from e2e.main import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
