"""The peers: the other stream processors repute is compared with, and how
each is started.

A peer is a JVM program under benchmarks/peers/ that reads the five input
topics of a prefix, applies the rules of docs/rules.md and writes the same
Avro ReputationEvents to an output topic, committing its input offsets to a
consumer group (the group is how the harness sees that it is done, as for
repute). Each entry of PEERS is one configuration of one program, named by
the key the harness's --peers option, the result file and BENCHMARKS.md use:

  ks          Kafka Streams, the textbook shape: persistent RocksDB stores,
              a 64 MiB record cache, commit.interval.ms=100, one stream
              thread (benchmarks/peers/kafka-streams, --profile textbook);
  ks-tuned    the same program tuned as a user who cared about speed would:
              in-memory key-value stores (changelogged, so the guarantee is
              the same), a larger cache and commit interval, two stream
              threads (--profile tuned; the README says what each change
              did);
  flink-hm    Flink, a local MiniCluster in the peer's JVM, the HashMap
              state backend (benchmarks/peers/flink);
  flink-rdb   the same job with the RocksDB state backend;
  flink-hm-p2 the HashMap job at parallelism 2.

Every peer runs at exactly once (Kafka Streams exactly_once_v2, Flink
checkpoints with a transactional KafkaSink) and is given the engine keys of
the run with --set, so that its output can be compared with `repute replay`
(equiv.py) before it is timed.
"""
import os
import shutil

from .common import ROOT, log
from .procs import Proc

KS_JAR = os.path.join(ROOT, "benchmarks", "peers", "kafka-streams", "target",
                      "repute-streams-peer.jar")
FLINK_JAR = os.path.join(ROOT, "benchmarks", "peers", "flink", "target",
                         "repute-flink-peer.jar")

# key -> (label for tables, jar, extra arguments, guarantee as the peer names it)
PEERS = {
    "ks": ("Kafka Streams (textbook)", KS_JAR, ["--profile", "textbook"],
           "exactly_once_v2"),
    "ks-tuned": ("Kafka Streams (tuned)", KS_JAR, ["--profile", "tuned"],
                 "exactly_once_v2"),
    "flink-hm": ("Flink (HashMap state)", FLINK_JAR,
                 ["--state-backend", "hashmap", "--parallelism", "1"],
                 "EXACTLY_ONCE, checkpoints"),
    "flink-rdb": ("Flink (RocksDB state)", FLINK_JAR,
                  ["--state-backend", "rocksdb", "--parallelism", "1"],
                  "EXACTLY_ONCE, checkpoints"),
    "flink-hm-p2": ("Flink (HashMap state, parallelism 2)", FLINK_JAR,
                    ["--state-backend", "hashmap", "--parallelism", "2"],
                    "EXACTLY_ONCE, checkpoints"),
}
DEFAULT_PEERS = "ks,ks-tuned,flink-hm,flink-rdb"
# More arguments when the input is live (the latency runs). The Flink job's
# watermark waits for every partition; on live input a sparse partition
# (actions) holds it, and every record behind it, for as long as it is
# silent, so there a partition silent for 500 ms (repute's max.task.idle) is
# left out of the watermark. Over pre-filled topics (the equivalence check,
# throughput, memory) idleness is off: with it, a source subtask that stalls
# for 500 ms is declared idle and its records are applied late, and the check
# found parallelism 2 differing from replay (benchmarks/peers/flink/README).
LIVE_ARGS = {"flink-hm": ["--idle-ms", "500"], "flink-rdb": ["--idle-ms", "500"],
             "flink-hm-p2": ["--idle-ms", "500"]}
READY = r"peer: running"


def peer_base(key):
    """A key is an entry of PEERS, or BASE@TAG: the entry BASE under another
    name, for a variant with --peer-args (tuning experiments)."""
    return key.split("@", 1)[0]


def peer_spec(key):
    return PEERS[peer_base(key)]


def peer_label(key):
    if peer_base(key) not in PEERS:
        return key
    tag = key.partition("@")[2]
    return peer_spec(key)[0] + (f" [{tag}]" if tag else "")


def peer_missing(key):
    """None when the peer can run, else why not."""
    if peer_base(key) not in PEERS:
        return f"unknown peer {key} (known: {', '.join(PEERS)})"
    jar = peer_spec(key)[1]
    if not os.path.exists(jar):
        return f"no {os.path.relpath(jar, ROOT)} (not built)"
    return None


def start_peer(key, name, logdir, build_dir, bootstrap, prefix, group, out,
               java_opts=(), engine_sets=(), threads=0, extra=(), live=False):
    """Starts peer `key` on the inputs PREFIX.* with output topics out
    ('peer-status', 'peer-dlq'); its state goes to a directory of its own
    under BUILD_DIR/bench-state/, removed by stop_peer. Returns the Proc
    (ready when it prints `peer: running`). live: the input is produced while
    it runs (LIVE_ARGS)."""
    _, jar, args0, _ = peer_spec(key)
    state = os.path.join(ROOT, build_dir, "bench-state", group)
    shutil.rmtree(state, ignore_errors=True)
    os.makedirs(state)
    args = ["java", *java_opts, "-jar", jar, "--bootstrap", bootstrap,
            "--prefix", prefix, "--application-id", group,
            "--output", out["peer-status"], "--dlq", out["peer-dlq"],
            "--state-dir", state, *args0, *extra]
    if live:
        args += LIVE_ARGS.get(peer_base(key), [])
    if threads:
        args += ["--threads", str(threads)]
    for kv in engine_sets:
        args += ["--set", kv]
    log(f"start {name}: peer {key} {' '.join([*args0, *extra])}")
    pr = Proc(name, args, logdir, patterns=(READY,))
    pr.state_dir = state
    return pr


def stop_peer(pr):
    pr.stop(40)
    shutil.rmtree(pr.state_dir, ignore_errors=True)
