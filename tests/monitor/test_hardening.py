"""Regression tests for issue 9 on the monitor: sizes, initialisation, clock
readings, the public lock, bounded operation names, memory given back by
reset, PerformanceMetrics as a dataclass, and pickling."""

import copy
import dataclasses
import numbers
import math
import pickle
import threading
import tracemalloc

import pytest
from conftest import TWINS, FakeClock, implementation

from mooncake.monitor.arguments import MAX_METRICS, OTHER_OPERATION


def summary_of(monitor):
    return {
        "summary": monitor.get_performance_summary(),
        "metrics": [dataclasses.astuple(m) for m in monitor.metrics],
        "names": monitor.get_supported_operations(),
        "prometheus": monitor.to_prometheus(),
    }


def filled(monitor_cls, **kwargs):
    monitor = monitor_cls(clock=FakeClock(100.0), **kwargs)
    for i, duration in enumerate([1e-6, 3e-5, 0.002, 0.5, 0.0, 1e9, 2e-12]):
        monitor.record_operation(("get", "put", "scan")[i % 3], duration, i % 2 == 0, i * 10)
    return monitor


# -- sizes ---------------------------------------------------------------------


def test_max_metrics_above_the_maximum_is_refused(monitor_cls):
    for size in (MAX_METRICS + 1, 2**60, 2**64):
        with pytest.raises(ValueError, match="max_metrics"):
            monitor_cls(max_metrics=size)


def test_a_large_history_bound_costs_nothing_until_used(monitor_cls):
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        monitor = monitor_cls(max_metrics=MAX_METRICS, clock=FakeClock())
        for i in range(100):
            monitor.record_operation("get", 0.001, True)
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert used < 256 * 1024
    assert [m.duration for m in monitor.metrics] == [0.001] * 100


def test_history_ring_keeps_the_newest_records_in_order_while_it_grows(monitor_cls):
    monitor = monitor_cls(max_metrics=40, clock=FakeClock())
    for i in range(100):
        monitor.record_operation("op", float(i), True)
        assert [m.duration for m in monitor.metrics] == [float(j) for j in range(max(0, i - 39), i + 1)]


# -- __init__ once; nothing before it -------------------------------------------


def test_second_init_is_refused_and_changes_nothing(monitor_cls):
    monitor = filled(monitor_cls)
    before = summary_of(monitor)
    with pytest.raises(TypeError, match="only once"):
        monitor.__init__(max_metrics=1)
    assert summary_of(monitor) == before


def test_methods_before_init_refuse(monitor_cls):
    bare = monitor_cls.__new__(monitor_cls)
    for call in (lambda: bare.record_operation("get", 0.1, True), bare.get_performance_summary,
                 lambda: bare.get_operation_count("get"), bare.reset_metrics,
                 lambda: len(bare.metrics), lambda: bare.lock):
        with pytest.raises(RuntimeError, match="not initialised"):
            call()
    assert "not initialised" in repr(bare)


# -- clock readings --------------------------------------------------------------


@pytest.mark.parametrize("reading, error", [
    (math.nan, ValueError), (math.inf, ValueError), (-math.inf, ValueError), ("123", TypeError),
])
def test_bad_clock_readings_are_refused_and_record_nothing(monitor_cls, reading, error):
    clock = FakeClock(100.0)
    monitor = monitor_cls(clock=clock)
    monitor.record_operation("get", 0.1, True)
    before = summary_of(monitor)
    clock.now = reading
    with pytest.raises(error, match="clock"):
        monitor.record_operation("get", 0.1, True)
    with pytest.raises(error, match="clock"):
        monitor.get_recent_metrics(1)
    clock.now = 100.0
    assert summary_of(monitor) == before


# -- the public lock ---------------------------------------------------------------


def test_holding_the_lock_makes_other_threads_wait(monitor_cls):
    monitor = monitor_cls(clock=FakeClock())
    started = threading.Event()

    def record():
        started.set()
        monitor.record_operation("get", 0.1, True)

    with monitor.lock:
        worker = threading.Thread(target=record)
        worker.start()
        started.wait()
        worker.join(0.05)
        assert worker.is_alive()
        # The holder may still use the monitor: the lock is reentrant.
        assert monitor.get_operation_count("get") == 0
        assert monitor.lock.locked()
    worker.join()
    assert monitor.get_operation_count("get") == 1
    assert not monitor.lock.locked()


def test_lock_refuses_a_release_it_does_not_hold(monitor_cls):
    monitor = monitor_cls()
    with pytest.raises(RuntimeError):
        monitor.lock.release()
    assert monitor.lock.acquire(timeout=1)
    monitor.lock.release()


# -- bounded operation names ---------------------------------------------------------


