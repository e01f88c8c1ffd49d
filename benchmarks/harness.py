#!/usr/bin/env python3
"""End-to-end benchmark harness for `repute run` against a real Kafka broker.

Measures, in one run, on fresh topics (prefix bench-<timestamp>):

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
  peer        the Kafka Streams peer on the same topics and data.

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
"""
import argparse
import datetime as dt
import glob
import json
import math
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
QUICK_DIR = os.path.join(RESULTS, "tmp")
BENCHMARKS_MD = os.path.join(ROOT, "BENCHMARKS.md")
PLOT_GP = os.path.join(ROOT, "benchmarks", "plot.gp")
PLOT_SOAK_GP = os.path.join(ROOT, "benchmarks", "plot-soak.gp")

INPUTS = ["deliveries", "bounces", "complaints", "reports", "actions"]
OUTPUTS = ["status", "dlq", "changelog"]
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
]

TARGETS = {
    # key: (description, how the value is read, comparison, threshold)
    "exactly_once_vs_ceiling": (
        "exactly_once throughput (1 process) >= 50% of the bare consumer's",
        "ratio", ">=", 0.5),
    "at_least_once_vs_ceiling": (
        "at_least_once throughput (1 process) >= 70% of the bare consumer's",
        "ratio", ">=", 0.7),
    "per_core_vs_peer": (
        ">= 5x Kafka Streams' throughput per core (exactly_once, 1 process)",
        "x", ">=", 5.0),
    "memory_vs_peer": (
        "<= 1/10 of Kafka Streams' memory (RSS after processing the same "
        "accounts)", "ratio", "<=", 0.1),
    "p99_latency_50": (
        "p99 latency <= 250 ms at 50% load (exactly_once)", "ms", "<=", 250.0),
    "restore_seconds": (
        "restore of 1,000,000 accounts within 10 s", "s", "<=", 10.0),
}


def log(*a):
    print("harness:", *a, file=sys.stderr, flush=True)


def now_iso():
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


# ------------------------------------------------------------------ /proc

def proc_cpu_seconds(pid):
    """utime + stime of a process (all its threads), in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return None
    fields = s[s.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_status(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM"):
                    out[k] = int(v.split()[0]) * 1024
    except OSError:
        pass
    return out


# ------------------------------------------------------------------ processes

class Proc:
    """A child process whose merged stdout/stderr is logged to a file and
    watched line by line; the time (monotonic) and CPU seconds at the first
    line matching each pattern are recorded."""

    all = []

    def __init__(self, name, args, logdir, env=None, patterns=()):
        self.name = name
        self.args = args
        self.logpath = os.path.join(logdir, name + ".log")
        self.patterns = {p: re.compile(p) for p in patterns}
        self.seen = {}  # pattern -> (monotonic, cpu, line)
        self.lines = []
        self.cond = threading.Condition()
        self.t_start = time.monotonic()
        self.p = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, text=True, bufsize=1, env=env,
            errors="replace")
        self.pid = self.p.pid
        Proc.all.append(self)
        self.logf = open(self.logpath, "w")
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.p.stdout:
            t = time.monotonic()
            self.logf.write(line)
            self.logf.flush()
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                for pat, rx in self.patterns.items():
                    if pat not in self.seen and rx.search(line):
                        self.seen[pat] = (t, proc_cpu_seconds(self.pid), line)
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def alive(self):
        return self.p.poll() is None

    def wait_for(self, pattern, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while pattern not in self.seen:
                left = deadline - time.monotonic()
                if left <= 0 or (not self.alive() and not self.reader.is_alive()):
                    break
                self.cond.wait(min(left, 0.5))
            return self.seen.get(pattern)

    def cpu(self):
        return proc_cpu_seconds(self.pid)

    def mem(self):
        return proc_status(self.pid)

    def tail(self, n=30):
        with self.cond:
            return "\n".join(self.lines[-n:])

    def stop(self, timeout=30):
        if self.alive():
            try:
                self.p.send_signal(signal.SIGINT)
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                log(f"{self.name}: no exit {timeout} s after SIGINT; SIGKILL")
                self.p.kill()
                self.p.wait()
        self.reader.join(5)
        self.logf.close()
        if self.p.returncode not in (0, 130, -signal.SIGINT):
            log(f"{self.name}: exit status {self.p.returncode} "
                f"(log {self.logpath})")
        if self in Proc.all:
            Proc.all.remove(self)
        return self.p.returncode

    @classmethod
    def stop_all(cls):
        for p in list(cls.all):
            try:
                p.stop(10)
            except Exception as e:  # noqa: BLE001 - best effort at exit
                log(f"stopping {p.name}: {e}")


def run_tool(args, timeout, what):
    """Runs a tool that prints one JSON line last on stdout; returns it."""
    t0 = time.monotonic()
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=timeout)
    secs = time.monotonic() - t0
    if r.returncode != 0:
        raise RuntimeError(f"{what} exited {r.returncode}: {' '.join(args)}\n"
                           f"{r.stderr[-3000:]}")
    for line in reversed(r.stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            out = json.loads(line)
            out["_wall_seconds"] = round(secs, 3)
            return out
    raise RuntimeError(f"{what}: no JSON line on stdout: {r.stdout[-2000:]}"
                       f"\n{r.stderr[-2000:]}")


# ------------------------------------------------------------------ Kafka

class Kafka:
    def __init__(self, bootstrap):
        from confluent_kafka.admin import AdminClient
        self.bs = bootstrap
        self.admin = AdminClient({"bootstrap.servers": bootstrap,
                                  "log_level": 4})

    def close(self):
        pass

    def create_topics(self, specs, partitions):
        """specs: {name: config dict}. Creates them, then waits until every
        partition answers a ListOffsets (KAFKA-15591, docs/run.md)."""
        from confluent_kafka.admin import NewTopic
        new = [NewTopic(n, num_partitions=partitions, replication_factor=1,
                        config=c) for n, c in specs.items()]
        for name, fut in self.admin.create_topics(new, request_timeout=30).items():
            fut.result()
        deadline = time.monotonic() + 30
        for name in specs:
            self._answers(name, partitions, deadline)

    def _list_offsets(self, tps, spec="latest"):
        # A fresh client: librdkafka's admin client, once its metadata cache
        # was filled by a full list_topics, can keep answering "no leaders"
        # for topics created after it, for tens of seconds.
        from confluent_kafka import TopicPartition
        from confluent_kafka.admin import AdminClient, OffsetSpec
        admin = AdminClient({"bootstrap.servers": self.bs, "log_level": 4})
        req = {TopicPartition(t, p): getattr(OffsetSpec, spec)() for t, p in tps}
        futs = admin.list_offsets(req, request_timeout=10)
        return {(tp.topic, tp.partition): f.result().offset
                for tp, f in futs.items()}

    def _answers(self, topic, partitions, deadline):
        while True:
            try:
                self._list_offsets([(topic, p) for p in range(partitions)])
                return
            except Exception:  # noqa: BLE001 - not ready yet
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def end_offsets(self, topics, partitions):
        return self._list_offsets([(t, p) for t in topics
                                   for p in range(partitions)])

    def committed(self, group, tps):
        from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
        req = ConsumerGroupTopicPartitions(
            group, [TopicPartition(t, p) for (t, p) in tps])
        fut = self.admin.list_consumer_group_offsets(
            [req], require_stable=False, request_timeout=10)[group]
        res = fut.result()
        return {(tp.topic, tp.partition): tp.offset for tp in res.topic_partitions}

    def wait_committed(self, group, target, timeout, procs, interval=0.1):
        """Waits until the group's committed offsets reach `target` on every
        partition. Returns the monotonic time it was first seen."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            t = time.monotonic()
            try:
                c = self.committed(group, target.keys())
                # A partition that holds nothing gets no committed offset.
                if all(off <= 0 or c.get(tp, -1) >= off
                       for tp, off in target.items()):
                    return t
                last = c
            except Exception as e:  # noqa: BLE001 - coordinator not ready
                last = str(e)
            for pr in procs:
                if not pr.alive():
                    raise RuntimeError(f"{pr.name} exited {pr.p.returncode} "
                                       f"before finishing:\n{pr.tail()}")
            if t > deadline:
                raise RuntimeError(f"group {group}: offsets not committed "
                                   f"within {timeout} s; last {last}")
            time.sleep(interval)

    @staticmethod
    def _settle(futures, benign, what):
        """Waits for admin futures; logs failures other than `benign`."""
        for _, f in futures.items():
            try:
                f.result()
            except Exception as e:  # noqa: BLE001
                if benign not in str(e):
                    log(f"{what}: {e}")

    def delete_prefix(self, prefix):
        try:
            md = self.admin.list_topics(timeout=10)
            names = [t for t in md.topics if t.startswith(prefix)]
            if names:
                # UNKNOWN_TOPIC: already going.
                self._settle(self.admin.delete_topics(
                    names, operation_timeout=30), "UNKNOWN_TOPIC",
                    "delete topic")
            groups = []
            try:
                res = self.admin.list_consumer_groups(request_timeout=10).result()
                groups = [g.group_id for g in res.valid
                          if g.group_id.startswith(prefix)]
            except Exception as e:  # noqa: BLE001
                log(f"list groups: {e}")
            if groups:
                # NON_EMPTY_GROUP: Kafka Streams does not leave its group on
                # close; the member lingers until its session times out.
                self._settle(self.admin.delete_consumer_groups(
                    groups, request_timeout=30), "NON_EMPTY_GROUP",
                    "delete group")
            log(f"deleted {len(names)} topics and {len(groups)} groups "
                f"under {prefix}")
        except Exception as e:  # noqa: BLE001 - cleanup is best effort
            log(f"cleanup of {prefix}: {e}")


