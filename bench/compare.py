#!/usr/bin/env python3
"""lunakv vs. Redis 7.0, side by side, on one machine: the issue-6 yardstick.

Usage:
    bench/compare.py [--rounds N] [-n N] [--quick] [--only W,...] [--no-build] ...
    bench/compare.py --list            # the workloads and their targets
    bench/compare.py --quick --no-build   # a smoke run of everything (~2 min)
    bench/compare.py --only evalsha-limiter,memory --rounds 3

What it does:
  1. Builds target/release/lunakv-server (unless --no-build), then starts a
     fresh redis-server and a fresh lunakv-server with the same settings
     (persistence off: --save '' --appendonly no), both pinned to one core
     (taskset -c 0 by default); redis-benchmark runs on another (-c 1).
  2. Checks that both servers return identical replies for each workload's
     command/script (run once or more with the same keys and arguments).
  3. Runs every workload against both servers in turn, A B then B A, for
     --rounds rounds, and takes medians of: ops/s (redis-benchmark --csv),
     ops per second of server CPU time (the server's CPU time is the sum of
     the first field of /proc/<pid>/task/*/schedstat, i.e. ns on CPU, over
     the run), p50 and p99 latency (redis-benchmark's columns).
     Each pair is checked for interference: busy time of the two cores
     (/proc/stat) minus what both servers, redis-benchmark and this script
     used. If other processes took more than --noise of the cores, the pair
     is reported and re-run (up to --retries times; the least disturbed
     attempt is kept, rows still disturbed are marked '~').
  4. Memory: bytes per key (RSS growth) for 1,000,000 small strings,
     200,000 hashes of 10 fields and 200,000 sorted sets of 10 members,
     each loaded with redis-cli --pipe into fresh servers.
  5. Pause: the keyspace grows from 0 to 10,000,000 keys (redis-cli --pipe,
     niced, on the benchmark core) while a second connection sends PING in
     a loop (1 ms apart) and records the round trips; the worst one is the
     pause. Fresh servers again.
  6. Prints one table: workload, ops/s of both, ratio, CPU-time ratio, p50
     and p99 of both, the issue's target, the measured figure and pass/fail.
     Ratios are lunakv / Redis. "cpu ratio" = lunakv ops per CPU-second /
     Redis ops per CPU-second (higher is better).

Needs redis-server, redis-cli, redis-benchmark (Debian: redis-server
redis-tools), taskset (util-linux), Linux /proc, python3 >= 3.8.
"""

import argparse
import csv
import hashlib
import io
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK_TCK = os.sysconf("SC_CLK_TCK")
RAND = "000000000007"  # what __rand_int__ becomes in the identity check

# ---------------------------------------------------------------------------
# Scripts
# ---------------------------------------------------------------------------

# Fixed-window rate limiter: INCR + EXPIRE NX.
LIMITER = """local n = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1], 'NX')
if n > tonumber(ARGV[2]) then return 0 end
return 1"""

# Sliding-window rate limiter on a sorted set.
WINDOW = """local key = KEYS[1]
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) >= limit then return 0 end
redis.call('ZADD', key, now, ARGV[4])
redis.call('PEXPIRE', key, window)
return 1"""

# CPU-bound: 100,000 iterations of arithmetic and small strings.
LOOP = """local acc, n = 0, 0
for i = 1, 100000 do
  acc = (acc * 31 + i) % 1000000007
  local s = tostring(i)
  n = n + #s + s:byte(1)
end
return {acc, n}"""

# 100 redis.call()s.
CALLS100 = """local v
for i = 1, 50 do
  redis.call('INCR', KEYS[1])
  v = redis.call('GET', KEYS[1])
end
return v"""

ENTRY = "return 1"

# Every call compiles: the text differs per call.
UNIQUE = "return __rand_int__ % 97"

FUNCTIONS = (
    "#!lua name=lunakvbench\n"
    "redis.register_function('limiter', function(KEYS, ARGV)\n" + LIMITER + "\nend)\n"
    "redis.register_function('window', function(KEYS, ARGV)\n" + WINDOW + "\nend)\n"
)


def sha1(text):
    return hashlib.sha1(text.encode()).hexdigest()


# ---------------------------------------------------------------------------
# Workloads
# ---------------------------------------------------------------------------


