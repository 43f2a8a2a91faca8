"""Seed 001's redis-py failover script against the example deployment (sentinel-examples/), changed
only in addresses, loop count and sleep: 40 writes every 0.2 s, the master killed after the 10th."""
import time

from redis.sentinel import Sentinel

from conftest import wait_until


def test_seed_failover_script(deployment):
    dep = deployment
    sentinel = Sentinel([("127.0.0.1", p) for p in dep.sentinels], socket_timeout=0.5)
    assert wait_until(lambda: len(sentinel.discover_slaves("mymaster")) == 2, 20)
    master = sentinel.discover_master("mymaster")
    print("origin master:", master)
    assert master == ("127.0.0.1", dep.nodes[0])
    print("origin slave:", sentinel.discover_slaves("mymaster"))
    client = sentinel.master_for("mymaster", socket_timeout=2, password="123456", db=0)
    written, failed = [], 0
    for i in range(40):
        try:
            foo, bar = "foo" + str(i), "bar" + str(i)
            client.set(foo, bar)
            written.append(foo)
            print("set %s %s" % (foo, bar))
            time.sleep(0.2)
        except Exception as e:  # the seed prints and carries on
            failed += 1
            print("Exception:", e)
            time.sleep(0.2)
        if i == 9:
            dep.kill(dep.nodes[0])
    new_master = sentinel.discover_master("mymaster")
    print("new master:", new_master)
    print("new slave:", sentinel.discover_slaves("mymaster"))
    assert new_master != master
    assert "foo39" in written, "writes resumed after the failover"
    replica = sentinel.slave_for("mymaster", socket_timeout=2, password="123456", db=0)
    assert wait_until(lambda: replica.get("foo39") == b"bar39", 10)
