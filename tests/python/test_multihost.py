"""Several hosts, by name: every node and sentinel runs in its own network namespace (its own
address on a test bridge, its own /etc/hosts via `ip netns exec`'s /etc/netns/<ns>/hosts), all on
the standard ports, and every address in the configuration is a hostname. The first test runs the
container example's files (sentinel-examples/compose/) under the container names.

- failover with hostnames: sentinels configured with `resolve-hostnames`/`announce-hostnames`
  report names, promote by name, and reconfigure the replicas to follow a name;
- a node returning with a new address (its host moved, the hosts files changed) is followed: the
  sentinels resolve the name again on reconnect and demote the old master into a replica;
- SENTINEL RESET forgets and rediscovers, by name;
- a sentinel whose DNS answers 3 s late (a test DNS server in its own namespace, pointed at by the
  sentinel's resolv.conf) keeps its timers: it answers clients, keeps pinging its master (no
  stale last-ok-ping-reply), and never enters TILT.

Needs root and `ip netns` (skipped with a message otherwise). Processes are stopped and the
namespaces, bridge and /etc/netns entries removed whatever happens.
"""
import os
import shutil
import subprocess
import tempfile
import time

import pytest
import redis

from conftest import BIN_DIR, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
COMPOSE = os.path.join(HERE, "..", "..", "sentinel-examples", "compose")
PASSWORD = "123456"
PORT, SPORT = 6379, 26379


def run(*args, check=True):
    return subprocess.run(list(args), capture_output=True, text=True, check=check)


def namespaces_available():
    if os.geteuid() != 0 or shutil.which("ip") is None:
        return "needs root and iproute2 (ip netns)"
    probe = "vgprobe%d" % os.getpid()
    r = run("ip", "netns", "add", probe, check=False)
    if r.returncode != 0:
        return "ip netns unavailable: " + r.stderr.strip()
    run("ip", "netns", "del", probe, check=False)
    return None


class Hosts:
    """A bridge and one namespace per host; each namespace's /etc/hosts lists the test's names."""

    def __init__(self):
        tag = os.getpid() % 10000
        self.prefix = "vgh%d" % tag
        self.subnet = "10.77.%d" % (20 + os.getpid() % 200)
        self.bridge = self.prefix + "br"
        self.hosts = {}      # name -> (netns, veth inside, ip)
        self.names = {}      # name -> ip, as every hosts file says (unless hidden)
        self.hidden = {}     # netns -> names left out of its hosts file (resolved by DNS)
        self.procs = []
        self.dirs = []

    def setup(self):
        run("ip", "link", "add", self.bridge, "type", "bridge")
        run("ip", "addr", "add", self.subnet + ".1/24", "dev", self.bridge)
        run("ip", "link", "set", self.bridge, "up")

    def add(self, name, octet):
        i = len(self.hosts)
        ns, outer, inner = "%s-%s" % (self.prefix, name), "%sh%d" % (self.prefix, i), "%sp%d" % (self.prefix, i)
        ip = "%s.%d" % (self.subnet, octet)
        run("ip", "netns", "add", ns)
        self.hosts[name] = (ns, inner, ip)  # from here on, close() removes it
        os.makedirs("/etc/netns/" + ns, exist_ok=True)
        run("ip", "link", "add", outer, "type", "veth", "peer", "name", inner)
        run("ip", "link", "set", inner, "netns", ns)
        run("ip", "link", "set", outer, "master", self.bridge)
        run("ip", "link", "set", outer, "up")
        self.netns(ns, "ip", "addr", "add", ip + "/24", "dev", inner)
        self.netns(ns, "ip", "link", "set", inner, "up")
        self.netns(ns, "ip", "link", "set", "lo", "up")
        self.names[name] = ip
        self.write_hosts_files()
        return ip

    def netns(self, ns, *args):
        return run("ip", "netns", "exec", ns, *args)

    def write_hosts_files(self):
        """Rewritten in place: `ip netns exec` bind-mounted them over /etc/hosts of processes
        already running, which must see the change (as a pod's DNS record changes)."""
        for name, (ns, _, _) in self.hosts.items():
            lines = ["127.0.0.1 localhost"]
            lines += ["%s %s" % (ip, n) for n, ip in sorted(self.names.items()) if n not in self.hidden.get(ns, ())]
            path = "/etc/netns/%s/hosts" % ns
            with open(path, "a+") as f:
                f.seek(0)
                f.truncate()
                f.write("\n".join(lines) + "\n")

    def move(self, name, octet):
        """Gives host `name` a new address and updates every hosts file."""
        ns, inner, old = self.hosts[name]
        ip = "%s.%d" % (self.subnet, octet)
        self.netns(ns, "ip", "addr", "del", old + "/24", "dev", inner)
        self.netns(ns, "ip", "addr", "add", ip + "/24", "dev", inner)
        self.hosts[name] = (ns, inner, ip)
        self.names[name] = ip
        self.write_hosts_files()
        return ip

    def start(self, name, args, conf=None, conf_name="sentinel.conf", d=None):
        """Starts `args` on host `name` in directory `d` (a new one by default); `conf` is written
        there as `conf_name` and passed as the first argument (a restart passes conf=None and the
        same directory, where the process rewrote its file)."""
        ns = self.hosts[name][0]
        if d is None:
            d = tempfile.mkdtemp(prefix="vigil-mh-%s-" % name)
            self.dirs.append(d)
        argv = ["ip", "netns", "exec", ns] + args
        path = os.path.join(d, conf_name)
        if conf is not None:
            with open(path, "w") as f:
                f.write(conf)
        if os.path.exists(path):
            argv = ["ip", "netns", "exec", ns, args[0], path] + args[1:]
        log = open(os.path.join(d, "out.log"), "ab")
        p = subprocess.Popen(argv, cwd=d, stdout=log, stderr=subprocess.STDOUT)
        p.vigil_log, p.vigil_dir, p.vigil_name = log, d, name
        self.procs.append(p)
        return p

    def stop(self, p):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        p.vigil_log.close()

    def log(self, p):
        with open(os.path.join(p.vigil_dir, "out.log"), errors="replace") as f:
            return f.read()

    def close(self):
        for p in self.procs:
            if not p.vigil_log.closed:
                self.stop(p)
        for name, (ns, _, _) in self.hosts.items():
            run("ip", "netns", "del", ns, check=False)
            shutil.rmtree("/etc/netns/" + ns, ignore_errors=True)
        run("ip", "link", "del", self.bridge, check=False)
        for d in self.dirs:
            shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def hosts():
    why = namespaces_available()
    if why:
        pytest.skip("multi-host test skipped: " + why)
    h = Hosts()
    try:
        h.setup()
        yield h
    finally:
        h.close()


