"""One run of the benchmark: the Bench class and what every phase shares.

A run owns a topic prefix (bench-<unix time>), a log directory and one
result dictionary, and every phase needs the same few services: fresh
input topics pre-filled by repute-loadgen (with LogAppendTime, so that the
broker's clock stamps every record), fresh output topics, repute or the peer
started on them, and a timing rule. The rule is the same for every
throughput-like figure (measure_run): from the first "ready" line of the
processes until the group's committed offsets reach the end offsets the
input topics had before the start, so that a run counts as done only when
its output, changelog and offsets are committed, and the CPU time the
processes used over that interval.

The phases themselves live in their own modules and are mixed into Bench
(throughput, latency, memory, restore, soak): they are methods because they
share this state, and they are files of their own because each is a
separate question with its own method of measurement. run() calls them in
order (or only the soak), stops every child process and deletes every
topic and group under the prefix however the run ends, then evaluates the
targets.

The peer's bookkeeping (peer_enabled, peer_result, peer_failed) lets a
peer failure be recorded in the result instead of ending the run: repute's
figures stand on their own.
"""
import glob
import os
import shutil
import time

from .common import (INPUTS, OUTPUTS, ROOT, SCHEMA_VERSION, START_TIME_MS, log,
                     now_iso)
from .equiv import EquivalencePhase
from .kafka import Kafka
from .latency import LatencyPhase
from .memory import MemoryPhase
from .peers import peer_label, peer_missing, peer_spec, start_peer, stop_peer
from .procs import (CpuMeter, Proc, broker_pids, limit_cpus, pin_all_threads,
                    run_tool)
from .restore import RestorePhase
from .results import (baseline_facts, git_facts, machine_facts, settings_of,
                      targets)
from .soak import SoakPhase
from .throughput import ThroughputPhase


