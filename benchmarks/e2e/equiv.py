"""The equivalence check: every system computes what `repute replay`
computes for the same records, before any of them is timed.

A peer that does less work is not a peer, so before throughput, latency or
memory is measured, each system under test (repute run itself, as a check
of the check, and every peer) runs over one generated stream and its output
is compared with `repute replay` of the same records:

Data. repute-loadgen writes a seeded stream into fresh input topics of ONE
partition each and, with --jsonl, the same records as JSON lines. The mix is
richer than the throughput data's (a tenth of the accounts bad, reports and
actions at 0.3% each, so links, remediations, manual reviews, extensions
and pauses all happen), event times cover 30 days so that the 7-day reviews
end, and the duplicates and late feedback of the loader are in it. The
volume limits are lowered (--equiv-set, by default window.min.volume=1000,
rate.min.volume=200) so that a few thousand accounts reach a known rate;
every system is given the same keys. Then five end records, one per input
topic, for the account "~end" one second after the last record: they move
every topic's event time past the stream's last record, which a system that
orders records by watermarks (Flink) needs to release its last buffered
records; they are part of the replayed input too, so they change nothing in
the comparison.

Order. With one partition per topic, every system sees one task: repute run
and Kafka Streams apply the five partitions merged by event time (the head
with the smallest event_time first, ties in topic order, each partition in
offset order), and the Flink peer does the same with watermarks (see its
README). The expected output is therefore `repute replay` of the JSON lines
merged the same way (merge_order), not of the loader's production order:
the two differ where a record is out of order within its topic (a
redelivered duplicate), which is then applied at the clock.

What must be equal. Per account, the whole sequence of ReputationEvents:
event_id, sequence (1..n, no gap, no repeat), event_time (the clock of the
change), kind, and every field of the StatusChange and of the Notification,
except the notification's title, why and actions for the peers (texts that
are repute's own wording, docs/notifications.md; a peer writes short generic
ones). These are everything the rules (docs/rules.md sections 3-7) determine.
The interleaving of different accounts is not compared: the output topic's
order across keys is not part of the contract.

The one difference the rules allow (docs/run.md "When live equals replay"):
a RELATED_ACCOUNT report that a system produces when an account is paused
travels through the reports topic and is applied when it is read back, at
that task's clock; replay applies it at the instant of the pause. So for an
account that is linked (either side of a LINK_ACCOUNT action), events are
compared exactly up to the first one in which RELATED_ACCOUNT appears (as
the cause or as an issue) in either output; the rest are counted as
exempt, with the rule named in the result.

A system that differs is reported as such with its first differences; the
throughput phase marks its figures as not comparable.
"""
import json
import os
import subprocess
import time

from .common import INPUTS, log
from .peers import READY, peer_missing, start_peer, stop_peer
from .procs import Proc, run_tool

TYPE_TOPIC = {"delivery": 0, "bounce": 1, "complaint": 2, "report": 3,
              "action": 4}
TEXTS = ("title", "why", "actions")
END_ACCOUNT = "~end"
RULE_RELATED = ("RELATED_ACCOUNT reports travel through the reports topic: "
                "applied at the linked account's task clock when read back, "
                "not at the instant of the pause (docs/run.md, When live "
                "equals replay)")


def merge_order(lines):
    """The records (parsed JSON objects) in the order one task of repute
    run applies them: per topic in file (offset) order, merged by
    event_time, ties in topic order (docs/run.md, Event-time merge)."""
    per = [[] for _ in INPUTS]
    for r in lines:
        per[TYPE_TOPIC[r["type"]]].append(r)
    idx = [0] * len(per)
    out = []
    while True:
        best = None
        for t, recs in enumerate(per):
            if idx[t] < len(recs):
                ts = recs[idx[t]]["event_time"]
                if best is None or ts < best[0]:
                    best = (ts, t)
        if best is None:
            return out
        t = best[1]
        out.append(per[t][idx[t]])
        idx[t] += 1