def node_args(name, master=None):
    args = [os.path.join(BIN_DIR, "vigil-node"), "--port", str(PORT), "--bind", "0.0.0.0", "--protected-mode", "no",
            "--save", "", "--replica-announce-ip", name]
    if master:
        args += ["--replicaof", master, str(PORT)]
    return args


def sentinel_conf(name, down_after=400, extra=""):
    return ("port %d\nbind 0.0.0.0\nprotected-mode no\n"
            "sentinel resolve-hostnames yes\nsentinel announce-hostnames yes\nsentinel announce-ip %s\n"
            "sentinel monitor mymaster node-a %d 2\n"
            "sentinel down-after-milliseconds mymaster %d\nsentinel failover-timeout mymaster 4000\n%s"
            % (SPORT, name, PORT, down_after, extra))


def compose_file(name):
    with open(os.path.join(COMPOSE, name + ".conf")) as f:
        return f.read()


def client(h, name, port, password=None):
    return redis.Redis(host=h.names[name], port=port, socket_timeout=2, decode_responses=True, password=password)


def node(h, name):
    return client(h, name, PORT, PASSWORD)


def test_failover_and_a_moved_node_by_hostname(hosts):
    h = hosts
    nodes, sents = ["node-a", "node-b", "node-c"], ["sentinel-1", "sentinel-2", "sentinel-3"]
    for i, n in enumerate(nodes):
        h.add(n, 11 + i)
    for i, n in enumerate(sents):
        h.add(n, 21 + i)
    node_bin = [os.path.join(BIN_DIR, "vigil-node")]
    procs = {n: h.start(n, node_bin, conf=compose_file(n), conf_name="node.conf") for n in nodes}

    def replication(n):
        return node(h, n).info("replication")

    # The replicas reached their master by name; it lists them under their announced names.
    assert wait_until(lambda: all(replication(n).get("master_link_status") == "up" for n in nodes[1:]), 20)
    assert replication("node-b")["master_host"] == "node-a"
    slaves = {v["ip"] for k, v in replication("node-a").items() if k.startswith("slave") and isinstance(v, dict)}
    assert slaves == {"node-b", "node-c"}
    node(h, "node-a").set("before", "failover")

    sentinels = [h.start(n, [os.path.join(BIN_DIR, "vigil-sentinel")], conf=compose_file(n)) for n in sents]
    s1 = client(h, "sentinel-1", SPORT)

    def discovered(s, replicas):
        reps = {r["ip"] for r in s.sentinel_slaves("mymaster")}
        peers = {p["ip"] for p in s.sentinel_sentinels("mymaster")}
        return reps == replicas and len(peers) == 2 and peers <= set(sents)

    assert wait_until(lambda: all(discovered(client(h, n, SPORT), {"node-b", "node-c"}) for n in sents), 20)
    assert s1.sentinel_get_master_addr_by_name("mymaster") == ("node-a", PORT)

    # Failover with hostnames: the master dies; the sentinels promote a replica by name.
    h.stop(procs["node-a"])

    def master_name(n):
        return client(h, n, SPORT).sentinel_get_master_addr_by_name("mymaster")[0]

    assert wait_until(lambda: all(master_name(n) in ("node-b", "node-c") for n in sents), 20)
    new = master_name("sentinel-1")
    other = "node-c" if new == "node-b" else "node-b"
    assert wait_until(lambda: replication(other).get("master_host") == new
                      and replication(other).get("master_link_status") == "up", 15)
    assert node(h, new).get("before") == "failover"
    assert any("+switch-master mymaster node-a %d %s %d" % (PORT, new, PORT) in h.log(s) for s in sentinels)
    # The replica's rewritten config follows the name, as a container restart will read it.
    with open(os.path.join(procs[other].vigil_dir, "node.conf")) as f:
        assert "replicaof %s %d" % (new, PORT) in f.read()

    # The old master's host comes back with a new address: only its name stays. The sentinels
    # resolve it again when they reconnect, reach it there and make it a replica of the new one.
    h.move("node-a", 31)
    procs["node-a"] = h.start("node-a", node_bin, conf_name="node.conf", d=procs["node-a"].vigil_dir)
    assert wait_until(lambda: replication("node-a").get("role") == "slave", 20)
    assert wait_until(lambda: replication("node-a").get("master_host") == new
                      and replication("node-a").get("master_link_status") == "up", 15)
    assert node(h, "node-a").get("before") == "failover"
    assert wait_until(lambda: {r["ip"] for r in s1.sentinel_slaves("mymaster")} == {"node-a", other}, 10)
    assert any("+convert-to-slave slave node-a:%d node-a %d" % (PORT, PORT) in h.log(s) for s in sentinels)

    # SENTINEL RESET as Redis's: the count of masters reset, then rediscovery (by name again).
    assert s1.execute_command("SENTINEL", "RESET", "mymaster") == 1
    assert wait_until(lambda: discovered(s1, {"node-a", other}), 15)
    assert all("+tilt" not in h.log(s) for s in sentinels)


