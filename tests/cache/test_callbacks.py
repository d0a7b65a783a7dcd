"""on_remove(key, value, reason): every way out of the cache, and its safety rules."""

import sys

import pytest

from mooncake import RemovalReason


@pytest.fixture
def events():
    return []


@pytest.fixture
def watched(make_cache, events):
    def make(*args, **kwargs):
        return make_cache(*args, on_remove=lambda k, v, r: events.append((k, v, r)), **kwargs)

    return make


def test_each_reason_is_reported_once(watched, events, clock):
    cache = watched(2, policy="sieve")  # SIEVE: d evicts b, the oldest unvisited
    cache.put("a", 1, ttl=1)
    cache.put("a", 2, ttl=1)  # replaced
    clock.advance(1)
    cache.cleanup_expired()  # expired
    cache.put("b", 3)
    cache.put("c", 4)
    cache.put("d", 5)  # evicts b
    cache.delete("c")  # deleted
    cache.clear()  # cleared: d
    assert events == [
        ("a", 1, "replaced"),
        ("a", 2, "expired"),
        ("b", 3, "evicted"),
        ("c", 4, "deleted"),
        ("d", 5, "cleared"),
    ]
    assert all(isinstance(reason, RemovalReason) for _, _, reason in events)


def test_lazy_expiry_pop_and_zero_ttl_put_report_too(watched, events, clock):
    cache = watched()
    cache.put("x", 1, ttl=1)
    clock.advance(1)
    assert cache.get("x") is None
    cache.put("y", 2)
    cache.pop("y")
    cache.put("z", 3)
    cache.put("z", 4, ttl=0)
    cache.put("w", 5)
    cache.touch("w", 0)
    assert events == [("x", 1, "expired"), ("y", 2, "deleted"), ("z", 3, "replaced"), ("w", 5, "expired")]


def test_callback_may_reenter_the_cache(make_cache):
    seen = []

    def on_remove(key, value, reason):
        seen.append((key, reason, key in cache, len(cache)))
        if reason == "deleted":
            cache.put(("again", key), value)

    cache = make_cache(on_remove=on_remove)
    cache.put("k", 1)
    cache.delete("k")
    assert seen == [("k", "deleted", False, 0)]
    assert cache.items() == [(("again", "k"), 1)]


def test_callback_exception_goes_to_unraisablehook(make_cache, monkeypatch):
    reported = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)

    def on_remove(key, value, reason):
        raise RuntimeError("callback failed")

    cache = make_cache(on_remove=on_remove)
    cache.put("k", 1)
    assert cache.delete("k") is True
    assert cache.get_stats()["deletes"] == 1
    assert len(reported) == 1
    assert isinstance(reported[0].exc_value, RuntimeError)
    assert reported[0].object is on_remove


def test_no_callback_for_expiry_seen_by_len_only_once(watched, events, clock):
    cache = watched()
    cache.put_many({i: i for i in range(5)}, ttl=1)
    clock.advance(1)
    assert len(cache) == 0
    assert len(cache) == 0
    assert sorted(events) == [(i, i, "expired") for i in range(5)]


def test_on_remove_must_be_callable(cache_cls):
    with pytest.raises(TypeError):
        cache_cls(on_remove="print")