class Workload:
    """One redis-benchmark run: a command (with __rand_int__ placeholders),
    its pipeline depth and clients, a request count relative to -n, the
    commands to run before each measured run (not measured) and after it,
    and the issue's target for the row."""

    def __init__(self, name, cmd, pipeline=1, clients=None, nscale=1.0,
                 keyspace=None, before=(), after=(), target=None, checks=3,
                 label=None):
        self.name = name
        self.cmd = cmd
        self.pipeline = pipeline
        self.clients = clients
        self.nscale = nscale
        self.keyspace = keyspace
        self.before = list(before)
        self.after = list(after)
        self.target = target  # (metric, op, value, text) or None
        self.checks = checks
        self.label = label or name


def workloads():
    lim = sha1(LIMITER)
    win = sha1(WINDOW)
    load = lambda *texts: [["SCRIPT", "LOAD", t] for t in texts]
    fload = [["FUNCTION", "LOAD", "REPLACE", FUNCTIONS]]
    cpu = lambda x: ("cpu", ">=", x, "cpu >= %.1f" % x)
    p99 = ("p99", "<=", 1.0, "p99 <= 1.0")
    lim_args = ["1", "rl:__rand_int__", "60", "100"]
    win_args = ["1", "sw:__rand_int__", "__rand_int__", "60000", "10", "__rand_int__"]
    w = [
        Workload("set", ["SET", "key:__rand_int__", "xxx"], target=p99, label="SET"),
        Workload("get", ["GET", "key:__rand_int__"], target=p99, label="GET"),
        Workload("incr", ["INCR", "counter:__rand_int__"], target=p99, label="INCR"),
        Workload("set-p16", ["SET", "key:__rand_int__", "xxx"], pipeline=16, nscale=5,
                 target=cpu(1.0), label="SET -P 16"),
        Workload("get-p16", ["GET", "key:__rand_int__"], pipeline=16, nscale=5,
                 target=cpu(1.0), label="GET -P 16"),
        Workload("incr-p16", ["INCR", "counter:__rand_int__"], pipeline=16, nscale=5,
                 target=cpu(1.0), label="INCR -P 16"),
        # The foundation issue's table: PING and MSET (10 keys), no target.
        Workload("ping", ["PING"], label="PING"),
        Workload("ping-p16", ["PING"], pipeline=16, nscale=5, label="PING -P 16"),
        Workload("mset", ["MSET"] + sum([["key:__rand_int__", "xxx"] for _ in range(10)], []),
                 label="MSET (10 keys)"),
        Workload("mset-p16", ["MSET"] + sum([["key:__rand_int__", "xxx"] for _ in range(10)], []),
                 pipeline=16, nscale=2, label="MSET (10 keys) -P 16"),
        Workload("evalsha-limiter", ["EVALSHA", lim] + lim_args, before=load(LIMITER),
                 target=cpu(2.0), label="EVALSHA limiter"),
        Workload("evalsha-limiter-p16", ["EVALSHA", lim] + lim_args, pipeline=16,
                 nscale=2, before=load(LIMITER), target=cpu(2.0),
                 label="EVALSHA limiter -P 16"),
        Workload("eval-limiter", ["EVAL", LIMITER] + lim_args, label="EVAL limiter (same text)"),
        Workload("eval-unique", ["EVAL", UNIQUE, "0"], nscale=0.25, keyspace=1000000000,
                 before=[["SCRIPT", "FLUSH"]], after=[["SCRIPT", "FLUSH"]],
                 target=cpu(1.0), label="EVAL unique text (compile)"),
        Workload("lua-loop", ["EVALSHA", sha1(LOOP), "0"], nscale=0.0025, clients=10,
                 before=load(LOOP), target=cpu(1.0), checks=1, label="Lua loop 100k"),
        Workload("calls-100", ["EVALSHA", sha1(CALLS100), "1", "c100:__rand_int__"],
                 nscale=0.05, before=load(CALLS100), target=cpu(3.0),
                 label="100 x redis.call"),
        Workload("window", ["EVALSHA", win] + win_args, before=load(WINDOW),
                 target=cpu(1.5), label="sliding window EVALSHA"),
        Workload("fcall-limiter", ["FCALL", "limiter"] + lim_args, before=fload,
                 target=cpu(1.5), label="FCALL limiter"),
        Workload("fcall-window", ["FCALL", "window"] + win_args, before=fload,
                 target=cpu(1.5), label="FCALL sliding window"),
        # Pipelined, so that the cost of entering a script is not buried
        # under a read and a write system call per request.
        Workload("entry", ["EVALSHA", sha1(ENTRY), "0"], pipeline=16, nscale=2,
                 before=load(ENTRY),
                 target=("us_per_call", "<=", 0.5, "cpu us/call <= 0.5x"),
                 label="script entry (return 1) -P 16"),
    ]
    return w


