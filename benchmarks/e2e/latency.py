"""Latency: from a record's append to the append of the change it causes.

repute (or the peer) runs on fresh topics while repute-loadgen feeds it at a
fixed rate, a share of its measured maximum, with latency probes mixed in
after a warm-up: each probe is a report that puts a fresh account under
review at once, so it causes exactly one status change. repute-bench-latency
then pairs each probe with that change by key and takes the difference of
the two append times, both LogAppendTime, so both come from the broker's
one clock: no clock skew and no producer linger in the figure. The loads are
shares of the exactly_once maximum the throughput phase measured (or
--latency-max-rate when it did not run), and the peer is loaded at the same
shares of its own maximum.
"""
import time

from .common import log
from .procs import run_tool


class LatencyPhase:
    """The latency phase of Bench (see bench.py)."""

    def latency_run(self, name, rate, system, key="ks"):
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
            pr = self.start_peer(name, base, base + "-app", out, key, live=True)
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
            args += self.tenant_args()
            log(f"latency {name}: {system} at {int(rate)} records/s for "
                f"{a.latency_seconds} s")
            gen = run_tool(self.pinned("load", args),
                           timeout=a.latency_seconds * 4 + 120,
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
            lat = run_tool(self.pinned("load", args), timeout=300,
                           what="bench-latency")
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
        for key in self.peer_keys():
            if "events_per_sec" not in self.peer_result(key):
                continue
            pmax = self.peer_result(key)["events_per_sec"]
            pl = {"max_rate": pmax}
            try:
                for pct in a.peer_latency_loads:
                    name = self.next_name(f"plat{pct}-{key.replace('@', '-')}-")
                    pl[f"load_{pct}"] = self.latency_run(
                        name, pmax * pct / 100.0, "peer", key)
                self.peer_result(key)["latency"] = pl
            except Exception as e:  # noqa: BLE001
                self.peer_failed("latency", e, key)