def end_records(t):
    """One record per input topic for END_ACCOUNT at time t: a delivery, a
    soft bounce, a complaint, a SPAMTRAP report under its threshold and a
    CLEAR_MANUAL_REVIEW: none of them changes a status on its own."""
    a = END_ACCOUNT
    return [
        {"type": "delivery", "event_id": "end-d", "account_id": a,
         "event_time": t, "recipient": "end@example.com"},
        {"type": "bounce", "event_id": "end-b", "account_id": a,
         "event_time": t, "bounce_type": "TRANSIENT",
         "bounce_subtype": "GENERAL", "recipient": "end@example.com"},
        {"type": "complaint", "event_id": "end-c", "account_id": a,
         "event_time": t, "recipients": ["end@example.com"],
         "feedback_type": "ABUSE"},
        {"type": "report", "event_id": "end-r", "account_id": a,
         "event_time": t, "kind": "SPAMTRAP", "incidents": 1},
        {"type": "action", "event_id": "end-a", "account_id": a,
         "event_time": t, "action": "CLEAR_MANUAL_REVIEW"},
    ]


def load_events(path):
    """account -> list of events, in file order."""
    by = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                ev = json.loads(line)
                by.setdefault(ev["account_id"], []).append(ev)
    return by


def normalise(ev, texts):
    if not texts and ev.get("notification"):
        ev = dict(ev)
        n = dict(ev["notification"])
        for k in TEXTS:
            n.pop(k, None)
        ev["notification"] = n
    return ev


def related(ev):
    sc = ev.get("status_change") or {}
    if sc.get("cause") == "RELATED_ACCOUNT":
        return True
    if any(i.get("kind") == "RELATED_ACCOUNT" for i in sc.get("issues") or []):
        return True
    n = ev.get("notification") or {}
    return n.get("issue") == "RELATED_ACCOUNT"


def compare(expected, actual, linked, texts=True, show=5):
    """Compares two outputs (account -> events). Returns a dict: equal,
    counts, the first differences (at most `show`), the exempt part."""
    diffs, problems = [], 0
    exempt_accounts, exempt_events = 0, 0
    compared = 0

    def note(acct, i, what, exp, got):
        nonlocal problems
        problems += 1
        if len(diffs) < show:
            diffs.append({"account": acct, "event": i + 1, "what": what,
                          "expected": exp, "got": got})

    for acct, evs in actual.items():
        for i, ev in enumerate(evs):
            if ev.get("sequence") != i + 1:
                note(acct, i, "sequence not 1..n (a repeat or a gap)", i + 1,
                     ev.get("sequence"))
                break
    for acct in sorted(set(expected) | set(actual)):
        e = [normalise(x, texts) for x in expected.get(acct, [])]
        a = [normalise(x, texts) for x in actual.get(acct, [])]
        n = max(len(e), len(a))
        for i in range(n):
            x = e[i] if i < len(e) else None
            y = a[i] if i < len(a) else None
            if acct in linked and ((x and related(x)) or (y and related(y))):
                exempt_accounts += 1
                exempt_events += n - i
                break
            compared += 1
            if x != y:
                note(acct, i, "missing" if y is None else
                     "extra" if x is None else "differs", x, y)
                break
    return {
        "equal": problems == 0,
        "problems": problems,
        "events_expected": sum(len(v) for v in expected.values()),
        "events_got": sum(len(v) for v in actual.values()),
        "accounts_expected": len(expected),
        "accounts_got": len(actual),
        "events_compared": compared,
        "exempt": {"rule": RULE_RELATED, "accounts": exempt_accounts,
                   "events": exempt_events},
        "texts_compared": texts,
        "first_differences": diffs,
    }


