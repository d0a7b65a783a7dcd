"""The twin's ``_check_invariants``: it holds after every step of every kind
of workload, it runs no user code, and it fails when the state is broken.

The workload tests run on each implementation whose module says
``DEBUG_BUILD`` (the twin always; the engine only in a ``MOONCAKE_DEBUG=1``
build). The corruption tests reach into the twin's private attributes, so
they are the twin's alone: they prove the checker can fail, and that its
message names the invariant that broke.
"""

import copy
import heapq
import math
import pickle
import re

import hypothesis.strategies as st
import pytest
from conftest import IMPLS, FakeClock, implementation
from hypothesis import given

#: The implementations under test in this run that are built to check themselves.
CHECKED = [impl for impl in IMPLS if getattr(implementation("cache", impl), "DEBUG_BUILD", False)]

Twin = implementation("cache", "py").SimpleMooncake

# Under the sanitizers (conftest.SANITIZED) the API tests run on the engine
# only; so do these, and the tests of the twin's own state are left out.
twin_only = pytest.mark.skipif("py" not in IMPLS, reason="the twin is not under test in this run")


@pytest.fixture(params=CHECKED, scope="module")
def checked_cls(request):
    return implementation("cache", request.param).SimpleMooncake


def test_the_twin_always_checks_itself():
    assert implementation("cache", "py").DEBUG_BUILD is True


# -- workloads, checked after each step -------------------------------------

ops = st.lists(
    st.one_of(
        st.tuples(st.just("put"), st.integers(0, 12), st.sampled_from([0, 0.5, 1, 3, math.inf])),
        st.tuples(st.just("get"), st.integers(0, 12)),
        st.tuples(st.just("delete"), st.integers(0, 12)),
        st.tuples(st.just("touch"), st.integers(0, 12), st.sampled_from([0, 0.5, 2, math.inf])),
        st.tuples(st.just("advance"), st.sampled_from([0.25, 1, 2.5])),
        st.tuples(st.just("cleanup")),
        st.tuples(st.just("len")),
        st.tuples(st.just("clear")),
    ),
    max_size=60,
)


def apply(cache, clock, op):
    kind = op[0]
    if kind == "put":
        cache.put(op[1], f"v{op[1]}", ttl=op[2])
    elif kind == "get":
        cache.get(op[1])
    elif kind == "delete":
        cache.delete(op[1])
    elif kind == "touch":
        cache.touch(op[1], op[2])
    elif kind == "advance":
        clock.advance(op[1])
    elif kind == "cleanup":
        cache.cleanup_expired()
    elif kind == "len":
        len(cache)
    else:
        cache.clear()


@pytest.mark.parametrize("policy", ["tinylfu", "sieve"])
@pytest.mark.parametrize("maxsize", [None, 1, 2, 5])
@given(steps=ops)
def test_invariants_hold_after_every_step(checked_cls, policy, maxsize, steps):
    clock = FakeClock()
    cache = checked_cls(maxsize, clock=clock, access_log_size=4, policy=policy)
    cache._check_invariants()
    for op in steps:
        apply(cache, clock, op)
        assert cache._check_invariants() is None
        if maxsize is not None:
            assert len(cache) <= maxsize


@pytest.mark.parametrize("policy", ["tinylfu", "sieve"])
def test_invariants_hold_through_heavy_eviction(checked_cls, policy):
    """Far more keys than room, skewed so tinylfu admits some and rejects
    others, and the window moves both ways; reads in between set SIEVE bits."""
    clock = FakeClock()
    cache = checked_cls(20, clock=clock, access_log_size=8, policy=policy)
    for i in range(600):
        key = i % 7 if i % 3 == 0 else i
        cache.put(key, i, ttl=math.inf if i % 5 == 0 else 50)
        if i % 4 == 0:
            cache.get(i % 7)
        if i % 50 == 0:
            clock.advance(30)
        cache._check_invariants()
    stats = cache.get_stats()
    assert stats["evictions"] > 0 and len(cache) == 20


@pytest.mark.parametrize("maxsize", [None, 4])
@given(steps=st.lists(
    st.tuples(st.integers(0, 8), st.integers(0, 60), st.sampled_from([0, 1, 5, math.inf])),
    max_size=40))
def test_invariants_hold_under_a_byte_budget(checked_cls, maxsize, steps):
    """Weights from ``getsizeof``: growing overwrites evict others, a value
    over the whole budget is refused, and the sum stays within maxmemory."""
    clock = FakeClock()
    cache = checked_cls(maxsize, clock=clock, maxmemory=50, getsizeof=len)
    for key, weight, ttl in steps:
        cache.put(key, "x" * weight, ttl=ttl)
        cache._check_invariants()
        clock.advance(0.5)
        cache._check_invariants()
        assert cache.get_stats()["memory_usage"] <= 50


@pytest.mark.parametrize("policy", ["tinylfu", "sieve"])
def test_invariants_hold_across_clear(checked_cls, policy):
    clock = FakeClock()
    cache = checked_cls(4, clock=clock, policy=policy)
    for round_ in range(3):
        for i in range(10):
            cache.put((round_, i), i, ttl=1 + i % 3)
            cache._check_invariants()
        clock.advance(2)
        cache.clear()
        cache._check_invariants()
        assert len(cache) == 0


@pytest.mark.parametrize("clone", [lambda c: pickle.loads(pickle.dumps(c)), copy.deepcopy],
                         ids=["pickle", "deepcopy"])
