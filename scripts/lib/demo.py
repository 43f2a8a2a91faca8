#!/usr/bin/env python3
"""The failover story of the seeds, narrated live: 1 master + 2 replicas + 3 sentinels on loopback,
a writer that finds the master through the sentinels, the master killed, the failover, the old
master rejoining as a replica. Standard library only (no pip install needed)."""
import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

T0 = time.monotonic()
PASSWORD = "123456"


def say(msg):
    print(f"[{time.monotonic() - T0:7.3f}s] {msg}", flush=True)


# ----------------------------------------------------------------------------- a tiny RESP client
class RespError(Exception):
    pass


class Client:
    def __init__(self, port, password=None, timeout=1.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        if password:
            self.call("AUTH", password)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, *args):
        out = [f"*{len(args)}\r\n".encode()]
        for a in args:
            b = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(b), b))
        self.sock.sendall(b"".join(out))

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            raise RespError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("closed")
                self.buf += chunk
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data.decode(errors="replace")
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RespError(f"unexpected reply {line!r}")

    def call(self, *args):
        self.send(*args)
        return self.read()


def info(port, password=PASSWORD):
    c = Client(port, password)
    try:
        text = c.call("INFO")
    finally:
        c.close()
    return dict(l.split(":", 1) for l in text.splitlines() if ":" in l and not l.startswith("#"))


def wait_until(cond, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if cond():
                return True
        except (OSError, RespError, ConnectionError, ValueError):
            pass
        time.sleep(interval)
    return False


# ----------------------------------------------------------------------------- the deployment
class Deployment:
    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="vigil-demo-")
        self.nodes = [args.base_port + i for i in range(3)]
        self.sentinels = [args.sentinel_base_port + i for i in range(3)]
        self.procs = {}
        examples = os.path.join(os.path.dirname(__file__), "..", "..", "sentinel-examples")
        rename = {str(6379 + i): str(p) for i, p in enumerate(self.nodes)}
        rename.update({str(26379 + i): str(p) for i, p in enumerate(self.sentinels)})
        for name in sorted(os.listdir(examples)):
            if not name.endswith(".conf"):
                continue
            text = open(os.path.join(examples, name)).read()
            # Whole numbers only: 6379 must not match inside 26379.
            text = re.sub(r"\b\d{4,5}\b", lambda m: rename.get(m.group(0), m.group(0)), text)
            name = re.sub(r"\d{4,5}", lambda m: rename.get(m.group(0), m.group(0)), name)
            text = text.replace("down-after-milliseconds mymaster 1000", f"down-after-milliseconds mymaster {args.down_after}")
            with open(os.path.join(self.work, name), "w") as f:
                f.write(text)

    def conf(self, port):
        if port in self.sentinels:
            return f"sentinel-{port}.conf"
        return "master.conf" if port == self.nodes[0] else f"replica-{port}.conf"

    def start(self, port):
        binary = self.args.sentinel_bin if port in self.sentinels else self.args.node_bin
        extra = ["--sentinel"] if port in self.sentinels and os.path.basename(binary) == "redis-server" else []
        out = open(os.path.join(self.work, f"stdout-{port}.log"), "ab")
        # Detached (its own session) when the deployment must outlive this script: scripts/cluster up.
        self.procs[port] = subprocess.Popen([binary, self.conf(port), *extra], cwd=self.work, stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=getattr(self.args, "detach", False))
        password = None if port in self.sentinels else PASSWORD
        if not wait_until(lambda: Client(port, password).call("PING") == "PONG", 10):
            raise SystemExit(f"process on port {port} did not start; see {self.work}")

    def kill(self, port, sig=signal.SIGKILL):
        p = self.procs.get(port)
        if p and p.poll() is None:
            p.send_signal(sig)
            p.wait()

    def stop_all(self):
        for port in list(self.procs):
            p = self.procs[port]
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()

    def master_addr(self):
        for s in self.sentinels:
            try:
                c = Client(s, timeout=0.3)
                r = c.call("SENTINEL", "get-master-addr-by-name", "mymaster")
                c.close()
                if r:
                    return int(r[1])
            except (OSError, RespError, ConnectionError):
                continue
        return None