def test_slow_dns_keeps_the_sentinels_timers(hosts):
    h = hosts
    h.add("node-a", 11)
    replica_ip = h.add("node-d", 14)
    h.add("sent-1", 21)
    dns_ip = h.add("dns", 53)
    sent_ns = h.hosts["sent-1"][0]
    # The sentinel knows node-a from its hosts file; the replica's announced name only from DNS.
    h.hidden[sent_ns] = {"slow-replica"}
    h.names["slow-replica"] = replica_ip
    h.write_hosts_files()
    with open("/etc/netns/%s/resolv.conf" % sent_ns, "w") as f:
        f.write("nameserver %s\noptions timeout:10 attempts:1\n" % dns_ip)
    dns_log = os.path.join(tempfile.mkdtemp(prefix="vigil-mh-dns-"), "dns.log")
    h.dirs.append(os.path.dirname(dns_log))
    h.start("dns", ["python3", os.path.join(HERE, "slow_dns.py"), dns_ip, "3", dns_log, "slow-replica=" + replica_ip])
    assert wait_until(lambda: os.path.exists(dns_log) and "ready" in open(dns_log).read(), 10)

    h.start("node-a", node_args("node-a"))
    assert wait_until(lambda: client(h, "node-a", PORT).ping(), 10)
    h.start("node-d", node_args("slow-replica", master="node-a"))
    assert wait_until(lambda: client(h, "node-d", PORT).info("replication").get("master_link_status") == "up", 15)

    # Default TILT trigger (2 s): a loop blocked by the 3 s answer would enter TILT.
    s = h.start("sent-1", [os.path.join(BIN_DIR, "vigil-sentinel")], conf=sentinel_conf("sent-1", down_after=500))
    sc = client(h, "sent-1", SPORT)
    assert wait_until(lambda: sc.ping(), 10)
    # The master's INFO names the replica: its lookup goes to the slow DNS.
    assert wait_until(lambda: "query slow-replica 1" in open(dns_log).read(), 10)
    asked = time.monotonic()
    worst_ping, worst_ok_ping = 0.0, 0
    while time.monotonic() - asked < 3.5:
        t0 = time.monotonic()
        assert sc.ping()
        worst_ping = max(worst_ping, time.monotonic() - t0)
        m = sc.sentinel_master("mymaster")
        worst_ok_ping = max(worst_ok_ping, int(m["last-ok-ping-reply"]))
        assert "s_down" not in m["flags"]
        time.sleep(0.05)
    # A blocked loop would have answered ~3 s late and had no PING reply for as long.
    assert worst_ping < 1.5, "the sentinel stalled %.2f s while DNS was slow" % worst_ping
    assert worst_ok_ping < 1500, "PING period not kept: last-ok-ping-reply reached %d ms" % worst_ok_ping
    # The answer really came late, and once it came the replica was linked by its name.
    assert wait_until(lambda: "answered slow-replica 1 " in open(dns_log).read(), 5)
    answered = [l.split() for l in open(dns_log).read().splitlines() if l.startswith("answered slow-replica 1 ")]
    assert float(answered[0][4]) - float(answered[0][3]) >= 2.9

    def replica_linked():
        reps = sc.sentinel_slaves("mymaster")
        return len(reps) == 1 and reps[0]["ip"] == "slow-replica" and "disconnected" not in reps[0]["flags"]

    assert wait_until(replica_linked, 10)
    assert "+tilt" not in h.log(s)
