"""Pickling and copying keep live entries, remaining TTLs, settings and counters."""

import copy
import gc
import pickle
import weakref

import pytest
from conftest import FakeClock


def filled(make_cache, clock):
    cache = make_cache(5, access_log_size=3)
    cache.put("short", 1, ttl=10)
    cache.put("long", [1, 2], ttl=100)
    cache.put("gone", 3, ttl=1)
    cache.get("short")
    cache.get("missing")
    clock.advance(4)
    return cache


@pytest.mark.parametrize("clone", [
    lambda c: pickle.loads(pickle.dumps(c)),
    copy.copy,
    copy.deepcopy,
], ids=["pickle", "copy", "deepcopy"])
def test_clone_keeps_live_entries_ttls_and_counters(make_cache, clock, clone):
    cache = filled(make_cache, clock)
    twin = clone(cache)
    assert type(twin) is type(cache)
    assert twin.items() == [("short", 1), ("long", [1, 2])]
    assert twin.ttl("short") == pytest.approx(6)
    assert twin.ttl("long") == pytest.approx(96)
    assert twin.maxsize == 5
    stats = twin.get_stats()
    assert (stats["hits"], stats["misses"], stats["puts"]) == (1, 1, 3)
    twin.put("new", 1)
    assert "new" not in cache


def test_pickling_does_not_change_the_original(make_cache, clock):
    cache = filled(make_cache, clock)
    before = cache.get_stats()
    pickle.dumps(cache)
    assert cache.get_stats() == before


def test_deepcopy_copies_values_and_copy_shares_them(make_cache, clock):
    cache = filled(make_cache, clock)
    assert copy.copy(cache).get("long") is cache.get("long")
    assert copy.deepcopy(cache).get("long") is not cache.get("long")


def test_unpicklable_clock_gives_a_clear_error(cache_cls):
    cache = cache_cls(clock=lambda: 0.0)
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        pickle.dumps(cache)


def test_picklable_settings_round_trip(cache_cls):
    cache = cache_cls(maxmemory=1000, clock=FakeClock(5.0))
    cache.put("k", "v", ttl=2)
    twin = pickle.loads(pickle.dumps(cache))
    assert twin.maxmemory == 1000 and twin.get("k") == "v"
    assert twin.get_stats()["memory_usage"] == cache.get_stats()["memory_usage"]


def test_values_that_refer_back_to_the_cache_are_collected(cache_cls):
    class Holder:
        pass

    cache = cache_cls()
    value = Holder()
    value.cache = cache  # a cycle through the cache's C buffers
    cache.put("k", value)
    alive = weakref.ref(value)
    del cache, value
    gc.collect()
    assert alive() is None