class EquivalencePhase:
    """The equivalence check of Bench (see bench.py)."""

    def equiv_data(self):
        """Fresh 1-partition topics with the check's stream; returns
        (prefix, topics, end offsets, merged JSON lines path, linked)."""
        a = self.a
        name = "eq"
        prefix = f"{self.prefix}-{name}"
        topics = {t: f"{prefix}.{t}" for t in INPUTS}
        self.k.create_topics(
            {n: {"message.timestamp.type": "LogAppendTime"}
             for n in topics.values()}, 1)
        gen = os.path.join(self.logdir, "equiv-gen.jsonl")
        args = [self.loadgen, "--bootstrap", self.bs, "--prefix", prefix,
                "--accounts", str(a.equiv_accounts),
                "--records", str(a.equiv_records), "--rate", "0",
                "--seed", str(a.equiv_seed), "--span", a.equiv_span,
                "--bad-share", "0.1", "--report-share", "0.003",
                "--action-share", "0.003", "--dup-share", "0.005",
                "--jsonl", gen]
        log(f"equivalence: {a.equiv_records} records over "
            f"{a.equiv_accounts} accounts, seed {a.equiv_seed}")
        out = run_tool(args, timeout=600, what="loadgen")
        with open(gen) as f:
            recs = [json.loads(x) for x in f if x.strip()]
        ends = end_records(out["last_event_time"] + 1000)
        endf = os.path.join(self.logdir, "equiv-end.jsonl")
        with open(endf, "w") as f:
            for r in ends:
                f.write(json.dumps(r) + "\n")
        self.repute_cmd(["produce", endf], topics)
        merged = os.path.join(self.logdir, "equiv-merged.jsonl")
        with open(merged, "w") as f:
            for r in merge_order(recs + ends):
                f.write(json.dumps(r) + "\n")
        linked = set()
        for r in recs:
            if r["type"] == "action" and r.get("action") == "LINK_ACCOUNT":
                linked.add(r["account_id"])
                if r.get("related_account_id"):
                    linked.add(r["related_account_id"])
        offs = self.k.end_offsets(topics.values(), 1)
        return prefix, topics, offs, merged, linked, out

    def repute_cmd(self, argv, topics=None, status=None, stdout=None,
                   timeout=300):
        """Runs `repute CMD ...` with the broker, the check's engine keys
        and the topics set; returns the completed process."""
        args = [self.repute, argv[0], "--set",
                f"kafka.bootstrap.servers={self.bs}"]
        for kv in self.a.equiv_set:
            args += ["--set", kv]
        for t, n in (topics or {}).items():
            args += ["--set", f"topic.{t}={n}"]
        if status:
            args += ["--set", f"topic.status={status}"]
        args += argv[1:]
        r = subprocess.run(args, stdout=stdout or subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(f"repute {argv[0]} exited {r.returncode}: "
                               f"{r.stderr[-2000:]}")
        return r

    def equiv_replay(self, merged):
        path = os.path.join(self.logdir, "equiv-expected.jsonl")
        args = [self.repute, "replay"]
        for kv in self.a.equiv_set:
            args += ["--set", kv]
        with open(path, "w") as f:
            r = subprocess.run(args + [merged], stdout=f,
                               stderr=subprocess.PIPE, text=True, timeout=600)
        if r.returncode != 0:
            raise RuntimeError(f"repute replay exited {r.returncode}: "
                               f"{r.stderr[-2000:]}")
        return path

    def equiv_tail(self, status, path, want):
        """Reads the output topic with `repute tail` until it holds `want`
        events or stops growing (30 s at most)."""
        deadline = time.monotonic() + 30
        prev = -1
        while True:
            with open(path, "w") as f:
                self.repute_cmd(["tail", "--from-beginning", "--idle-exit",
                                 "3s"], status=status, stdout=f)
            with open(path) as f:
                got = sum(1 for x in f if x.strip())
            if got >= want and got == prev or time.monotonic() > deadline:
                return got
            prev = got
            time.sleep(1)

    def equiv_system(self, system, prefix, topics, offs, want):
        """Runs one system over the check's topics until its group has
        committed everything; returns the path of its output."""
        name = self.next_name(f"eq-{system.replace('@', '-')}-")
        base = f"{self.prefix}-{name}"
        t0 = time.monotonic()
        if system == "repute":
            out = self.create_outputs(base, partitions=1)
            args = self.repute_args(topics, out, base, "exactly_once")
            args += ["--set", "topics.partitions=1"]
            for kv in self.a.equiv_set:
                args += ["--set", kv]
            pr = Proc(name, args, self.logdir, patterns=(r"run: ready",))
            pat, status = r"run: ready", out["status"]
        else:
            out = self.create_outputs(base, peer=True, partitions=1)
            pr = start_peer(system, name, self.logdir, self.a.build_dir,
                            self.bs, prefix, base, out,
                            java_opts=self.a.peer_java_opts.split(),
                            engine_sets=self.a.equiv_set,
                            extra=self.a.peer_args.get(system, ()))
            pat, status = READY, out["peer-status"]
        try:
            if not pr.wait_for(pat, 180):
                raise RuntimeError(f"{name} not ready:\n{pr.tail()}")
            t_ready = time.monotonic()
            self.k.wait_committed(base, offs, 600, [pr])
            secs = time.monotonic() - t0
            log(f"equivalence {system}: ready after {t_ready - t0:.1f} s, "
                f"all committed {secs - (t_ready - t0):.1f} s later")
            path = os.path.join(self.logdir, f"{name}.jsonl")
            got = self.equiv_tail(status, path, want)
        finally:
            if system == "repute":
                pr.stop()
            else:
                stop_peer(pr)
            self.k.delete_prefix(base + ".")
            self.k.delete_prefix(base + "-")
        log(f"equivalence {system}: {got} events in {secs:.1f} s")
        return path, round(secs, 1)

    def phase_equivalence(self):
        a = self.a
        prefix, topics, offs, merged, linked, gen = self.equiv_data()
        exp_path = self.equiv_replay(merged)
        expected = load_events(exp_path)
        want = sum(len(v) for v in expected.values())
        log(f"equivalence: replay wrote {want} events for {len(expected)} "
            f"accounts; {len(linked)} linked accounts")
        res = {"records": sum(offs.values()), "accounts": a.equiv_accounts,
               "span": a.equiv_span,
               "seed": a.equiv_seed, "engine_keys": list(a.equiv_set),
               "expected_events": want, "linked_accounts": len(linked),
               "loadgen": gen, "systems": {}}
        self.result["equivalence"] = res
        for system in ["repute"] + list(a.peers):
            why = None if system == "repute" else (
                self.result.get("peers", {}).get(system, {}).get("skipped")
                or peer_missing(system))
            if why:
                res["systems"][system] = {"skipped": why}
                continue
            try:
                path, secs = self.equiv_system(system, prefix, topics, offs,
                                               want)
                c = compare(expected, load_events(path), linked,
                            texts=system == "repute")
                c["seconds"] = secs
            except Exception as e:  # noqa: BLE001 - recorded, not raised
                c = {"equal": False, "error": str(e)[-2000:]}
            res["systems"][system] = c
            if system in self.result.get("peers", {}):
                self.peer_result(system)["comparable"] = bool(c.get("equal"))
                self.peer_result(system)["equivalence"] = {
                    k: c.get(k) for k in ("equal", "problems", "events_compared",
                                          "exempt", "error")
                    if k in c}
                if not c.get("equal"):
                    self.peer_result(system)["equivalence"][
                        "first_difference"] = (c.get("first_differences") or
                                               [None])[0]
            if c.get("equal"):
                log(f"equivalence {system}: SAME output as replay "
                    f"({c['events_compared']} events compared, "
                    f"{c['exempt']['events']} exempt in "
                    f"{c['exempt']['accounts']} linked accounts)")
            else:
                log(f"equivalence {system}: DIFFERS: "
                    f"{c.get('error') or c['problems']} problems; first: "
                    f"{json.dumps(c.get('first_differences', [])[:1])[:1500]}")
        self.delete_name("eq")
