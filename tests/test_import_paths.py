"""Every documented import path of mooncake 0.1.0 still works, and pickles
made by 0.1.0 (stored in tests/data by tests/data/make_samples_0_1_0.py)
still load, into the engine now in use."""

import importlib
import pathlib
import pickle

import pytest
from conftest import PURE_ONLY

import mooncake

DATA = pathlib.Path(__file__).parent / "data"
compiled = pytest.mark.skipif(PURE_ONLY, reason="the path names the compiled engine")


def test_public_names_at_the_top():
    from mooncake import ACCELERATED, PerformanceMetrics, RemovalReason, SimpleMonitor, SimpleMooncake

    assert ACCELERATED is (not PURE_ONLY)
    assert RemovalReason.EXPIRED.value == "expired"
    assert SimpleMooncake().get("absent", 1) == 1
    assert SimpleMonitor().get_metrics_count() == 0
    assert PerformanceMetrics.__name__ == "PerformanceMetrics"


@pytest.mark.parametrize(("module", "name", "target"), [
    ("mooncake.core.simple_mooncake", "SimpleMooncake", "SimpleMooncake"),
    ("mooncake.monitoring.simple_monitor", "SimpleMonitor", "SimpleMonitor"),
    ("mooncake.monitoring.simple_monitor", "PerformanceMetrics", "PerformanceMetrics"),
    ("mooncake.removal", "RemovalReason", "RemovalReason"),
    ("mooncake.performance_metrics", "PerformanceMetrics", "PerformanceMetrics"),
])
def test_original_module_paths_name_the_public_objects(module, name, target):
    assert getattr(importlib.import_module(module), name) is getattr(mooncake, target)


def test_original_constant_paths():
    from mooncake.arguments import MAX_ACCESS_LOG_SIZE
    from mooncake.user_code import MAX_USER_CODE_DEPTH

    assert MAX_ACCESS_LOG_SIZE == mooncake.cache.arguments.MAX_ACCESS_LOG_SIZE > 0
    assert MAX_USER_CODE_DEPTH == 1000


@compiled
def test_compiled_cache_path_keeps_its_constants():
    import mooncake._cache

    assert mooncake._cache.SimpleMooncake is mooncake.SimpleMooncake
    assert 0 < mooncake._cache.CLOCK_RESOLUTION < 1
    assert mooncake._cache.MAX_USER_CODE_DEPTH == mooncake.user_code.MAX_USER_CODE_DEPTH


def test_prometheus_collector_path():
    from mooncake.monitor.prometheus import MonitorCollector as current
    from mooncake.prometheus import MonitorCollector

    assert MonitorCollector is current


def test_shared_tier_names():
    import mooncake.shared

    for name in ("SharedMooncake", "SharedCacheError", "DEFAULT_SOCKET_TIMEOUT"):
        assert hasattr(mooncake.shared, name), name


@pytest.mark.parametrize("twin", [pytest.param("c", marks=compiled), "py"])
def test_a_cache_pickled_by_0_1_0_loads(twin):
    cache = pickle.loads((DATA / f"cache-0.1.0-{twin}.pickle").read_bytes())
    assert type(cache).__module__ == {"c": "mooncake.cache._engine", "py": "mooncake.cache.twin"}[twin]
    assert cache.items() == [("a", 1), (2, [1, 2]), (("t", 3), {"x": b"y"})]
    assert cache.maxsize == 100 and cache.policy == "tinylfu"
    stats = cache.get_stats()
    assert (stats["hits"], stats["misses"], stats["puts"]) == (1, 1, 3)
    cache.put("new", 1)
    assert cache.get("new") == 1


@pytest.mark.parametrize("twin", [pytest.param("c", marks=compiled), "py"])
def test_a_monitor_and_its_metrics_pickled_by_0_1_0_load(twin):
    monitor = pickle.loads((DATA / f"monitor-0.1.0-{twin}.pickle").read_bytes())
    assert type(monitor).__module__ == {"c": "mooncake.monitor._engine", "py": "mooncake.monitor.twin"}[twin]
    assert monitor.get_operation_count("get") == 5
    assert monitor.get_operation_count("put") == 1
    assert monitor.get_operation_success_rate("get") == pytest.approx(0.8)
    metrics = pickle.loads((DATA / f"metrics-0.1.0-{twin}.pickle").read_bytes())
    assert [m.operation for m in metrics] == ["get"] * 5 + ["put"]
    assert type(metrics[0]) is mooncake.PerformanceMetrics
    assert metrics[-1].data_size == 100


def test_removal_reasons_pickled_by_0_1_0_load():
    reasons = pickle.loads((DATA / "removal-reason-0.1.0.pickle").read_bytes())
    assert reasons == [mooncake.RemovalReason.EXPIRED, mooncake.RemovalReason.EVICTED]
