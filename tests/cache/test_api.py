"""The SimpleMooncake contract, pinned on both twins (ids ``c`` and ``py``)."""

import math
import sys
from fractions import Fraction

import pytest

# -- construction ---------------------------------------------------------


def test_zero_arguments_build_an_unbounded_cache(cache_cls):
    cache = cache_cls()
    assert cache.maxsize is None
    assert cache.put("k", "v") is True
    assert cache.get("k") == "v"


@pytest.mark.parametrize("maxsize", ["10", 1.5, True])
def test_maxsize_of_wrong_type_is_a_type_error(cache_cls, maxsize):
    with pytest.raises(TypeError):
        cache_cls(maxsize)


@pytest.mark.parametrize("maxsize", [0, -1])
def test_maxsize_below_one_is_a_value_error(cache_cls, maxsize):
    with pytest.raises(ValueError):
        cache_cls(maxsize)


def test_clock_must_be_callable(cache_cls):
    with pytest.raises(TypeError):
        cache_cls(clock=5)


@pytest.mark.parametrize("size, error", [(-1, ValueError), ("3", TypeError), (2.0, TypeError)])
def test_bad_access_log_size_raises(cache_cls, size, error):
    with pytest.raises(error):
        cache_cls(access_log_size=size)


def test_clock_returning_nan_or_text_raises(cache_cls):
    readings = iter([0.0, math.nan, "soon", 1.0])
    cache = cache_cls(clock=lambda: next(readings))
    with pytest.raises(ValueError):
        cache.put("k", 1)
    with pytest.raises(TypeError):
        cache.put("k", 1)
    assert cache.get_stats()["puts"] == 0


# -- TTL boundary ---------------------------------------------------------


def test_entry_is_live_strictly_before_put_time_plus_ttl(make_cache, clock):
    cache = make_cache()
    cache.put("k", "v", ttl=10)
    clock.advance(9.999)
    assert cache.get("k") == "v"
    clock.advance(0.001)
    assert cache.get("k") is None


@pytest.mark.parametrize("ttl", [0, -5, -math.inf])
def test_nonpositive_ttl_stores_nothing_and_removes_older_value(make_cache, ttl):
    cache = make_cache()
    cache.put("k", "old")
    assert cache.put("k", "new", ttl=ttl) is True
    assert cache.get("k") is None
    assert len(cache) == 0
    assert cache.get_stats()["puts"] == 2


def test_infinite_ttl_never_expires(make_cache, clock):
    cache = make_cache()
    cache.put("k", "v", ttl=math.inf)
    clock.advance(1e12)
    assert cache.get("k") == "v"
    assert cache.ttl("k") == math.inf
    assert cache.cleanup_expired() == 0


@pytest.mark.parametrize("ttl", [5, 5.0, Fraction(5), True])
def test_ttl_accepts_any_real_number(make_cache, clock, ttl):
    cache = make_cache()
    cache.put("k", "v", ttl=ttl)
    assert cache.ttl("k") == float(ttl)


@pytest.mark.parametrize("ttl, error", [("10", TypeError), (None, TypeError), (1j, TypeError), (math.nan, ValueError)])
def test_bad_ttl_raises_and_changes_nothing(make_cache, ttl, error):
    cache = make_cache()
    cache.put("k", "old")
    before = cache.get_stats()
    with pytest.raises(error):
        cache.put("k", "new", ttl=ttl)
    with pytest.raises(error):
        cache.touch("k", ttl)
    assert cache.get_stats() == before
    assert cache.items() == [("k", "old")]


def test_unhashable_key_raises_type_error_and_changes_nothing(make_cache):
    cache = make_cache()
    cache.put("k", "v")
    before = cache.get_stats()
    for call in (
        lambda: cache.put([], 1),
        lambda: cache.get({}),
        lambda: cache.delete([]),
        lambda: cache.touch([], 1),
        lambda: cache.ttl([]),
        lambda: [] in cache,
        lambda: cache.get_many(["k", []]),
        lambda: cache.put_many([("x", 1), ([], 2)]),
    ):
        with pytest.raises(TypeError):
            call()
    assert cache.get_stats() == before
    assert cache.items() == [("k", "v")]


# -- lookups and counters -------------------------------------------------


def test_get_counts_hits_and_misses(make_cache):
    cache = make_cache()
    cache.put("a", 1)
    assert cache.get("a") == 1
    assert cache.get("b", "dflt") == "dflt"
    stats = cache.get_stats()
    assert (stats["hits"], stats["misses"], stats["total_accesses"]) == (1, 1, 1)
    assert stats["hit_rate"] == 0.5


