"""SimpleMooncake(monitor=...): the cache records its own operations."""

import sys

import pytest


@pytest.fixture
def monitored(make_cache, monitor_mod):
    monitor = monitor_mod.SimpleMonitor()
    return make_cache(monitor=monitor), monitor


def test_operations_are_recorded_with_success_and_size(monitored):
    cache, monitor = monitored
    value = "x" * 100
    cache.put("k", value)
    cache.get("k")
    cache.get("missing")
    cache.delete("k")
    cache.delete("k")
    cache.cleanup_expired()
    cache.put_many({"a": 1})
    cache.get_many(["a", "b"])
    stats = monitor.operation_stats
    assert stats["put"]["count"] == 1 and stats["put"]["total_size"] == sys.getsizeof(value)
    assert (stats["get"]["count"], stats["get"]["success_count"]) == (2, 1)
    assert stats["get"]["total_size"] == sys.getsizeof(value)
    assert (stats["delete"]["count"], stats["delete"]["success_count"]) == (2, 1)
    assert stats["cleanup_expired"]["count"] == 1
    assert stats["put_many"]["count"] == 1
    assert (stats["get_many"]["count"], stats["get_many"]["success_count"]) == (1, 0)
    assert all(m.duration >= 0 for m in monitor.metrics)


def test_mapping_syntax_is_recorded_as_get_put_and_delete(monitored):
    cache, monitor = monitored
    cache["k"] = 1
    assert cache["k"] == 1
    with pytest.raises(KeyError):
        cache["nope"]
    del cache["k"]
    with pytest.raises(KeyError):
        del cache["k"]
    assert monitor.get_operation_count("put") == 1
    assert monitor.get_operation_count("get") == 2
    assert monitor.get_operation_success_rate("get") == 0.5
    assert monitor.get_operation_count("delete") == 2
    assert monitor.get_operation_success_rate("delete") == 0.5


def test_failed_operation_is_recorded_as_failure(monitored):
    cache, monitor = monitored
    with pytest.raises(TypeError):
        cache.get([])
    assert monitor.get_operation_count("get") == 1
    assert monitor.get_operation_success_rate("get") == 0.0


def test_a_monitor_that_raises_does_not_break_the_cache(make_cache, monkeypatch):
    reported = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)

    class Broken:
        def record_operation(self, *args):
            raise OSError("monitor down")

    cache = make_cache(monitor=Broken())
    assert cache.put("k", 1) is True
    assert cache.get("k") == 1
    assert len(reported) == 2


def test_monitor_needs_record_operation(cache_cls):
    with pytest.raises(TypeError):
        cache_cls(monitor=object())
