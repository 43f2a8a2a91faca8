"""Fixtures that start the release binaries on free loopback ports and always stop them."""
import os
import socket
import subprocess
import tempfile
import time

import pytest

BIN_DIR = os.environ.get("VIGIL_BIN_DIR") or os.path.join(
    os.path.dirname(__file__), "..", "..", ".build", "release")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(cond, timeout=10.0, interval=0.02):
    """Polls cond() until true or the deadline passes (no fixed sleeps)."""
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
    def __init__(self, args, cwd, port):
        self.port = port
        self.cwd = cwd
        self.log = open(os.path.join(cwd, "out.log"), "ab")
        self.p = subprocess.Popen(args, cwd=cwd, stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()


@pytest.fixture
def vigil_node():
    """Starts vigil-node with the given extra arguments; returns the port."""
    procs = []

    def start(*extra):
        port = free_port()
        d = tempfile.mkdtemp(prefix="vigil-py-")
        p = Proc([os.path.join(BIN_DIR, "vigil-node"), "--port", str(port), "--save", "", *extra], d, port)
        procs.append(p)
        assert wait_until(lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close() is None)
        return port

    yield start
    for p in procs:
        p.stop()


@pytest.fixture
def deployment():
    """The example deployment (copies of sentinel-examples/ on free ports), replicas in sync and
    sentinels started; always stopped afterwards."""
    import argparse
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "lib"))
    import demo
    args = argparse.Namespace(
        node_bin=os.path.join(BIN_DIR, "vigil-node"), sentinel_bin=os.path.join(BIN_DIR, "vigil-sentinel"),
        base_port=demo.free_block(3), sentinel_base_port=demo.free_block(3), down_after=400)
    dep = demo.Deployment(args)
    try:
        for p in dep.nodes:
            dep.start(p)
        assert wait_until(lambda: all(demo.info(p).get("master_link_status") == "up" for p in dep.nodes[1:]), 20)
        for p in dep.sentinels:
            dep.start(p)
        yield dep
    finally:
        dep.stop_all()