def test_hit_rate_is_zero_before_any_lookup(make_cache):
    assert make_cache().get_stats()["hit_rate"] == 0.0


def test_get_removes_expired_entry_as_expiration_and_miss(make_cache, clock):
    cache = make_cache()
    cache.put("k", "v", ttl=1)
    clock.advance(1)
    assert cache.get("k") is None
    stats = cache.get_stats()
    assert (stats["expirations"], stats["misses"], stats["total_objects"]) == (1, 1, 0)


def test_getitem_raises_key_error_for_absent_and_expired(make_cache, clock):
    cache = make_cache()
    cache["k"] = "v"
    assert cache["k"] == "v"
    with pytest.raises(KeyError):
        cache["missing"]
    clock.advance(3600)
    with pytest.raises(KeyError):
        cache["k"]


def test_setitem_uses_one_hour_ttl(make_cache):
    cache = make_cache()
    cache["k"] = 1
    assert cache.ttl("k") == 3600.0


def test_contains_and_iteration_do_not_count_as_lookups(make_cache):
    cache = make_cache()
    cache.put("a", 1)
    assert "a" in cache and "b" not in cache
    assert list(cache) == ["a"]
    assert dict(cache.storage)["a"]["value"] == 1
    stats = cache.get_stats()
    assert (stats["hits"], stats["misses"]) == (0, 0)


def test_overwrite_keeps_one_entry_and_resets_ttl(make_cache, clock):
    cache = make_cache()
    cache.put("k", 1, ttl=10)
    clock.advance(8)
    cache.put("k", 2, ttl=10)
    clock.advance(8)
    assert cache.get("k") == 2
    assert len(cache) == 1
    assert cache.get_stats()["puts"] == 2


def test_overwrite_with_shorter_ttl_expires_earlier(make_cache, clock):
    cache = make_cache()
    cache.put("k", 1, ttl=100)
    cache.put("k", 2, ttl=1)
    clock.advance(1)
    assert cache.cleanup_expired() == 1
    assert "k" not in cache


def test_overwrite_with_longer_ttl_survives_cleanup(make_cache, clock):
    cache = make_cache()
    cache.put("k", 1, ttl=1)
    cache.put("k", 2, ttl=100)
    clock.advance(50)
    assert cache.cleanup_expired() == 0
    assert cache.get("k") == 2


# -- delete, pop, touch, ttl ----------------------------------------------


def test_delete_reports_whether_a_live_entry_was_removed(make_cache, clock):
    cache = make_cache()
    cache.put("live", 1)
    cache.put("old", 2, ttl=1)
    clock.advance(1)
    assert cache.delete("live") is True
    assert cache.delete("live") is False
    assert cache.delete("old") is False
    stats = cache.get_stats()
    assert (stats["deletes"], stats["expirations"]) == (1, 1)


def test_delitem_raises_key_error_when_absent(make_cache):
    cache = make_cache()
    cache["k"] = 1
    del cache["k"]
    with pytest.raises(KeyError):
        del cache["k"]


def test_pop_returns_value_or_default_and_is_not_a_lookup(make_cache):
    cache = make_cache()
    cache.put("k", "v")
    assert cache.pop("k") == "v"
    assert cache.pop("k", "dflt") == "dflt"
    with pytest.raises(KeyError):
        cache.pop("k")
    stats = cache.get_stats()
    assert (stats["hits"], stats["misses"], stats["deletes"]) == (0, 0, 1)


def test_ttl_reports_seconds_left_or_none(make_cache, clock):
    cache = make_cache()
    cache.put("k", 1, ttl=10)
    clock.advance(4)
    assert cache.ttl("k") == pytest.approx(6)
    assert cache.ttl("missing") is None
    clock.advance(6)
    assert cache.ttl("k") is None


def test_touch_restarts_ttl_of_live_key_only(make_cache, clock):
    cache = make_cache()
    cache.put("k", 1, ttl=10)
    clock.advance(9)
    assert cache.touch("k", 10) is True
    clock.advance(9)
    assert cache.get("k") == 1
    assert cache.touch("missing", 10) is False
    clock.advance(1)
    assert cache.touch("k", 10) is False


def test_touch_with_nonpositive_ttl_expires_entry(make_cache):
    cache = make_cache()
    cache.put("k", 1)
    assert cache.touch("k", 0) is True
    assert "k" not in cache
    assert cache.get_stats()["expirations"] == 1


# -- bulk expiry ----------------------------------------------------------


