"""redis-py's Lock against vigil-node (issue 17): acquire, release, extend and reacquire are SET NX
plus three Lua scripts that redis-py runs with EVALSHA (falling back to EVAL after NOSCRIPT), so
this exercises EVAL/EVALSHA, the script cache and the scripts' key reads and expiry writes.
The cases follow redis-py's own tests/test_lock.py."""
import threading
import time

import pytest
import redis
from redis.exceptions import LockError, LockNotOwnedError

from conftest import wait_until


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def r(vigil_node, request):
    port = vigil_node()
    client = redis.Redis(port=port, protocol=request.param)
    yield client
    client.close()


def test_acquire_and_release(r):
    lock = r.lock("foo")
    assert lock.acquire(blocking=False)
    assert r.get("foo") == lock.local.token
    assert r.ttl("foo") == -1
    assert lock.locked() and lock.owned()
    lock.release()
    assert r.get("foo") is None
    assert not lock.locked()


def test_lock_token_and_timeout(r):
    lock = r.lock("foo", timeout=10)
    assert lock.acquire(blocking=False)
    assert 8 < r.ttl("foo") <= 10
    lock.release()


def test_competing_lock_is_refused_until_released(r):
    lock1 = r.lock("foo")
    lock2 = r.lock("foo")
    assert lock1.acquire(blocking=False)
    assert not lock2.acquire(blocking=False)
    assert lock2.locked() and not lock2.owned()
    lock1.release()
    assert lock2.acquire(blocking=False)
    lock2.release()


def test_blocking_timeout_gives_up(r):
    lock1 = r.lock("foo")
    assert lock1.acquire(blocking=False)
    lock2 = r.lock("foo", sleep=0.02)
    t0 = time.monotonic()
    assert not lock2.acquire(blocking=True, blocking_timeout=0.2)
    # It waited (rather than failing at once) before giving up.
    assert time.monotonic() - t0 >= 0.15
    assert r.get("foo") == lock1.local.token
    lock1.release()


def test_blocking_acquire_gets_the_lock_when_the_holder_expires(r):
    holder = r.lock("foo", timeout=0.3)
    assert holder.acquire(blocking=False)
    waiter = r.lock("foo", sleep=0.02, timeout=5)
    assert waiter.acquire(blocking=True, blocking_timeout=5)
    assert r.get("foo") == waiter.local.token
    # The expired holder no longer owns it: releasing it must not delete the waiter's lock.
    with pytest.raises(LockNotOwnedError):
        holder.release()
    assert r.get("foo") == waiter.local.token
    waiter.release()


def test_blocking_acquire_gets_the_lock_released_by_another_thread(r):
    holder = r.lock("foo", thread_local=False)
    assert holder.acquire(blocking=False)
    waiter = r.lock("foo", sleep=0.02, thread_local=False)
    got = []
    t = threading.Thread(target=lambda: got.append(waiter.acquire(blocking=True, blocking_timeout=5)))
    t.start()
    holder.release()
    t.join(10)
    assert got == [True]
    assert r.get("foo") == waiter.local.token


def test_release_of_an_unlocked_lock_raises(r):
    lock = r.lock("foo")
    with pytest.raises(LockError):
        lock.release()


def test_release_after_expiry_raises_not_owned(r):
    lock = r.lock("foo", timeout=0.1)
    assert lock.acquire(blocking=False)
    assert wait_until(lambda: r.exists("foo") == 0, timeout=5)
    with pytest.raises(LockNotOwnedError):
        lock.release()


def test_release_keeps_a_lock_someone_else_holds(r):
    lock = r.lock("foo", timeout=10)
    assert lock.acquire(blocking=False)
    r.set("foo", "another-token")
    with pytest.raises(LockNotOwnedError):
        lock.release()
    assert r.get("foo") == b"another-token"


def test_extend_adds_to_the_ttl(r):
    lock = r.lock("foo", timeout=10)
    assert lock.acquire(blocking=False)
    assert 8000 < r.pttl("foo") <= 10000
    assert lock.extend(10)
    assert 16000 < r.pttl("foo") <= 20000
    lock.release()


def test_extend_can_replace_the_ttl(r):
    lock = r.lock("foo", timeout=10)
    assert lock.acquire(blocking=False)
    assert lock.extend(30, replace_ttl=True)
    assert 28000 < r.pttl("foo") <= 30000
    lock.release()


def test_extend_needs_a_timeout_and_ownership(r):
    lock = r.lock("foo")
    assert lock.acquire(blocking=False)
    with pytest.raises(LockError):
        lock.extend(10)
    lock.release()
    timed = r.lock("foo", timeout=10)
    assert timed.acquire(blocking=False)
    r.set("foo", "someone-else", px=10000)
    with pytest.raises(LockNotOwnedError):
        timed.extend(10)


def test_reacquire_resets_the_ttl(r):
    lock = r.lock("foo", timeout=10)
    assert lock.acquire(blocking=False)
    r.pexpire("foo", 5000)
    assert r.pttl("foo") <= 5000
    assert lock.reacquire()
    assert 8000 < r.pttl("foo") <= 10000
    lock.release()


def test_reacquire_of_a_lost_lock_raises(r):
    lock = r.lock("foo", timeout=10)
    assert lock.acquire(blocking=False)
    r.delete("foo")
    with pytest.raises(LockNotOwnedError):
        lock.reacquire()


def test_context_manager(r):
    with r.lock("foo", timeout=5) as lock:
        assert r.get("foo") == lock.local.token
    assert r.get("foo") is None


def test_scripts_are_cached_and_survive_a_script_flush(r):
    lock = r.lock("foo", timeout=10)
    assert lock.acquire(blocking=False)
    assert lock.extend(1)
    lock.release()
    shas = [lock.lua_release.sha, lock.lua_extend.sha]
    assert r.script_exists(*shas) == [True, True]
    # After SCRIPT FLUSH redis-py gets NOSCRIPT and sends the body again.
    r.script_flush()
    assert r.script_exists(*shas) == [False, False]
    assert lock.acquire(blocking=False)
    lock.release()
    assert r.get("foo") is None
    assert r.script_exists(lock.lua_release.sha) == [True]