def free_block(n):
    """The first port of n consecutive free loopback ports."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + n >= 65000:
            continue
        try:
            socks = []
            for p in range(base, base + n):
                t = socket.socket()
                socks.append(t)
                t.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
        finally:
            for t in socks:
                t.close()
    raise SystemExit("no free ports")


# ----------------------------------------------------------------------------- the story
EVENTS = ("+sdown", "-sdown", "+odown", "-odown", "+new-epoch", "+try-failover", "+vote-for-leader",
          "+elected-leader", "+selected-slave", "+promoted-slave", "+failover-state-reconf-slaves",
          "+slave-reconf-sent", "+slave-reconf-done", "+failover-end", "+switch-master",
          "+convert-to-slave", "+reboot", "+tilt", "-tilt")


def watch_events(port, seen, stop):
    try:
        c = Client(port, timeout=0.5)
        c.send("PSUBSCRIBE", "*")
        c.read()
    except (OSError, RespError, ConnectionError) as e:
        say(f"cannot subscribe to sentinel {port}: {e}")
        return
    while not stop.is_set():
        try:
            msg = c.read()
        except socket.timeout:
            continue
        except (OSError, ConnectionError):
            return
        if isinstance(msg, list) and len(msg) == 4 and msg[0] == "pmessage" and msg[2] in EVENTS:
            seen.append((time.monotonic(), msg[2], msg[3]))
            say(f"sentinel {port}: {msg[2]} {msg[3]}")


def writer(dep, stats, stop):
    i = 0
    conn, port = None, None
    while not stop.is_set():
        i += 1
        try:
            if conn is None:
                port = dep.master_addr()
                if port is None:
                    raise ConnectionError("no master known")
                conn = Client(port, PASSWORD, timeout=0.3)
            conn.call("SET", f"demo:{i}", i)
            stats["ok"] += 1
            stats["last_ok"] = (time.monotonic(), port)
            if stats.get("failing"):
                say(f"writer: writes resumed on 127.0.0.1:{port} (SET demo:{i})")
                stats["failing"] = False
                stats["resumed"] = (time.monotonic(), port)
        except (OSError, RespError, ConnectionError) as e:
            stats["failed"] += 1
            if not stats.get("failing"):
                say(f"writer: write to 127.0.0.1:{port} failed ({e.__class__.__name__}: {e}); asking the sentinels again")
                stats["failing"] = True
            if conn:
                conn.close()
            conn = None
        stop.wait(0.1)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--base-port", type=int, default=6379)
    ap.add_argument("--sentinel-base-port", type=int, default=26379)
    ap.add_argument("--down-after", type=int, default=1000)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--free-ports", action="store_true", help="pick free loopback ports (tests)")
    ap.add_argument("--redis", action="store_true", help="run the same story with redis-server/redis-sentinel")
    args = ap.parse_args()
    if args.redis:
        args.node_bin, args.sentinel_bin = shutil.which("redis-server"), shutil.which("redis-sentinel")
    else:
        args.node_bin = os.path.join(args.bin_dir, "vigil-node")
        args.sentinel_bin = os.path.join(args.bin_dir, "vigil-sentinel")

    if args.free_ports:
        args.base_port, args.sentinel_base_port = free_block(3), free_block(3)
    dep = Deployment(args)
    say(f"working directory {dep.work} (copies of sentinel-examples/)")
    stop = threading.Event()
    ok = False
    try:
        for p in dep.nodes:
            dep.start(p)
        say(f"master 127.0.0.1:{dep.nodes[0]}, replicas {dep.nodes[1]} and {dep.nodes[2]} started")
        if not wait_until(lambda: all(info(p).get("master_link_status") == "up" for p in dep.nodes[1:]), 20):
            raise SystemExit("replicas did not sync")
        say("both replicas are in sync (master_link_status:up)")
        for p in dep.sentinels:
            dep.start(p)
        say(f"sentinels {', '.join(map(str, dep.sentinels))} started")

        def discovered():
            for s in dep.sentinels:
                m = Client(s).call("SENTINEL", "MASTER", "mymaster")
                d = dict(zip(m[::2], m[1::2]))
                if d["num-slaves"] != "2" or d["num-other-sentinels"] != "2":
                    return False
            return True
        if not wait_until(discovered, 30):
            raise SystemExit("sentinels did not discover each other and the replicas")
        say("every sentinel knows 2 replicas and 2 other sentinels")

        seen = []
        for s in dep.sentinels:
            threading.Thread(target=watch_events, args=(s, seen, stop), daemon=True).start()
        stats = {"ok": 0, "failed": 0}
        threading.Thread(target=writer, args=(dep, stats, stop), daemon=True).start()
        wait_until(lambda: stats["ok"] >= 10, 10)
        old = dep.nodes[0]
        say(f"writer: {stats['ok']} writes acknowledged by 127.0.0.1:{old}; now killing the master with SIGKILL")
        t_kill = time.monotonic()
        dep.kill(old)
        if not wait_until(lambda: any(e[1] == "+switch-master" for e in seen), 30):
            raise SystemExit("no +switch-master within 30 s")
        if not wait_until(lambda: "resumed" in stats, 15):
            raise SystemExit("writes did not resume")
        t_res, new = stats["resumed"]
        say(f"RESULT: new master 127.0.0.1:{new}; writes were unavailable for {t_res - t_kill:.2f} s after the kill")

        say(f"restarting the old master 127.0.0.1:{old}")
        dep.start(old)
        if not wait_until(lambda: info(old).get("role") == "slave" and info(old).get("master_link_status") == "up", 30):
            raise SystemExit("the old master did not rejoin as a replica")
        say(f"RESULT: old master 127.0.0.1:{old} rejoined as a replica of 127.0.0.1:{info(old).get('master_port')}")
        stop.set()
        say(f"writes: {stats['ok']} acknowledged, {stats['failed']} failed during the failover")
        say("config lines rewritten by the failover:")
        for name in sorted(os.listdir(dep.work)):
            if name.endswith(".conf"):
                for line in open(os.path.join(dep.work, name)):
                    if line.startswith(("replicaof", "slaveof", "sentinel monitor", "sentinel known-", "sentinel current-epoch")):
                        print(f"    {name}: {line.rstrip()}", flush=True)
        ok = True
    finally:
        stop.set()
        if args.keep and ok:
            say(f"--keep: deployment left running in {dep.work}; pids " + " ".join(str(p.pid) for p in dep.procs.values()))
        else:
            dep.stop_all()
            if ok:
                shutil.rmtree(dep.work, ignore_errors=True)
            else:
                say(f"logs kept in {dep.work}")
    say("done" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