def test_cleanup_expired_removes_only_expired_and_counts_them(make_cache, clock):
    cache = make_cache()
    for i in range(10):
        cache.put(i, i, ttl=i + 1)
    clock.advance(5)
    assert cache.cleanup_expired() == 5
    assert sorted(cache.keys()) == [5, 6, 7, 8, 9]
    assert cache.cleanup_expired() == 0
    assert cache.get_stats()["expirations"] == 5


def test_len_and_views_drop_expired_entries(make_cache, clock):
    cache = make_cache()
    cache.put("short", 1, ttl=1)
    cache.put("long", 2, ttl=10)
    clock.advance(1)
    assert len(cache) == 1
    assert cache.keys() == ["long"]
    assert cache.values() == [2]
    assert cache.items() == [("long", 2)]
    assert "short" not in cache.storage


def test_clear_removes_entries_but_keeps_counters(make_cache):
    cache = make_cache()
    cache.put_many({i: i for i in range(100)})
    cache.get(1)
    cache.clear()
    assert len(cache) == 0 and cache.get(1) is None
    stats = cache.get_stats()
    assert (stats["puts"], stats["hits"], stats["memory_usage"]) == (100, 1, 0)
    cache.put("again", 1)
    assert cache.items() == [("again", 1)]


# -- size bound and SIEVE -------------------------------------------------


def test_maxsize_evicts_unvisited_before_visited(make_cache):
    cache = make_cache(3, policy="sieve")
    for key in "abc":
        cache.put(key, key)
    cache.get("a")
    cache.put("d", "d")
    assert sorted(cache.keys()) == ["a", "c", "d"]
    assert cache.get_stats()["evictions"] == 1


def test_sieve_hand_moves_on_after_an_eviction(make_cache):
    cache = make_cache(3, policy="sieve")
    for key in "abc":
        cache.put(key, key)
    cache.get("a")
    cache.put("d", "d")  # hand passes a (clearing it), evicts b
    cache.put("e", "e")  # hand continues at c
    assert sorted(cache.keys()) == ["a", "d", "e"]


def test_full_cache_drops_expired_before_evicting(make_cache, clock):
    cache = make_cache(2)
    cache.put("old", 1, ttl=1)
    cache.put("keep", 2, ttl=100)
    clock.advance(1)
    cache.put("new", 3)
    assert sorted(cache.keys()) == ["keep", "new"]
    stats = cache.get_stats()
    assert (stats["evictions"], stats["expirations"]) == (0, 1)


def test_overwriting_a_key_never_evicts(make_cache):
    cache = make_cache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("a", 3)
    assert sorted(cache.items()) == [("a", 3), ("b", 2)]
    assert cache.get_stats()["evictions"] == 0


