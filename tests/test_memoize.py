"""cache.memoize and cache.memoize_method: keys, exceptions, single flight."""

import asyncio
import gc
import threading
import time
import weakref

import pytest


def test_results_are_cached_per_argument_tuple(make_cache):
    cache = make_cache()
    calls = []

    @cache.memoize(ttl=60)
    def concat(a, b):
        calls.append((a, b))
        return f"{a}|{b}"

    assert concat(1, 23) == "1|23"
    assert concat(12, 3) == "12|3"  # no collision with (1, 23)
    assert concat(1, 23) == "1|23"
    assert calls == [(1, 23), (12, 3)]
    assert concat.cache_info() == (1, 2, 2)


def test_keyword_order_does_not_matter(make_cache):
    cache = make_cache()
    calls = []

    @cache.memoize()
    def f(**kwargs):
        calls.append(kwargs)
        return sorted(kwargs)

    f(a=1, b=2)
    f(b=2, a=1)
    assert len(calls) == 1


def test_results_expire_with_the_ttl(make_cache, clock):
    cache = make_cache()
    calls = []

    @cache.memoize(ttl=10)
    def f(x):
        calls.append(x)
        return x

    f(1)
    clock.advance(10)
    f(1)
    assert calls == [1, 1]


def test_exceptions_are_not_cached(make_cache):
    cache = make_cache()
    attempts = []

    @cache.memoize()
    def flaky(x):
        attempts.append(x)
        if len(attempts) == 1:
            raise ValueError("first call fails")
        return x * 2

    with pytest.raises(ValueError):
        flaky(3)
    assert flaky(3) == 6
    assert flaky(3) == 6
    assert attempts == [3, 3]


def test_user_key_and_separate_functions_sharing_a_cache(make_cache):
    cache = make_cache()

    @cache.memoize(key=lambda user, verbose=False: user)
    def profile(user, verbose=False):
        return {"user": user, "verbose": verbose}

    @cache.memoize()
    def other(user):
        return "other"

    assert profile("ada", verbose=True) == {"user": "ada", "verbose": True}
    assert profile("ada") == {"user": "ada", "verbose": True}  # same key by design
    assert other("ada") == "other"


def test_none_results_are_cached(make_cache):
    cache = make_cache()
    calls = []

    @cache.memoize()
    def nothing():
        calls.append(1)

    nothing()
    nothing()
    assert calls == [1]


def test_cache_clear_removes_only_this_functions_entries(make_cache):
    cache = make_cache()
    cache.put("unrelated", 1)

    @cache.memoize()
    def f(x):
        return x

    f(1)
    f(2)
    f(1)
    assert f.cache_info() == (1, 2, 2)
    f.cache_clear()
    assert f.cache_info() == (0, 0, 0)
    assert cache.items() == [("unrelated", 1)]


def test_concurrent_misses_on_one_key_run_the_function_once(make_cache):
    cache = make_cache()
    calls = []
    release = threading.Event()
    start = threading.Barrier(8)

    @cache.memoize()
    def slow(x):
        calls.append(x)
        release.wait(5)
        return x * 10

    results = []

    def caller():
        start.wait()
        results.append(slow(7))

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for t in threads:
        t.start()
    time.sleep(0.05)  # let the followers reach the wait; correctness does not depend on it
    release.set()
    for t in threads:
        t.join()
    assert results == [70] * 8
    assert calls == [7]


def test_a_failing_leader_wakes_the_followers_to_retry(make_cache):
    cache = make_cache()
    calls = []
    entered = threading.Event()
    release = threading.Event()

    @cache.memoize()
    def job():
        calls.append(1)
        if len(calls) == 1:
            entered.set()
            release.wait(5)
            raise RuntimeError("leader fails")
        return "ok"

    outcome = {}

    def leader():
        try:
            job()
        except RuntimeError:
            outcome["leader"] = "raised"

    def follower():
        outcome["follower"] = job()

    first = threading.Thread(target=leader)
    first.start()
    entered.wait(5)
    second = threading.Thread(target=follower)
    second.start()
    time.sleep(0.05)
    release.set()
    first.join(5)
    second.join(5)
    assert outcome == {"leader": "raised", "follower": "ok"}
    assert len(calls) == 2


