"""Restore: how long a restarted repute takes to be ready with its state.

After the largest memory run, repute is stopped (SIGINT) and started again
in the same group on the same topics, --restore-repeats times: the time from
process start to its `run: ready` line, which repute prints once every task
has read its changelog partition to the end, is the restore time. The line
also says how many accounts were restored and when by repute's own clock;
both are recorded beside the harness's measurement, and the median of the
samples is the figure.
"""
import re
import time

from .common import log, median


class RestorePhase:
    """The restore measurement of Bench (see bench.py), run from the memory
    phase with the largest state."""

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
