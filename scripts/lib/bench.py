#!/usr/bin/env python3
"""Driver for scripts/bench: runs vigil-node and redis-server side by side, interleaved, and prints
medians with vigil/redis ratios. Server CPU comes from /proc/<pid>/stat (utime+stime) so it is
robust to the benchmark client being the bottleneck on a small machine."""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_streams  # noqa: E402  (the streams phase)
import bench_scripting  # noqa: E402  (the scripting phase)
import bench_scale  # noqa: E402  (the scale phase: latency during snapshots and lazy frees)
import bench_cache  # noqa: E402  (the cache phase, --only cache)

CLK_TCK = os.sysconf("SC_CLK_TCK")
RESERVED_PORTS = {6379, 6380, 6381, 26379, 26380, 26381}


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port():
    while True:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if port not in RESERVED_PORTS:
            return port


def cpu_seconds(pid):
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    # The command name may contain spaces: fields start after the closing parenthesis.
    fields = data[data.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def cli(port, *args, timeout=600):
    r = subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True, timeout=timeout)
    return r.stdout.strip()


class ServerProc:
    """One server process on a free port in its own directory."""

    def __init__(self, kind, binary, workdir, extra_args=()):
        self.kind, self.binary, self.dir = kind, binary, workdir
        self.extra_args = list(extra_args)
        self.proc = None
        self.port = None

    def start(self, wait=True):
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--dir", self.dir]
        if self.kind == "redis":
            args += ["--appendonly", "no"]
        args += self.extra_args
        self.logf = open(os.path.join(self.dir, "server.log"), "ab")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(args, stdout=self.logf, stderr=subprocess.STDOUT, cwd=self.dir)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=300):
        """Waits for PONG and loading:0; returns seconds since the process was started."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self.proc.returncode}; see {self.dir}/server.log")
            try:
                if cli(self.port, "ping", timeout=10) == "PONG" and "loading:0" in cli(self.port, "info", "persistence", timeout=10):
                    return time.monotonic() - self.started
            except subprocess.TimeoutExpired:
                pass
            time.sleep(0.005)
        raise RuntimeError(f"{self.kind} on port {self.port} not ready")

    def cpu(self):
        return cpu_seconds(self.proc.pid)

    def rss(self):
        return rss_bytes(self.proc.pid)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def run_benchmark(server, args):
    """Runs redis-benchmark --csv; returns ({test: rps}, server CPU seconds used, total requests)."""
    cpu0 = server.cpu()
    r = subprocess.run(["redis-benchmark", "-p", str(server.port), "--csv", "-q", *args],
                       capture_output=True, text=True, timeout=1800)
    cpu1 = server.cpu()
    rps = {}
    for line in r.stdout.splitlines():
        parts = [p.strip('"') for p in line.split(",")]
        if len(parts) >= 2 and parts[0] != "test":
            try:
                rps[parts[0]] = float(parts[1])
            except ValueError:
                pass
    n = int(args[args.index("-n") + 1])
    return rps, cpu1 - cpu0, n * len(rps)


def write_pipe_file(path, kind, count):
    """RESP commands for `redis-cli --pipe`: `count` small strings, or hashes of 1000 fields."""
    def cmd(parts):
        out = [b"*%d\r\n" % len(parts)]
        for p in parts:
            out.append(b"$%d\r\n%s\r\n" % (len(p), p))
        return b"".join(out)
    with open(path, "wb") as f:
        if kind == "strings":
            for i in range(count):
                f.write(cmd([b"SET", b"key:%d" % i, b"value:%d" % i]))
        else:
            hashes, per_cmd = count // 1000, 100
            for h in range(hashes):
                for start in range(0, 1000, per_cmd):
                    parts = [b"HSET", b"hash:%d" % h]
                    for j in range(start, start + per_cmd):
                        parts += [b"field:%d" % j, b"value:%d" % j]
                    f.write(cmd(parts))


def resp(parts):
    out = [b"*%d\r\n" % len(parts)]
    for p in parts:
        out.append(b"$%d\r\n%s\r\n" % (len(p), p))
    return b"".join(out)


def write_datatypes_file(path, n):
    """The 1M-element inputs of the data-type phase: a bitmap with n bits set (every other
    one), two HLLs of n elements, a GEO set of n members spread over Europe, a list of n numbers."""
    import random
    rng = random.Random(16)
    with open(path, "wb") as f:
        for i in range(0, 2 * n, 2):
            f.write(resp([b"SETBIT", b"bits", b"%d" % i, b"1"]))
        for key in (b"hll", b"hll2"):
            for start in range(0, n, 1000):
                f.write(resp([b"PFADD", key] + [b"%s:%d" % (key, j) for j in range(start, min(n, start + 1000))]))
        for start in range(0, n, 500):
            parts = [b"GEOADD", b"geo"]
            for j in range(start, min(n, start + 500)):
                parts += [b"%.6f" % rng.uniform(-10, 10), b"%.6f" % rng.uniform(35, 55), b"m:%012d" % j]
            f.write(resp(parts))
        for start in range(0, n, 1000):
            f.write(resp([b"RPUSH", b"list"] + [b"%d" % rng.randrange(10 ** 9) for _ in range(start, min(n, start + 1000))]))


# (label, redis-benchmark command, requests full/quick, clients): every command runs on the
# 1M-element values written by write_datatypes_file.
DATATYPE_TESTS = [
    ("SETBIT", ["SETBIT", "bits", "1234567", "1"], (200000, 40000), 50),
    ("GETBIT", ["GETBIT", "bits", "1234567"], (200000, 40000), 50),
    ("BITCOUNT", ["BITCOUNT", "bits"], (20000, 4000), 50),
    ("PFADD", ["PFADD", "hll", "__rand_int__"], (200000, 40000), 50),
    ("PFCOUNT", ["PFCOUNT", "hll"], (200000, 40000), 50),
    ("PFCOUNT 2 keys", ["PFCOUNT", "hll", "hll2"], (20000, 4000), 50),
    # Moves existing members, away from where GEOSEARCH looks (it would find them all).
    ("GEOADD", ["GEOADD", "geo", "5.5", "50.5", "m:__rand_int__"], (100000, 20000), 50),
    ("GEOSEARCH", ["GEOSEARCH", "geo", "FROMLONLAT", "1.5", "42.5", "BYRADIUS", "10", "km", "ASC", "COUNT", "10"], (50000, 10000), 50),
    ("SORT", ["SORT", "list", "LIMIT", "0", "10"], (10, 3), 1),
]


def run_datatypes(server, quick, add):
    """Throughput and server CPU per request of each data-type command."""
    for label, cmd, (full, fast), clients in DATATYPE_TESTS:
        n = fast if quick else full
        cpu0 = server.cpu()
        t0 = time.monotonic()
        r = subprocess.run(["redis-benchmark", "-p", str(server.port), "-q", "--csv", "-c", str(clients), "-n", str(n),
                            "-r", "1000000", *cmd], capture_output=True, text=True, timeout=3600)
        elapsed = time.monotonic() - t0
        cpu = server.cpu() - cpu0
        rps = None
        for line in r.stdout.splitlines():
            parts = [x.strip('"') for x in line.split(",")]
            if len(parts) >= 2 and parts[0] != "test":
                try:
                    rps = float(parts[1])
                except ValueError:
                    pass
        if rps is None:
            rps = n / elapsed
        add(server.kind, f"dt:{label}", rps)
        add(server.kind, f"dt-cpu:{label}", cpu / n * 1e6)


def pipe_load(server, path):
    with open(path, "rb") as f:
        r = subprocess.run(["redis-cli", "-p", str(server.port), "--pipe"], stdin=f, capture_output=True, text=True, timeout=900)
    if "errors: 0" not in r.stdout:
        raise RuntimeError(f"--pipe into {server.kind} failed: {r.stdout} {r.stderr}")


def settle_rss(server):
    """VmRSS after the allocator settles (freed input buffers etc.)."""
    time.sleep(0.3)
    return server.rss()


def median(xs):
    return statistics.median(xs) if xs else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigil", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--redis", default=shutil.which("redis-server"))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--json", default=None)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--only", default="throughput,memory,rdb,streams,scripting,repl,datatypes")
    a = ap.parse_args()

    phases = set(a.only.split(","))
    rounds = a.rounds or (1 if a.quick else 3)
    mix_n = 20000 if a.quick else 100000
    pipe_n = 500000 if a.quick else 2000000
    keys = 200000 if a.quick else 1000000
    fields = 200000 if a.quick else 1000000

    kinds = [("vigil", a.vigil)]
    if a.redis:
        kinds.append(("redis", a.redis))
    else:
        log("redis-server not installed: vigil only, no ratios")

    work = tempfile.mkdtemp(prefix="vigil-bench.")
    samples = {k: {} for k, _ in kinds}

    def add(kind, metric, value):
        samples[kind].setdefault(metric, []).append(value)

    running = []
    try:
        if phases & {"memory", "rdb"}:
            log(f"writing --pipe inputs ({keys} keys, {fields} hash fields)")
            strings_path = os.path.join(work, "strings.resp")
            hashes_path = os.path.join(work, "hashes.resp")
            write_pipe_file(strings_path, "strings", keys)
            write_pipe_file(hashes_path, "hashes", fields)

        if "datatypes" in phases:
            dt_n = 200000 if a.quick else 1000000
            log(f"writing the data-type inputs ({dt_n} elements each)")
            dt_path = os.path.join(work, "datatypes.resp")
            write_datatypes_file(dt_path, dt_n)

        for rnd in range(1, rounds + 1):
            if "scale" in phases:
                bench_scale.run_round(kinds, work, rnd, add, a.quick, log, ServerProc, cli, running)
            if "datatypes" in phases:
                for k, b in kinds:
                    s = ServerProc(k, b, os.path.join(work, f"r{rnd}-{k}-dt")).start()
                    running.append(s)
                    log(f"round {rnd}: data-type commands on {k}")
                    pipe_load(s, dt_path)
                    run_datatypes(s, a.quick, add)
                    s.stop()
                    running.remove(s)
            if "throughput" in phases:
                servers = [ServerProc(k, b, os.path.join(work, f"r{rnd}-{k}-tp")) for k, b in kinds]
                running.extend(servers)
                for s in servers:
                    s.start()
                for label, args in [("mix", ["-c", "50", "-n", str(mix_n)]),
                                    ("pipelined", ["-c", "50", "-P", "16", "-n", str(pipe_n), "-t", "set,get"])]:
                    for s in servers:
                        log(f"round {rnd}: {label} on {s.kind}")
                        rps, cpu, total = run_benchmark(s, args)
                        if not rps:
                            log(f"  no results from redis-benchmark on {s.kind}")
                            continue
                        add(s.kind, f"{label}_rps", median(list(rps.values())))
                        add(s.kind, f"{label}_cpu_per_M", cpu / total * 1e6)
                        for t, v in rps.items():
                            add(s.kind, f"{label}:{t}", v)
                for s in servers:
                    s.stop()
                    running.remove(s)

            if "cache" in phases:
                bench_cache.run_round(ServerProc, kinds, work, rnd, cli, run_benchmark, settle_rss, add, a.quick, log)

            if "streams" in phases:
                for k, b in kinds:
                    s = ServerProc(k, b, os.path.join(work, f"r{rnd}-{k}-streams")).start()
                    running.append(s)
                    log(f"round {rnd}: streams on {k}")
                    bench_streams.run_round(s, cli, run_benchmark, settle_rss, add, a.quick, log)
                    s.stop()
                    running.remove(s)
                    s = ServerProc(k, b, os.path.join(work, f"r{rnd}-{k}-streams-mem")).start()
                    running.append(s)
                    bench_streams.run_memory(s, run_benchmark, settle_rss, add, a.quick)
                    s.stop()
                    running.remove(s)

            if "scripting" in phases:
                for k, b in kinds:
                    s = ServerProc(k, b, os.path.join(work, f"r{rnd}-{k}-scripting")).start()
                    running.append(s)
                    log(f"round {rnd}: scripting on {k}")
                    bench_scripting.run_round(s, cli, run_benchmark, add, a.quick, log)
                    s.stop()
                    running.remove(s)

            if phases & {"memory", "rdb"}:
                for k, b in kinds:
                    # Small strings: RSS per key, then SAVE and a timed restart that loads the dump.
                    d = os.path.join(work, f"r{rnd}-{k}-mem")
                    s = ServerProc(k, b, d).start()
                    running.append(s)
                    base = settle_rss(s)
                    log(f"round {rnd}: loading {keys} keys into {k}")
                    pipe_load(s, strings_path)
                    add(k, "bytes_per_key", (settle_rss(s) - base) / keys)
                    if "rdb" in phases:
                        t0 = time.monotonic()
                        cli(s.port, "save")
                        add(k, "save_s", time.monotonic() - t0)
                        s.stop()
                        # SIGTERM must not rewrite the dump (--save ''); load it back.
                        s.start(wait=False)
                        add(k, "load_s", s.wait_ready())
                        dbsize = cli(s.port, "dbsize")
                        if dbsize != str(keys):
                            log(f"  {k} loaded {dbsize} keys, expected {keys}")
                    s.stop()
                    running.remove(s)
                    if "memory" in phases:
                        s = ServerProc(k, b, d + "-hash").start()
                        running.append(s)
                        base = settle_rss(s)
                        log(f"round {rnd}: loading {fields} hash fields into {k}")
                        pipe_load(s, hashes_path)
                        add(k, "bytes_per_field", (settle_rss(s) - base) / fields)
                        s.stop()
                        running.remove(s)
    finally:
        for s in running:
            s.stop()

    report(samples, kinds, rounds, a)

    extra = {}
    if "repl" in phases and not a.quick:
        for script in ("bench-repl", "bench-sentinel"):
            path = os.path.join(a.root, "scripts", script)
            if os.access(path, os.X_OK):
                log(f"running scripts/{script}")
                r = subprocess.run([path], capture_output=True, text=True, timeout=900)  # their own defaults
                print(r.stdout)
                extra[script] = r.stdout
    if a.json:
        med = {k: {m: median(v) for m, v in samples[k].items()} for k in samples}
        with open(a.json, "w") as f:
            json.dump({"rounds": rounds, "quick": a.quick, "samples": samples, "medians": med, "extra": extra}, f, indent=1)
    shutil.rmtree(work, ignore_errors=True)


ROWS = [
    # (metric, label, format, target ratio, better)
    ("mix_rps", "default mix rps (median of tests)", "{:,.0f}", 1.0, "higher"),
    ("pipelined_rps", "pipelined -P16 SET/GET rps (median)", "{:,.0f}", 1.0, "higher"),
    ("mix_cpu_per_M", "server CPU s / 1M req (default mix)", "{:.2f}", 0.8, "lower"),
    ("pipelined_cpu_per_M", "server CPU s / 1M req (pipelined)", "{:.2f}", 0.8, "lower"),
    ("bytes_per_key", "RSS bytes / small key", "{:.1f}", 1.0, "lower"),
    ("bytes_per_field", "RSS bytes / hash field", "{:.1f}", 1.0, "lower"),
    ("save_s", "SAVE seconds (small keys)", "{:.3f}", 1.0, "lower"),
    ("load_s", "RDB load seconds (to PONG + loading:0)", "{:.3f}", 1.0, "lower"),
]


ROWS += bench_streams.ROWS
ROWS += bench_scripting.ROWS
ROWS += bench_scale.ROWS
ROWS += bench_cache.ROWS


def report(samples, kinds, rounds, a):
    have_redis = len(kinds) > 1
    print(f"\nvigil-node vs redis-server: medians of {rounds} interleaved round(s){' (quick)' if a.quick else ''}")
    hdr = f"{'metric':<40} {'vigil':>12} {'redis':>12} {'ratio':>7}  target"
    print(hdr)
    print("-" * len(hdr))
    for metric, label, fmt, target, better in ROWS:
        v = median(samples["vigil"].get(metric, []))
        r = median(samples["redis"].get(metric, [])) if have_redis else None
        if v is None and r is None:
            continue
        vs = fmt.format(v) if v is not None else "-"
        rs = fmt.format(r) if r is not None else "-"
        ratio, verdict = "-", ""
        if v is not None and r:
            q = v / r
            ratio = f"{q:.2f}"
            ok = q >= target if better == "higher" else q <= target
            verdict = f"{'>=' if better == 'higher' else '<='}{target:.1f} {'met' if ok else 'NOT met'}"
            if better == "info":
                verdict = ""
        print(f"{label:<40} {vs:>12} {rs:>12} {ratio:>7}  {verdict}")
    dts = [m.split(":", 1)[1] for m in samples["vigil"] if m.startswith("dt:")]
    if dts:
        print("\ndata-type commands on 1M-element values (rps; server CPU us / request)")
        for t in dts:
            v = median(samples["vigil"].get(f"dt:{t}", []))
            r = median(samples["redis"].get(f"dt:{t}", [])) if have_redis else None
            vc = median(samples["vigil"].get(f"dt-cpu:{t}", []))
            rc = median(samples["redis"].get(f"dt-cpu:{t}", [])) if have_redis else None
            ratio = f"{v / r:.2f}" if v and r else "-"
            cpu = f"{vc:.1f} / {rc:.1f}" if vc is not None and rc is not None else "-"
            verdict = ("met" if v / r >= 1.0 else "NOT met") if v and r else ""
            print(f"  {t:<16} {v:>12,.1f} {(r or 0):>12,.1f} {ratio:>7}  cpu {cpu:<18} >=1.0 {verdict}")
    # Per-test detail of the default mix, for finding the slow commands.
    tests = [m.split(":", 1)[1] for m in samples["vigil"] if m.startswith("mix:")]
    if tests:
        print("\ndefault mix per test (rps)")
        for t in tests:
            v = median(samples["vigil"].get(f"mix:{t}", []))
            r = median(samples["redis"].get(f"mix:{t}", [])) if have_redis else None
            ratio = f"{v / r:.2f}" if v and r else "-"
            print(f"  {t:<38} {v:>12,.0f} {(r or 0):>12,.0f} {ratio:>7}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