def test_recursion_on_the_same_key_does_not_deadlock(make_cache):
    cache = make_cache()
    depth = []

    @cache.memoize()
    def again(n):
        depth.append(n)
        if len(depth) < 3:
            return again(n)
        return "bottom"

    assert again(1) == "bottom"


def test_hundred_concurrent_awaits_run_the_coroutine_once(make_cache):
    cache = make_cache()
    calls = []

    @cache.memoize()
    async def fetch(key):
        calls.append(key)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return key.upper()

    async def main():
        return await asyncio.gather(*(fetch("a") for _ in range(100)))

    assert asyncio.run(main()) == ["A"] * 100
    assert calls == ["a"]
    assert fetch.cache_info().hits == 99


def test_a_failing_coroutine_lets_waiters_retry(make_cache):
    cache = make_cache()
    calls = []

    @cache.memoize()
    async def fetch():
        calls.append(1)
        await asyncio.sleep(0)
        if len(calls) == 1:
            raise KeyError("first")
        return "second"

    async def main():
        return await asyncio.gather(fetch(), fetch(), return_exceptions=True)

    first, second = asyncio.run(main())
    assert isinstance(first, KeyError) and second == "second"
    assert len(calls) == 2


def test_memoize_method_caches_per_instance_without_keeping_it_alive(make_cache):
    cache = make_cache()
    calls = []

    class Account:
        def __init__(self, name):
            self.name = name

        def __eq__(self, other):
            return True  # all equal: the cache must still tell instances apart

        __hash__ = object.__hash__

        @cache.memoize_method(ttl=60)
        def balance(self, currency):
            calls.append((self.name, currency))
            return f"{self.name}:{currency}"

    a, b = Account("a"), Account("b")
    assert a.balance("EUR") == "a:EUR"
    assert b.balance("EUR") == "b:EUR"
    assert a.balance("EUR") == "a:EUR"
    assert calls == [("a", "EUR"), ("b", "EUR")]
    alive = weakref.ref(a)
    del a
    gc.collect()
    assert alive() is None


def test_memoize_method_needs_weakref_support(make_cache):
    cache = make_cache()

    class Slotted:
        __slots__ = ()

        @cache.memoize_method()
        def f(self):
            return 1

    with pytest.raises(TypeError, match="weak references"):
        Slotted().f()


def test_threads_waiting_for_each_other_do_not_deadlock(make_cache):
    cache = make_cache()
    both_leading = threading.Barrier(2)

    @cache.memoize(key=lambda n, depth: n)
    def f(n, depth):
        if depth == 0:
            both_leading.wait()  # thread 1 leads key 1, thread 2 leads key 2
            return f(3 - n, 1) + n  # each now waits for the other's key
        return n * 10

    results = {}
    threads = [threading.Thread(target=lambda n=n: results.__setitem__(n, f(n, 0)), daemon=True)
               for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads), "memoize deadlocked"
    # Whichever thread found the cycle computed the other key itself.
    assert (results[1], results[2]) in {(13, 12), (21, 23)}


def test_coroutines_waiting_for_each_other_do_not_deadlock(make_cache):
    cache = make_cache()

    async def main():
        both_leading = asyncio.Event()
        started = []

        @cache.memoize(key=lambda n, depth: n)
        async def f(n, depth):
            if depth == 0:
                started.append(n)
                if len(started) == 2:
                    both_leading.set()
                await both_leading.wait()
                return await f(3 - n, 1) + n
            return n * 10

        return await asyncio.wait_for(asyncio.gather(f(1, 0), f(2, 0)), 30)

    assert tuple(asyncio.run(main())) in {(13, 12), (21, 23)}