class Bench(EquivalencePhase, ThroughputPhase, LatencyPhase, MemoryPhase, RestorePhase,
            SoakPhase):
    """One run: its options (a), prefix, Kafka client, log directory and
    result; the phases are the mixins' methods."""

    def __init__(self, a):
        self.a = a
        self.bs = a.bootstrap
        self.bin = os.path.join(ROOT, a.build_dir)
        self.repute = os.path.join(self.bin, "repute")
        self.loadgen = os.path.join(self.bin, "benchmarks", "repute-loadgen")
        self.consume = os.path.join(self.bin, "benchmarks", "repute-bench-consume")
        self.latency = os.path.join(self.bin, "benchmarks", "repute-bench-latency")
        if a.baseline:
            bdir = os.path.abspath(a.baseline)
            self.base_repute = os.path.join(bdir, "repute")
            self.base_loadgen = os.path.join(bdir, "benchmarks", "repute-loadgen")
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

    def create_outputs(self, base, peer=False, partitions=None):
        """Output topics of one system under test: base.status/dlq/changelog/
        current (or base.peer-status for the peer)."""
        if peer:
            specs = {f"{base}.peer-status": {"message.timestamp.type": "LogAppendTime"},
                     f"{base}.peer-dlq": {}}
        else:
            specs = {
                f"{base}.status": {"message.timestamp.type": "LogAppendTime"},
                f"{base}.dlq": {},
                f"{base}.changelog": {"cleanup.policy": "compact"},
                f"{base}.current": {"cleanup.policy": "compact"},
            }
        self.k.create_topics(specs, partitions or self.parts)
        return {k.rsplit(".", 1)[1]: k for k in specs}

    # -- pinning (--pin): the broker and the load on one core, repute on the
    #    other, so that latency is measured where repute has a core of its own

    def pinned(self, role, args):
        """args, under taskset when --pin: "system" (repute, the bare
        consumer, a peer) on the last core, "load" (the load generator, the
        latency reader) on the first, with the broker."""
        if not self.a.pin:
            return args
        n = os.cpu_count() or 1
        cpu = str(n - 1) if role == "system" else "0"
        return ["taskset", "-c", cpu] + list(args)

    def pin_broker(self, on):
        """Pins the local broker's threads to the first core (on) or back to
        every core (off)."""
        n = os.cpu_count() or 1
        pids = broker_pids()
        if on and not pids:
            raise RuntimeError("--pin: no local broker (kafka.Kafka) to pin")
        for pid in pids:
            pin_all_threads(pid, "0" if on else f"0-{n - 1}")

    def tenant_args(self):
        """repute-loadgen's tenant options for --tenant-share (none without
        it, so that the traffic is what it always was)."""
        if not self.a.tenant_share:
            return []
        return ["--tenant-share", f"{self.a.tenant_share:g}",
                "--tenants-max", str(self.a.tenants_max)]

    def fill(self, name, accounts, records, cover=False, seed=1,
             loadgen=None):
        """Pre-fills fresh input topics at full speed (with this build's
        load generator unless `loadgen` names another); returns (topics,
        end offsets snapshot, loadgen JSON)."""
        topics = self.create_inputs(name)
        args = [loadgen or self.loadgen, "--bootstrap", self.bs,
                "--prefix", f"{self.prefix}-{name}",
                "--accounts", str(accounts), "--records", str(records),
                "--rate", "0", "--seed", str(seed),
                "--start-time", str(START_TIME_MS), "--span", self.a.span]
        if cover:
            args.append("--cover")
        args += self.tenant_args()
        log(f"fill {name}: {records} records over {accounts} accounts"
            + (f" with tenants ({self.a.tenant_share:g} of them)"
               if self.a.tenant_share else ""))
        out = run_tool(self.pinned("load", args),
                       timeout=max(600, records / 2000), what="loadgen")
        ends = self.k.end_offsets(topics.values(), self.parts)
        total = sum(ends.values())
        log(f"fill {name}: {total} records in the topics "
            f"({out.get('records_per_sec')} records/s produced)")
        if total < records:
            raise RuntimeError(f"fill {name}: {total} records in the topics, "
                               f"expected {records}")
        return topics, ends, out

    # -- systems under test

    def repute_args(self, inputs, out, group, guarantee, http="off",
                    threads=None, binary=None):
        sets = {
            "kafka.bootstrap.servers": self.bs,
            "group.id": group,
            "clock": "event",
            "processing.guarantee": guarantee,
            "topics.create": "false",
            "topics.partitions": str(self.parts),
            "http.listen": http,
        }
        if threads is not None:  # else repute's default: the cores
            sets["threads"] = str(threads)
        for t in INPUTS:
            sets[f"topic.{t}"] = inputs[t]
        for t in OUTPUTS:
            # A baseline's repute may predate topic.current (issue 20).
            if not (binary and t == "current"):
                sets[f"topic.{t}"] = out[t]
        args = [binary or self.repute, "run"]
        for k, v in sets.items():
            args += ["--set", f"{k}={v}"]
        return args

    def start_repute(self, name, inputs, out, group, guarantee, http="off",
                     threads=None, binary=None):
        pr = Proc(name, self.pinned("system", self.repute_args(
                      inputs, out, group, guarantee, http, threads, binary)),
                  self.logdir, patterns=(r"run: ready", r"run: HTTP on"))
        if self.a.repute_cpus:
            # Before it is ready: the quota holds from its first record.
            limit_cpus(pr.pid, self.a.repute_cpus)
        return pr

    def start_peer(self, name, prefix, app_id, out, key="ks", live=False):
        """Peer `key` (peers.py) on the inputs PREFIX.*; its state goes to a
        directory of its own under build-rel/bench-state/, removed by
        stop_peer."""
        return start_peer(key, name, self.logdir, self.a.build_dir, self.bs,
                          prefix, app_id, out,
                          java_opts=self.a.peer_java_opts.split(),
                          threads=self.a.peer_threads,
                          extra=self.a.peer_args.get(key, ()), live=live)

    def stop_peer(self, pr):
        stop_peer(pr)

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
        meter = CpuMeter().start()
        t_done = self.k.wait_committed(group, ends, timeout, procs)
        cpu_done = {pr.name: pr.cpu() for pr in procs}
        where = meter.stop()
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
            # The cores the broker and the whole machine used meanwhile
            # (BENCHMARKS.md, Throughput, "Where the cores go").
            **where,
        }

    # -- the peers' bookkeeping

    def peer_keys(self):
        """The peers to time: those asked for that can run and, unless the
        check was skipped, computed the same output as replay."""
        return [k for k, p in self.result.get("peers", {}).items()
                if "skipped" not in p and p.get("comparable") is not False]

    def peer_enabled(self, key="ks"):
        p = self.result.get("peers", {}).get(key)
        return p is not None and "skipped" not in p

    def peer_result(self, key="ks"):
        return self.result.setdefault("peers", {}).setdefault(key, {})

    def peer_failed(self, what, e, key="ks"):
        log(f"peer {key} {what} failed: {e}")
        self.peer_result(key).setdefault("errors", []).append(
            f"{what}: {e}"[:2000])

    def choose_best_peer(self):
        """result["peer"], which the targets and the older tables read: the
        comparable peer with the most records per CPU-second (the best peer,
        not the weakest), or why there is none."""
        best = None
        for k in self.peer_keys():
            p = self.result["peers"][k]
            if p.get("events_per_cpu_sec") and (
                    best is None or p["events_per_cpu_sec"] >
                    self.result["peers"][best]["events_per_cpu_sec"]):
                best = k
        if best:
            self.result["peer"] = dict(self.result["peers"][best], key=best)
            for run in (self.result.get("memory") or {}).get("runs", []):
                if best in run.get("peers", {}):
                    run["peer"] = run["peers"][best]
        elif self.a.skip_peer:
            self.result["peer"] = {"skipped": self.a.skip_peer}
        else:
            why = "; ".join(f"{k}: {p.get('skipped') or p.get('errors') or 'no figures'}"
                            for k, p in self.result.get("peers", {}).items())
            self.result["peer"] = {"skipped": why or "no peer"}

    # -- the whole run

    def run(self):
        a = self.a
        t0 = time.monotonic()
        self.result.update({
            "schema": SCHEMA_VERSION,
            "name": a.name,
            # A run of chosen phases is "partial": never the page's source.
            "mode": ("soak" if a.soak else "equivalence" if a.equivalence
                     else "quick" if a.quick else "partial"
                     if a.phases is not None else "tenants"
                     if a.tenant_share else "full"),
            "started": now_iso(),
            "prefix": self.prefix,
            "bootstrap": self.bs,
            "machine": machine_facts(),
            "git": git_facts(),
            "settings": settings_of(a),
        })
        if a.baseline:
            self.result["baseline"] = baseline_facts(self.base_repute)
        peers = {}
        for k in a.peers:
            why = ("the soak measures repute alone" if a.soak else
                   a.skip_peer or peer_missing(k))
            peers[k] = {"label": peer_label(k), "guarantee": peer_spec(k)[3],
                        "java_opts": a.peer_java_opts}
            if why:
                peers[k]["skipped"] = why
        self.result["peers"] = peers
        if a.pin:
            if (os.cpu_count() or 1) < 2:
                raise RuntimeError("--pin needs at least 2 cores")
            self.pin_broker(True)
        try:
            timings = {}
            if a.soak:
                phases = ("soak",)
            elif a.equivalence:
                phases = ("equivalence",)
            elif a.phases is not None:
                phases = tuple(a.phases)
            else:
                phases = (() if a.skip_equivalence else ("equivalence",)) + \
                    ("throughput", "latency", "memory")
            for phase in phases:
                p0 = time.monotonic()
                getattr(self, "phase_" + phase)()
                timings[phase] = round(time.monotonic() - p0, 1)
            self.result["phase_seconds"] = timings
            if not a.soak and not a.equivalence:
                self.choose_best_peer()
        finally:
            self.result.setdefault("peer", {"skipped": (
                "the soak measures repute alone" if a.soak else
                "only the equivalence check" if a.equivalence else
                "the run did not finish")})
            Proc.stop_all()
            if a.pin:
                self.pin_broker(False)
            for d in glob.glob(os.path.join(ROOT, a.build_dir, "bench-state",
                                            self.prefix + "-*")):
                shutil.rmtree(d, ignore_errors=True)
            self.k.delete_prefix(self.prefix + "-")
            self.k.close()
        if not a.soak and not a.equivalence:
            self.result["targets"] = targets(self.result)
        self.result["finished"] = now_iso()
        self.result["machine"]["loadavg_at_end"] = os.getloadavg()[0]
        self.result["total_seconds"] = round(time.monotonic() - t0, 1)
        self.result["logs"] = self.logdir
        return self.result
