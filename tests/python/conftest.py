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
