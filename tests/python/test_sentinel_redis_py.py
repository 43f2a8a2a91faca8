"""redis-py's Sentinel client (master_for / slave_for) following a kill -9 failover on
vigil-sentinel + vigil-node, over RESP2 and RESP3: writes resume within 10 s on the new master and
the replica handed out afterwards serves them."""
import os
import sys
import time

import pytest
import redis
from redis.sentinel import Sentinel

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "lib"))
import demo  # noqa: E402  (copies of sentinel-examples/ on free ports)

from conftest import wait_until  # noqa: E402




@pytest.mark.parametrize("protocol", [2, 3])
def test_master_for_and_slave_for_follow_a_failover(deployment, protocol):
    dep = deployment
    sentinel = Sentinel([("127.0.0.1", p) for p in dep.sentinels], socket_timeout=0.5,
                        sentinel_kwargs={"protocol": protocol})
    assert wait_until(lambda: len(sentinel.discover_slaves("mymaster")) == 2, 20)
    assert wait_until(lambda: all(
        int(sentinel.sentinels[i].sentinel_master("mymaster")["num-other-sentinels"]) == 2 for i in range(3)), 20)
    old = sentinel.discover_master("mymaster")
    assert old == ("127.0.0.1", dep.nodes[0])
    master = sentinel.master_for("mymaster", password=demo.PASSWORD, protocol=protocol, socket_timeout=0.5)
    replica = sentinel.slave_for("mymaster", password=demo.PASSWORD, protocol=protocol, socket_timeout=0.5)
    assert master.set("before", "1")
    assert master.execute_command("WAIT", 1, 2000) >= 1
    assert wait_until(lambda: replica.get("before") == b"1", 5)

    dep.kill(dep.nodes[0])
    killed = time.monotonic()
    resumed = None
    while time.monotonic() - killed < 10:
        try:
            master.set("after", "2")
            resumed = time.monotonic() - killed
            break
        except (redis.ConnectionError, redis.TimeoutError, redis.ReadOnlyError):
            time.sleep(0.02)
    assert resumed is not None, "writes did not resume within 10 s of the kill"
    new = sentinel.discover_master("mymaster")
    assert new != old and new[1] in dep.nodes[1:]
    # The write acknowledged by a replica before the kill survived the failover.
    assert master.get("before") == b"1"
    # slave_for now hands out the remaining replica, which follows the new master.
    assert wait_until(lambda: replica.get("after") == b"2", 10)
    ports = {p for _, p in sentinel.discover_slaves("mymaster")}
    assert new[1] not in ports
