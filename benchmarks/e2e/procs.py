"""Child processes and what /proc says about them.

Every system under test is a child process whose only interface, for the
harness, is its log and its /proc entries: repute says `run: ready` when
every task has restored its state, the peer says `peer: running`, and the
harness times phases from those lines. So a Proc reads the merged output on
a thread of its own as it comes, writes it to a log file, and records the
monotonic time and the process's CPU seconds at the first line that matches
each pattern; wait_for() then blocks on a condition until a pattern was seen,
the process died, or time ran out. CPU time and RSS come from
/proc/PID/stat and /proc/PID/status (all threads), read at the instants the
phases choose.

Proc.all remembers every live child, so that the run can stop them all
(SIGINT, then SIGKILL after a grace period) however it ends. run_tool() is
for the short-lived tools instead: it runs one to completion and returns the
JSON line each of them prints last.
"""
import json
import os
import re
import signal
import subprocess
import threading
import time

from .common import CLK_TCK, log


def proc_cpu_seconds(pid):
    """utime + stime of a process (all its threads), in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return None
    fields = s[s.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def machine_busy_seconds():
    """CPU seconds the whole machine has spent busy since boot (all cores:
    /proc/stat less idle and iowait)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v) - v[3] - v[4]) / CLK_TCK


def broker_cpu_seconds():
    """CPU seconds of the local broker's JVM, or None without one (a broker
    elsewhere, REPUTE_BOOTSTRAP)."""
    pids = broker_pids()
    if not pids:
        return None
    return sum(proc_cpu_seconds(p) or 0.0 for p in pids)


class CpuMeter:
    """Where the CPU went over an interval: the local broker's seconds and
    the machine's busy seconds between start() and stop(), so that a
    system's rate can be read against the cores the machine had left."""

    def start(self):
        self.b0, self.m0 = broker_cpu_seconds(), machine_busy_seconds()
        self.t0 = time.monotonic()
        return self

    def stop(self):
        b1, m1 = broker_cpu_seconds(), machine_busy_seconds()
        secs = max(time.monotonic() - self.t0, 1e-3)
        broker = (b1 - self.b0 if b1 is not None and self.b0 is not None
                  else None)
        return {"broker_cpu_seconds": None if broker is None else round(broker, 2),
                "machine_cores_busy": round((m1 - self.m0) / secs, 2)}


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


CGROUP_NAME = "repute-bench"


def limit_cpus(pid, cores):
    """Puts process `pid`, all its threads and every thread it starts later,
    under a CPU quota of `cores` (a fraction of one core or more): the
    cgroup "repute-bench", cgroup v2 (cpu.max) or v1 (the cpu controller's
    cfs quota). The soak uses it to make its input outrun repute on a
    machine whose load generator cannot outrun a whole core (--repute-cpus).
    Needs root; raises RuntimeError with the reason otherwise."""
    quota, period = int(cores * 100_000), 100_000
    try:
        v2 = "/sys/fs/cgroup/cgroup.controllers"
        if os.path.exists(v2) and "cpu" in open(v2).read().split():
            d = f"/sys/fs/cgroup/{CGROUP_NAME}"
            with open("/sys/fs/cgroup/cgroup.subtree_control", "w") as f:
                f.write("+cpu")
            os.makedirs(d, exist_ok=True)
            with open(f"{d}/cpu.max", "w") as f:
                f.write(f"{quota} {period}")
        elif os.path.isdir("/sys/fs/cgroup/cpu"):
            d = f"/sys/fs/cgroup/cpu/{CGROUP_NAME}"
            os.makedirs(d, exist_ok=True)
            with open(f"{d}/cpu.cfs_period_us", "w") as f:
                f.write(str(period))
            with open(f"{d}/cpu.cfs_quota_us", "w") as f:
                f.write(str(quota))
        else:
            raise OSError("no cgroup cpu controller under /sys/fs/cgroup")
        with open(f"{d}/cgroup.procs", "w") as f:
            f.write(str(pid))
    except OSError as e:
        raise RuntimeError(f"--repute-cpus: cannot set a CPU quota ({e}); it "
                           "needs root and a cgroup cpu controller") from e


def broker_pids():
    """The local broker's JVM (deploy/kafka-local.sh), by its main class."""
    r = subprocess.run(["pgrep", "-f", "kafka\\.Kafka"], capture_output=True,
                       text=True)
    return [int(x) for x in r.stdout.split()]


def pin_all_threads(pid, cpus):
    """Every thread of process pid (and those it starts later) on `cpus`
    (a taskset list such as "0" or "0-1"); raises RuntimeError on failure."""
    r = subprocess.run(["taskset", "-a", "-p", "-c", cpus, str(pid)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"--pin: taskset on {pid}: {r.stderr.strip()}")


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
