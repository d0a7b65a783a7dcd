"""A tour of mooncake: the cache, its TTLs and bound, threads, bad input, and the monitor.

Run it with ``python examples/simple_demo.py`` after ``pip install .``.
"""

import math
import os
import sys
import threading

import mooncake
from mooncake import SimpleMooncake


class ManualClock:
    """A clock we move by hand, so the demo shows expiry without sleeping."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def heading(title):
    print(f"\n== {title} ==")


def basic_operations():
    heading("Basic operations")
    cache = SimpleMooncake()
    cache.put("user:1", {"name": "Ada"}, ttl=60)
    cache["user:2"] = {"name": "Grace"}  # the default ttl: one hour
    print("get user:1        ->", cache.get("user:1"))
    print("get user:3        ->", cache.get("user:3", "<not cached>"))
    print("'user:2' in cache ->", "user:2" in cache)
    print("delete user:2     ->", cache.delete("user:2"), "(again:", cache.delete("user:2"), ")")
    print("len(cache)        ->", len(cache))
    stats = cache.get_stats()
    print(f"stats             -> hits={stats['hits']} misses={stats['misses']} "
          f"hit_rate={stats['hit_rate']:.2f} memory_usage={stats['memory_usage']} bytes")


def ttl_and_cleanup():
    heading("TTL and cleanup")
    clock = ManualClock()
    cache = SimpleMooncake(clock=clock)
    cache.put("session", "abc", ttl=30)
    cache.put("forever", "config", ttl=math.inf)
    cache.put_many({f"tmp:{i}": i for i in range(5)}, ttl=5)
    print("after put: live entries =", len(cache), "| ttl('session') =", cache.ttl("session"))
    clock.now = 10.0
    print("t=10s: cleanup_expired() removed", cache.cleanup_expired(), "entries")
    print("t=10s: session has", cache.ttl("session"), "seconds left")
    cache.touch("session", 30)
    clock.now = 35.0
    print("t=35s: session (touched at 10s) ->", cache.get("session"))
    clock.now = 1e9
    print("t=1e9s: forever ->", cache.get("forever"), "| session ->", cache.get("session"))


def size_bound():
    heading("Size bound with SIEVE eviction")
    cache = SimpleMooncake(maxsize=3)
    for key in ("a", "b", "c"):
        cache.put(key, key.upper())
    cache.get("a")  # a is now 'visited': SIEVE spares it once
    cache.put("d", "D")
    print("after putting d into a full cache of a, b, c (a was read):", sorted(cache.keys()))
    print("evictions:", cache.get_stats()["evictions"])


def concurrency():
    heading("Threads")
    cache = SimpleMooncake(maxsize=1000)

    def worker(n):
        for i in range(10_000):
            cache.put((n, i % 200), i)
            cache.get((n, (i * 7) % 200))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stats = cache.get_stats()
    print(f"4 threads x 10,000 put+get: puts={stats['puts']} "
          f"lookups={stats['hits'] + stats['misses']} live={stats['total_objects']}")


def bad_input():
    heading("Bad input is refused and changes nothing")
    cache = SimpleMooncake()
    cache.put("k", "v")
    for label, call in (
        ("unhashable key", lambda: cache.put(["list"], 1)),
        ("ttl as text", lambda: cache.put("k", 1, ttl="10")),
        ("NaN ttl", lambda: cache.put("k", 1, ttl=math.nan)),
        ("maxsize=0", lambda: SimpleMooncake(maxsize=0)),
    ):
        try:
            call()
        except (TypeError, ValueError) as exc:
            print(f"{label:15s} -> {type(exc).__name__}: {exc}")
    print("the cache still holds:", cache.items())


def memoize_and_callbacks():
    heading("Memoize and removal callbacks")
    removed = []
    cache = SimpleMooncake(maxsize=2, on_remove=lambda key, value, reason: removed.append((key, str(reason))))
    calls = []

    @cache.memoize(ttl=60)
    def square(n):
        calls.append(n)
        return n * n

    print("square(4), square(4), square(5) ->", square(4), square(4), square(5))
    print("the function ran for:", calls, "|", square.cache_info())
    cache.put("extra", 1)  # the cache holds 2: SIEVE evicts one memoized result
    cache.delete("extra")
    print("on_remove saw:", [reason for _, reason in removed])


def instrumented_cache():
    heading("An instrumented cache")
    monitor = mooncake.SimpleMonitor()
    cache = SimpleMooncake(monitor=monitor)
    for i in range(1000):
        cache.put(i, str(i))
        cache.get(i if i % 4 else -1)  # one lookup in four misses
    summary = monitor.get_performance_summary()
    for op in ("put", "get"):
        row = summary[op]
        print(f"{op}: {row['count']} calls, success {row['success_rate']:.0%}, "
              f"p50 {row['p50'] * 1e9:.0f} ns, p99 {row['p99'] * 1e9:.0f} ns")


def main():
    engine = "Cython engine" if mooncake.ACCELERATED else "pure-Python twin"
    print(f"mooncake {mooncake.__version__} on Python {sys.version.split()[0]} ({engine})")
    basic_operations()
    ttl_and_cleanup()
    size_bound()
    concurrency()
    bad_input()
    memoize_and_callbacks()
    instrumented_cache()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from monitor_demo import run_monitor_demos

    run_monitor_demos()


if __name__ == "__main__":
    main()
