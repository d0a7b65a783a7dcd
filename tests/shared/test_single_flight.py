"""Single flight across processes for a shared memoize: one computation per
cold key however many processes miss it, and no waiter blocked for ever."""

import multiprocessing
import threading
import time

import pytest

from mooncake.shared import SharedMooncake
from mooncake.shared.memo_keys import SharedMemoKeys

from .flight_procs import call_once


def _spawn(server, namespace, count, lease, hold):
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    children = []
    for _ in range(count):
        ours, theirs = context.Pipe()
        child = context.Process(target=call_once,
                                args=(server.url, namespace, lease, hold, start, theirs))
        child.start()
        children.append((child, ours))
    for child, ours in children:
        assert ours.poll(60) and ours.recv() == "ready"
    return start, children


def _stop(children):
    for child, _ in children:
        if child.is_alive():
            child.kill()
        child.join(5)


def _computations(client, namespace):
    return int(client.get("computations:" + namespace) or 0)


def test_a_stampede_of_processes_computes_once(server, namespace, raw):
    start, children = _spawn(server, namespace, 8, lease=30, hold=0.3)
    try:
        start.set()
        results = []
        for child, ours in children:
            assert ours.poll(30), "a waiter hung"
            results.append(ours.recv()[0])
        assert _computations(raw, namespace) == 1
        assert len(set(results)) == 1
    finally:
        _stop(children)
        raw.delete("computations:" + namespace)
        SharedMooncake(server.url, namespace=namespace).clear()


def test_a_dead_leader_blocks_the_others_no_longer_than_its_lease(server, namespace, raw):
    lease = 1.0
    start, leaders = _spawn(server, namespace, 1, lease=lease, hold=60)
    try:
        start.set()
        deadline = time.monotonic() + 10
        while _computations(raw, namespace) == 0:  # the leader holds the lock now
            assert time.monotonic() < deadline
            time.sleep(0.01)
        start2, waiters = _spawn(server, namespace, 1, lease=lease, hold=0)
        try:
            start2.set()
            time.sleep(0.1)
            leaders[0][0].kill()  # dies holding the lock
            waiter, ours = waiters[0]
            assert ours.poll(10), "the waiter hung"
            result, took = ours.recv()
            assert result == f"1 computed by {waiter.pid}"
            # Freed by the lease, not by the leader's 60 s hold; no tighter
            # wall-clock bound, which a loaded machine could break.
            assert took < 30
            assert _computations(raw, namespace) == 2
        finally:
            _stop(waiters)
    finally:
        _stop(leaders)
        raw.delete("computations:" + namespace)
        SharedMooncake(server.url, namespace=namespace).clear()


def _twin(make_shared, near, body, lease=10):
    """A memoized ``work`` on a cache of its own: the same function name, so the
    same result key as any twin, but its own in-process single flight."""
    cache = make_shared(near=near)

    @cache.memoize(ttl=60, lease=lease)
    def work(x):
        return body(x)

    return work


@pytest.mark.parametrize("near", [None, 10])
def test_a_leader_that_raises_releases_the_lock_and_a_waiter_computes(make_shared, near):
    leading, calls = threading.Event(), []

    def failing(x):
        leading.set()
        time.sleep(0.2)
        raise RuntimeError("leader failed")

    def succeeding(x):
        calls.append(x)
        return x * 10

    first = _twin(make_shared, near, failing)
    second = _twin(make_shared, near, succeeding)
    outcome = {}

    def lead():
        try:
            first(4)
        except RuntimeError as exc:
            outcome["leader"] = exc

    thread = threading.Thread(target=lead)
    thread.start()
    assert leading.wait(5)
    started = time.monotonic()
    assert second(4) == 40  # waited for the failing leader, then computed
    thread.join()
    assert isinstance(outcome["leader"], RuntimeError)
    assert calls == [4]
    assert time.monotonic() - started < 5  # woken (push or poll), not the 10 s lease
    assert first(4) == 40  # stored for everyone


def test_the_lock_is_a_helper_key_removed_by_clear_and_not_counted(make_shared):
    cache = make_shared()
    entered, release = threading.Event(), threading.Event()

    @cache.memoize(ttl=60)
    def held(x):
        entered.set()
        release.wait(5)
        return x

    thread = threading.Thread(target=held, args=(1,))
    thread.start()
    try:
        assert entered.wait(5)
        locks = list(cache.client.scan_iter(match=cache._namespace.helpers))
        assert len(locks) == 1 and len(cache) == 0
    finally:
        release.set()
        thread.join()
    assert len(cache) == 1
    assert list(cache.client.scan_iter(match=cache._namespace.helpers)) == []  # released


def test_a_lease_must_be_positive(shared):
    with pytest.raises(ValueError):
        shared.memoize(lease=0)


@pytest.mark.parametrize("lease", [1e17, 2**70, float("inf")])
def test_a_lease_the_server_cannot_take_is_refused_at_decoration(shared, commands_sent, lease):
    with pytest.raises(ValueError, match="lease"):
        shared.memoize(lease=lease)
    assert commands_sent() == 0


def test_the_longest_lease_and_a_ttl_past_the_servers_clock_work(shared):
    calls = []

    @shared.memoize(ttl=1e17, lease=1e15)  # 10**18 ms: within what SET PX takes
    def double(x):
        calls.append(x)
        return 2 * x

    assert double(2) == 4 and double(2) == 4 and calls == [2]
    assert shared.get_stats()["errors"] == 0


def _lock_of(cache, func, args, lease):
    keys = SharedMemoKeys(cache, func, None, False, namespace=cache._namespace, count=None, clear=None)
    return cache._core.lock_name(keys.make(args, {}).name)


def _forge(raw, lock, kind):
    """A lock key no lease will ever free."""
    if kind == "no expiry":
        raw.set(lock, b"someone else")  # another client's SET without PX
    elif kind == "persisted":
        raw.set(lock, b"a dead leader", px=60_000)
        raw.persist(lock)
    else:  # not even a string
        raw.hset(lock, "field", "value")


@pytest.mark.parametrize("kind", ["no expiry", "persisted", "a hash"])
def test_a_lock_that_never_expires_blocks_a_waiter_no_longer_than_the_lease(make_shared, raw, kind):
    cache = make_shared()
    calls = []

    @cache.memoize(ttl=60, lease=1)
    def work(x):
        calls.append(x)
        return x + 1

    lock = _lock_of(cache, work, (1,), 1)
    _forge(raw, lock, kind)
    outcome = []
    caller = threading.Thread(target=lambda: outcome.append(work(1)), daemon=True)
    caller.start()
    caller.join(30)  # a hang guard: without the fix the waiter never computes
    assert not caller.is_alive(), "the waiter is blocked for ever"
    assert outcome == [2] and calls == [1]
    assert raw.exists(lock) == 0  # replaced by the waiter's own lock, then released


def test_of_two_waiters_on_a_lock_that_never_expires_one_computes(make_shared, raw):
    calls = []

    def body(x):
        calls.append(x)
        return x * 3

    first, second = _twin(make_shared, None, body, lease=2), _twin(make_shared, None, body, lease=2)
    lock = _lock_of(make_shared(), first, (5,), 2)
    _forge(raw, lock, "no expiry")
    outcomes = []
    callers = [threading.Thread(target=lambda f=f: outcomes.append(f(5)), daemon=True)
               for f in (first, second)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(30)
    assert not any(caller.is_alive() for caller in callers), "a waiter is blocked for ever"
    assert outcomes == [15, 15]
    assert calls == [5]  # one took the lock over; the other waited for it