def test_names_beyond_max_operations_are_counted_as_other(monitor_cls):
    monitor = monitor_cls(clock=FakeClock(), max_operations=3)
    for i in range(10):
        monitor.record_operation(f"/item/{i}", 0.001, True, 1)
    assert monitor.get_supported_operations() == ["/item/0", "/item/1", "/item/2", OTHER_OPERATION]
    assert monitor.get_operation_count(OTHER_OPERATION) == 7
    assert monitor.get_operation_count("/item/9") == 0
    assert monitor.metrics[-1].operation == OTHER_OPERATION
    assert monitor.max_operations == 3
    monitor.reset_metrics()
    monitor.record_operation("/item/9", 0.001, True)
    assert monitor.get_supported_operations() == ["/item/9"]


@pytest.mark.parametrize("bad, error", [(0, ValueError), (-1, ValueError), (1.5, TypeError), (True, TypeError)])
def test_bad_max_operations_is_refused(monitor_cls, bad, error):
    with pytest.raises(error, match="max_operations"):
        monitor_cls(max_operations=bad)


# -- memory -------------------------------------------------------------------------


def test_reset_gives_the_memory_back(monitor_cls):
    monitor = monitor_cls(max_metrics=5000, clock=FakeClock(), max_operations=None)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(500):
            monitor.record_operation(f"op{i}", 0.001 * (i % 7 + 1), True)
        grown = tracemalloc.get_traced_memory()[0] - before
        monitor.reset_metrics()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown > 200_000
    assert kept < 16 * 1024


def test_memory_per_operation_name_is_what_the_readme_says(monitor_cls):
    # README, "Memory": under 1 KB per name (the name included) plus 512 bytes
    # per power of two of seconds its durations touch; here each touches one.
    monitor = monitor_cls(max_metrics=0, clock=FakeClock(), max_operations=None)
    names = [f"https://example.com/item/{i}" for i in range(1000)]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for name in names:
            monitor.record_operation(name, 0.001, True)
        per_name = (tracemalloc.get_traced_memory()[0] - before) / len(names)
    finally:
        tracemalloc.stop()
    assert per_name < 1024 + 512


# -- PerformanceMetrics is a frozen dataclass ------------------------------------------


def test_performance_metrics_is_a_frozen_dataclass(monitor_mod):
    PM = monitor_mod.PerformanceMetrics
    record = PM(1.0, "get", 0.5, True)
    assert dataclasses.is_dataclass(record)
    assert [f.name for f in dataclasses.fields(PM)] == ["timestamp", "operation", "duration", "success", "data_size"]
    assert dataclasses.asdict(record) == {
        "timestamp": 1.0, "operation": "get", "duration": 0.5, "success": True, "data_size": 0}
    assert dataclasses.replace(record, data_size=7) == PM(1.0, "get", 0.5, True, 7)
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.duration = 2.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.extra = 1
    assert pickle.loads(pickle.dumps(record)) == record
    assert hash(record) == hash(PM(1.0, "get", 0.5, True))


# -- pickling and copying -----------------------------------------------------------


@pytest.mark.parametrize("how", ["pickle", "copy", "deepcopy"])
def test_a_monitor_clones_with_its_data(monitor_cls, how):
    clone = {"pickle": lambda m: pickle.loads(pickle.dumps(m)), "copy": copy.copy,
             "deepcopy": copy.deepcopy}[how]
    monitor = filled(monitor_cls, max_metrics=5, max_operations=2)
    twin = clone(monitor)
    assert twin is not monitor
    assert summary_of(twin) == summary_of(monitor)
    assert twin.max_metrics == 5 and twin.max_operations == 2
    twin.record_operation("get", 0.25, True)
    assert twin.get_operation_count("get") == monitor.get_operation_count("get") + 1


@pytest.mark.skipif(len(TWINS) < 2, reason="needs both twins (MOONCAKE_PURE_PYTHON=1)")
def test_both_twins_share_one_pickled_state():
    engine = implementation("monitor", "c").SimpleMonitor
    model = implementation("monitor", "py").SimpleMonitor
    for source, target in ((engine, model), (model, engine)):
        monitor = filled(source)
        state = monitor.__reduce__()[2]
        restored = target.__new__(target)
        restored.__setstate__(state)
        assert summary_of(restored) == summary_of(monitor)


class Count:
    """An integral number that is not an int (as ``numpy.int64`` is not)."""

    def __init__(self, n):
        self.n = n

    def __index__(self):
        return self.n

    __int__ = __index__

    def __lt__(self, other):
        return self.n < other

    def __gt__(self, other):
        return self.n > other


numbers.Integral.register(Count)


def test_sizes_accept_any_integral_but_bool_as_the_cache_does(monitor_cls, cache_cls):
    monitor = monitor_cls(max_metrics=Count(5), max_operations=Count(3))
    assert monitor.max_metrics == 5 and type(monitor.max_metrics) is int
    assert monitor.max_operations == 3 and type(monitor.max_operations) is int
    assert cache_cls(Count(5)).maxsize == 5
    for wrong in (True, 5.0, "5"):
        with pytest.raises(TypeError):
            monitor_cls(max_metrics=wrong)
        with pytest.raises(TypeError):
            cache_cls(wrong)