# ------------------------------------------------------------------ the bench

def median(xs):
    return statistics.median(xs) if xs else None


class Bench:
    def __init__(self, a):
        self.a = a
        self.bs = a.bootstrap
        self.bin = os.path.join(ROOT, a.build_dir)
        self.repute = os.path.join(self.bin, "repute")
        self.loadgen = os.path.join(self.bin, "benchmarks", "repute-loadgen")
        self.consume = os.path.join(self.bin, "benchmarks", "repute-bench-consume")
        self.latency = os.path.join(self.bin, "benchmarks", "repute-bench-latency")
        self.peer_jar = os.path.join(
            ROOT, "benchmarks", "peers", "kafka-streams", "target",
            "repute-streams-peer.jar")
        self.prefix = a.prefix or f"bench-{int(time.time())}"
        self.k = Kafka(self.bs)
        self.logdir = os.path.join(ROOT, a.build_dir, "bench-logs", self.prefix)
        os.makedirs(self.logdir, exist_ok=True)
        self.parts = a.partitions
        self.seq = 0
        self.result = {}

    # -- topics and data

    def delete_name(self, name):
        """Deletes the topics and groups of one part of the run: NAME.* and
        NAME-* under the prefix (and nothing of a name NAME only starts)."""
        self.k.delete_prefix(f"{self.prefix}-{name}.")
        self.k.delete_prefix(f"{self.prefix}-{name}-")

    def topic_set(self, name):
        return {t: f"{self.prefix}-{name}.{t}" for t in INPUTS}

    def create_inputs(self, name, config=None):
        topics = self.topic_set(name)
        self.k.create_topics(
            {n: {"message.timestamp.type": "LogAppendTime", **(config or {})}
             for n in topics.values()}, self.parts)
        return topics

    def create_outputs(self, base, peer=False):
        """Output topics of one system under test: base.status/dlq/changelog
        (or base.peer-status for the peer)."""
        if peer:
            specs = {f"{base}.peer-status": {"message.timestamp.type": "LogAppendTime"},
                     f"{base}.peer-dlq": {}}
        else:
            specs = {
                f"{base}.status": {"message.timestamp.type": "LogAppendTime"},
                f"{base}.dlq": {},
                f"{base}.changelog": {"cleanup.policy": "compact"},
            }
        self.k.create_topics(specs, self.parts)
        return {k.rsplit(".", 1)[1]: k for k in specs}

    def fill(self, name, accounts, records, cover=False, seed=1):
        """Pre-fills fresh input topics at full speed; returns (topics,
        end offsets snapshot, loadgen JSON)."""
        topics = self.create_inputs(name)
        args = [self.loadgen, "--bootstrap", self.bs,
                "--prefix", f"{self.prefix}-{name}",
                "--accounts", str(accounts), "--records", str(records),
                "--rate", "0", "--seed", str(seed),
                "--start-time", str(START_TIME_MS), "--span", self.a.span]
        if cover:
            args.append("--cover")
        log(f"fill {name}: {records} records over {accounts} accounts")
        out = run_tool(args, timeout=max(600, records / 2000), what="loadgen")
        ends = self.k.end_offsets(topics.values(), self.parts)
        total = sum(ends.values())
        log(f"fill {name}: {total} records in the topics "
            f"({out.get('records_per_sec')} records/s produced)")
        if total < records:
            raise RuntimeError(f"fill {name}: {total} records in the topics, "
                               f"expected {records}")
        return topics, ends, out

    # -- systems under test

    def repute_args(self, inputs, out, group, guarantee, http="off"):
        sets = {
            "kafka.bootstrap.servers": self.bs,
            "group.id": group,
            "clock": "event",
            "processing.guarantee": guarantee,
            "topics.create": "false",
            "topics.partitions": str(self.parts),
            "http.listen": http,
        }
        for t in INPUTS:
            sets[f"topic.{t}"] = inputs[t]
        for t in OUTPUTS:
            sets[f"topic.{t}"] = out[t]
        args = [self.repute, "run"]
        for k, v in sets.items():
            args += ["--set", f"{k}={v}"]
        return args

    def start_repute(self, name, inputs, out, group, guarantee, http="off"):
        return Proc(name, self.repute_args(inputs, out, group, guarantee, http),
                    self.logdir, patterns=(r"run: ready", r"run: HTTP on"))

    def start_peer(self, name, prefix, app_id, out):
        """The Kafka Streams peer; its RocksDB state goes to a directory of
        its own under build-rel/bench-state/, removed by stop_peer."""
        java_opts = self.a.peer_java_opts.split()
        state = os.path.join(ROOT, self.a.build_dir, "bench-state", app_id)
        shutil.rmtree(state, ignore_errors=True)
        os.makedirs(state)
        args = ["java", *java_opts, "-jar", self.peer_jar,
                "--bootstrap", self.bs, "--prefix", prefix,
                "--application-id", app_id, "--output", out["peer-status"],
                "--dlq", out["peer-dlq"], "--state-dir", state]
        if self.a.peer_threads:
            args += ["--threads", str(self.a.peer_threads)]
        pr = Proc(name, args, self.logdir, patterns=(r"peer: running",))
        pr.state_dir = state
        return pr

    def stop_peer(self, pr):
        pr.stop(40)
        shutil.rmtree(pr.state_dir, ignore_errors=True)

    def next_name(self, tag):
        self.seq += 1
        return f"{tag}{self.seq}"

    def measure_run(self, procs, ready_pat, group, ends, records, timeout):
        """Waits for ready, then for the committed offsets; returns figures."""
        t_ready = []
        cpu_ready = {}
        for pr in procs:
            seen = pr.wait_for(ready_pat, timeout=120)
            if not seen:
                raise RuntimeError(f"{pr.name} not ready:\n{pr.tail()}")
        for pr in procs:
            t_ready.append(pr.seen[ready_pat][0])
            cpu_ready[pr.name] = pr.seen[ready_pat][1] or 0.0
        t0 = min(t_ready)
        t_done = self.k.wait_committed(group, ends, timeout, procs)
        cpu_done = {pr.name: pr.cpu() for pr in procs}
        mems = [pr.mem() for pr in procs]
        secs = max(t_done - t0, 1e-3)
        secs_start = t_done - min(pr.t_start for pr in procs)
        cpu = sum(cpu_done[n] - cpu_ready[n] for n in cpu_done)
        return {
            "records": records,
            "seconds": round(secs, 3),
            "seconds_from_start": round(secs_start, 3),
            "events_per_sec": round(records / secs),
            "cpu_seconds": round(cpu, 2),
            "events_per_cpu_sec": round(records / max(cpu, 1e-3)),
            "rss_bytes": sum(m.get("VmRSS", 0) for m in mems),
            "peak_rss_bytes": sum(m.get("VmHWM", 0) for m in mems),
        }

    def run_repute_throughput(self, tp, ends, records, guarantee, nproc):
        name = self.next_name(f"r{guarantee[0]}{nproc}-")
        base = f"{self.prefix}-{name}"
        out = self.create_outputs(base)
        group = base
        procs = [self.start_repute(f"{name}-p{i}", tp, out, group, guarantee)
                 for i in range(nproc)]
        try:
            r = self.measure_run(procs, r"run: ready", group, ends, records,
                                 timeout=max(120, records / 5000))
        finally:
            for pr in procs:
                pr.stop()
            self.k.delete_prefix(base + ".")
        return r

    def run_ceiling(self, tp, records):
        args = [self.consume, "--bootstrap", self.bs,
                "--topics", ",".join(tp[t] for t in INPUTS),
                "--expect", str(records), "--idle-exit", "10"]
        out = run_tool(args, timeout=600, what="bench-consume")
        if out.get("messages", 0) < records:
            raise RuntimeError(f"bench-consume read {out.get('messages')} of "
                               f"{records}")
        return out

    def run_peer_throughput(self, tp_name, ends, records):
        """The peer over the first `records` of the same topics: the target
        offsets are the same share of every partition's end offset."""
        share = min(1.0, records / max(1, sum(ends.values())))
        ends = {tp: math.ceil(off * share) for tp, off in ends.items()}
        records = sum(ends.values())
        name = self.next_name("peer-")
        app = f"{self.prefix}-{name}"
        prefix = f"{self.prefix}-{tp_name}"
        out = self.create_outputs(app, peer=True)
        pr = self.start_peer(name, prefix, app, out)
        try:
            r = self.measure_run([pr], r"peer: running", app, ends, records,
                                 timeout=max(300, records / 1000))
        finally:
            self.stop_peer(pr)
            self.k.delete_prefix(app + ".")
            self.k.delete_prefix(app + "-")
        return r

    # -- phases

    def phase_throughput(self):
        a = self.a
        tp, ends, fill = self.fill("tp", a.tp_accounts, a.tp_records)
        records = sum(ends.values())
        self.result["data"] = {"throughput_records": records,
                               "throughput_accounts": a.tp_accounts,
                               "loadgen_fill": fill}
        samples = {"ceiling": []}
        full = {"ceiling": []}
        for key, _, _ in CONFIGS:
            samples[key] = []
            full[key] = []
        for rep in range(a.repeats):
            log(f"throughput round {rep + 1}/{a.repeats}")
            c = self.run_ceiling(tp, records)
            log(f"  ceiling: {c['messages_per_sec']:.0f} messages/s")
            samples["ceiling"].append(c["messages_per_sec"])
            full["ceiling"].append(c)
            for key, guarantee, nproc in CONFIGS:
                if key not in a.configs:
                    continue
                r = self.run_repute_throughput(tp, ends, records, guarantee, nproc)
                log(f"  {key}: {r['events_per_sec']} events/s in {r['seconds']} s, "
                    f"{r['events_per_cpu_sec']} per CPU-s")
                samples[key].append(r["events_per_sec"])
                full[key].append(r)
        ceiling = median(samples["ceiling"])
        self.result["ceiling"] = {
            "messages_per_sec": round(ceiling),
            "samples": [round(x) for x in samples["ceiling"]],
            "isolation": "read_committed",
            "runs": full["ceiling"],
        }
        th = {}
        for key, guarantee, nproc in CONFIGS:
            if not full[key]:
                continue
            runs = full[key]
            med = median(samples[key])
            mrun = min(runs, key=lambda r: abs(r["events_per_sec"] - med))
            th[key] = {
                "guarantee": guarantee, "processes": nproc,
                "events_per_sec": round(med),
                "samples": samples[key],
                "ratio_to_ceiling": round(med / ceiling, 4),
                "events_per_cpu_sec": round(median(
                    [r["events_per_cpu_sec"] for r in runs])),
                "seconds": mrun["seconds"],
                "peak_rss_bytes": max(r["peak_rss_bytes"] for r in runs),
                "runs": runs,
            }
        self.result["throughput"] = th
        # The peer on the same topics, in the same run.
        if self.peer_enabled():
            pruns = []
            for rep in range(a.peer_repeats):
                try:
                    r = self.run_peer_throughput("tp", ends, a.peer_records)
                except Exception as e:  # noqa: BLE001
                    self.peer_failed("throughput", e)
                    break
                log(f"  peer: {r['events_per_sec']} events/s in {r['seconds']} s, "
                    f"{r['events_per_cpu_sec']} per CPU-s")
                pruns.append(r)
            if pruns:
                med = median([r["events_per_sec"] for r in pruns])
                self.peer_result().update({
                    "events_per_sec": round(med),
                    "samples": [r["events_per_sec"] for r in pruns],
                    "events_per_cpu_sec": round(median(
                        [r["events_per_cpu_sec"] for r in pruns])),
                    "ratio_to_ceiling": round(med / ceiling, 4),
                    "records": pruns[0]["records"],
                    "throughput_runs": pruns,
                })
        self.delete_name("tp")

    def latency_run(self, name, rate, system):
        """system: 'repute' or 'peer'. Fresh topics, system ready, loadgen at
        `rate` with probes, then repute-bench-latency."""
        a = self.a
        inputs = self.create_inputs(name)
        base = f"{self.prefix}-{name}"
        if system == "repute":
            out = self.create_outputs(base)
            pr = self.start_repute(name, inputs, out, base, "exactly_once")
            pat, outtopic = r"run: ready", out["status"]
        else:
            out = self.create_outputs(base, peer=True)
            pr = self.start_peer(name, base, base + "-app", out)
            pat, outtopic = r"peer: running", out["peer-status"]
        try:
            if not pr.wait_for(pat, 120):
                raise RuntimeError(f"{name} not ready:\n{pr.tail()}")
            if system == "peer":
                time.sleep(a.peer_settle)
            cpu0, t0 = pr.cpu(), time.monotonic()
            args = [self.loadgen, "--bootstrap", self.bs, "--prefix", base,
                    "--accounts", str(a.tp_accounts),
                    "--duration", str(a.latency_seconds + a.latency_warmup),
                    "--rate", str(int(rate)), "--seed", "7",
                    "--probes", str(a.probe_rate),
                    "--probe-delay", f"{a.latency_warmup}s"]
            log(f"latency {name}: {system} at {int(rate)} records/s for "
                f"{a.latency_seconds} s")
            gen = run_tool(args, timeout=a.latency_seconds * 4 + 120,
                           what="loadgen")
            if not pr.alive():
                raise RuntimeError(f"{name} exited:\n{pr.tail()}")
            cpu1, t1 = pr.cpu(), time.monotonic()
            probes = gen.get("probes")
            args = [self.latency, "--bootstrap", self.bs,
                    "--input", inputs["reports"], "--output", outtopic,
                    "--idle-exit", str(a.latency_idle_exit)]
            if probes:
                args += ["--expect", str(probes)]
            lat = run_tool(args, timeout=300, what="bench-latency")
            mem = pr.mem()
        finally:
            if system == "peer":
                self.stop_peer(pr)
            else:
                pr.stop()
            self.k.delete_prefix(base + ".")
            self.k.delete_prefix(base + "-")
        r = {k: lat.get(k) for k in ("probes", "matched", "unmatched", "p50_ms",
                                     "p99_ms", "p999_ms", "max_ms", "mean_ms",
                                     "timestamp_type")
             if k in lat}
        r.update({
            "rate": int(rate),
            "achieved_rate": gen.get("records_per_sec"),
            "records": gen.get("records"),
            "probes_sent": probes,
            "cpu_share": round((cpu1 - cpu0) / max(t1 - t0, 1e-3), 3),
            "rss_bytes": mem.get("VmRSS", 0),
            "loadgen": gen,
            "bench_latency": lat,
        })
        log(f"latency {name}: p50 {r.get('p50_ms')} p99 {r.get('p99_ms')} "
            f"p99.9 {r.get('p999_ms')} ms, {r.get('matched')}/{probes} matched")
        return r

    def phase_latency(self):
        a = self.a
        eos = self.result.get("throughput", {}).get("exactly_once_1")
        maxrate = eos["events_per_sec"] if eos else a.latency_max_rate
        lat = {"max_rate": maxrate}
        for pct in a.latency_loads:
            name = self.next_name(f"lat{pct}-")
            lat[f"exactly_once_{pct}"] = self.latency_run(
                name, maxrate * pct / 100.0, "repute")
        self.result["latency"] = lat
        if self.peer_enabled() and "events_per_sec" in self.peer_result():
            pmax = self.peer_result()["events_per_sec"]
            pl = {"max_rate": pmax}
            try:
                for pct in a.peer_latency_loads:
                    name = self.next_name(f"plat{pct}-")
                    pl[f"load_{pct}"] = self.latency_run(
                        name, pmax * pct / 100.0, "peer")
                self.peer_result()["latency"] = pl
            except Exception as e:  # noqa: BLE001
                self.peer_failed("latency", e)

    def idle_rss(self):
        name = self.next_name("idle-")
        inputs = self.create_inputs(name)
        base = f"{self.prefix}-{name}"
        out = self.create_outputs(base)
        pr = self.start_repute(name, inputs, out, base, "exactly_once")
        try:
            if not pr.wait_for(r"run: ready", 120):
                raise RuntimeError(f"idle repute not ready:\n{pr.tail()}")
            time.sleep(2)
            m = pr.mem()
        finally:
            pr.stop()
            self.k.delete_prefix(base + ".")
        return m.get("VmRSS", 0)

    def phase_memory(self):
        a = self.a
        idle = self.idle_rss()
        log(f"memory: idle repute RSS {idle / 2**20:.1f} MiB")
        mem = {"idle_rss_bytes": idle, "runs": []}
        self.result["memory"] = mem
        accts = sorted(a.mem_accounts)
        for i, n in enumerate(accts):
            name = f"mem{n}"
            records = n * a.mem_records_per_account
            tp, ends, fill = self.fill(name, n, records, cover=True, seed=3)
            total = sum(ends.values())
            base = f"{self.prefix}-{name}-r"
            out = self.create_outputs(base)
            pr = self.start_repute(f"{name}-run", tp, out, base, "exactly_once")
            largest = i == len(accts) - 1
            try:
                r = self.measure_run([pr], r"run: ready", base, ends, total,
                                     timeout=max(120, total / 5000))
                time.sleep(1)
                m = pr.mem()
            finally:
                pr.stop()
            rss = m.get("VmRSS", 0)
            run = {
                "accounts": n, "records": total,
                "rss_bytes": rss, "peak_rss_bytes": m.get("VmHWM", 0),
                "bytes_per_account": round((rss - idle) / n, 1),
                "peak_bytes_per_account": round((m.get("VmHWM", 0) - idle) / n, 1),
                "events_per_sec": r["events_per_sec"],
            }
            log(f"memory {n} accounts: RSS {rss / 2**20:.1f} MiB, "
                f"{run['bytes_per_account']} bytes/account")
            if largest:
                self.result["restore"] = self.restore(name, tp, out, base, n)
            if self.peer_enabled() and n in a.peer_mem_accounts:
                try:
                    run["peer"] = self.peer_memory(name, ends, total)
                    self.peer_result().update({
                        "rss_bytes": run["peer"]["rss_bytes"],
                        "peak_rss_bytes": run["peer"]["peak_rss_bytes"],
                        "memory_accounts": n,
                        "repute_rss_bytes_same_accounts": rss,
                    })
                except Exception as e:  # noqa: BLE001
                    self.peer_failed("memory", e)
            mem["runs"].append(run)
            self.delete_name(name)

    def restore(self, name, tp, out, group, accounts):
        samples = []
        for rep in range(self.a.restore_repeats):
            pr = self.start_repute(f"{name}-restore{rep}", tp, out, group,
                                   "exactly_once")
            try:
                seen = pr.wait_for(r"run: ready", 300)
                if not seen:
                    raise RuntimeError(f"restore: not ready:\n{pr.tail()}")
                secs = seen[0] - pr.t_start
                m = re.search(r"(\d+) accounts restored, (\d+) ms after start",
                              seen[2])
                time.sleep(0.5)
                mem = pr.mem()
            finally:
                pr.stop()
            s = {"seconds": round(secs, 3),
                 "accounts_restored": int(m.group(1)) if m else None,
                 "log_ms": int(m.group(2)) if m else None,
                 "rss_bytes": mem.get("VmRSS", 0)}
            log(f"restore: {s}")
            samples.append(s)
        secs = median([s["seconds"] for s in samples])
        return {"accounts": accounts, "seconds": secs,
                "accounts_restored": samples[0]["accounts_restored"],
                "samples": samples,
                "measured": "process start to the `run: ready` log line"}

    def peer_memory(self, name, ends, total):
        app = f"{self.prefix}-{name}-peer"
        out = self.create_outputs(app, peer=True)
        pr = self.start_peer(f"{name}-peer", f"{self.prefix}-{name}", app, out)
        try:
            r = self.measure_run([pr], r"peer: running", app, ends, total,
                                 timeout=max(300, total / 1000))
            time.sleep(1)
            m = pr.mem()
        finally:
            self.stop_peer(pr)
        log(f"peer memory: RSS {m.get('VmRSS', 0) / 2**20:.1f} MiB")
        return {"rss_bytes": m.get("VmRSS", 0),
                "peak_rss_bytes": m.get("VmHWM", 0),
                "events_per_sec": r["events_per_sec"],
                "events_per_cpu_sec": r["events_per_cpu_sec"]}

    # -- soak

    def phase_soak(self):
        """The maximum (exactly_once, 1 process: the throughput phase on that
        configuration alone, unless --soak-max gives it), then soak_run at
        --soak-load percent of it."""
        a = self.a
        if a.soak_max:
            maxrate, source = a.soak_max, "--soak-max"
        else:
            a.configs = ["exactly_once_1"]
            self.phase_throughput()
            maxrate = self.result["throughput"]["exactly_once_1"]["events_per_sec"]
            source = "measured: exactly_once, 1 process, median of the rounds"
        log(f"soak: maximum {maxrate:.0f} records/s ({source})")
        self.result["soak"] = self.soak_run(maxrate, source)

    def soak_run(self, maxrate, source):
        """repute (exactly_once, 1 process, HTTP on a free port) fed live by
        the load generator at a fixed rate over a fixed account set; a sample
        every --soak-interval seconds until the load ends, then one more once
        the group has committed everything produced."""
        a = self.a
        name = "soak"
        base = f"{self.prefix}-{name}"
        rate = int(maxrate * a.soak_load / 100.0)
        secs = int(a.soak_minutes * 60)
        # Input older than the retention is deleted while the soak runs, so
        # that a long soak does not fill the broker's disk (~120 bytes per
        # record); a repute that lags that far behind has failed anyway.
        keep_ms = max(600_000, secs * 250)
        inputs = self.create_inputs(name, {"retention.ms": str(keep_ms),
                                           "segment.ms": "60000"})
        out = self.create_outputs(base)
        pr = self.start_repute(name, inputs, out, base, "exactly_once",
                               http="127.0.0.1:0")
        gen = None
        try:
            if not pr.wait_for(r"run: ready", 120):
                raise RuntimeError(f"{name} not ready:\n{pr.tail()}")
            m = re.search(r"run: HTTP on (\S+?):(\d+)",
                          (pr.seen.get(r"run: HTTP on") or (0, 0, ""))[2])
            if not m:
                raise RuntimeError(f"{name}: no `run: HTTP on` line:\n{pr.tail()}")
            url = f"http://{m.group(1)}:{m.group(2)}/metrics"
            t0 = time.monotonic()
            samples = [self.soak_sample(pr, url, inputs, base, t0, "ready")]
            log(f"soak: {rate} records/s ({a.soak_load}% of {maxrate:.0f}) for "
                f"{secs} s over {a.soak_accounts} accounts, metrics at {url}")
            gen = Proc(f"{name}-loadgen",
                       [self.loadgen, "--bootstrap", self.bs, "--prefix", base,
                        "--accounts", str(a.soak_accounts),
                        "--duration", str(secs), "--rate", str(rate),
                        "--seed", "11"], self.logdir)
            t0 = gen.t_start
            tick = t0
            while gen.alive():
                tick += a.soak_interval
                while gen.alive() and time.monotonic() < tick:
                    time.sleep(0.2)
                if not pr.alive():
                    raise RuntimeError(f"{name} exited {pr.p.returncode}:\n"
                                       f"{pr.tail()}")
                s = self.soak_sample(pr, url, inputs, base, t0, "load")
                samples.append(s)
                log(f"soak {s['t']:.0f} s: RSS {mib(s['rss_bytes'])}, "
                    f"{fmt_int(s['accounts'])} accounts, state "
                    f"{mib(s['state_accounts_bytes'])} + dedupe "
                    f"{mib(s['state_dedupe_bytes'])}, lag "
                    f"{fmt_int(s['lag_committed'])}")
            g, gen = gen, None
            if g.stop() != 0:
                raise RuntimeError(f"loadgen exited {g.p.returncode}:\n"
                                   f"{g.tail()}")
            gj = next((json.loads(x) for x in reversed(g.lines)
                       if x.startswith("{")), {})
            t_end = time.monotonic()
            ends = self.k.end_offsets(inputs.values(), self.parts)
            drain = None
            try:
                drain = round(self.k.wait_committed(
                    base, ends, a.soak_drain_timeout, [pr]) - t_end, 2)
            except RuntimeError as e:
                log(f"soak: {e}")
            samples.append(self.soak_sample(pr, url, inputs, base, t0, "drained"))
        finally:
            if gen:
                gen.stop()
            pr.stop()
            self.delete_name(name)
        r = {"max_rate": round(maxrate), "max_rate_source": source,
             "load_percent": a.soak_load, "rate": rate, "seconds": secs,
             "accounts": a.soak_accounts, "interval": a.soak_interval,
             "achieved_rate": gj.get("records_per_sec"),
             "records": gj.get("records"), "drain_seconds": drain,
             "input_retention_ms": keep_ms, "loadgen": gj}
        r["verdict"] = soak_verdict(samples, r, a)
        r["samples"] = samples
        v = r["verdict"]
        log(f"soak: RSS slope {v['rss_slope_mib_per_min']} MiB/min, accounts "
            f"{v['accounts_first']} -> {v['accounts_last']}, final lag "
            f"{v['lag_final']}: {'flat' if v['flat'] else 'NOT flat'}, lag "
            f"{'bounded' if v['lag_bounded'] else 'NOT bounded'}")
        return r

    def soak_sample(self, pr, url, inputs, group, t0, phase):
        t = time.monotonic()
        mem = pr.mem()
        cpu = pr.cpu()
        try:
            met = scrape_metrics(url)
        except (OSError, ValueError) as e:
            log(f"soak: /metrics: {e}")
            met = {}
        ends = self.k.end_offsets(inputs.values(), self.parts)
        try:
            c = self.k.committed(group, ends.keys())
        except Exception as e:  # noqa: BLE001 - no commit yet
            log(f"soak: committed offsets: {e}")
            c = {}
        produced = sum(ends.values())
        committed = sum(max(c.get(tp, 0) or 0, 0) for tp in ends)

        def m(key):
            v = met.get(key)
            return None if v is None else int(v)
        return {
            "t": round(t - t0, 2), "phase": phase,
            "rss_bytes": mem.get("VmRSS"), "cpu_seconds": cpu,
            "state_accounts_bytes": m('repute_engine_state_bytes{part="accounts"}'),
            "state_dedupe_bytes": m('repute_engine_state_bytes{part="dedupe"}'),
            "dedupe_entries": m("repute_dedupe_entries"),
            "accounts": m("repute_accounts"),
            "consumed": m("repute_records_consumed_total"),
            "lag_metric": m("repute_consumer_lag"),
            "produced": produced, "committed": committed,
            "lag_committed": produced - committed,
        }

    # -- the peer's bookkeeping

    def peer_enabled(self):
        p = self.result.setdefault("peer", {})
        return "skipped" not in p

    def peer_result(self):
        return self.result.setdefault("peer", {})

    def peer_failed(self, what, e):
        log(f"peer {what} failed: {e}")
        self.peer_result().setdefault("errors", []).append(f"{what}: {e}"[:2000])

    # -- the whole run

    def run(self):
        a = self.a
        t0 = time.monotonic()
        self.result.update({
            "schema": SCHEMA_VERSION,
            "name": a.name,
            "mode": "soak" if a.soak else "quick" if a.quick else "full",
            "started": now_iso(),
            "prefix": self.prefix,
            "bootstrap": self.bs,
            "machine": machine_facts(),
            "git": git_facts(),
            "settings": settings_of(a),
        })
        if a.soak:
            self.result["peer"] = {"skipped": "the soak measures repute alone"}
        elif a.skip_peer:
            self.result["peer"] = {"skipped": a.skip_peer}
        elif not os.path.exists(self.peer_jar):
            self.result["peer"] = {"skipped": f"no {self.peer_jar}"}
        else:
            self.result["peer"] = {"jar": os.path.relpath(self.peer_jar, ROOT),
                                   "java_opts": a.peer_java_opts,
                                   "threads": a.peer_threads or None,
                                   "guarantee": "exactly_once_v2"}
        try:
            timings = {}
            for phase in (("soak",) if a.soak else
                          ("throughput", "latency", "memory")):
                p0 = time.monotonic()
                getattr(self, "phase_" + phase)()
                timings[phase] = round(time.monotonic() - p0, 1)
            self.result["phase_seconds"] = timings
        finally:
            Proc.stop_all()
            for d in glob.glob(os.path.join(ROOT, a.build_dir, "bench-state",
                                            self.prefix + "-*")):
                shutil.rmtree(d, ignore_errors=True)
            self.k.delete_prefix(self.prefix + "-")
            self.k.close()
        if not a.soak:
            self.result["targets"] = targets(self.result)
        self.result["finished"] = now_iso()
        self.result["machine"]["loadavg_at_end"] = os.getloadavg()[0]
        self.result["total_seconds"] = round(time.monotonic() - t0, 1)
        self.result["logs"] = self.logdir
        return self.result


