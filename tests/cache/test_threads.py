"""Many threads on one cache: no crash, no lost entry, counters that add up.

Written to mean something on a free-threaded build too: the threads start
together behind a barrier and every assertion is about exact totals.
"""

import functools
import math
import random
import sys

import pytest
from thread_runner import run_together

THREADS = 8
OPS = 12_000


@pytest.fixture(autouse=True)
def fast_switching():
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # interleave threads as often as the GIL allows
    yield
    sys.setswitchinterval(old)


def run_threads(worker, sweeper):
    run_together([functools.partial(worker, n) for n in range(THREADS)], sweeper)


def test_unbounded_cache_loses_nothing_under_threads(cache_cls):
    cache = cache_cls()
    expected = [dict() for _ in range(THREADS)]
    counts = [dict(puts=0, gets=0, deletes=0) for _ in range(THREADS)]

    def worker(n):
        rng = random.Random(n)
        mine, count = expected[n], counts[n]
        for i in range(OPS):
            key = (n, rng.randrange(500))
            op = rng.random()
            if op < 0.4:
                cache.put(key, i, ttl=math.inf)
                mine[key] = i
                count["puts"] += 1
            elif op < 0.8:
                assert cache.get(key, None) == mine.get(key)
                count["gets"] += 1
            elif op < 0.9:
                deleted = cache.delete(key)
                assert deleted == (mine.pop(key, None) is not None)
                count["deletes"] += deleted
            else:
                shared = ("shared", rng.randrange(50))
                cache.put(shared, i, ttl=0.001)
                cache.get(shared)
                count["puts"] += 1
                count["gets"] += 1

    def sweeper(stop):
        while not stop.is_set():
            cache.cleanup_expired()
            cache.get_stats()
            len(cache)

    run_threads(worker, sweeper)
    merged = {k: v for mine in expected for k, v in mine.items()}
    live = {k: v for k, v in cache.items() if k[0] != "shared"}
    assert live == merged
    stats = cache.get_stats()
    assert stats["puts"] == sum(c["puts"] for c in counts)
    assert stats["hits"] + stats["misses"] == sum(c["gets"] for c in counts)
    assert stats["deletes"] == sum(c["deletes"] for c in counts)


def test_bounded_cache_accounts_for_every_entry_under_threads(cache_cls):
    cache = cache_cls(300)
    puts = [0] * THREADS

    def worker(n):
        rng = random.Random(100 + n)
        for i in range(OPS):
            if rng.random() < 0.6:
                cache.put((n, i), i, ttl=rng.choice([0.002, 60, math.inf]))  # always a new key
                puts[n] += 1
            else:
                cache.get((n, rng.randrange(max(1, i))))
            if i % 97 == 0:
                cache.delete((n, rng.randrange(max(1, i))))

    def sweeper(stop):
        while not stop.is_set():
            cache.cleanup_expired()
            assert cache.get_stats()["total_objects"] <= 300

    run_threads(worker, sweeper)
    # One reading: entries of 2 ms may expire between a len() and a get_stats().
    stats = cache.get_stats()
    live = stats["total_objects"]
    assert live <= 300
    assert stats["puts"] == sum(puts)
    # Every key was new, so each put is live now or left by exactly one way.
    assert stats["puts"] == live + stats["deletes"] + stats["evictions"] + stats["expirations"]