MEMORY_TARGETS = {
    "strings": ("bytes", "<=", 0.8, "bytes/key <= 0.8"),
    "hashes": ("bytes", "<=", 0.9, "bytes/key <= 0.9"),
    "zsets": None,  # issue 4 asks for the figures only
}
PAUSE_TARGET = ("pause_ms", "<=", 2.0, "max pause <= 2 ms")

# ---------------------------------------------------------------------------
# A minimal RESP client
# ---------------------------------------------------------------------------


class RespError(str):
    """An error reply (kept as a value so replies can be compared)."""

    def __repr__(self):
        return "(error) " + str(self)


def encode(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = b"%d" % a
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Conn:
    def __init__(self, port, timeout=30.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.f = self.sock.makefile("rb")

    def close(self):
        try:
            self.f.close()
            self.sock.close()
        except OSError:
            pass

    def call(self, *args):
        self.sock.sendall(encode(args))
        return self.read()

    def read(self):
        line = self.f.readline()
        if not line.endswith(b"\r\n"):
            raise ConnectionError("connection closed")
        t, rest = line[:1], line[1:-2]
        if t == b"+":
            return rest.decode("latin-1")
        if t == b"-":
            return RespError(rest.decode("latin-1"))
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)
            return data[:-2]
        if t == b"*":
            n = int(rest)
            if n < 0:
                return None
            return [self.read() for _ in range(n)]
        if t == b"_":
            return None
        raise ConnectionError("unexpected reply type %r" % line)


# ---------------------------------------------------------------------------
# Processes and /proc
# ---------------------------------------------------------------------------


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def task_cpu_ns(pid):
    """Nanoseconds on CPU of every thread of `pid` (schedstat, field 1)."""
    total = 0
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return 0
    for t in tasks:
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total


def rss_bytes(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def cpus_busy_ns(cpus):
    """Busy time (user+nice+system+steal) of the given CPUs, in ns."""
    total = 0
    with open("/proc/stat") as f:
        for line in f:
            if not line.startswith("cpu") or line.startswith("cpu "):
                continue
            parts = line.split()
            n = int(parts[0][3:])
            if n in cpus:
                v = [int(x) for x in parts[1:]]
                # user nice system idle iowait irq softirq steal
                total += v[0] + v[1] + v[2] + (v[7] if len(v) > 7 else 0)
    return total * 1_000_000_000 // CLK_TCK


def own_cpu_ns():
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return int((s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime) * 1e9)


class Server:
    def __init__(self, kind, binary, work, cpu, log):
        self.kind = kind
        self.port = free_port()
        self.dir = os.path.join(work, "%s-%d" % (kind, self.port))
        os.makedirs(self.dir)
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", self.dir, "--save", "", "--appendonly", "no",
                "--daemonize", "no", "--logfile", ""]
        if cpu is not None:
            args = ["taskset", "-c", str(cpu)] + args
        self.logpath = os.path.join(self.dir, "server.log")
        self.proc = subprocess.Popen(args, stdout=open(self.logpath, "wb"),
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.pid = self.proc.pid
        deadline = time.time() + 20
        while True:
            try:
                c = Conn(self.port, timeout=2)
                ok = c.call("PING") == "PONG"
                c.close()
                if ok:
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                sys.stderr.write(open(self.logpath).read())
                raise SystemExit("could not start %s (%s)" % (kind, binary))
            time.sleep(0.05)
        log("   started %s: pid %d, port %d" % (kind, self.pid, self.port))

    def cpu_ns(self):
        return task_cpu_ns(self.pid)

    def rss(self):
        return rss_bytes(self.pid)

    def run(self, cmds):
        c = Conn(self.port, timeout=120)
        try:
            return [c.call(*cmd) for cmd in cmds]
        finally:
            c.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ---------------------------------------------------------------------------
# The benchmark
# ---------------------------------------------------------------------------


class Bench:
    def __init__(self, opts):
        self.o = opts
        self.work = tempfile.mkdtemp(prefix="lunakv-bench.")
        self.servers = []
        self.rows = []
        self.raw = {"workloads": {}, "memory": {}, "pause": {}}
        self.rerun_pairs = 0
        self.noisy_pairs = 0

    def log(self, msg):
        print(msg, flush=True)

    def start(self, kind):
        binary = self.o.redis if kind == "redis" else self.o.lunakv
        s = Server(kind, binary, self.work, self.o.server_cpu, self.log)
        self.servers.append(s)
        return s

    def stop(self, s):
        s.stop()
        if s in self.servers:
            self.servers.remove(s)

    def cleanup(self):
        for s in list(self.servers):
            self.stop(s)
        shutil.rmtree(self.work, ignore_errors=True)

    # -- identity check ----------------------------------------------------

    def check(self, ws, redis, lunakv):
        self.log("== identity check: same command, same keys, same replies")
        bad = 0
        for w in ws:
            cmds = list(w.before)
            one = [a.replace("__rand_int__", RAND) for a in w.cmd]
            cmds += [one] * w.checks
            cmds += list(w.after)
            # Both servers get the same commands, so their keyspaces stay
            # alike for the benchmark that follows.
            r = redis.run(cmds)
            l = lunakv.run(cmds)
            if r != l:
                bad += 1
                self.log("   MISMATCH %s" % w.name)
                for c, a, b in zip(cmds, r, l):
                    if a != b:
                        self.log("     %s\n       redis : %r\n       lunakv: %r"
                                 % (" ".join(c)[:120].replace("\n", " "), a, b))
            else:
                shown = repr(r[len(w.before)])[:60]
                self.log("   ok  %-22s %s" % (w.name, shown))
        if bad:
            self.log("   %d workload(s) differ; their figures are not comparable" % bad)
        return bad

    # -- one measured run --------------------------------------------------

    def bench_cmd(self, w, port):
        n = max(int(self.o.n * w.nscale), 20)
        cmd = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port),
               "-c", str(w.clients or self.o.clients), "-n", str(n),
               "-r", str(w.keyspace or self.o.keyspace), "-P", str(w.pipeline),
               "--csv"] + w.cmd
        if self.o.bench_cpu is not None:
            cmd = ["taskset", "-c", str(self.o.bench_cpu)] + cmd
        return cmd, n

    def run_one(self, w, srv):
        if w.before:
            srv.run(w.before)
        cmd, n = self.bench_cmd(w, srv.port)
        c0 = srv.cpu_ns()
        t0 = time.perf_counter()
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=self.o.timeout)
        t1 = time.perf_counter()
        c1 = srv.cpu_ns()
        if w.after:
            srv.run(w.after)
        out = p.stdout.decode(errors="replace")
        rows = [r for r in csv.reader(io.StringIO(out)) if len(r) >= 8 and r[0] != "test"]
        if p.returncode != 0 or not rows:
            raise RuntimeError("redis-benchmark failed on %s (%s): %s %s"
                               % (srv.kind, w.name, p.stdout[-300:], p.stderr[-300:]))
        f = rows[-1]
        cpu = max(c1 - c0, 1)
        return {
            "rps": float(f[1]),
            "p50": float(f[4]),
            "p99": float(f[6]),
            "cpu_ns": cpu,
            "ops": n,
            "wall": t1 - t0,
            "cpu_rate": n / (cpu / 1e9),
        }

    def run_pair(self, w, order, rnd):
        cpus = {c for c in (self.o.server_cpu, self.o.bench_cpu) if c is not None}
        if not cpus:
            cpus = set(range(os.cpu_count() or 1))
        best = None
        for attempt in range(self.o.retries + 1):
            busy0 = cpus_busy_ns(cpus)
            srv0 = {s.kind: s.cpu_ns() for s in order}
            own0 = own_cpu_ns()
            t0 = time.perf_counter()
            res = {s.kind: self.run_one(w, s) for s in order}
            wall = time.perf_counter() - t0
            busy = cpus_busy_ns(cpus) - busy0
            ours = sum(s.cpu_ns() - srv0[s.kind] for s in order) + own_cpu_ns() - own0
            # /proc/stat counts in clock ticks: allow two ticks per core.
            slack = 2 * len(cpus) * 1_000_000_000 // CLK_TCK
            share = max(busy - ours - slack, 0) / (wall * 1e9 * len(cpus))
            if best is None or share < best[0]:
                best = (share, res)
            if share <= self.o.noise:
                break
            if attempt < self.o.retries:
                self.rerun_pairs += 1
                self.log("   warning: other processes took %.0f%% of the cores during "
                         "%s round %d; re-running the pair" % (share * 100, w.name, rnd))
            else:
                self.noisy_pairs += 1
                self.log("   warning: other processes took %.0f%% of the cores during "
                         "%s round %d; keeping the least disturbed attempt"
                         % (share * 100, w.name, rnd))
        return best

    def throughput(self, ws):
        redis = self.start("redis")
        lunakv = self.start("lunakv")
        if self.check(ws, redis, lunakv) and self.o.strict:
            raise SystemExit("identity check failed (--strict)")
        self.log("== throughput: %d round(s), -n %d, -c %d, -r %d (A B, then B A)"
                 % (self.o.rounds, self.o.n, self.o.clients, self.o.keyspace))
        for w in ws:
            per = {"redis": [], "lunakv": []}
            shares = []
            for rnd in range(self.o.rounds):
                order = [redis, lunakv] if rnd % 2 == 0 else [lunakv, redis]
                share, res = self.run_pair(w, order, rnd + 1)
                shares.append(share)
                for k, v in res.items():
                    per[k].append(v)
            med = {k: {m: statistics.median(r[m] for r in v)
                       for m in ("rps", "p50", "p99", "cpu_rate", "cpu_ns", "ops")}
                   for k, v in per.items()}
            noisy = max(shares) > self.o.noise
            self.raw["workloads"][w.name] = {"runs": per, "median": med,
                                             "other_share": shares}
            self.log("   %-22s redis %9.0f ops/s %9.0f ops/cpu-s | lunakv %9.0f ops/s "
                     "%9.0f ops/cpu-s | others %.0f%%"
                     % (w.name, med["redis"]["rps"], med["redis"]["cpu_rate"],
                        med["lunakv"]["rps"], med["lunakv"]["cpu_rate"], max(shares) * 100))
            self.rows.append(self.workload_row(w, med, noisy))
        self.stop(redis)
        self.stop(lunakv)

    def workload_row(self, w, med, noisy):
        r, l = med["redis"], med["lunakv"]
        ratio = l["rps"] / r["rps"] if r["rps"] else 0.0
        cpu_ratio = l["cpu_rate"] / r["cpu_rate"] if r["cpu_rate"] else 0.0
        row = {
            "workload": w.label + (" ~" if noisy else ""),
            "redis": "%.0f" % r["rps"],
            "lunakv": "%.0f" % l["rps"],
            "ratio": "%.2f" % ratio,
            "cpu": "%.2f" % cpu_ratio,
            "rlat": "%.3f/%.3f" % (r["p50"], r["p99"]),
            "llat": "%.3f/%.3f" % (l["p50"], l["p99"]),
            "target": "",
            "measured": "",
            "pass": "",
        }
        if w.target:
            metric, op, val, text = w.target
            if metric == "cpu":
                got = cpu_ratio
                shown = "%.2f" % got
            elif metric == "p99":
                got = l["p99"] / r["p99"] if r["p99"] else float("inf")
                shown = "p99 %.2f" % got
            elif metric == "us_per_call":
                ru = r["cpu_ns"] / r["ops"] / 1000
                lu = l["cpu_ns"] / l["ops"] / 1000
                got = lu / ru if ru else float("inf")
                shown = "%.2f/%.2fus %.2fx" % (ru, lu, got)
            else:
                raise ValueError(metric)
            row.update(target=text, measured=shown, **{"pass": verdict(got, op, val)})
        return row

    # -- memory ------------------------------------------------------------

    def gen_file(self, name, n, make):
        path = os.path.join(self.work, name)
        with open(path, "wb") as f:
            chunk = 100_000
            for lo in range(0, n, chunk):
                f.write(b"".join(make(i) for i in range(lo, min(lo + chunk, n))))
        return path

    def pipe(self, srv, path, nice=False):
        cmd = ["redis-cli", "-h", "127.0.0.1", "-p", str(srv.port), "--pipe"]
        if nice:
            cmd = ["nice", "-n", "19"] + cmd
        if self.o.bench_cpu is not None:
            cmd = ["taskset", "-c", str(self.o.bench_cpu)] + cmd
        with open(path, "rb") as f:
            p = subprocess.run(cmd, stdin=f, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=3600)
        out = p.stdout.decode(errors="replace")
        if p.returncode != 0 or "errors: 0," not in out:
            raise RuntimeError("redis-cli --pipe into %s: %s" % (srv.kind, out[-400:]))

    def memory(self):
        o = self.o
        sets = [
            ("strings", o.mem_strings, "%d small strings" % o.mem_strings,
             lambda i: b"*3\r\n$3\r\nSET\r\n$12\r\nkey:%08d\r\n$3\r\n%03d\r\n" % (i, i % 1000)),
            ("hashes", o.mem_hashes, "%d hashes x 10 fields" % o.mem_hashes,
             lambda i: b"*22\r\n$4\r\nHSET\r\n$10\r\nh:%08d\r\n" % i + b"".join(
                 b"$6\r\nfield%d\r\n$6\r\nv%05d\r\n" % (j, (i + j) % 100000) for j in range(10))),
            ("zsets", o.mem_zsets, "%d sorted sets x 10" % o.mem_zsets,
             lambda i: b"*22\r\n$4\r\nZADD\r\n$10\r\nz:%08d\r\n" % i + b"".join(
                 b"$%d\r\n%d\r\n$8\r\nmember:%d\r\n" % (len(b"%d" % (i + j)), i + j, j)
                 for j in range(10))),
        ]
        for name, n, label, make in sets:
            if n <= 0:
                continue
            self.log("== memory: %s (fresh servers, redis-cli --pipe)" % label)
            path = self.gen_file("mem-%s.resp" % name, n, make)
            got = {}
            for kind in ("redis", "lunakv"):
                s = self.start(kind)
                time.sleep(0.3)
                before = s.rss()
                self.pipe(s, path)
                dbsize = s.run([["DBSIZE"]])[0]
                time.sleep(0.5)
                after = s.rss()
                self.stop(s)
                if dbsize != n:
                    self.log("   %s: DBSIZE %r, expected %d" % (kind, dbsize, n))
                got[kind] = (after - before) / n
                self.log("   %-6s RSS %d -> %d bytes: %.1f bytes/key"
                         % (kind, before, after, got[kind]))
            os.unlink(path)
            self.raw["memory"][name] = got
            ratio = got["lunakv"] / got["redis"] if got["redis"] > 0 else float("inf")
            t = MEMORY_TARGETS[name]
            self.rows.append({
                "workload": "memory: " + label,
                "redis": "%.1f B/key" % got["redis"],
                "lunakv": "%.1f B/key" % got["lunakv"],
                "ratio": "%.2f" % ratio, "cpu": "", "rlat": "", "llat": "",
                "target": t[3] if t else "(figures)",
                "measured": "%.2f" % ratio,
                "pass": verdict(ratio, t[1], t[2]) if t else "",
            })

    # -- pause while the keyspace grows --------------------------------------

    def pause(self):
        n = self.o.pause_keys
        if n <= 0:
            return
        self.log("== pause: keyspace 0 -> %d keys (pipelined SETs) with PING every 1 ms" % n)
        path = self.gen_file("pause.resp", n, lambda i: (
            b"*3\r\n$3\r\nSET\r\n$12\r\nkey:%08d\r\n$1\r\nv\r\n" % i))
        got = {}
        for kind in ("redis", "lunakv"):
            s = self.start(kind)
            stop = threading.Event()
            rtts = []

            def pinger():
                # The pinger shares the load generator's core (where the
                # loader runs niced), not the server's: on the server's core
                # it would wait for the scheduler to take the core away from
                # the busy server, and measure time slices, not the server.
                if self.o.bench_cpu is not None and hasattr(os, "sched_setaffinity"):
                    os.sched_setaffinity(0, {self.o.bench_cpu})
                c = Conn(s.port, timeout=60)
                try:
                    while not stop.is_set():
                        t0 = time.perf_counter()
                        c.call("PING")
                        rtts.append(time.perf_counter() - t0)
                        time.sleep(0.001)
                finally:
                    c.close()

            th = threading.Thread(target=pinger, daemon=True)
            th.start()
            time.sleep(0.2)
            cpus = {c for c in (self.o.server_cpu, self.o.bench_cpu) if c is not None}
            cpus = cpus or set(range(os.cpu_count() or 1))
            busy0, srv0, own0 = cpus_busy_ns(cpus), s.cpu_ns(), own_cpu_ns()
            t0 = time.perf_counter()
            self.pipe(s, path, nice=True)
            load = time.perf_counter() - t0
            busy = cpus_busy_ns(cpus) - busy0
            ours = s.cpu_ns() - srv0 + own_cpu_ns() - own0
            share = max(busy - ours, 0) / (load * 1e9 * len(cpus))
            if share > self.o.noise:
                self.log("   warning: other processes took %.0f%% of the cores while "
                         "loading %s; its pauses may include theirs" % (share * 100, kind))
            time.sleep(0.2)
            stop.set()
            th.join(10)
            dbsize = s.run([["DBSIZE"]])[0]
            self.stop(s)
            rtts.sort()
            worst = rtts[-1] * 1000 if rtts else float("nan")
            p999 = rtts[int(len(rtts) * 0.999)] * 1000 if rtts else float("nan")
            over = sum(1 for x in rtts if x > 0.002)
            got[kind] = worst
            self.raw["pause"][kind] = {"max_ms": worst, "p999_ms": p999, "pings": len(rtts),
                                      "over_2ms": over, "load_s": load, "dbsize": dbsize,
                                      "other_share": share}
            self.log("   %-6s %d keys in %.1f s; %d PINGs, p99.9 %.2f ms, max %.2f ms, "
                     "%d over 2 ms" % (kind, dbsize if isinstance(dbsize, int) else -1,
                                       load, len(rtts), p999, worst, over))
        os.unlink(path)
        ratio = got["lunakv"] / got["redis"] if got["redis"] else float("inf")
        self.rows.append({
            "workload": "pause 0 -> %s keys" % human(n),
            "redis": "%.2f ms" % got["redis"], "lunakv": "%.2f ms" % got["lunakv"],
            "ratio": "%.2f" % ratio, "cpu": "", "rlat": "", "llat": "",
            "target": PAUSE_TARGET[3], "measured": "%.2f ms" % got["lunakv"],
            "pass": verdict(got["lunakv"], PAUSE_TARGET[1], PAUSE_TARGET[2]),
        })

    # -- output ------------------------------------------------------------

    def table(self):
        cols = [("workload", "workload", "<"), ("redis", "redis ops/s", ">"),
                ("lunakv", "lunakv ops/s", ">"), ("ratio", "ratio", ">"),
                ("cpu", "cpu ratio", ">"), ("rlat", "redis p50/p99 ms", ">"),
                ("llat", "lunakv p50/p99 ms", ">"), ("target", "target", "<"),
                ("measured", "measured", ">"), ("pass", "pass", "<")]
        widths = {k: max(len(h), *(len(r[k]) for r in self.rows)) for k, h, _ in cols}
        line = lambda vals: "| " + " | ".join(
            ("%-*s" if a == "<" else "%*s") % (widths[k], vals[k]) for k, _, a in cols) + " |"
        print()
        print(line({k: h for k, h, _ in cols}))
        print("|" + "|".join(("-" * (widths[k] + 1) + ":" if a == ">" else
                              "-" * (widths[k] + 2)) for k, _, a in cols) + "|")
        for r in self.rows:
            print(line(r))
        print()
        print("ratio = lunakv / Redis ops/s; cpu ratio = lunakv / Redis ops per second of "
              "server CPU time;")
        print("script entry: CPU us per call, redis/lunakv, and their ratio; p99 rows: "
              "lunakv p99 / Redis p99;")
        print("medians of %d round(s); servers on CPU %s, redis-benchmark on CPU %s; "
              "'~' = other processes took > %.0f%% of the cores in some pair"
              % (self.o.rounds, self.o.server_cpu, self.o.bench_cpu, self.o.noise * 100))
        if self.rerun_pairs or self.noisy_pairs:
            print("pairs re-run for interference: %d; still disturbed after %d retries: %d"
                  % (self.rerun_pairs, self.o.retries, self.noisy_pairs))
        passed = sum(1 for r in self.rows if r["pass"] == "PASS")
        failed = sum(1 for r in self.rows if r["pass"] == "FAIL")
        print("targets: %d pass, %d fail" % (passed, failed))