# ------------------------------------------------------------------ facts

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


def settings_of(a):
    keys = ["tp_records", "tp_accounts", "repeats", "partitions", "span",
            "latency_seconds", "latency_warmup", "latency_loads", "probe_rate",
            "mem_accounts",
            "mem_records_per_account", "restore_repeats", "peer_repeats",
            "peer_records", "peer_mem_accounts",
            "peer_java_opts", "peer_threads", "peer_latency_loads", "configs"]
    if a.soak:
        keys += ["soak_minutes", "soak_max", "soak_load", "soak_accounts",
                 "soak_interval", "soak_warmup", "soak_max_slope",
                 "soak_max_lag", "soak_drain_timeout"]
    return {k: getattr(a, k) for k in keys}


# ------------------------------------------------------------------ targets

def dig(d, *path):
    for p in path:
        if isinstance(d, dict) and p in d:
            d = d[p]
        elif isinstance(d, list) and isinstance(p, int) and -len(d) <= p < len(d):
            d = d[p]
        else:
            return None
    return d


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

    put("exactly_once_vs_ceiling",
        dig(r, "throughput", "exactly_once_1", "ratio_to_ceiling"))
    put("at_least_once_vs_ceiling",
        dig(r, "throughput", "at_least_once_1", "ratio_to_ceiling"))
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


