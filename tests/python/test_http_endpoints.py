"""The HTTP health endpoints and metrics of vigil-node and vigil-sentinel, checked with curl as a load
balancer or a Kubernetes probe would, before and after a switchover run by `scripts/cluster`; the
metrics parsed by prometheus_client's text parser; bad HTTP refused while Redis clients are served."""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from conftest import BIN_DIR, Proc, free_port, wait_until

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
CLUSTER = [sys.executable, os.path.join(ROOT, "scripts", "lib", "cluster.py")]


def curl(port, path, *extra):
    """(status, body) of `curl http://127.0.0.1:port/path`."""
    r = subprocess.run(["curl", "-s", "-m", "5", "-o", "-", "-w", "\n%{http_code}", *extra,
                        f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, timeout=10)
    body, _, code = r.stdout.rpartition("\n")
    return int(code or 0), body


def metrics(port):
    code, body = curl(port, "/metrics")
    assert code == 200
    return {f.name: f for f in text_string_to_metric_families(body)}


def sample(families, name, **labels):
    """The value of the sample `name` whose labels include `labels`, or None."""
    for f in families.values():
        for s in f.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return None


class HA:
    """1 master + 1 replica (vigil-node) and 3 vigil-sentinels, each with an HTTP port."""

    def __init__(self):
        self.procs = []
        self.master = self.node()
        self.replica = self.node("--replicaof", "127.0.0.1", str(self.master[0]))
        assert wait_until(lambda: self.r(self.replica).info("replication")["master_link_status"] == "up", 10)
        self.sentinels = [self.sentinel() for _ in range(3)]
        assert wait_until(lambda: all(
            len(redis.Redis(port=s[0]).execute_command("SENTINEL", "SENTINELS", "m")) == 2 and
            len(redis.Redis(port=s[0]).execute_command("SENTINEL", "REPLICAS", "m")) == 1
            for s in self.sentinels), 15)

    def node(self, *extra):
        port, http = free_port(), free_port()
        d = tempfile.mkdtemp(prefix="vigil-http-")
        self.procs.append(Proc([os.path.join(BIN_DIR, "vigil-node"), "--port", str(port), "--bind", "127.0.0.1",
                                "--save", "", "--http-port", str(http), "--self-fencing", "yes", *extra], d, port))
        assert wait_until(lambda: redis.Redis(port=port).ping())
        return port, http

    def sentinel(self):
        port, http = free_port(), free_port()
        d = tempfile.mkdtemp(prefix="vigil-http-s-")
        with open(os.path.join(d, "sentinel.conf"), "w") as f:
            f.write(f"port {port}\nbind 127.0.0.1\nhttp-port {http}\n"
                    f"sentinel monitor m 127.0.0.1 {self.master[0]} 2\n"
                    "sentinel down-after-milliseconds m 400\nsentinel failover-timeout m 4000\n")
        self.procs.append(Proc([os.path.join(BIN_DIR, "vigil-sentinel"), os.path.join(d, "sentinel.conf")], d, port))
        assert wait_until(lambda: redis.Redis(port=port).ping())
        return port, http

    @staticmethod
    def r(node):
        return redis.Redis(port=node[0], socket_timeout=2)

    def cli(self, *args):
        sentinels = ",".join(f"127.0.0.1:{s[0]}" for s in self.sentinels)
        return subprocess.run(CLUSTER + list(args) + ["--sentinel", sentinels, "--password", ""],
                              capture_output=True, text=True, timeout=60)

    def stop(self):
        for p in self.procs:
            p.stop()


@pytest.fixture
def ha():
    h = HA()
    try:
        yield h
    finally:
        h.stop()


def test_endpoints_before_and_after_switchover(ha):
    m, r = ha.master, ha.replica
    # Before: the master is the primary, the replica a replica (its lag measured once a second).
    assert curl(m[1], "/primary")[0] == 200
    assert curl(r[1], "/primary")[0] == 503
    assert curl(m[1], "/replica")[0] == 503
    assert curl(r[1], "/replica")[0] == 200
    assert wait_until(lambda: curl(r[1], "/replica?lag=0")[0] == 200, 5)
    code, body = curl(r[1], "/replica?lag=0")
    doc = json.loads(body)
    assert doc["role"] == "replica" and doc["master_link_status"] == "up" and doc["lag_bytes"] == 0
    assert curl(r[1], "/replica?lag=abc")[0] == 400
    assert curl(m[1], "/health")[0] == 200 and curl(r[1], "/health")[0] == 200
    assert curl(m[1], "/nope")[0] == 404
    assert curl(m[1], "/primary", "-X", "POST")[0] == 405
    assert curl(m[1], "/primary", "-I")[0] == 200  # HEAD, as HAProxy's option httpchk sends
    doc = json.loads(curl(m[1], "/primary")[1])
    assert doc["role"] == "master" and doc["writable"] is True and doc["fencing"] in ("open", "unsupervised")

    s = ha.sentinels[0]
    code, body = curl(s[1], "/masters")
    masters = json.loads(body)
    assert code == 200 and [x["name"] for x in masters] == ["m"]
    assert masters[0]["address"] == f"127.0.0.1:{m[0]}" and masters[0]["state"] == "ok"
    assert [x["address"] for x in masters[0]["replicas"]] == [f"127.0.0.1:{r[0]}"]
    assert len(masters[0]["sentinels"]) == 2
    assert curl(s[1], "/health")[0] == 200
    assert json.loads(curl(s[1], "/history")[1]) == []

    fm, fr, fs = metrics(m[1]), metrics(r[1]), metrics(s[1])
    assert sample(fm, "redis_instance_info", role="master") == 1
    assert sample(fm, "vigil_writable") == 1 and sample(fr, "vigil_writable") == 0
    assert sample(fr, "redis_master_link_up") == 1
    assert sample(fm, "redis_connected_slaves") == 1
    assert sample(fm, "redis_connected_slave_offset_bytes", slave_port=str(r[0])) is not None
    assert sample(fs, "redis_sentinel_master_status", master_name="m", master_status="ok") == 1
    assert sample(fs, "vigil_sentinel_master_failovers_total", master_name="m") == 0
    assert sample(fs, "vigil_sentinel_link_up", master_name="m", kind="master") == 1

    # The operator's CLI: status names both nodes, the switchover hands over, history records it.
    st = ha.cli("status")
    assert st.returncode == 0, st.stdout + st.stderr
    assert f"127.0.0.1:{m[0]}" in st.stdout and f"127.0.0.1:{r[0]}" in st.stdout and "slave" in st.stdout
    sw = ha.cli("switchover")
    assert sw.returncode == 0, sw.stdout + sw.stderr
    assert f"new master 127.0.0.1:{r[0]}" in sw.stdout

    # After: the roles swapped, and every endpoint says so.
    assert wait_until(lambda: curl(r[1], "/primary")[0] == 200, 10)
    assert wait_until(lambda: curl(m[1], "/replica")[0] == 200, 10)
    assert curl(m[1], "/primary")[0] == 503
    assert json.loads(curl(m[1], "/primary")[1])["role"] == "replica"
    assert wait_until(lambda: json.loads(curl(s[1], "/masters")[1])[0]["address"] == f"127.0.0.1:{r[0]}", 10)
    epochs = []
    for sn in ha.sentinels:
        assert wait_until(lambda: len(json.loads(curl(sn[1], "/history")[1])) == 1, 10)
        (rec,) = json.loads(curl(sn[1], "/history")[1])
        assert rec["master"] == "m" and rec["from"] == f"127.0.0.1:{m[0]}" and rec["to"] == f"127.0.0.1:{r[0]}"
        epochs.append(rec["epoch"])
        assert sample(metrics(sn[1]), "vigil_sentinel_master_failovers_total", master_name="m") == 1
    assert len(set(epochs)) == 1 and epochs[0] >= 1
    roles = [json.loads(curl(sn[1], "/history")[1])[0]["role"] for sn in ha.sentinels]
    assert roles.count("leader") == 1, roles
    hist = ha.cli("history")
    assert hist.returncode == 0, hist.stdout + hist.stderr
    assert f"127.0.0.1:{m[0]}" in hist.stdout and f"127.0.0.1:{r[0]}" in hist.stdout and "(coordinated)" in hist.stdout
    assert sample(metrics(r[1]), "redis_instance_info", role="master") == 1
    assert wait_until(lambda: sample(metrics(m[1]), "redis_master_link_up") == 1, 10)

    # switchover --to names the target; with one replica it is the old master coming back.
    back = ha.cli("switchover", "--to", f"127.0.0.1:{m[0]}")
    assert back.returncode == 0, back.stdout + back.stderr
    assert wait_until(lambda: curl(m[1], "/primary")[0] == 200, 10)
    assert ha.r(m).config_get("replica-priority")["replica-priority"] == "100"
    # failover: SENTINEL FAILOVER m (takes the coordinated path while the master is reachable).
    fo = ha.cli("failover")
    assert fo.returncode == 0, fo.stdout + fo.stderr
    assert wait_until(lambda: curl(r[1], "/primary")[0] == 200, 10)
    assert wait_until(lambda: len(json.loads(curl(s[1], "/history")[1])) == 3, 10)

    # A master that lost contact with the majority of its sentinels fences itself: not a primary
    # for a load balancer any more, and the metrics say so.
    for p in ha.procs[3:5]:  # two of the three sentinels
        p.stop()
    assert wait_until(lambda: curl(r[1], "/primary")[0] == 503, 10)
    doc = json.loads(curl(r[1], "/primary")[1])
    assert doc["role"] == "master" and doc["fencing"] == "fenced" and doc["reason"].startswith("FENCED"), doc
    fr = metrics(r[1])
    assert sample(fr, "vigil_fenced") == 1 and sample(fr, "vigil_writable") == 0
    assert sample(fr, "vigil_fencing_state", state="fenced") == 1


def test_replica_without_its_master_is_not_ready(vigil_node):
    port = vigil_node("--http-port", str(http := free_port()), "--replicaof", "127.0.0.1", str(free_port()))
    code, body = curl(http, "/replica")
    assert code == 503 and "link to the master is down" in json.loads(body)["reason"]
    assert curl(http, "/primary")[0] == 503
    assert curl(http, "/health")[0] == 200
    assert redis.Redis(port=port).ping()


def raw_http(port, data, timeout=5):
    """Sends raw bytes; returns everything the server sent until it closed."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


def test_bad_http_is_refused_and_redis_clients_are_served(vigil_node):
    http = free_port()
    port = vigil_node("--http-port", str(http), "--http-timeout", "300")
    r = redis.Redis(port=port, socket_timeout=2)
    assert raw_http(http, b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + b"x" * 20000 + b"\r\n\r\n").startswith(b"HTTP/1.1 431 ")
    assert raw_http(http, b"\x00\x01garbage\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    assert raw_http(http, b"*1\r\n$4\r\nPING\r\n").startswith(b"HTTP/1.1 400 ")
    assert raw_http(http, b"GET / HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 400 ")  # no Host

    # Slowloris: a header line every 100 ms never completes the request; the node answers 408 and
    # closes at the timeout, and serves Redis clients all along.
    s = socket.create_connection(("127.0.0.1", http), timeout=5)
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: a\r\n")
    start, closed, got = time.monotonic(), False, b""
    i = 0
    while time.monotonic() - start < 3:
        try:
            s.sendall(b"X-%d: y\r\n" % i)
        except OSError:
            closed = True
            break
        assert r.set(f"k{i}", "v") and r.get(f"k{i}") == b"v"
        i += 1
        s.settimeout(0.1)
        try:
            chunk = s.recv(65536)
            got += chunk
            if not chunk:
                closed = True
                break
        except socket.timeout:
            pass
        except OSError:
            closed = True
            break
    elapsed = time.monotonic() - start
    s.close()
    assert closed and got.startswith(b"HTTP/1.1 408 "), got[:100]
    assert elapsed < 2, elapsed
    assert i >= 2

    # More connections than the listener keeps: the extra ones get 503, Redis is unaffected.
    held = [socket.create_connection(("127.0.0.1", http)) for _ in range(64)]
    try:
        assert wait_until(lambda: raw_http(http, b"GET /health HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.1 503 "), 2)
        assert r.ping()
    finally:
        for h in held:
            h.close()
    # Keep-alive: two requests on one connection.
    with socket.create_connection(("127.0.0.1", http), timeout=5) as k:
        k.sendall(b"GET /health HTTP/1.1\r\nHost: a\r\n\r\nGET /primary HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := k.recv(65536):
            data += chunk
    assert data.count(b"HTTP/1.1 200 OK") == 2
    assert wait_until(lambda: curl(http, "/health")[0] == 200, 2)
    assert r.dbsize() >= 2
