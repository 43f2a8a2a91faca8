"""redis-py against vigil-node: the client library users run must work unchanged."""
import redis


def test_basic_commands_resp2(vigil_node):
    port = vigil_node()
    r = redis.Redis(port=port, protocol=2)
    assert r.ping() is True
    assert r.set("greeting", "hello") is True
    assert r.get("greeting") == b"hello"
    assert r.incr("counter") == 1
    assert r.delete("greeting", "counter") == 2
    assert r.info("server")["redis_version"] == "7.0.15"


def test_resp3_hello_and_pipeline(vigil_node):
    port = vigil_node()
    r = redis.Redis(port=port, protocol=3)
    assert r.ping() is True
    with r.pipeline(transaction=True) as p:
        p.set("a", "1").incrby("a", 41).get("a")
        assert p.execute() == [True, 42, b"42"]


def test_requirepass(vigil_node):
    port = vigil_node("--requirepass", "123456")
    bad = redis.Redis(port=port)
    try:
        bad.ping()
        raise AssertionError("unauthenticated PING must fail")
    except redis.AuthenticationError:
        pass
    good = redis.Redis(port=port, password="123456")
    assert good.ping() is True
    assert good.acl_whoami() == "default"