# ------------------------------------------------------------------ validation

def expected_paths(r):
    paths = [("ceiling", "messages_per_sec")]
    for key, _, _ in CONFIGS:
        if key in (dig(r, "settings", "configs") or [k for k, _, _ in CONFIGS]):
            for f in ("events_per_sec", "ratio_to_ceiling", "events_per_cpu_sec",
                      "seconds", "peak_rss_bytes"):
                paths.append(("throughput", key, f))
    for pct in dig(r, "settings", "latency_loads") or [50, 80]:
        for f in ("rate", "p50_ms", "p99_ms", "p999_ms", "max_ms", "matched"):
            paths.append(("latency", f"exactly_once_{pct}", f))
    paths.append(("memory", "idle_rss_bytes"))
    for i, _ in enumerate(dig(r, "settings", "mem_accounts") or [0]):
        for f in ("accounts", "rss_bytes", "bytes_per_account"):
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
    m = dig(r, "latency")
    for pct in dig(r, "settings", "latency_loads") or []:
        x = dig(m, f"exactly_once_{pct}")
        if x and x.get("matched") is not None and x.get("probes_sent") and \
                x["matched"] < x["probes_sent"]:
            errs.append(f"latency.exactly_once_{pct}: matched {x['matched']} "
                        f"of {x['probes_sent']} probes")
    return errs


