"""Code a user writes against mooncake's public API, checked by ``mypy --strict``.

``tests/typing/test_typing.py`` runs mypy over this file: it must pass with no
error, and each ``reveal_type`` must show the type written in the comment
after it (``# revealed: ...``), so no ``Any`` leaks where a precise type is
promised. It also runs as plain Python, so every call here works.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable

from typing_extensions import reveal_type

from mooncake import PerformanceMetrics, RemovalReason, SimpleMonitor, SimpleMooncake
from mooncake.cache.views import AccessRecord, EntryInfo
from mooncake.monitor.prometheus import MonitorCollector, render_text
from mooncake.monitor.views import OperationStats


def on_remove(key: str, value: bytes, reason: RemovalReason) -> None:
    assert isinstance(reason, RemovalReason)


def cache_api() -> None:
    anything = SimpleMooncake(maxsize=100)
    reveal_type(anything)  # revealed: mooncake.cache._engine.SimpleMooncake[typing.Hashable, Any]

    cache: SimpleMooncake[str, bytes] = SimpleMooncake(maxsize=100, on_remove=on_remove)
    reveal_type(cache.put("a", b"1", ttl=60))  # revealed: bool
    reveal_type(cache.get("a"))  # revealed: bytes | None
    reveal_type(cache.get("a", 0))  # revealed: bytes | int
    reveal_type(cache["a"])  # revealed: bytes
    reveal_type(cache.pop("a", None))  # revealed: bytes | None
    reveal_type(cache.ttl("a"))  # revealed: float | None
    reveal_type(cache.touch("a", 5))  # revealed: bool
    reveal_type(cache.delete("a"))  # revealed: bool
    reveal_type(cache.put_many({"b": b"2", "c": b"3"}))  # revealed: int
    reveal_type(cache.get_many(["b", "c"]))  # revealed: dict[str, bytes]
    reveal_type(cache.keys())  # revealed: list[str]
    reveal_type(cache.items())  # revealed: list[tuple[str, bytes]]
    reveal_type(cache.cleanup_expired())  # revealed: int
    reveal_type(len(cache))  # revealed: int
    reveal_type(cache.maxsize)  # revealed: int | None
    reveal_type(cache.policy)  # revealed: str
    for key in cache:
        reveal_type(key)  # revealed: str

    stats = cache.get_stats()
    reveal_type(stats["hit_rate"])  # revealed: float
    reveal_type(stats["evictions"])  # revealed: int

    row: EntryInfo = cache.storage["b"]
    reveal_type(row["created_at"])  # revealed: float
    cache.get("b")
    record: AccessRecord = cache.access_log[-1]
    reveal_type(record["timestamp"])  # revealed: float
    reveal_type(cache.access_log[:1])  # revealed: list[TypedDict(mooncake.cache.views.AccessRecord, {'key': Any, 'timestamp': float, 'operation': str})]
    cache.clear()


def memoize_api() -> None:
    cache: SimpleMooncake[Hashable, object] = SimpleMooncake(maxsize=10)

    @cache.memoize(ttl=60)
    def square(x: int) -> int:
        return x * x

    reveal_type(square(3))  # revealed: int
    info = square.cache_info()
    reveal_type(info.hits)  # revealed: int
    square.cache_clear()

    @cache.memoize(ttl=60)
    async def fetch(url: str) -> str:
        return url

    reveal_type(asyncio.run(fetch("x")))  # revealed: str

    class Account:
        @cache.memoize_method(ttl=60)
        def balance(self, currency: str) -> float:
            return 1.0

    reveal_type(Account().balance("EUR"))  # revealed: float


def monitor_api() -> None:
    monitor = SimpleMonitor(max_metrics=1000, max_operations=100)
    monitor.record_operation("get", 0.000012, True, data_size=64)
    with monitor.track("load"):
        pass

    @monitor.track("parse")
    def parse(text: str) -> list[str]:
        return text.split()

    reveal_type(parse("a b"))  # revealed: list[str]
    summary = monitor.get_performance_summary()
    reveal_type(summary["get"]["p99"])  # revealed: float
    reveal_type(monitor.metrics[0])  # revealed: mooncake.monitor.metrics.PerformanceMetrics
    reveal_type(monitor.metrics[0].duration)  # revealed: float
    stats: OperationStats = monitor.operation_stats["get"]
    reveal_type(stats["count"])  # revealed: int
    recent: list[PerformanceMetrics] = monitor.get_recent_metrics(5)
    assert recent
    reveal_type(monitor.get_operation_success_rate("get"))  # revealed: float
    with monitor.lock:
        reveal_type(monitor.to_prometheus())  # revealed: str
    reveal_type(render_text(monitor))  # revealed: str
    monitored: SimpleMooncake[str, int] = SimpleMooncake(monitor=monitor)
    monitored.put("k", 1)
    monitor.reset_metrics()


def prometheus_api() -> None:
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry()
    collector = MonitorCollector(SimpleMonitor(), prefix="app").register(registry)
    for family in collector.collect():
        reveal_type(family.name)  # revealed: str
    reveal_type(collector)  # revealed: mooncake.monitor.prometheus.MonitorCollector


def shared_api(url: str) -> None:
    from mooncake.shared import AsyncSharedMooncake, SharedCacheError, SharedMooncake

    anything = SharedMooncake(url, namespace="typing:")
    reveal_type(anything)  # revealed: mooncake.shared.cache.SharedMooncake[Any]
    cache: SharedMooncake[dict[str, int]] = SharedMooncake(url, namespace="typing:", near=100)
    reveal_type(cache.put("a", {"n": 1}, ttl=60))  # revealed: bool
    reveal_type(cache.get("a"))  # revealed: dict[str, int] | None
    reveal_type(cache.get(("t", 1), 0))  # revealed: dict[str, int] | int
    reveal_type(cache["a"])  # revealed: dict[str, int]
    reveal_type(cache.get_many(["a", b"b", 3]))  # revealed: dict[str | bytes | int | tuple[..., ...], dict[str, int]]
    reveal_type(cache.ttl("a"))  # revealed: float | None
    reveal_type(cache.add("b", {"n": 2}))  # revealed: bool
    counters: SharedMooncake[int] = SharedMooncake(url, namespace="typing:counters:")
    counters.put("n", 1)
    reveal_type(counters.incr("n", 2))  # revealed: int
    reveal_type(cache.get_stats()["hits"])  # revealed: int
    reveal_type(cache.get_stats()["total_objects"])  # revealed: int | None

    @cache.memoize(ttl=60)
    def square(x: int) -> dict[str, int]:
        return {"square": x * x}

    reveal_type(square(3))  # revealed: dict[str, int]
    reveal_type(square.cache_info().hits)  # revealed: int
    try:
        cache.ping()
    except SharedCacheError as exc:
        reveal_type(exc.__cause__)  # revealed: BaseException | None
    for made in (cache, counters, anything):
        made.clear()
        made.close()

    async def main() -> None:
        acache: AsyncSharedMooncake[str] = AsyncSharedMooncake(url, namespace="typing:async:")
        async with acache:
            reveal_type(await acache.put("k", "v"))  # revealed: bool
            reveal_type(await acache.get("k"))  # revealed: str | None
            reveal_type(await acache.contains("k"))  # revealed: bool
            reveal_type(await acache.size())  # revealed: int

            @acache.memoize(ttl=60)
            async def greet(name: str) -> str:
                return f"hello {name}"

            reveal_type(await greet("Ada"))  # revealed: str
            reveal_type((await greet.cache_info()).misses)  # revealed: int
            await acache.clear()
        shell = SharedMooncake(url, namespace="typing:as-async:").as_async()
        reveal_type(shell)  # revealed: mooncake.shared.async_cache.AsyncSharedMooncake[Any]
        await shell.aclose()

    asyncio.run(main())


if __name__ == "__main__":
    import os

    cache_api()
    memoize_api()
    monitor_api()
    prometheus_api()
    shared_api(os.environ["MOONCAKE_URL"])
