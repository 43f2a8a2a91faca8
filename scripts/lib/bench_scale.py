"""The scale phase of scripts/bench (issue 20): how long the master stops answering while a
big dataset is snapshotted or freed. A client pings the master every 10 ms; the phase reports the
p99 and the worst round trip during BGSAVE, BGREWRITEAOF, a disk-based and a diskless full sync
to a replica of the same kind, and FLUSHALL ASYNC, all on KEYS small string keys (DEBUG POPULATE).
Targets: p99 <= 50 ms and <= 2x redis-server's in the same run."""
import os
import socket
import subprocess
import threading
import time

PING = b"*1\r\n$4\r\nPING\r\n"


class Pinger(threading.Thread):
    """PINGs `port` every `interval` s on one connection and records each round trip (s)."""

    def __init__(self, port, interval=0.010):
        super().__init__(daemon=True)
        self.port, self.interval = port, interval
        self.samples = []
        self.stop_flag = threading.Event()

    def run(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=120)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        nxt = time.monotonic()
        while not self.stop_flag.is_set():
            t0 = time.monotonic()
            s.sendall(PING)
            buf = b""
            while not buf.endswith(b"\r\n"):
                chunk = s.recv(64)
                if not chunk:
                    return
                buf += chunk
            self.samples.append(time.monotonic() - t0)
            nxt += self.interval
            delay = nxt - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                nxt = time.monotonic()
        s.close()

    def finish(self):
        self.stop_flag.set()
        self.join(timeout=120)
        xs = sorted(self.samples)
        if not xs:
            return None, None
        p99 = xs[min(len(xs) - 1, int(len(xs) * 0.99))]
        return p99 * 1000, xs[-1] * 1000


def _info(cli, port, section):
    out = {}
    for line in cli(port, "info", section).splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k] = v.strip()
    return out


def _wait(cond, timeout=900, step=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return False


def _start(ServerProc, kind, binary, workdir, extra):
    """A ServerProc with extra arguments (DEBUG enabled on redis, no diskless delay)."""
    s = ServerProc(kind, binary, workdir)
    os.makedirs(workdir, exist_ok=True)
    s.port = _free_port()
    args = [binary, "--port", str(s.port), "--bind", "127.0.0.1", "--save", "", "--dir", workdir,
            "--appendonly", "no", "--repl-diskless-sync-delay", "0"] + extra
    if kind == "redis":
        args += ["--enable-debug-command", "yes"]
    s.logf = open(os.path.join(workdir, "server.log"), "ab")
    s.started = time.monotonic()
    s.proc = subprocess.Popen(args, stdout=s.logf, stderr=subprocess.STDOUT, cwd=workdir)
    s.wait_ready()
    return s


def _free_port():
    while True:
        with socket.socket() as so:
            so.bind(("127.0.0.1", 0))
            port = so.getsockname()[1]
        if port not in (6379, 6380, 6381, 26379, 26380, 26381):
            return port


def _measure(port, action, done):
    """Runs `action`, then waits for `done()`; returns (p99 ms, max ms) of the pings meanwhile."""
    p = Pinger(port)
    p.start()
    time.sleep(0.2)  # a few quiet samples first: the idle round trip is part of the figure
    action()
    if not _wait(done):
        raise RuntimeError("scale phase: operation did not finish")
    time.sleep(0.1)
    return p.finish()


def run_round(kinds, work, rnd, add, quick, log, ServerProc, cli, running):
    keys = 1000000 if quick else 5000000
    for kind, binary in kinds:
        d = os.path.join(work, f"r{rnd}-{kind}-scale")
        m = _start(ServerProc, kind, binary, d, [])
        running.append(m)
        log(f"round {rnd}: scale phase on {kind}: DEBUG POPULATE {keys}")
        cli(m.port, "debug", "populate", str(keys), timeout=1800)

        def record(metric, figures):
            p99, worst = figures
            if p99 is not None:
                add(kind, f"scale_{metric}_p99_ms", p99)
                add(kind, f"scale_{metric}_max_ms", worst)
                log(f"  {kind} {metric}: ping p99 {p99:.1f} ms, max {worst:.1f} ms")

        pers = lambda: _info(cli, m.port, "persistence")
        record("bgsave", _measure(m.port, lambda: cli(m.port, "bgsave"),
                                  lambda: pers().get("rdb_bgsave_in_progress") == "0"))
        record("bgrewriteaof", _measure(m.port, lambda: cli(m.port, "bgrewriteaof"),
                                        lambda: pers().get("aof_rewrite_in_progress") == "0"
                                        and pers().get("aof_rewrite_scheduled") == "0"))
        for mode in ("disk", "diskless"):
            cli(m.port, "config", "set", "repl-diskless-sync", "yes" if mode == "diskless" else "no")
            r = _start(ServerProc, kind, binary, os.path.join(work, f"r{rnd}-{kind}-scale-{mode}"), [])
            running.append(r)

            def synced():
                ri = _info(cli, r.port, "replication")
                mi = _info(cli, m.port, "replication")
                return (ri.get("master_link_status") == "up" and "state=online" in mi.get("slave0", "")
                        and ri.get("slave_repl_offset") == mi.get("master_repl_offset"))

            record(f"sync_{mode}", _measure(m.port, lambda: cli(r.port, "replicaof", "127.0.0.1", str(m.port)), synced))
            r.stop()
            running.remove(r)
            _wait(lambda: _info(cli, m.port, "replication").get("connected_slaves") == "0", timeout=60)
        record("flushall_async", _measure(m.port, lambda: cli(m.port, "flushall", "async"),
                                          lambda: cli(m.port, "dbsize") == "0"
                                          and _info(cli, m.port, "memory").get("lazyfree_pending_objects") == "0"))
        m.stop()
        running.remove(m)


ROWS = [
    ("scale_bgsave_p99_ms", "PING p99 ms during BGSAVE (5M keys)", "{:.1f}", 2.0, "lower"),
    ("scale_bgrewriteaof_p99_ms", "PING p99 ms during BGREWRITEAOF", "{:.1f}", 2.0, "lower"),
    ("scale_sync_disk_p99_ms", "PING p99 ms during full sync (disk)", "{:.1f}", 2.0, "lower"),
    ("scale_sync_diskless_p99_ms", "PING p99 ms during full sync (diskless)", "{:.1f}", 2.0, "lower"),
    ("scale_flushall_async_p99_ms", "PING p99 ms during FLUSHALL ASYNC", "{:.1f}", 2.0, "lower"),
    ("scale_bgsave_max_ms", "PING max ms during BGSAVE", "{:.1f}", 2.0, "lower"),
    ("scale_sync_disk_max_ms", "PING max ms during full sync (disk)", "{:.1f}", 2.0, "lower"),
    ("scale_sync_diskless_max_ms", "PING max ms during full sync (diskless)", "{:.1f}", 2.0, "lower"),
    ("scale_flushall_async_max_ms", "PING max ms during FLUSHALL ASYNC", "{:.1f}", 2.0, "lower"),
]