# ------------------------------------------------------------------ rendering

def latest_result(mode="full"):
    files = sorted(glob.glob(os.path.join(RESULTS, "*.json")),
                   key=lambda f: (os.path.basename(f)[:10], os.path.getmtime(f)))
    for f in reversed(files):
        try:
            with open(f) as fh:
                r = json.load(fh)
        except (OSError, ValueError):
            continue
        if r.get("mode") == mode:
            return f, r
    return None, None


def fmt_int(x):
    return "–" if x is None else f"{int(round(x)):,}"


def fmt_num(x, nd=1):
    return "–" if x is None else f"{x:,.{nd}f}"


def mib(x):
    return "–" if not x else f"{x / 2**20:,.0f} MiB"


def keep_section(text, heading):
    """The body of `## heading` in text (up to the next `## `), or None."""
    if not text:
        return None
    m = re.search(r"^## " + re.escape(heading) + r"[^\n]*\n(.*?)(?=^## |\Z)",
                  text, re.S | re.M)
    return m.group(1).strip("\n") if m else None


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
             "at_least_once_1": "repute ALO x1", "at_least_once_2": "repute ALO x2"}
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


def render(path, r):
    old = None
    if os.path.exists(BENCHMARKS_MD):
        with open(BENCHMARKS_MD) as f:
            old = f.read()
    held = keep_section(old, "What holds it back") or (
        "_To be filled from profiles: where the time goes in the exactly_once "
        "path (consume, decode, engine, changelog encode, produce, "
        "transaction commit), and what would lift each figure that missed "
        "its target._")
    rel = os.path.relpath(path, ROOT)
    stem = "latest"
    plots = render_plots(r, stem)
    m = r["machine"]
    g = r["git"]
    s = r["settings"]
    th = r.get("throughput", {})
    peer = r.get("peer", {})
    ceil = dig(r, "ceiling", "messages_per_sec")
    L = []
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
    L.append("")
    if plots:
        L.append(" ".join(f"![{os.path.basename(p)}]({p})" for p in plots) + "\n")

    L.append("## Throughput\n")
    L.append("Records per second from the first `run: ready` until the "
             "consumer group's committed offsets reach the end offsets the "
             "five input topics had before the run (output, changelog and "
             "offsets committed), median of the rounds. Per CPU-second: the "
             "records over the CPU time (user + system, all threads) the "
             "processes used over the same interval. The bare consumer "
             "(`repute-bench-consume`, read_committed, no group, nothing "
             "decoded, timed from its first message to its last) reads the "
             "same topics at the start of each round. The Kafka Streams peer "
             "(`benchmarks/peers/kafka-streams`, exactly_once_v2, one stream "
             "thread, RocksDB stores) is timed the same way from its "
             "`peer: running`, over the first "
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
        L.append(f"| repute | {t['guarantee']} | {t['processes']} | "
                 f"{fmt_int(t['events_per_sec'])} | "
                 f"{t['ratio_to_ceiling'] * 100:.0f}% | "
                 f"{fmt_int(t['events_per_cpu_sec'])} | {t['seconds']} | "
                 f"{', '.join(fmt_int(x) for x in t['samples'])} |")
    if peer.get("events_per_sec"):
        pr = peer['ratio_to_ceiling'] * 100
        L.append(f"| Kafka Streams peer | exactly_once_v2 | 1 | "
                 f"{fmt_int(peer['events_per_sec'])} | "
                 f"{pr:.{0 if pr >= 10 else 1}f}% | "
                 f"{fmt_int(peer['events_per_cpu_sec'])} | "
                 f"{peer['throughput_runs'][0]['seconds']} | "
                 f"{', '.join(fmt_int(x) for x in peer['samples'])} |")
    elif peer.get("skipped"):
        L.append(f"\nThe Kafka Streams peer was skipped: {peer['skipped']}.")
    L.append("")

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
    for k, v in sorted((peer.get("latency") or {}).items()):
        if k.startswith("load_"):
            latrow("Kafka Streams peer", k[5:], v)
    L.append("")

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
    L.append("| accounts | repute RSS | repute peak RSS | bytes per account "
             "| Kafka Streams RSS | Kafka Streams peak RSS |")
    L.append("|---|---|---|---|---|---|")
    for run in dig(r, "memory", "runs") or []:
        L.append(f"| {fmt_int(run['accounts'])} | {mib(run['rss_bytes'])} | "
                 f"{mib(run.get('peak_rss_bytes'))} | "
                 f"{fmt_num(run['bytes_per_account'], 0)} | "
                 f"{mib(dig(run, 'peer', 'rss_bytes'))} | "
                 f"{mib(dig(run, 'peer', 'peak_rss_bytes'))} |")
    L.append("")

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

    render_soak(L)

    L.append("## What holds it back\n")
    L.append(held + "\n")

    L.append("## How to run\n")
    L.append("```sh\nbash deploy/install-deps.sh\nbenchmarks/run.sh            "
             "# full run (~10 min on 2 cores), writes benchmarks/results/ and "
             "this page\nbenchmarks/run.sh --quick    # smoke test (< 2 min), "
             "writes benchmarks/results/tmp/, leaves this page alone\n"
             "benchmarks/run.sh --render-only  # re-render this page from the "
             "newest full result\nbenchmarks/run.sh --soak       # the soak "
             "(~15 min), writes benchmarks/results/ and its section here\n"
             "```\n")
    L.append("`benchmarks/run.sh --help` lists the sizes that can be changed "
             "(records, accounts, rounds, latency duration and loads, account "
             "counts for memory, the peer's JVM options, ...).\n")

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
    with open(BENCHMARKS_MD, "w") as f:
        f.write("\n".join(L))
    log(f"wrote {os.path.relpath(BENCHMARKS_MD, ROOT)} from {rel}")


# ------------------------------------------------------------------ soak

def scrape_metrics(url):
    """GET /metrics (Prometheus text): {series: value} for every sample
    line, plus {name: sum over its label sets} for series with labels."""
    with urllib.request.urlopen(url, timeout=5) as f:
        text = f.read().decode()
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, v = line.rpartition(" ")
        try:
            v = float(v)
        except ValueError:
            continue
        out[key] = v
        if "{" in key:
            name = key.split("{", 1)[0]
            out[name] = out.get(name, 0) + v
    return out


def slope(pts):
    """Least-squares slope of [(x, y)], or None with fewer than two x."""
    if len({x for x, _ in pts}) < 2:
        return None
    return statistics.linear_regression(*zip(*pts)).slope


def dedupe_full_at(load):
    """The time of the first sample from which the dedupe tables stop
    growing (entries up by under 0.1% since the previous sample): each
    task's table fills up to dedupe.max.entries, then forgets its oldest key
    for each new one. None when they never stop growing."""
    for prev, s in zip(load, load[1:]):
        e0, e1 = prev["dedupe_entries"], s["dedupe_entries"]
        if e0 and e1 and e1 - e0 < 0.001 * e1:
            return s["t"]
    return None


def soak_verdict(samples, r, a):
    """Flat: over the samples after the warm-up (the first --soak-warmup
    percent of the load, or until the dedupe tables are full if that is
    later), RSS grows by at most --soak-max-slope MiB per
    minute (least-squares slope) and the accounts held grow by at most 0.1%
    of the account set. Lag bounded: the group's committed lag at the end of
    the load is at most --soak-max-lag seconds of the rate, its slope over
    the same samples is under 1% of the rate, and the group commits
    everything within --soak-drain-timeout once the load stops."""
    load = [s for s in samples if s["phase"] == "load" and s["rss_bytes"]]
    full = dedupe_full_at(load)
    warm = max(r["seconds"] * a.soak_warmup / 100.0, full or 0)
    win = [s for s in load if s["t"] >= warm]
    if len(win) < 3:
        win = load[-3:]

    def fit(key, xscale, yscale):
        pts = [(s["t"] / xscale, s[key] / yscale) for s in win
               if s.get(key) is not None]
        v = slope(pts)
        return None if v is None else round(v, 3)

    def state(s):
        return (s["state_accounts_bytes"] or 0) + (s["state_dedupe_bytes"] or 0)
    rss = [s["rss_bytes"] for s in win]
    first_min = [x["rss_bytes"] for x in win if x["t"] < win[0]["t"] + 60]
    second_half = [x["rss_bytes"] for x in load if x["t"] >= r["seconds"] / 2]
    rss_slope = fit("rss_bytes", 60, 2**20)
    acc0, acc1 = win[0]["accounts"], win[-1]["accounts"]
    acc_ok = (acc0 is not None and acc1 is not None and
              acc1 - acc0 <= max(1, a.soak_accounts // 1000))
    lag_slope = fit("lag_committed", 1, 1)
    lag_final = load[-1]["lag_committed"]
    lag_bound = a.soak_max_lag * r["rate"]
    lag_ok = (lag_final <= lag_bound and r["drain_seconds"] is not None and
              (lag_slope or 0) <= 0.01 * r["rate"])
    flat = rss_slope is not None and rss_slope <= a.soak_max_slope and acc_ok
    cpu = [(s["t"], s["cpu_seconds"]) for s in load if s["cpu_seconds"]]
    return {
        "window_from_seconds": win[0]["t"], "window_samples": len(win),
        "dedupe_full_at_seconds": full,
        "dedupe_entries_last": load[-1]["dedupe_entries"],
        "rss_first_bytes": rss[0], "rss_last_bytes": rss[-1],
        "rss_min_bytes": min(rss), "rss_max_bytes": max(rss),
        "rss_spread_bytes": max(rss) - min(rss),
        "rss_first_minute_mean_bytes": round(statistics.mean(first_min)),
        "rss_second_half_mean_bytes":
            round(statistics.mean(second_half)) if second_half else None,
        "rss_slope_mib_per_min": rss_slope,
        "max_slope_mib_per_min": a.soak_max_slope,
        "state_first_bytes": state(win[0]), "state_last_bytes": state(win[-1]),
        "state_slope_mib_per_min": round(slope(
            [(s["t"] / 60, state(s) / 2**20) for s in win]) or 0, 3),
        "accounts_first": acc0, "accounts_last": acc1,
        "accounts_stable": acc_ok,
        "lag_max": max(s["lag_committed"] for s in win),
        "lag_final": lag_final, "lag_bound": lag_bound,
        "lag_slope_per_sec": lag_slope,
        "cpu_share": round(slope(cpu), 3) if len(cpu) > 1 else None,
        "flat": bool(flat), "lag_bounded": bool(lag_ok),
        "passed": bool(flat and lag_ok),
    }


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


def render_soak_plot(so):
    """benchmarks/results/latest-soak.png: RSS, engine state and committed
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
        ["gnuplot", "-e", f"datadir='{d}'; outdir='{RESULTS}'; stem='latest'; "
         f"warmup={warm / 60:.3f}", PLOT_SOAK_GP],
        capture_output=True, text=True)
    shutil.rmtree(d, ignore_errors=True)
    if res.returncode != 0:
        log(f"gnuplot failed: {res.stderr[-2000:]}")
        return None
    return "benchmarks/results/latest-soak.png"


def render_soak(L):
    """The Soak section of BENCHMARKS.md, from the newest soak result."""
    L.append("## Soak\n")
    path, r = latest_result("soak")
    if not r:
        L.append("No soak result yet: `benchmarks/run.sh --soak` (about 15 "
                 "minutes; not part of CI).\n")
        return
    rel = os.path.relpath(path, ROOT)
    so, v, m = r["soak"], r["soak"]["verdict"], r["machine"]
    plot = render_soak_plot(so)
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
             "grow by at most 0.1% of the set. **Lag bounded**: the lag at the "
             f"end of the load is at most {dig(r, 'settings', 'soak_max_lag')} s "
             "of the rate, its slope is under 1% of the rate, and everything "
             "is committed soon after the load stops.\n")
    L.append(f"Result [`{rel}`]({rel}), {r.get('started')}, commit "
             f"`{dig(r, 'git', 'describe')}`; load average "
             f"{m.get('loadavg_at_start'):.2f} at the start and "
             f"{m.get('loadavg_at_end', 0):.2f} at the end. The machine "
             f"({m.get('nproc')} cores) is shared with the broker, the load "
             "generator and other people's builds and tests, so the rate and "
             "the lag move with whatever else runs. The engine's state does "
             "not depend on them; the RSS does, as buffers outside the "
             "engine grow with the lag (see What holds it back).\n")
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
    L.append(f"| verdict | RSS **{'flat' if v['flat'] else 'not flat'}**, lag "
             f"**{'bounded' if v['lag_bounded'] else 'not bounded'}** |")
    L.append("")
    if short:
        L.append("The load generator fell short of the target: it shares the "
                 f"{m.get('nproc')} cores with repute, the broker and, on a "
                 "busy machine, everything else.\n")
    if plot:
        L.append(f"![{os.path.basename(plot)}]({plot})\n")


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
    print(f"soak verdict: {'flat' if v['flat'] else 'NOT flat'}, lag "
          f"{'bounded' if v['lag_bounded'] else 'NOT bounded'}")


# ------------------------------------------------------------------ main

def parse_args(argv):
    ap = argparse.ArgumentParser(
        description="End-to-end benchmark of repute run (see the module "
                    "docstring).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
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
    ap.add_argument("--configs", default=",".join(k for k, _, _ in CONFIGS),
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
    ap.add_argument("--restore-repeats", type=int, default=None,
                    help="restarts timed for restore (full 3, quick 1)")
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
    a.peer_mem_accounts = [int(x) for x in a.peer_mem_accounts.split(",") if x]
    a.mem_accounts = [int(x) for x in a.mem_accounts.split(",") if x]
    a.latency_loads = [int(x) for x in a.latency_loads.split(",") if x]
    a.peer_latency_loads = [int(x) for x in a.peer_latency_loads.split(",") if x]
    a.configs = [x for x in a.configs.split(",") if x]
    if a.name is None:
        a.name = "soak" if a.soak else "quick" if q else "e2e"
    if a.soak and q:
        ap.error("--soak and --quick: one or the other")
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", a.name):
        ap.error("--name: letters, digits, '_', '.', '-' only")
    return a


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
    (summary_soak if a.soak else summary)(r)
    errs = validate(r)
    for e in errs:
        log(f"invalid: {e}")
    if errs:
        log(f"{len(errs)} problems in {os.path.relpath(path, ROOT)}")
        return 1
    if a.soak:
        full, fr = latest_result()
        if not a.no_render and fr:
            render(full, fr)
        elif not a.no_render:
            log("no full result to render BENCHMARKS.md from")
        return 0 if r["soak"]["verdict"]["passed"] else 3
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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
