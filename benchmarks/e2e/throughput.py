"""Throughput: records per second, against the bare consumer and the peer.

Every round reads the same pre-filled topics three ways. The ceiling is a
bare librdkafka consumer (repute-bench-consume: read_committed, no group,
nothing decoded), timed from its first message to its last: what anything
could read from this broker on this machine. Then repute runs once per
configuration (exactly_once and at_least_once, one and two processes in one
group), each time on fresh output topics and a fresh group, timed by
Bench.measure_run. The figure of a configuration is the median of the
rounds, reported with its ratio to the median ceiling, and records per
CPU-second, which is what a shared machine can compare fairly.

The Kafka Streams peer is much slower, so it is timed over the first
--peer-records records only; its finish line is the same share of every
partition's end offset, so that it processes the same mix of the same data.
A failure of the peer is recorded, not raised.

With --baseline DIR, every round also runs DIR's repute (an earlier
commit's build) at both guarantees, one process, on topics its own load
generator filled (the record format of its day: an older build may not
read this one's records, while this build reads the older ones), and this
build at exactly_once on the same topics: the before-and-after of one run,
on the same bytes (BASELINE_CONFIGS).
"""
import math
import resource

from .common import (BASELINE_CONFIGS, CONFIG_THREADS, CONFIGS, INPUTS, log,
                     median)
from .procs import CpuMeter, run_tool


class ThroughputPhase:
    """The throughput phase of Bench (see bench.py)."""

    def run_repute_throughput(self, tp, ends, records, guarantee, nproc,
                              threads=None, binary=None):
        name = self.next_name(f"r{guarantee[0]}{nproc}-")
        base = f"{self.prefix}-{name}"
        out = self.create_outputs(base)
        group = base
        procs = [self.start_repute(f"{name}-p{i}", tp, out, group, guarantee,
                                   threads=threads, binary=binary)
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
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        meter = CpuMeter().start()
        out = run_tool(self.pinned("system", args), timeout=600,
                       what="bench-consume")
        out.update(meter.stop())
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        # Its own CPU, start-up included (the tool exits at its last
        # message): every child that ended meanwhile is this one.
        out["cpu_seconds"] = round(ru1.ru_utime + ru1.ru_stime -
                                   ru0.ru_utime - ru0.ru_stime, 2)
        if out.get("messages", 0) < records:
            raise RuntimeError(f"bench-consume read {out.get('messages')} of "
                               f"{records}")
        return out

    def run_peer_throughput(self, tp_name, ends, records, key="ks"):
        """The peer over the first `records` of the same topics: the target
        offsets are the same share of every partition's end offset."""
        share = min(1.0, records / max(1, sum(ends.values())))
        ends = {tp: math.ceil(off * share) for tp, off in ends.items()}
        records = sum(ends.values())
        name = self.next_name(f"peer-{key.replace('@', '-')}-")
        app = f"{self.prefix}-{name}"
        prefix = f"{self.prefix}-{tp_name}"
        out = self.create_outputs(app, peer=True)
        pr = self.start_peer(name, prefix, app, out, key)
        try:
            r = self.measure_run([pr], r"peer: running", app, ends, records,
                                 timeout=max(300, records / 1000))
        finally:
            self.stop_peer(pr)
            self.k.delete_prefix(app + ".")
            self.k.delete_prefix(app + "-")
        return r

    def phase_throughput(self):
        a = self.a
        tp, ends, fill = self.fill("tp", a.tp_accounts, a.tp_records)
        records = sum(ends.values())
        self.result["data"] = {"throughput_records": records,
                               "throughput_accounts": a.tp_accounts,
                               "loadgen_fill": fill}
        samples = {"ceiling": []}
        full = {"ceiling": []}
        for key, _, _ in CONFIGS + BASELINE_CONFIGS:
            samples[key] = []
            full[key] = []
        if a.baseline:
            tpb, ends_b, fill_b = self.fill("tpb", a.tp_accounts, a.tp_records,
                                            loadgen=self.base_loadgen)
            records_b = sum(ends_b.values())
            self.result["data"]["baseline_fill"] = fill_b
        for rep in range(a.repeats):
            log(f"throughput round {rep + 1}/{a.repeats}")
            c = self.run_ceiling(tp, records)
            log(f"  ceiling: {c['messages_per_sec']:.0f} messages/s")
            samples["ceiling"].append(c["messages_per_sec"])
            full["ceiling"].append(c)
            for key, guarantee, nproc in CONFIGS:
                if key not in a.configs:
                    continue
                r = self.run_repute_throughput(tp, ends, records, guarantee,
                                               nproc, CONFIG_THREADS.get(key))
                log(f"  {key}: {r['events_per_sec']} events/s in {r['seconds']} s, "
                    f"{r['events_per_cpu_sec']} per CPU-s")
                samples[key].append(r["events_per_sec"])
                full[key].append(r)
            for key, guarantee, build in BASELINE_CONFIGS if a.baseline else ():
                r = self.run_repute_throughput(
                    tpb, ends_b, records_b, guarantee, 1,
                    binary=self.base_repute if build == "baseline" else None)
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

        def figures(key, guarantee, nproc, **more):
            runs = full[key]
            med = median(samples[key])
            mrun = min(runs, key=lambda r: abs(r["events_per_sec"] - med))
            th[key] = {
                "guarantee": guarantee, "processes": nproc,
                "threads": CONFIG_THREADS.get(key, 0),
                "events_per_sec": round(med),
                "samples": samples[key],
                "ratio_to_ceiling": round(med / ceiling, 4),
                "events_per_cpu_sec": round(median(
                    [r["events_per_cpu_sec"] for r in runs])),
                "seconds": mrun["seconds"],
                "peak_rss_bytes": max(r["peak_rss_bytes"] for r in runs),
                "runs": runs, **more,
            }
        for key, guarantee, nproc in CONFIGS:
            if full[key]:
                figures(key, guarantee, nproc)
        for key, guarantee, build in BASELINE_CONFIGS:
            if full[key]:
                figures(key, guarantee, 1, build=build, data="baseline")
        self.result["throughput"] = th
        # The peers on the same topics, in the same run, each in turn within
        # a round (so that a change of load on the machine hits them alike).
        pruns = {k: [] for k in self.peer_keys()}
        for rep in range(a.peer_repeats):
            for key in list(pruns):
                try:
                    r = self.run_peer_throughput("tp", ends, a.peer_records, key)
                except Exception as e:  # noqa: BLE001
                    self.peer_failed("throughput", e, key)
                    continue
                log(f"  peer {key}: {r['events_per_sec']} events/s in "
                    f"{r['seconds']} s, {r['events_per_cpu_sec']} per CPU-s")
                pruns[key].append(r)
        for key, runs in pruns.items():
            if runs:
                med = median([r["events_per_sec"] for r in runs])
                self.peer_result(key).update({
                    "events_per_sec": round(med),
                    "samples": [r["events_per_sec"] for r in runs],
                    "events_per_cpu_sec": round(median(
                        [r["events_per_cpu_sec"] for r in runs])),
                    "ratio_to_ceiling": round(med / ceiling, 4),
                    "records": runs[0]["records"],
                    "throughput_runs": runs,
                })
        self.delete_name("tp")
        if a.baseline:
            self.delete_name("tpb")
