"""maxmemory: a bound in bytes on the weights of the live entries."""

import sys

import pytest


def weigh(value):
    return len(value)


def test_put_evicts_until_the_new_value_fits(make_cache):
    cache = make_cache(maxmemory=10, getsizeof=weigh)
    cache.put("a", "xxxx")
    cache.put("b", "xxxx")
    cache.put("c", "xxxx")  # 12 > 10: a goes
    assert cache.keys() == ["b", "c"]
    assert cache.get_stats()["memory_usage"] == 8
    assert cache.get_stats()["evictions"] == 1


def test_expired_entries_go_before_any_eviction(make_cache, clock):
    cache = make_cache(maxmemory=10, getsizeof=weigh)
    cache.put("keep", "xxxx", ttl=100)
    cache.put("old", "xxxx", ttl=1)
    clock.advance(1)
    cache.put("new", "xxxxxx")
    assert sorted(cache.keys()) == ["keep", "new"]
    stats = cache.get_stats()
    assert (stats["evictions"], stats["expirations"]) == (0, 1)


def test_sieve_spares_visited_entries_under_a_byte_budget(make_cache):
    cache = make_cache(maxmemory=9, getsizeof=weigh)
    for key in "abc":
        cache.put(key, "xxx")
    cache.get("a")
    cache.put("d", "xxx")
    assert sorted(cache.keys()) == ["a", "c", "d"]


def test_value_larger_than_the_budget_is_refused_and_changes_nothing(make_cache):
    cache = make_cache(maxmemory=10, getsizeof=weigh)
    cache.put("k", "old")
    before = cache.get_stats()
    assert cache.put("k", "x" * 11) is False
    assert cache.put("other", "x" * 11) is False
    assert cache.items() == [("k", "old")]
    assert cache.get_stats() == before
    assert cache.put_many({"big": "x" * 11, "small": "x"}) == 1


def test_overwrite_with_a_bigger_value_evicts_others_but_not_itself(make_cache):
    cache = make_cache(maxmemory=10, getsizeof=weigh)
    cache.put("a", "xxx")
    cache.put("b", "xxx")
    cache.put("c", "xxx")
    cache.put("c", "x" * 9)
    assert cache.items() == [("c", "x" * 9)]
    assert cache.get_stats()["memory_usage"] == 9


def test_default_weight_is_getsizeof_of_key_and_value(make_cache):
    cache = make_cache(maxmemory=10_000)
    cache.put("key", "value")
    assert cache.get_stats()["memory_usage"] == sys.getsizeof("key") + sys.getsizeof("value")
    cache.delete("key")
    assert cache.get_stats()["memory_usage"] == 0


def test_maxsize_and_maxmemory_both_hold(make_cache):
    cache = make_cache(3, maxmemory=100, getsizeof=weigh)
    for i in range(10):
        cache.put(i, "x" * 10)
    assert len(cache) == 3 and cache.get_stats()["memory_usage"] == 30


@pytest.mark.parametrize("result, error", [("10", TypeError), (-1, ValueError), (1.5, TypeError)])
def test_bad_getsizeof_result_raises_and_changes_nothing(make_cache, result, error):
    cache = make_cache(maxmemory=100, getsizeof=lambda value: value)
    cache.put("k", 5)
    before = cache.get_stats()
    with pytest.raises(error):
        cache.put("new", result)
    assert cache.get_stats() == before and cache.keys() == ["k"]


@pytest.mark.parametrize("maxmemory, error", [(0, ValueError), (-5, ValueError), ("1k", TypeError), (True, TypeError)])
def test_bad_maxmemory_raises(cache_cls, maxmemory, error):
    with pytest.raises(error):
        cache_cls(maxmemory=maxmemory)


def test_getsizeof_must_be_callable(cache_cls):
    with pytest.raises(TypeError):
        cache_cls(maxmemory=10, getsizeof=5)


def test_memory_accounting_survives_growth_and_shrinking(make_cache):
    cache = make_cache(maxmemory=10**9, getsizeof=weigh)
    for i in range(5000):
        cache.put(i, "x" * (i % 7))
    for i in range(0, 5000, 2):
        cache.delete(i)
    expected = sum(i % 7 for i in range(1, 5000, 2))
    assert cache.get_stats()["memory_usage"] == expected
