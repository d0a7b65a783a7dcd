"""Leak soak: a long mixed workload on a bounded cache must leave no trace.

Millions of operations in the full form (``MOONCAKE_SOAK_OPS=3000000``), about
200k by default so CI stays fast. The workload runs in rounds; each round ends
with ``clear()``, which brings the table back to its minimal size, so memory
measured at round ends is comparable. After the warm-up rounds (freelists,
the access log and the interpreter's caches fill up) the traced memory and the
RSS must stay flat within a tolerance computed from the operation count: a
leak of 8 bytes per operation would exceed it several times over. At the end
every key and value has exactly the reference count it started with.

The RSS check is skipped under AddressSanitizer (its quarantine holds freed
memory on purpose); the traced-memory and refcount checks always run.
"""

import gc
import math
import os
import random
import sys
import tracemalloc

import pytest

psutil = pytest.importorskip("psutil")

OPS = int(os.environ.get("MOONCAKE_SOAK_OPS", "200000"))
ROUNDS = 10
WARMUP_ROUNDS = 2
MAXSIZE = 1000
POOL = 3000  # distinct keys: three times maxsize, so eviction is frequent
LEAK_PER_OP = 8  # bytes: the smallest per-operation leak the checks must catch
LOG_SIZE = 64

TTLS = [0, -1, 0.5, 1, 2.5, 5, 30, math.inf]


class Payload:
    __slots__ = ("n", "blob")

    def __init__(self, n):
        self.n = n
        self.blob = bytearray(n % 64)


def make_pool():
    keys = []
    for i in range(POOL):
        kind = i % 3
        if kind == 0:
            keys.append(f"key-{i}")
        elif kind == 1:
            keys.append((i, "tuple"))
        else:
            keys.append(10_000 + i)  # not a cached small int: a real refcount
    values = [Payload(i) if i % 2 else f"value-{i}" * (1 + i % 4) for i in range(POOL)]
    return keys, values


def run_round(cache, clock, rng, keys, values, ops):
    """``ops`` mixed operations touching every code path that drops references."""
    n = len(keys)
    rand, randrange, choice = rng.random, rng.randrange, rng.choice
    for _ in range(ops):
        op = rand()
        k = keys[randrange(n)]
        if op < 0.30:  # put: a new key, or an overwrite of a live one
            cache.put(k, values[randrange(n)], ttl=choice(TTLS))
        elif op < 0.58:
            cache.get(k)
        elif op < 0.64:
            cache.delete(k)
        elif op < 0.67:
            cache.pop(k, None)
        elif op < 0.71:
            cache.touch(k, choice(TTLS))
        elif op < 0.74:
            clock.advance(choice((0.05, 0.2, 0.5)))
        elif op < 0.78:
            cache.cleanup_expired()
        elif op < 0.81:
            _ = k in cache
            cache.ttl(k)
        elif op < 0.84:
            cache.put_many([(keys[randrange(n)], values[randrange(n)]) for _ in range(3)],
                           ttl=choice(TTLS))
        elif op < 0.87:
            cache.get_many([keys[randrange(n)] for _ in range(3)])
        elif op < 0.995:
            cache[k] = values[randrange(n)]
        elif op < 0.9999:
            len(cache)
            cache.items()
        else:
            cache.clear()
            cache.get_stats()
    cache.clear()


def measure():
    gc.collect()
    traced, _peak = tracemalloc.get_traced_memory()
    return traced, psutil.Process().memory_info().rss


def flush_access_log(cache):
    """Replace every access-log record (each holds a key) with a sentinel's."""
    cache.put("sentinel", "sentinel")
    for _ in range(LOG_SIZE):
        cache.get("sentinel")
    cache.clear()


@pytest.mark.soak
def test_mixed_workload_leaks_no_memory_and_no_references(make_cache, clock):
    keys, values = make_pool()
    gc.collect()
    start_refs = [sys.getrefcount(o) for o in keys + values]
    cache = make_cache(MAXSIZE, access_log_size=LOG_SIZE)
    rng = random.Random(20240605)
    per_round = max(1, OPS // ROUNDS)

    tracemalloc.start(1)
    try:
        readings = []
        for _ in range(ROUNDS):
            run_round(cache, clock, rng, keys, values, per_round)
            readings.append(measure())
    finally:
        tracemalloc.stop()

    stats = cache.get_stats()
    # The workload really exercised every way out of the cache.
    assert stats["puts"] > OPS // 4
    assert stats["evictions"] > 0 and stats["expirations"] > 0 and stats["deletes"] > 0

    measured_ops = per_round * (ROUNDS - WARMUP_ROUNDS)
    tolerance = measured_ops * LEAK_PER_OP // 4  # an 8-byte-per-op leak is 4x this
    traced = [t for t, _ in readings[WARMUP_ROUNDS:]]
    rss = [r for _, r in readings[WARMUP_ROUNDS:]]
    print(f"\nsoak {OPS} ops: traced after warm-up {traced[0]} .. {traced[-1]} bytes "
          f"(spread {max(traced) - min(traced)}), rss spread {max(rss) - min(rss)} bytes, "
          f"tolerance {tolerance} bytes")
    assert max(traced) - min(traced) <= tolerance, traced
    if not os.environ.get("MOONCAKE_SANITIZED"):
        # RSS moves in pages and with malloc's arenas: twice the traced tolerance,
        # still less than an 8-byte-per-op leak would add.
        assert max(rss) - min(rss) <= 2 * tolerance, rss

    flush_access_log(cache)
    assert [sys.getrefcount(o) for o in keys + values] == start_refs
    del cache
    gc.collect()
    assert [sys.getrefcount(o) for o in keys + values] == start_refs
