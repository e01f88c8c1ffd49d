"""Memory: resident set size per account, beside the peer's.

repute keeps every account's state in memory, so its memory figure is the
cost of an account: the RSS (VmRSS) of one exactly_once process after it has
processed input that covers every account (repute-loadgen --cover, then
--mem-records-per-account records per account), minus the RSS of an idle
process that is ready with no accounts, divided by the accounts. Each
account count gets fresh topics; the largest run's topics and group are
then reused by the restore measurement (restore.py), which needs exactly
that state. The peer processes the same topics for the counts in
--peer-mem-accounts, and its RSS is the JVM's after the same work.

The reading is taken a second after the group has committed everything, so
that what is measured is the state held, not a batch in flight. With
--tenant-share the runs also give the bytes per entity: the same RSS over
the accounts plus the tenants some record named (repute-loadgen's
tenants_used), since repute holds a state for each.
"""
import time

from .common import log


class MemoryPhase:
    """The memory phase of Bench (see bench.py)."""

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
            r, m = self.measure_rss(pr, r"run: ready", base, ends, total,
                                    max(120, total / 5000), lambda p: p.stop())
            rss = m.get("VmRSS", 0)
            run = {
                "accounts": n, "records": total,
                "rss_bytes": rss, "peak_rss_bytes": m.get("VmHWM", 0),
                "bytes_per_account": round((rss - idle) / n, 1),
                "peak_bytes_per_account": round((m.get("VmHWM", 0) - idle) / n, 1),
                "events_per_sec": r["events_per_sec"],
            }
            if a.tenant_share:
                # Tenants are entities repute holds beside accounts: the
                # figure per entity counts those some record named.
                used = fill.get("tenants_used") or 0
                run["tenants"] = used
                run["bytes_per_entity"] = round((rss - idle) / (n + used), 1)
            log(f"memory {n} accounts: RSS {rss / 2**20:.1f} MiB, "
                f"{run['bytes_per_account']} bytes/account"
                + (f", {run['tenants']} tenants, {run['bytes_per_entity']} "
                   "bytes/entity" if a.tenant_share else ""))
            if largest:
                self.result["restore"] = self.restore(name, tp, out, base, n)
            if n in a.peer_mem_accounts:
                for key in self.peer_keys():
                    try:
                        pm = self.peer_memory(name, ends, total, key)
                        run.setdefault("peers", {})[key] = pm
                        self.peer_result(key).update({
                            "rss_bytes": pm["rss_bytes"],
                            "peak_rss_bytes": pm["peak_rss_bytes"],
                            "memory_accounts": n,
                            "repute_rss_bytes_same_accounts": rss,
                        })
                    except Exception as e:  # noqa: BLE001
                        self.peer_failed("memory", e, key)
            mem["runs"].append(run)
            self.delete_name(name)

    def peer_memory(self, name, ends, total, key="ks"):
        app = f"{self.prefix}-{name}-{key.replace('@', '-')}"
        out = self.create_outputs(app, peer=True)
        pr = self.start_peer(f"{name}-{key.replace('@', '-')}", f"{self.prefix}-{name}", app,
                             out, key)
        r, m = self.measure_rss(pr, r"peer: running", app, ends, total,
                                max(300, total / 1000), self.stop_peer)
        log(f"peer {key} memory: RSS {m.get('VmRSS', 0) / 2**20:.1f} MiB")
        return {"rss_bytes": m.get("VmRSS", 0),
                "peak_rss_bytes": m.get("VmHWM", 0),
                "events_per_sec": r["events_per_sec"],
                "events_per_cpu_sec": r["events_per_cpu_sec"]}

    def measure_rss(self, pr, ready_pat, group, ends, total, timeout, stop):
        """Times one process over the data (Bench.measure_run), reads its
        memory a second after it has committed everything, and stops it
        with `stop` in any case. Returns (figures, /proc memory)."""
        try:
            r = self.measure_run([pr], ready_pat, group, ends, total,
                                 timeout=timeout)
            time.sleep(1)
            return r, pr.mem()
        finally:
            stop(pr)
