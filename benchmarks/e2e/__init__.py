"""The end-to-end benchmark harness, as a package: benchmarks/harness.py
is its entry point (run through benchmarks/run.sh) and says what is measured;
this package is how.

One run is a sequence of phases against one broker, each of which starts
processes (repute, the peers, the load generator, the bare
consumer and the latency probe), waits for them to reach a point, reads the
clock, /proc and the broker, and records figures in one result dictionary.
The result is then checked (every figure a finite number, every target
evaluated) and rendered into BENCHMARKS.md and plots. The modules follow that
story, one subject each, so that a question ("how is latency measured?",
"where does the History table come from?") has one file to read:

  common      paths, constants, logging and the number formats every module
              shares;
  procs       child processes watched line by line, and /proc readings;
  kafka       the broker: topic creation and readiness, end and committed
              offsets, cleanup;
  peers       the peers (Kafka Streams textbook and tuned, Flink HashMap and
              RocksDB) and how each is started;
  bench       the run itself (the Bench class): topics and pre-filled data,
              starting and timing the systems under test, the phases in order,
              the best comparable peer;
  equiv       the equivalence check, the first phase: every system's output
              against `repute replay` of the same records (test_equiv.py
              tests its comparison);
  throughput, latency, memory, restore, soak
              one benchmark each, as a part of Bench (a mixin: the phases
              share the run's state, prefix and clients, so they are methods
              of one object, kept in one file per benchmark);
  results     facts about the machine, the targets, validation, result files;
  render, render_peers, plots
              BENCHMARKS.md with its tables (the peers' rows and section in
              render_peers), and the gnuplot figures;
  main        the command line.

Dependencies point one way, from main down to common: a benchmark module
never imports another benchmark module or the rendering, so each can be read
(and changed) alone.
"""
