#!/usr/bin/env python3
"""Fault scenarios against vigil-node (1 master + 2 replicas) and 3 vigil-sentinels on loopback.

Prints a table: scenario, writes acknowledged, acknowledged writes lost, stale writes accepted.
Run through scripts/faults (which builds the binaries). Every process started is stopped.

- kill9:       kill -9 of the master under a steady write load with WAIT 1; after the failover every
               acknowledged key must be on the new master.
- sigstop:     SIGSTOP of the master past down-after, SIGCONT after the failover; a client still
               talking to the old master counts the writes it accepts before being demoted (stale).
- sigstop-minrep: the same with min-replicas-to-write 1 / min-replicas-max-lag 1.
- sentinel-restart: kill -9 of the master, then kill -9 of the failover leader sentinel as soon as it
               is elected, restarted a moment later; the failover must still finish with no loss.
- two-sentinels-down: 2 of 3 sentinels killed, then the master restarted (kill -9 + restart):
               no failover may happen (no majority), the old master serves again, nothing lost.
- all-sentinels-gone: every sentinel killed -9 for 10 s under plain SETs to a healthy master, then
               restarted one at a time: what the master does without any supervisor (writes
               accepted / refused, when it starts refusing, when it takes writes again). Run for
               vigil with self-fencing yes, vigil with the default (no), and redis-server.
- cluster-switchover: `scripts/cluster switchover` (the operator's CLI) under plain SETs.
- partition:   (root only) master in its own network namespace with a client on its side; the
               link is cut until the others fail over, then healed; writes the isolated master
               acknowledged are stale/lost.
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import redis

BIN = os.environ.get("VIGIL_BIN_DIR") or sys.exit("VIGIL_BIN_DIR not set")
DOWN_AFTER = 400
FAILOVER_TIMEOUT = 4000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(cond, timeout=10.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if cond():
                return True
        except Exception:
            pass
        time.sleep(interval)
    return False


class Proc:
    def __init__(self, argv, cwd, port, host="127.0.0.1", prefix=()):
        self.argv, self.cwd, self.port, self.host, self.prefix = argv, cwd, port, host, list(prefix)
        self.start()

    def start(self):
        self.logf = open(os.path.join(self.cwd, "out.log"), "ab")
        self.p = subprocess.Popen(self.prefix + self.argv, cwd=self.cwd, stdout=self.logf, stderr=subprocess.STDOUT)

    def client(self, **kw):
        return redis.Redis(host=self.host, port=self.port, socket_timeout=2, socket_connect_timeout=2, **kw)

    def ready(self):
        return wait_until(lambda: self.client().ping(), timeout=10)

    def sig(self, s):
        if self.p.poll() is None:
            os.kill(self.p.pid, s)

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        self.logf.close()

    def stop(self):
        if self.p.poll() is None:
            self.sig(signal.SIGCONT)
            self.p.terminate()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        if not self.logf.closed:
            self.logf.close()

    def log(self):
        with open(os.path.join(self.cwd, "out.log"), "rb") as f:
            return f.read().decode(errors="replace")


IMPLS = {
    # Self-fencing is opt-in (off by default, as Redis has none); the example deployment turns it on.
    "vigil": (lambda: os.path.join(BIN, "vigil-node"), lambda: os.path.join(BIN, "vigil-sentinel"), ["--self-fencing", "yes"]),
    # vigil-node with its default (`self-fencing no`): only the all-sentinels-gone comparison uses it.
    "vigil-nofence": (lambda: os.path.join(BIN, "vigil-node"), lambda: os.path.join(BIN, "vigil-sentinel"), []),
    "redis": (lambda: "/usr/bin/redis-server", lambda: "/usr/bin/redis-sentinel", ["--repl-diskless-sync-delay", "0"]),
}


class Deployment:
    def __init__(self, master_extra=(), master_host="127.0.0.1", master_prefix=(), replica_extra=(), impl="vigil"):
        self.procs = []
        self.impl = impl
        try:
            self.setup(master_extra, master_host, master_prefix, replica_extra)
        except BaseException:
            self.stop()  # a failed start must not leave processes behind
            raise

    def setup(self, master_extra, master_host, master_prefix, replica_extra):
        self.master = self.node(extra=master_extra, host=master_host, prefix=master_prefix,
                                bind=["--bind", master_host])
        self.replicas = [self.node(extra=["--replicaof", master_host, str(self.master.port), *replica_extra])
                         for _ in range(2)]
        for r in self.replicas:
            assert wait_until(lambda: r.client().info("replication").get("master_link_status") == "up", 10)
        self.sentinels = [self.sentinel() for _ in range(3)]
        assert wait_until(lambda: all(len(s.client().execute_command("SENTINEL", "SENTINELS", "m")) == 2 and
                                      len(s.client().execute_command("SENTINEL", "REPLICAS", "m")) == 2
                                      for s in self.sentinels), 15), "sentinels did not discover each other"

    def node(self, extra=(), host="127.0.0.1", prefix=(), bind=("--bind", "127.0.0.1")):
        port = free_port()
        d = tempfile.mkdtemp(prefix="vigil-faults-")
        node_bin, _, node_extra = IMPLS[self.impl]
        p = Proc([node_bin(), "--port", str(port), "--save", "", "--appendonly", "no",
                  *bind, *node_extra, *extra], d, port, host=host, prefix=prefix)
        self.procs.append(p)
        assert p.ready(), "node did not start:\n" + p.log()
        return p

    def sentinel(self):
        port = free_port()
        d = tempfile.mkdtemp(prefix="vigil-faults-s-")
        with open(os.path.join(d, "sentinel.conf"), "w") as f:
            f.write(f"port {port}\nbind 127.0.0.1\n"
                    f"sentinel monitor m {self.master.host} {self.master.port} 2\n"
                    f"sentinel down-after-milliseconds m {DOWN_AFTER}\n"
                    f"sentinel failover-timeout m {FAILOVER_TIMEOUT}\n"
                    # Reached over the veth (partition) a sentinel would announce 10.78.0.1 there
                    # and 127.0.0.1 elsewhere, and its peers would flap between the two.
                    + ("sentinel announce-ip 127.0.0.1\n" if self.master.host != "127.0.0.1" else ""))
        p = Proc([IMPLS[self.impl][1](), os.path.join(d, "sentinel.conf")], d, port)
        self.procs.append(p)
        assert p.ready(), "sentinel did not start:\n" + p.log()
        return p

    def master_addr(self, sentinels=None):
        for s in sentinels or self.sentinels:
            try:
                h, p = s.client().execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "m")
                return h.decode(), int(p)
            except Exception:
                continue
        return None

    def client_for(self, addr):
        return redis.Redis(host=addr[0], port=addr[1], socket_timeout=1, socket_connect_timeout=1)

    def stop(self):
        for p in self.procs:
            p.stop()


class Writer(threading.Thread):
    """SET w:<i> with WAIT 1 <ms> against whatever the sentinels call the master; records acks."""

    def __init__(self, dep, wait_ms=1000):
        super().__init__(daemon=True)
        self.dep, self.wait_ms = dep, wait_ms
        self.acked, self.i, self.stopped, self.errors = [], 0, False, 0

    def run(self):
        conn, addr = None, None
        deadline = time.monotonic() + 60  # bounded even if nobody stops us
        while not self.stopped and time.monotonic() < deadline:
            try:
                a = self.dep.master_addr()
                if a != addr or conn is None:
                    addr, conn = a, self.dep.client_for(a)
                key = f"w:{self.i}"
                self.i += 1
                pipe = conn.pipeline(transaction=False)
                pipe.set(key, "1")
                pipe.execute_command("WAIT", 1, self.wait_ms)
                ok, n = pipe.execute()
                if ok and n >= 1:
                    self.acked.append(key)
            except Exception:
                self.errors += 1
                conn = None
                time.sleep(0.02)  # back off while the master is away (not synchronization)


def lost_keys(dep, keys):
    addr = dep.master_addr()
    c = dep.client_for(addr)
    missing = 0
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        missing += sum(1 for v in c.mget(chunk) if v is None)
    return missing


def wait_failover(dep, old, timeout=15, sentinels=None):
    return wait_until(lambda: (a := dep.master_addr(sentinels)) is not None and a[1] != old.port, timeout)


def scenario_kill9():
    dep = Deployment()
    try:
        w = Writer(dep)
        w.start()
        assert wait_until(lambda: len(w.acked) >= 200, 20)
        dep.master.kill()
        ok = wait_failover(dep, dep.master)
        n0 = len(w.acked)
        wait_until(lambda: len(w.acked) >= n0 + 200, 15)
        w.stopped = True
        w.join()
        return ("kill -9 master, WAIT 1", len(w.acked), lost_keys(dep, w.acked), 0, "failover" if ok else "NO FAILOVER")
    finally:
        dep.stop()


def stale_writes(dep, old):
    """Writes the resumed old master accepts from a client that still talks to it."""
    c = redis.Redis(host=old.host, port=old.port, socket_timeout=1)
    accepted, keys = 0, []
    start = time.monotonic()
    deadline = start + 20
    i = 0
    while time.monotonic() < deadline:
        try:
            c.set(f"stale:{i}", "1")
            keys.append(f"stale:{i}")
            accepted += 1
        except redis.exceptions.ReadOnlyError:
            break
        except redis.exceptions.ResponseError as e:
            if "NOREPLICAS" not in str(e):
                break
        except Exception:
            pass
        i += 1
    return accepted, keys, time.monotonic() - start


def scenario_sigstop(minrep, impl="vigil"):
    extra = ["--min-replicas-to-write", "1", "--min-replicas-max-lag", "1"] if minrep else []
    dep = Deployment(master_extra=extra, impl=impl)
    try:
        w = Writer(dep)
        w.start()
        assert wait_until(lambda: len(w.acked) >= 200, 20)
        old = dep.master
        old.sig(signal.SIGSTOP)
        ok = wait_failover(dep, old)
        n0 = len(w.acked)
        wait_until(lambda: len(w.acked) >= n0 + 100, 15)
        w.stopped = True
        w.join()
        old.sig(signal.SIGCONT)
        accepted, keys, secs = stale_writes(dep, old)
        demoted = wait_until(lambda: old.client().info("replication").get("role") == "slave", 15)
        lost = lost_keys(dep, w.acked)
        name = f"{impl}: SIGSTOP master > down-after" + (", min-replicas 1/lag 1" if minrep else "")
        note = ("failover" if ok else "NO FAILOVER") + (f", old master refused writes after {secs:.1f}s" if demoted else ", NOT demoted")
        return (name, len(w.acked), lost, accepted, note)
    finally:
        dep.stop()


def scenario_sentinel_restart():
    dep = Deployment()
    try:
        w = Writer(dep)
        w.start()
        assert wait_until(lambda: len(w.acked) >= 200, 20)
        dep.master.kill()
        leader = []

        def elected():
            for s in dep.sentinels:
                if "+elected-leader" in s.log() or "+failover-state-select-slave" in s.log():
                    leader.append(s)
                    return True
            return False
        wait_until(elected, 15, interval=0.005)
        restarted = "no leader seen"
        if leader:
            leader[0].kill()
            time.sleep(0.3)  # keep it down a moment: the scenario, not synchronization
            leader[0].start()
            restarted = "leader killed+restarted"
        ok = wait_failover(dep, dep.master, timeout=FAILOVER_TIMEOUT / 1000 * 3 + 10)
        n0 = len(w.acked)
        wait_until(lambda: len(w.acked) >= n0 + 100, 15)
        w.stopped = True
        w.join()
        agree = wait_until(lambda: len({dep.master_addr([s]) for s in dep.sentinels}) == 1, 10)
        note = f"{restarted}, " + ("failover" if ok else "NO FAILOVER") + (", sentinels agree" if agree else ", sentinels DISAGREE")
        return ("sentinel killed mid-failover", len(w.acked), lost_keys(dep, w.acked), 0, note)
    finally:
        dep.stop()


def scenario_two_sentinels_down():
    dep = Deployment()
    try:
        w = Writer(dep)
        w.start()
        assert wait_until(lambda: len(w.acked) >= 100, 20)
        for s in dep.sentinels[1:]:
            s.kill()
        old = dep.master
        old.sig(signal.SIGSTOP)  # down long enough for SDOWN, but no majority for ODOWN/failover
        failed_over = wait_failover(dep, old, timeout=3, sentinels=dep.sentinels[:1])
        old.sig(signal.SIGCONT)
        n0 = len(w.acked)
        wait_until(lambda: len(w.acked) >= n0 + 100, 15)
        w.stopped = True
        w.join()
        still = old.client().info("replication").get("role") == "master"
        note = ("FAILED OVER without majority" if failed_over else "no failover") + (", master kept its role" if still else ", master DEMOTED")
        return ("2 of 3 sentinels down + master paused", len(w.acked), lost_keys(dep, w.acked), 0, note)
    finally:
        dep.stop()


def scenario_partition(minrep=False, impl="vigil"):
    if os.geteuid() != 0:
        return ("partition (netns)" + (", min-replicas" if minrep else ""), "-", "-", "-", "SKIPPED: needs root for ip netns")
    ns, a, b = f"vglf{os.getpid()}", f"vgf{os.getpid() % 10000}a", f"vgf{os.getpid() % 10000}b"
    host, inner = "10.78.0.1", "10.78.0.2"
    run = lambda *c: subprocess.run(c, check=True, capture_output=True)
    run("ip", "netns", "add", ns)
    dep = None
    try:
        run("ip", "link", "add", a, "type", "veth", "peer", "name", b)
        run("ip", "link", "set", b, "netns", ns)
        run("ip", "addr", "add", host + "/30", "dev", a)
        run("ip", "link", "set", a, "up")
        # While the veth is down nothing for 10.78.0.0/30 may leave by the default route.
        run("ip", "route", "add", "unreachable", "10.78.0.0/30", "metric", "4000")
        run("ip", "netns", "exec", ns, "ip", "addr", "add", inner + "/30", "dev", b)
        run("ip", "netns", "exec", ns, "ip", "link", "set", b, "up")
        run("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
        # Master inside the namespace; replicas and sentinels outside reach it over the veth.
        extra = ["--min-replicas-to-write", "1", "--min-replicas-max-lag", "1"] if minrep else []
        dep = Deployment(master_extra=["--protected-mode", "no", *extra], master_host=inner,
                         master_prefix=["ip", "netns", "exec", ns], replica_extra=["--replica-announce-ip", "127.0.0.1"],
                         impl=impl)
        # The replicas announce 127.0.0.1 so the sentinels reach them while the veth is down (the
        # demoted old master, inside the namespace, cannot follow 127.0.0.1 afterwards: it only has
        # to stop accepting writes here).
        w = Writer(dep)
        w.start()
        assert wait_until(lambda: len(w.acked) >= 200, 20)
        # Cut the link (drop every packet both ways); a client on the master's side keeps writing.
        run("ip", "link", "set", a, "down")
        side = redis.Redis(host=inner, port=dep.master.port, socket_timeout=1)
        stale, stale_keys, after_promotion = 0, [], 0
        ok = False
        cut, last_ok = time.monotonic(), None
        deadline = time.monotonic() + 20
        i = 0
        while time.monotonic() < deadline:
            try:
                # The client on the master's side runs inside the namespace.
                r = subprocess.run(["ip", "netns", "exec", ns, "redis-cli", "-h", inner, "-p", str(dep.master.port),
                                    "SET", f"iso:{i}", "1"], capture_output=True, timeout=5)
                if r.stdout.strip() == b"OK":
                    last_ok = time.monotonic() - cut
                    stale += 1
                    after_promotion += ok
                    stale_keys.append(f"iso:{i}")
            except Exception:
                pass
            i += 1
            a_ = dep.master_addr()
            if a_ and a_[1] != dep.master.port:
                ok = True
            # Keep the partition (and the isolated client writing) for 3 s at least, so the
            # min-replicas variant shows when the isolated master starts refusing.
            if ok and time.monotonic() - cut > 3:
                break
        # Heal; the sentinels demote the old master, which drops its isolated writes.
        run("ip", "link", "set", a, "up")
        demoted = wait_until(lambda: b"role:slave" in subprocess.run(
            ["ip", "netns", "exec", ns, "redis-cli", "-h", inner, "-p", str(dep.master.port), "INFO", "replication"],
            capture_output=True, timeout=5).stdout, 20)
        n0 = len(w.acked)
        wait_until(lambda: len(w.acked) >= n0 + 100, 15)
        w.stopped = True
        w.join()
        del side
        note = ("failover" if ok else "NO FAILOVER") + (f", last stale write {last_ok:.1f}s after cut" if last_ok is not None else "")
        note += f", {after_promotion} acknowledged after the promotion"
        note += (", healed old master demoted" if demoted else ", old master NOT demoted")
        name = f"{impl}: partition: master + 1 client isolated" + (", min-replicas 1/lag 1" if minrep else "")
        return (name, len(w.acked), lost_keys(dep, w.acked), stale, note)
    finally:
        if dep:
            dep.stop()
        subprocess.run(["ip", "route", "del", "unreachable", "10.78.0.0/30", "metric", "4000"], capture_output=True)
        subprocess.run(["ip", "link", "del", a], capture_output=True)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


class PlainWriter(threading.Thread):
    """Plain SETs (no WAIT) on one connection to the master the sentinels name, as a
    sentinel-aware client does: on an error or a disconnection it asks again. Records every
    acknowledged key and the longest time between two acknowledged writes."""

    def __init__(self, dep):
        super().__init__(daemon=True)
        self.dep = dep
        self.acked, self.i, self.stopped, self.errors, self.longest = [], 0, False, 0, 0.0

    def run(self):
        conn, last = None, None
        deadline = time.monotonic() + 300
        while not self.stopped and time.monotonic() < deadline:
            try:
                if conn is None:
                    conn = self.dep.client_for(self.dep.master_addr())
                key = f"p:{self.i}"
                self.i += 1
                if conn.set(key, "1"):
                    now = time.monotonic()
                    if last is not None:
                        self.longest = max(self.longest, now - last)
                    last = now
                    self.acked.append(key)
            except Exception:
                self.errors += 1
                conn = None
                time.sleep(0.005)  # back off before asking the sentinels again (not synchronization)


def scenario_switchover(impl, coordinated, rounds):
    """SENTINEL FAILOVER m [COORDINATED] `rounds` times under plain SETs; acknowledged writes the
    final master lacks, and the longest pause between two acknowledged writes."""
    name = f"{impl}: SENTINEL FAILOVER" + (" COORDINATED" if coordinated else "") + f" x{rounds}, plain SET"
    dep = Deployment(impl=impl)
    try:
        w = PlainWriter(dep)
        w.start()
        assert wait_until(lambda: len(w.acked) >= 200, 20)
        done, why = 0, ""
        for _ in range(rounds):
            old = dep.master_addr()
            args = ["SENTINEL", "FAILOVER", "m"] + (["COORDINATED"] if coordinated else [])
            err = None

            def started():
                nonlocal err
                try:
                    dep.sentinels[0].client().execute_command(*args)
                    return True
                except redis.exceptions.ResponseError as e:
                    err = str(e)
                    # Unsupported is final; NOGOODSLAVE / INPROG pass once the last round settled.
                    if "wrong number" in err or "syntax" in err or "Unknown" in err:
                        raise
                    return False
            try:
                if not wait_until(started, 15, interval=0.05):
                    why = "not started"
                    break
            except redis.exceptions.ResponseError:
                return (name, "-", "-", "-", f"not supported: {err}"[:100])
            if not wait_until(lambda: all(dep.master_addr([s]) not in (None, old) for s in dep.sentinels), 20):
                why = "no switch"
                break
            n0 = len(w.acked)
            if not wait_until(lambda: len(w.acked) >= n0 + 100, 15):
                why = "no writes after the switch"
                break
            done += 1
        w.stopped = True
        w.join()
        lost = lost_keys(dep, w.acked)
        note = f"{done}/{rounds} rounds, longest write pause {w.longest * 1000:.0f} ms"
        if done < rounds:
            note += f", stopped: {why}" + (f", last refusal: {err}" if err else "") + f" (logs: {dep.sentinels[0].cwd})"
        return (name, len(w.acked), lost, 0, note)
    finally:
        dep.stop()


def scenario_cluster_switchover(rounds):
    """`scripts/cluster switchover` (the operator's CLI, which runs SENTINEL FAILOVER m COORDINATED
    and waits until every sentinel names the new master) `rounds` times under plain SETs."""
    name = f"vigil: scripts/cluster switchover x{rounds}, plain SET"
    cli = [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib", "cluster.py")]
    dep = Deployment()
    try:
        w = PlainWriter(dep)
        w.start()
        assert wait_until(lambda: len(w.acked) >= 200, 20)
        sentinels = ",".join(f"127.0.0.1:{s.port}" for s in dep.sentinels)
        done, why = 0, ""
        for _ in range(rounds):
            old = dep.master_addr()
            r = subprocess.run(cli + ["switchover", "--sentinel", sentinels, "--master", "m", "--password", "", "--timeout", "20"],
                               capture_output=True, text=True, timeout=60)
            if r.returncode != 0 or dep.master_addr() in (None, old):
                why = (r.stdout + r.stderr).strip().replace("\n", "; ")[:80]
                break
            n0 = len(w.acked)
            if not wait_until(lambda: len(w.acked) >= n0 + 100, 15):
                why = "no writes after the switch"
                break
            done += 1
        w.stopped = True
        w.join()
        lost = lost_keys(dep, w.acked)
        note = f"{done}/{rounds} rounds, longest write pause {w.longest * 1000:.0f} ms"
        if done < rounds:
            note += f", stopped: {why}"
        return (name, len(w.acked), lost, 0, note)
    finally:
        dep.stop()


def scenario_no_false_fencing(seconds=60):
    """A healthy master while 1 of 3 sentinels is down, then while they restart one at a time:
    every write must be accepted (a FENCED refusal here would be a false fence)."""
    dep = Deployment()
    try:
        c = dep.client_for((dep.master.host, dep.master.port))
        assert wait_until(lambda: c.info("fencing").get("fencing_state") == "open", 10), "never supervised"
        fenced = ok = other = 0
        start = time.monotonic()
        # 1 of 3 down for the first half; then each sentinel in turn restarted (down ~3% of the run).
        plan = [(0.05, "kill", 0), (0.5, "start", 0)]
        for k in range(3):
            plan += [(0.55 + 0.15 * k, "kill", k), (0.58 + 0.15 * k, "start", k)]
        i = 0
        while (t := (time.monotonic() - start) / seconds) < 1:
            while plan and t >= plan[0][0]:
                _, act, k = plan.pop(0)
                if act == "kill":
                    dep.sentinels[k].kill()
                else:
                    dep.sentinels[k].start()
            try:
                c.set(f"nf:{i}", "1")
                ok += 1
            except redis.exceptions.ResponseError as e:
                if "FENCED" in str(e):
                    fenced += 1
                else:
                    other += 1
            except Exception:
                other += 1
            i += 1
        role = c.info("replication").get("role")
        note = f"{fenced} writes refused as FENCED, {other} other errors, role {role}"
        return (f"vigil: no false fencing ({seconds} s, 1 of 3 sentinels down, then restarts)", ok, 0, 0, note)
    finally:
        dep.stop()


def scenario_all_sentinels_gone(impl, gone_s=10.0):
    """A healthy master, every sentinel killed -9 at once for `gone_s`, then restarted one at a
    time (1 of 3 for 3 s, then 2 of 3, then all). Counts plain SETs accepted and refused in each
    phase, when the first refusal came after the kill and when writes were taken again after a
    majority (2 of 3) was back."""
    label = {"vigil": "vigil (self-fencing yes)", "vigil-nofence": "vigil (self-fencing no, the default)",
             "redis": "redis-server + redis-sentinel"}[impl]
    dep = Deployment(impl=impl)
    try:
        c = dep.client_for((dep.master.host, dep.master.port))
        if impl == "vigil":
            assert wait_until(lambda: c.info("fencing").get("fencing_state") == "open", 10), "never supervised"
        acked, refusals = [], {}
        first_refusal = majority_back = resumed = None
        i = 0
        phase = "before"
        start = time.monotonic()
        kill_at, one_at, two_at, all_at, end_at = 1.0, 1.0 + gone_s, 4.0 + gone_s, 7.0 + gone_s, 9.0 + gone_s
        while (t := time.monotonic() - start) < end_at:
            if phase == "before" and t >= kill_at:
                for s in dep.sentinels:
                    s.kill()
                phase, killed = "gone", time.monotonic()
            elif phase == "gone" and t >= one_at:
                dep.sentinels[0].start()
                phase = "1 of 3 back"
            elif phase == "1 of 3 back" and t >= two_at:
                dep.sentinels[1].start()
                phase, majority_back = "2 of 3 back", time.monotonic()
            elif phase == "2 of 3 back" and t >= all_at:
                dep.sentinels[2].start()
                phase = "3 of 3 back"
            key = f"g:{i}"
            i += 1
            try:
                if c.set(key, "1"):
                    acked.append(key)
                    if majority_back is not None and resumed is None and refusals:
                        resumed = time.monotonic() - majority_back
            except redis.exceptions.ResponseError as e:
                refusals[phase] = refusals.get(phase, 0) + 1
                if phase == "gone" and first_refusal is None:
                    first_refusal = (time.monotonic() - killed, str(e).split(" ")[0])
            except Exception:
                refusals[phase] = refusals.get(phase, 0) + 1
            time.sleep(0.001)  # pace the writes (~1 per ms), not synchronization
        role = c.info("replication").get("role")
        state = c.info("fencing").get("fencing_state", "-") if impl != "redis" else "-"
        note = (f"refused: {sum(refusals.values())} ("
                + ", ".join(f"{k}: {v}" for k, v in refusals.items()) + ")" if refusals else "refused: 0")
        if first_refusal:
            note += f"; first refusal {first_refusal[0]:.2f}s after the kill ({first_refusal[1]})"
        if resumed is not None:
            note += f"; writes resumed {resumed:.2f}s after 2 of 3 were back"
        elif refusals:
            note += "; writes NOT resumed"
        note += f"; role {role}, fencing_state {state}"
        return (f"{label}: all 3 sentinels gone {gone_s:.0f}s, then back one by one", len(acked),
                lost_keys(dep, acked), 0, note)
    finally:
        dep.stop()


SCENARIOS = {
    "no-false-fencing": scenario_no_false_fencing,
    "switchover-coordinated": lambda: scenario_switchover("vigil", True, 20),
    "switchover-coordinated-redis": lambda: scenario_switchover("redis", True, 1),
    "switchover": lambda: scenario_switchover("vigil", False, 5),
    "switchover-redis": lambda: scenario_switchover("redis", False, 5),
    "switchover-quick": lambda: scenario_switchover("vigil", True, 3),
    "switchover-plain-quick": lambda: scenario_switchover("vigil", False, 2),
    "cluster-switchover": lambda: scenario_cluster_switchover(10),
    "cluster-switchover-quick": lambda: scenario_cluster_switchover(2),
    "kill9": scenario_kill9,
    "sigstop": lambda: scenario_sigstop(False),
    "sigstop-minrep": lambda: scenario_sigstop(True),
    "sigstop-redis": lambda: scenario_sigstop(False, "redis"),
    "sentinel-restart": scenario_sentinel_restart,
    "two-sentinels-down": scenario_two_sentinels_down,
    "all-sentinels-gone": lambda: scenario_all_sentinels_gone("vigil"),
    "all-sentinels-gone-nofence": lambda: scenario_all_sentinels_gone("vigil-nofence"),
    "all-sentinels-gone-redis": lambda: scenario_all_sentinels_gone("redis"),
    "partition": scenario_partition,
    "partition-minrep": lambda: scenario_partition(True),
    "partition-redis": lambda: scenario_partition(False, "redis"),
}


def main():
    names = sys.argv[1:] or list(SCENARIOS)
    rows = []
    for n in names:
        t = time.monotonic()
        try:
            row = SCENARIOS[n]()
        except Exception as e:  # a broken scenario is a row, not a crash of the whole table
            row = (n, "-", "-", "-", f"ERROR: {type(e).__name__}: {e}"[:120])
        rows.append(row + (f"{time.monotonic() - t:.0f}s",))
        print(f"done: {rows[-1]}", file=sys.stderr, flush=True)
    hdr = ("scenario", "writes acknowledged", "acknowledged writes lost", "stale writes accepted", "notes", "time")
    widths = [max(len(str(r[i])) for r in rows + [hdr]) for i in range(len(hdr))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"
    print(line(hdr))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print(line(r))


if __name__ == "__main__":
    main()
