"""The engine's internal state stays consistent through every public operation.

``_check_invariants()`` raises AssertionError naming a broken invariant (heap
order and positions, slots <-> records, live counts, window/main split, SIEVE
hand, byte budget, access log). The engine has it only when built with
MOONCAKE_DEBUG=1; elsewhere these tests are skipped.
"""

import copy as copy_module
import math
import os
import random

import pytest

from conftest import TWINS, implementation

DEBUG_BUILD = "c" in TWINS and implementation("cache", "c").DEBUG_BUILD


@pytest.fixture(params=[
    pytest.param("c", marks=pytest.mark.skipif(
        not DEBUG_BUILD,
        reason="the engine's _check_invariants needs a build with MOONCAKE_DEBUG=1")),
])
def impl(request):
    return request.param


class Key:
    """A key with a user __hash__ and __eq__ whose hashes collide in pairs."""

    def __init__(self, n):
        self.n = n

    def __hash__(self):
        return self.n // 2

    def __eq__(self, other):
        return isinstance(other, Key) and other.n == self.n


def checked(cache):
    """Run the checker; return the cache so a step can be one expression."""
    assert cache._check_invariants() is None
    return cache


def test_puts_gets_and_deletes_keep_the_table_consistent(make_cache):
    cache = checked(make_cache())
    keys = [*range(200), *(f"s{i}" for i in range(50)), *(Key(i) for i in range(40)), (1, 2), b"b"]
    for i, key in enumerate(keys):
        cache.put(key, i)
        checked(cache)
    for i, key in enumerate(keys):
        assert cache.get(key) == i
        assert cache.get(("absent", i)) is None
        checked(cache)
    for key in keys[::3]:
        cache.put(key, "again", ttl=math.inf if hash(key) % 2 else 60)
        checked(cache)
    for key in keys[::2]:
        assert cache.delete(key)
        checked(cache)
    assert cache.pop(keys[1]) is not None
    assert checked(cache).pop(keys[1], "gone") == "gone"
    cache[keys[3]] = "item"
    del checked(cache)[keys[5]]
    assert len(checked(cache)) == len(keys) - len(keys[::2]) - 2


def test_a_table_that_grows_then_empties_stays_consistent(make_cache):
    cache = make_cache(access_log_size=0)
    for i in range(3000):
        cache.put(i, i)
        if i % 97 == 0:
            checked(cache)
    for i in range(2990):
        cache.delete(i)
        if i % 97 == 0:
            checked(cache)
    assert sorted(checked(cache).keys()) == list(range(2990, 3000))
    cache.clear()
    assert len(checked(cache)) == 0
    cache.put("after", 1)
    assert checked(cache).get("after") == 1


def test_expiry_touch_and_cleanup_keep_the_heap_consistent(make_cache, clock):
    cache = make_cache()
    rng = random.Random(7)
    for i in range(300):
        cache.put(i, i, ttl=rng.choice([1, 2, 5, 10, math.inf]))
        checked(cache)
    for i in range(0, 300, 4):
        # Later expiries leave a lazy heap key behind; earlier ones sift up.
        cache.touch(i, rng.choice([0.5, 3, 20, math.inf]))
        cache.put(i + 1, "over", ttl=rng.choice([0.5, 20, math.inf]))
        checked(cache)
    for _ in range(25):
        clock.advance(1)
        cache.get(rng.randrange(300))
        checked(cache)
        cache.ttl(rng.randrange(300))
        checked(cache)
        cache.cleanup_expired()
        checked(cache)
    assert all(cache.ttl(k) == math.inf for k in checked(cache).keys())
    assert cache.touch(next(iter(cache)), 0)
    checked(cache)


@pytest.mark.parametrize("policy", ["sieve", "tinylfu"])
@pytest.mark.parametrize("maxsize", [1, 2, 7, 50])
def test_eviction_keeps_the_policy_state_consistent(make_cache, clock, policy, maxsize):
    cache = make_cache(maxsize=maxsize, policy=policy, access_log_size=16)
    rng = random.Random(maxsize)
    for step in range(1500):
        # Half the keys from a skewed set (hits, SIEVE's visited bits and the
        # sketch matter), half uniform over four times what fits (evictions).
        key = int(rng.paretovariate(1.2)) if rng.random() < 0.5 else rng.randrange(4 * maxsize + 3)
        action = rng.random()
        if action < 0.45:
            cache.get(key)
        elif action < 0.85:
            cache.put(key, step, ttl=rng.choice([math.inf, 3, 30]))
        elif action < 0.92:
            cache.delete(key)
        elif action < 0.96:
            clock.advance(1)
        else:
            cache.touch(key, rng.choice([0, 2, math.inf]))
        checked(cache)
        assert len(cache) <= maxsize
    assert cache.get_stats()["evictions"] > 0


@pytest.mark.parametrize("weigh", [len, None])
def test_a_byte_budget_keeps_memory_equal_to_the_sum_of_weights(make_cache, clock, weigh):
    budget = 60 if weigh else 2000
    cache = make_cache(maxmemory=budget, getsizeof=weigh)
    rng = random.Random(3)
    for step in range(800):
        key = rng.randrange(40)
        value = "x" * rng.randrange(1, 30)
        action = rng.random()
        if action < 0.6:
            cache.put(key, value, ttl=rng.choice([math.inf, 2, 20]))
        elif action < 0.8:
            cache.get(key)
        elif action < 0.9:
            cache.delete(key)
        else:
            clock.advance(1)
        checked(cache)
    assert cache.put("huge", "x" * (budget + 1)) is False  # weighs more than the budget: refused
    assert checked(cache).get_stats()["memory_usage"] <= budget


@pytest.mark.parametrize("log_size", [0, 1, 5, 40])
def test_the_access_log_stays_within_its_capacity(make_cache, log_size):
    cache = make_cache(access_log_size=log_size)
    for i in range(20):
        cache.put(i, i)
    for i in range(100):
        cache.get(i % 25)
        checked(cache)
    assert len(cache.access_log) == min(log_size, 80)


def test_a_new_cache_and_a_restored_copy_are_consistent(make_cache):
    cache = checked(make_cache(maxsize=10, policy="tinylfu"))
    for i in range(25):
        cache.put(i, i)
    copy = copy_module.deepcopy(checked(cache))
    assert checked(copy).items() == cache.items()


@pytest.mark.skipif("c" not in TWINS or DEBUG_BUILD,
                    reason="needs the engine built without MOONCAKE_DEBUG=1")
def test_an_engine_built_without_debug_refuses_to_check():
    cache = implementation("cache", "c").SimpleMooncake()
    with pytest.raises(RuntimeError, match="MOONCAKE_DEBUG=1"):
        cache._check_invariants()


@pytest.mark.skipif(not os.environ.get("MOONCAKE_SANITIZED"),
                    reason="only the sanitizer pass of .ci/run builds with MOONCAKE_DEBUG=1")
def test_the_sanitizer_pass_checks_the_engines_invariants():
    # .ci/sanitize builds with MOONCAKE_DEBUG=1, so there the state machines
    # and these tests check the engine's invariants after every step.
    assert DEBUG_BUILD is True