def test_bounded_cache_never_exceeds_maxsize(make_cache):
    cache = make_cache(50)
    for i in range(1000):
        cache.put(i, i)
        if i % 3 == 0:
            cache.get(i // 2)
    assert len(cache) == 50
    assert cache.get_stats()["evictions"] == 950


# -- stats, storage, access log -------------------------------------------


def test_get_stats_has_every_documented_field(make_cache):
    stats = make_cache(7).get_stats()
    assert set(stats) >= {
        "total_objects", "total_accesses", "memory_usage", "hits", "misses", "hit_rate",
        "puts", "deletes", "expirations", "evictions", "maxsize",
    }
    assert stats["maxsize"] == 7


def test_memory_usage_is_getsizeof_of_keys_and_values(make_cache):
    cache = make_cache()
    assert cache.get_stats()["memory_usage"] == 0
    cache.put("key", "x" * 1000)
    small = cache.get_stats()["memory_usage"]
    assert small == sys.getsizeof("key") + sys.getsizeof("x" * 1000)
    cache.put("other", "y" * 5000)
    assert cache.get_stats()["memory_usage"] > small + 5000


def test_storage_view_shows_value_ttl_created_at_and_access_count(make_cache, clock):
    import time

    cache = make_cache()
    before = time.time()
    cache.put("k", "v", ttl=30)
    cache.get("k")
    cache.get("k")
    info = cache.storage["k"]
    assert info["value"] == "v" and info["ttl"] == 30.0 and info["access_count"] == 2
    assert before - 1 <= info["created_at"] <= time.time() + 1
    assert "k" in cache.storage and len(cache.storage) == 1
    with pytest.raises(KeyError):
        cache.storage["missing"]
    with pytest.raises(TypeError):
        cache.storage["k"] = 1


def test_access_count_restarts_at_each_put(make_cache):
    cache = make_cache()
    cache.put("k", 1)
    cache.get("k")
    cache.put("k", 2)
    assert cache.storage["k"]["access_count"] == 0


def test_access_log_is_bounded_and_oldest_first(make_cache, clock):
    cache = make_cache(access_log_size=3)
    cache.put_many({k: k for k in "abcde"})
    for key in "abcde":
        cache.get(key)
        clock.advance(1)
    log = cache.access_log
    assert [r["key"] for r in log] == ["c", "d", "e"]
    assert all(r["operation"] == "get" for r in log)
    assert log[0]["timestamp"] < log[-1]["timestamp"]
    assert log[-1]["timestamp"] - log[0]["timestamp"] == pytest.approx(2)
    assert [r["key"] for r in log[1:]] == ["d", "e"]
    assert len(log) == 3


def test_access_log_records_only_hits_and_can_be_disabled(make_cache):
    cache = make_cache()
    cache.put("k", 1)
    cache.get("k")
    cache.get("missing")
    assert [r["key"] for r in cache.access_log] == ["k"]
    quiet = make_cache(access_log_size=0)
    quiet.put("k", 1)
    quiet.get("k")
    assert len(quiet.access_log) == 0


# -- batches --------------------------------------------------------------


def test_put_many_accepts_mappings_and_pairs(make_cache):
    cache = make_cache()
    assert cache.put_many({"a": 1, "b": 2}) == 2
    assert cache.put_many([("c", 3), ["d", 4]], ttl=5) == 2
    assert sorted(cache.items()) == [("a", 1), ("b", 2), ("c", 3), ("d", 4)]
    assert cache.ttl("c") == 5.0
    assert cache.put_many({"e": 5}, ttl=0) == 0 and "e" not in cache


def test_put_many_with_malformed_pair_stores_nothing(make_cache):
    cache = make_cache()
    with pytest.raises(ValueError):
        cache.put_many([("a", 1), ("b", 2, 3)])
    assert len(cache) == 0


def test_get_many_returns_live_ones_and_counts_each(make_cache):
    cache = make_cache()
    cache.put_many({"a": 1, "b": 2})
    assert cache.get_many(["a", "b", "zzz"]) == {"a": 1, "b": 2}
    stats = cache.get_stats()
    assert (stats["hits"], stats["misses"]) == (2, 1)


# -- keys that are equal but not identical --------------------------------


def test_equal_keys_of_different_types_find_one_entry(make_cache):
    cache = make_cache()
    cache.put(1, "int")
    assert cache.get(1.0) == "int"
    assert cache.get(True) == "int"
    cache.put(1.0, "float")
    assert len(cache) == 1 and cache.get(1) == "float"


def test_colliding_hashes_keep_distinct_keys(make_cache):
    class Collide:
        def __init__(self, n):
            self.n = n

        def __hash__(self):
            return 42

        def __eq__(self, other):
            return isinstance(other, Collide) and other.n == self.n

    cache = make_cache()
    keys = [Collide(i) for i in range(50)]
    for i, key in enumerate(keys):
        cache.put(key, i)
    assert [cache.get(Collide(i)) for i in range(50)] == list(range(50))
    for key in keys[::2]:
        cache.delete(key)
    assert sorted(cache.values()) == list(range(1, 50, 2))


def test_table_grows_and_shrinks_without_losing_entries(make_cache):
    cache = make_cache()
    for i in range(20000):
        cache.put(i, i)
    for i in range(19990):
        assert cache.delete(i)
    assert sorted(cache.items()) == [(i, i) for i in range(19990, 20000)]
    for i in range(100):
        cache.put(("again", i), i)
    assert len(cache) == 110


def test_instance_attributes_are_allowed_as_on_the_original_class(make_cache):
    cache = make_cache()
    cache.name = "sessions"
    assert cache.name == "sessions"
    cache.put("k", 1)
    assert cache.get("k") == 1 and cache["k"] == 1


def test_patching_get_on_an_instance_reaches_the_item_syntax_too(make_cache):
    from unittest import mock

    cache = make_cache()
    cache.put("k", 1)
    with mock.patch.object(cache, "get", return_value=42) as patched:
        assert cache.get("k") == 42
        assert cache["k"] == 42
    assert patched.call_count == 2
    assert cache.get("k") == 1 and cache["k"] == 1  # the class's own method again


def test_instance_attributes_survive_pickling(make_cache):
    import pickle

    cache = make_cache()
    cache.name = "sessions"
    cache.put("k", 1)
    copy = pickle.loads(pickle.dumps(cache))
    assert copy.name == "sessions" and copy.get("k") == 1
