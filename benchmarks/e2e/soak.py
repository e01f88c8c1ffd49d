"""The soak: does repute hold a fixed account set in constant memory under
sustained load, and keep up with it?

repute (exactly_once, one process, HTTP on a free loopback port) is fed live
by repute-loadgen at --soak-load percent of its maximum (measured by the
throughput phase on that configuration alone, or given by --soak-max) for
--soak-minutes, over a fixed account set, with event times from the wall
clock. Every --soak-interval seconds a sample records its RSS and CPU time
(/proc), the engine's state and accounts held (/metrics), and the group's
committed lag (end offsets of the inputs minus committed offsets). One more
sample is taken once the group has committed everything after the load
stopped.

The verdict (soak_verdict) is deliberately about slopes after a warm-up, not
about absolute values: memory that grows with the load's age is the failure
to catch, and the first part of the load (or the time until the dedupe
tables are full, each task's table growing until it reaches
dedupe.max.entries) is legitimately growth. RSS is flat when its
least-squares slope stays under --soak-max-slope MiB per minute and the
accounts held stay within 0.1% of the set; the lag is bounded when it ends
under --soak-max-lag seconds of the rate, does not trend upwards, and drains
once the load stops. Input older than a retention sized to the soak is
deleted by the broker as the soak runs, so that a long soak does not fill
the disk.
"""
import json
import re
import statistics
import time
import urllib.request

from .common import fmt_int, log, mib
from .procs import Proc


class SoakPhase:
    """The soak of Bench (see bench.py)."""

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
            gen = Proc(f"{name}-loadgen", self.pinned("load",
                       [self.loadgen, "--bootstrap", self.bs, "--prefix", base,
                        "--accounts", str(a.soak_accounts),
                        "--duration", str(secs), "--rate", str(rate),
                        "--seed", "11"]), self.logdir)
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
            + (f"{'grew' if v['lag_grew'] else 'did NOT grow'} (overload)"
               if v["overload"] else
               f"{'bounded' if v['lag_bounded'] else 'NOT bounded'}"))
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
    # Overload (a load over 100%): the input outruns repute on purpose, so
    # the lag must grow (else the soak did not overload anything) and the
    # RSS must stay flat all the same.
    overload = r["load_percent"] > 100
    lag_grew = (lag_slope or 0) > 0.01 * r["rate"]
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
        "overload": overload, "lag_grew": bool(lag_grew),
        "passed": bool(flat and (lag_grew if overload else lag_ok)),
    }