@pytest.mark.parametrize("policy", ["tinylfu", "sieve"])
def test_invariants_hold_after_a_pickle_round_trip(checked_cls, clone, policy):
    clock = FakeClock()
    cache = checked_cls(6, clock=clock, access_log_size=3, policy=policy)
    for i in range(15):
        cache.put(i, [i], ttl=math.inf if i % 2 else 1 + i)
        cache.get(i - 1)
    clock.advance(4)  # some entries are expired but not yet purged
    copied = clone(cache)
    cache._check_invariants()
    copied._check_invariants()
    assert copied.items() == cache.items()
    for i in range(15, 30):  # the copy works on: it fills, evicts and expires
        copied.put(i, i, ttl=2)
        copied._check_invariants()
    assert len(copied) == 6


def test_check_invariants_runs_no_user_code(checked_cls):
    """No hash, ``==`` or clock of the user's: it is safe between any two operations."""
    calls = []

    class Key:
        def __init__(self, n):
            self.n = n

        def __hash__(self):
            calls.append("hash")
            return self.n % 2  # collisions: lookups need __eq__

        def __eq__(self, other):
            calls.append("eq")
            return isinstance(other, Key) and other.n == self.n

    def clock():
        calls.append("clock")
        return 1000.0

    cache = checked_cls(3, clock=clock, maxmemory=10_000, getsizeof=lambda v: calls.append("size") or 1)
    for n in range(6):
        cache.put(Key(n), n, ttl=10)
    calls.clear()
    cache._check_invariants()
    assert calls == []


# -- the checker can fail (the twin's own state, broken on purpose) ---------


def filled_twin(policy="tinylfu", maxmemory=None):
    clock = FakeClock()
    cache = Twin(4, clock=clock, access_log_size=2, policy=policy, maxmemory=maxmemory)
    for i in range(8):
        cache.put(i, i, ttl=10 + i)
        cache.get(i)
        clock.advance(0.5)
    cache.put("forever", 0, ttl=math.inf)
    cache._check_invariants()  # sound before it is broken
    return cache


def break_heap_order(c):
    c._heap[0], c._heap[-1] = c._heap[-1], c._heap[0]


def drop_a_heap_item(c):
    current = [item for item in c._heap if c._is_current(item)]
    c._heap.remove(current[-1])
    heapq.heapify(c._heap)


def file_an_immortal_entry(c):
    entry = next(e for e in c._queue.values() if e.key == "forever")
    heapq.heappush(c._heap, (c._clock.now + 5, entry.heap_token, entry))


def move_an_expiry(c):
    entry = next(e for e in c._queue.values() if e.ttl != math.inf)
    entry.ttl += 1  # its heap item still says the old expiry


def count_one_more_live(c):
    c._n_window += 1


def lose_a_record_from_the_queue(c):
    del c._queue[max(c._queue)]


def file_a_record_under_another_hash(c):
    entry = c._queue[max(c._queue)]
    c._buckets[entry.hash].remove(entry)
    if not c._buckets[entry.hash]:
        del c._buckets[entry.hash]
    c._buckets.setdefault(entry.hash ^ 1, []).append(entry)


def store_a_key_twice(c):
    first, second = list(c._queue.values())[:2]
    second.key = first.key
    c._buckets[second.hash].remove(second)
    c._buckets[first.hash].append(second)
    second.hash = first.hash


def move_the_boundary(c):
    assert c._n_window > 0
    c._boundary = c._next_seq  # the window's entries counted as main's


def point_the_hand_past_the_queue(c):
    c._hand = c._next_seq + 3


def put_the_hand_in_the_window(c):
    c._hand = max(c._queue)


def leave_a_removed_entry_in_the_table(c):
    c._queue[max(c._queue)].removed = True


def overfill_the_access_log(c):
    c._log_size = 1


def break_the_byte_budget(c):
    c._memory += 1


CORRUPTIONS = [
    ("tinylfu", break_heap_order, "heap order"),
    ("tinylfu", drop_a_heap_item, "heap membership"),
    ("tinylfu", file_an_immortal_entry, "heap membership"),
    ("sieve", move_an_expiry, "heap key"),
    ("tinylfu", count_one_more_live, "window + main"),
    ("sieve", lose_a_record_from_the_queue, "key <-> record"),
    ("sieve", file_a_record_under_another_hash, "buckets"),
    ("sieve", store_a_key_twice, "stored twice"),
    ("tinylfu", move_the_boundary, "boundary rule"),
    ("sieve", point_the_hand_past_the_queue, "SIEVE hand"),
    ("tinylfu", put_the_hand_in_the_window, "SIEVE hand"),
    ("sieve", leave_a_removed_entry_in_the_table, "graveyard"),
    ("sieve", overfill_the_access_log, "access log"),
    ("budget", break_the_byte_budget, "budget"),
]


@twin_only
@pytest.mark.parametrize("policy, corrupt, invariant", CORRUPTIONS,
                         ids=[c[1].__name__ for c in CORRUPTIONS])
def test_a_broken_state_fails_the_check_naming_the_invariant(policy, corrupt, invariant):
    cache = filled_twin("sieve", maxmemory=10_000) if policy == "budget" else filled_twin(policy)
    corrupt(cache)
    with pytest.raises(AssertionError, match=re.escape(invariant)):
        cache._check_invariants()


@twin_only
def test_a_stale_heap_item_must_not_keep_a_removed_value_alive():
    cache = filled_twin("sieve")
    entry = next(e for e in cache._queue.values() if e.ttl != math.inf)
    assert cache.delete(entry.key)  # its heap item stays behind, stale
    assert any(item[2] is entry for item in cache._heap)
    cache._check_invariants()
    entry.value = "resurrected"
    with pytest.raises(AssertionError, match="graveyard"):
        cache._check_invariants()


@twin_only
def test_an_uninitialised_twin_refuses_the_check():
    with pytest.raises(RuntimeError, match="not initialised"):
        Twin.__new__(Twin)._check_invariants()