def verdict(got, op, val):
    ok = got >= val if op == ">=" else got <= val
    return "PASS" if ok else "FAIL"


def human(n):
    for unit, div in (("M", 1_000_000), ("k", 1_000)):
        if n >= div and n % div == 0:
            return "%d%s" % (n // div, unit)
    return str(n)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5, help="rounds (A B / B A pairs), default 5")
    ap.add_argument("-n", type=int, default=200000, help="requests per run (scaled per workload)")
    ap.add_argument("-c", "--clients", type=int, default=50, help="parallel clients (default 50)")
    ap.add_argument("-r", "--keyspace", type=int, default=100000, help="random keyspace (-r)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: -n 5000, 1 round, small memory and pause tests")
    ap.add_argument("--only", default="",
                    help="comma-separated workloads (names from --list; also memory, pause)")
    ap.add_argument("--list", action="store_true", help="list the workloads and exit")
    ap.add_argument("--no-build", action="store_true", help="don't cargo build --release")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory tests")
    ap.add_argument("--no-pause", action="store_true", help="skip the pause test")
    ap.add_argument("--mem-strings", type=int, default=1_000_000, help="strings for the memory test (0 = skip)")
    ap.add_argument("--mem-hashes", type=int, default=200_000, help="hashes of 10 fields (0 = skip)")
    ap.add_argument("--mem-zsets", type=int, default=200_000, help="sorted sets of 10 members (0 = skip)")
    ap.add_argument("--pause-keys", type=int, default=10_000_000, help="keys loaded in the pause test (0 = skip)")
    ap.add_argument("--retries", type=int, default=2, help="re-runs of a disturbed pair")
    ap.add_argument("--noise", type=float, default=0.10,
                    help="share of the cores other processes may take (default 0.10)")
    ap.add_argument("--server-cpu", type=int, default=0, help="core for both servers")
    ap.add_argument("--bench-cpu", type=int, default=1, help="core for redis-benchmark")
    ap.add_argument("--no-pin", action="store_true", help="don't use taskset")
    ap.add_argument("--strict", action="store_true", help="stop if the identity check fails")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per redis-benchmark run")
    ap.add_argument("--json", help="write the raw figures to this file")
    ap.add_argument("--lunakv", default=os.path.join(ROOT, "target/release/lunakv-server"),
                    help="lunakv binary (default target/release/lunakv-server)")
    ap.add_argument("--redis", default=shutil.which("redis-server") or "/usr/bin/redis-server",
                    help="redis-server binary (default: the one on PATH)")
    o = ap.parse_args()

    ws = workloads()
    if o.list:
        for w in ws:
            t = w.target[3] if w.target else "-"
            print("%-22s P%-2d %-18s %s" % (w.name, w.pipeline, t,
                                            " ".join(w.cmd).replace("\n", " ")[:70]))
        print("%-22s %s" % ("memory", "bytes/key: strings <= 0.8, hashes <= 0.9, zsets"))
        print("%-22s %s" % ("pause", PAUSE_TARGET[3]))
        return 0
    if o.quick:
        defaults = ap.parse_args([])
        if o.n == defaults.n:
            o.n = 5000
        if o.rounds == defaults.rounds:
            o.rounds = 1
        o.mem_strings = min(o.mem_strings, 100_000)
        o.mem_hashes = min(o.mem_hashes, 20_000)
        o.mem_zsets = min(o.mem_zsets, 20_000)
        o.pause_keys = min(o.pause_keys, 1_000_000)
    only = {x.strip() for x in o.only.split(",") if x.strip()}
    names = {w.name for w in ws} | {"memory", "pause"}
    unknown = only - names
    if unknown:
        ap.error("unknown workload(s): %s (see --list)" % ", ".join(sorted(unknown)))
    if only:
        ws = [w for w in ws if w.name in only]
        if "memory" not in only:
            o.no_memory = True
        if "pause" not in only:
            o.no_pause = True
    if o.no_pause:
        o.pause_keys = 0
    if o.no_pin:
        o.server_cpu = o.bench_cpu = None
    elif shutil.which("taskset") is None or (os.cpu_count() or 1) < 2:
        print("warning: taskset or a second CPU missing; running unpinned", file=sys.stderr)
        o.server_cpu = o.bench_cpu = None
    for tool in ("redis-cli", "redis-benchmark"):
        if shutil.which(tool) is None:
            raise SystemExit("missing %s (apt-get install redis-tools)" % tool)
    if not os.access(o.redis, os.X_OK):
        raise SystemExit("missing redis-server (%s)" % o.redis)
    if not o.no_build:
        print("== cargo build --release -p lunakv-server", flush=True)
        subprocess.run(["cargo", "build", "--release", "-p", "lunakv-server"], cwd=ROOT,
                       check=True)
    if not os.access(o.lunakv, os.X_OK):
        raise SystemExit("missing %s (build it or pass --lunakv)" % o.lunakv)
    if o.bench_cpu is not None:
        # This script (the PING loop of the pause test) runs beside the load
        # generator, away from the servers.
        os.sched_setaffinity(0, {o.bench_cpu})

    b = Bench(o)
    print("== %s; %s" % (subprocess.run([o.redis, "--version"], stdout=subprocess.PIPE)
                          .stdout.decode().strip(),
                          subprocess.run([o.lunakv, "--version"], stdout=subprocess.PIPE)
                          .stdout.decode().strip()), flush=True)
    print("== load average: %s" % open("/proc/loadavg").read().strip(), flush=True)
    try:
        if ws:
            b.throughput(ws)
        if not o.no_memory:
            b.memory()
        b.pause()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        b.cleanup()
    if b.rows:
        b.table()
    if o.json:
        with open(o.json, "w") as f:
            json.dump(b.raw, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
