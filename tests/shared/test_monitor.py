"""SharedMooncake(monitor=...): every remote operation is recorded."""

import pickle

from mooncake import SimpleMonitor


def test_remote_operations_are_recorded_with_success_and_bytes(make_shared):
    monitor = SimpleMonitor()
    cache = make_shared(monitor=monitor)
    value = "x" * 100
    stored = 1 + len(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))  # header + payload
    cache.put("k", value)
    cache.get("k")
    cache.get("missing")
    cache.delete("k")
    cache.delete("k")
    cache.put_many({"a": value, "b": value})
    cache.get_many(["a", "b", "c"])
    cache.touch("a", 10)
    "a" in cache
    cache.ttl("a")
    cache.pop("a")
    stats = monitor.operation_stats
    assert (stats["put"]["count"], stats["put"]["total_size"]) == (1, stored)
    assert (stats["get"]["count"], stats["get"]["success_count"]) == (2, 1)
    assert stats["get"]["total_size"] == stored
    assert (stats["delete"]["count"], stats["delete"]["success_count"]) == (2, 1)
    assert (stats["put_many"]["count"], stats["put_many"]["total_size"]) == (1, 2 * stored)
    assert (stats["get_many"]["count"], stats["get_many"]["success_count"]) == (1, 0)
    assert stats["get_many"]["total_size"] == 2 * stored
    for name in ("touch", "contains", "ttl", "pop"):
        assert stats[name]["count"] == stats[name]["success_count"] == 1, name
    assert all(m.duration > 0 for m in monitor.metrics)


def test_a_failed_remote_operation_is_recorded_as_a_failure(binary):
    from mooncake.shared import SharedMooncake
    from mooncake.shared.local_server import LocalValkey

    monitor = SimpleMonitor()
    with LocalValkey(binary=binary) as server:
        cache = SharedMooncake(server.url, monitor=monitor, fail_open=True)
        server.stop()
        assert cache.get("k") is None
    assert monitor.get_operation_count("get") == 1
    assert monitor.get_operation_success_rate("get") == 0.0
