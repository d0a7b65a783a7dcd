"""The SimpleMonitor contract, pinned on both twins (ids ``c`` and ``py``)."""

import dataclasses
import asyncio
import math
import pickle
import tracemalloc

import pytest

import mooncake
from mooncake.monitoring import simple_monitor


def monitor_state(monitor):
    """Everything a monitor exposes, as plain data: equal states mean equal monitors."""
    return {
        "metrics": [dataclasses.astuple(m) for m in monitor.metrics],
        "stats": dict(monitor.operation_stats),
        "summary": monitor.get_performance_summary(),
        "count": monitor.get_metrics_count(),
        "operations": monitor.get_supported_operations(),
        "prometheus": monitor.to_prometheus(),
    }


# -- PerformanceMetrics --------------------------------------------------------------------


def test_performance_metrics_accepts_positional_and_keyword_fields(monitor_mod):
    PM = monitor_mod.PerformanceMetrics
    a = PM(1.5, "get", 0.25, True, 10)
    b = PM(timestamp=1.5, operation="get", duration=0.25, success=True, data_size=10)
    assert a == b
    assert (a.timestamp, a.operation, a.duration, a.success, a.data_size) == (1.5, "get", 0.25, True, 10)
    assert PM(1.5, "get", 0.25, True).data_size == 0


def test_performance_metrics_equality_and_hash_follow_fields(monitor_mod):
    PM = monitor_mod.PerformanceMetrics
    a = PM(1.0, "get", 0.5, True, 1)
    assert a != PM(1.0, "get", 0.5, False, 1)
    assert a != (1.0, "get", 0.5, True, 1)
    assert hash(a) == hash(PM(1.0, "get", 0.5, True, 1))
    assert len({a, PM(1.0, "get", 0.5, True, 1)}) == 1


def test_performance_metrics_is_immutable(monitor_mod):
    a = monitor_mod.PerformanceMetrics(1.0, "get", 0.5, True)
    with pytest.raises(AttributeError):
        a.duration = 2.0
    with pytest.raises(AttributeError):
        del a.operation
    with pytest.raises(AttributeError):
        a.extra = 1
    assert a.duration == 0.5


def test_performance_metrics_repr_names_every_field_and_round_trips(monitor_mod):
    PM = monitor_mod.PerformanceMetrics
    a = PM(1.0, "get", 0.5, True, 3)
    assert repr(a) == "PerformanceMetrics(timestamp=1.0, operation='get', duration=0.5, success=True, data_size=3)"
    assert eval(repr(a), {"PerformanceMetrics": PM}) == a
    assert pickle.loads(pickle.dumps(a)) == a


def test_module_paths_expose_the_same_classes(monitor_mod):
    assert simple_monitor.SimpleMonitor is mooncake.SimpleMonitor
    assert simple_monitor.PerformanceMetrics is mooncake.PerformanceMetrics
    # One record class serves both twins, so their records compare equal.
    assert monitor_mod.PerformanceMetrics is mooncake.PerformanceMetrics


# -- recording and totals ------------------------------------------------------------------


def test_record_operation_updates_stats_and_history(make_monitor, clock):
    m = make_monitor()
    m.record_operation("get", 0.5, True, 10)
    clock.advance(1)
    m.record_operation("get", 0.25, False, 5)
    m.record_operation("put", 1, 1)
    assert m.operation_stats["get"] == {"count": 2, "total_time": 0.75, "success_count": 1, "total_size": 15}
    assert m.operation_stats["put"] == {"count": 1, "total_time": 1.0, "success_count": 1, "total_size": 0}
    assert [dataclasses.astuple(x) for x in m.metrics] == [
        (1000.0, "get", 0.5, True, 10),
        (1001.0, "get", 0.25, False, 5),
        (1001.0, "put", 1.0, True, 0),
    ]
    assert m.get_operation_count("get") == 2
    assert m.get_operation_success_rate("get") == 0.5
    assert m.get_average_duration("get") == 0.375
    assert m.get_total_data_size("get") == 15
    assert m.get_metrics_count() == 3
    assert m.get_supported_operations() == ["get", "put"]


def test_total_time_is_the_plain_sum_in_recording_order(make_monitor):
    m = make_monitor()
    durations = [0.1, 1e-9, 0.2, 3e-7, 0.3]
    for d in durations:
        m.record_operation("op", d, True)
    expected = 0.0
    for d in durations:
        expected += d
    assert m.operation_stats["op"]["total_time"] == expected


def test_unseen_operation_gives_zeros(make_monitor):
    m = make_monitor()
    m.record_operation("get", 0.5, True)
    assert m.get_operation_count("nope") == 0
    assert m.get_operation_success_rate("nope") == 0.0
    assert m.get_average_duration("nope") == 0.0
    assert m.get_total_data_size("nope") == 0
    assert "nope" not in m.operation_stats
    with pytest.raises(KeyError):
        m.operation_stats["nope"]


def test_empty_monitor_reports_nothing(make_monitor):
    m = make_monitor()
    assert m.get_performance_summary() == {}
    assert m.get_supported_operations() == []
    assert m.get_metrics_count() == 0
    assert list(m.metrics) == [] and len(m.operation_stats) == 0
    assert m.get_recent_metrics() == []


def test_getters_reject_non_str_operation(make_monitor):
    m = make_monitor()
    for getter in (m.get_operation_count, m.get_operation_success_rate,
                   m.get_average_duration, m.get_total_data_size):
        with pytest.raises(TypeError):
            getter(5)
    with pytest.raises(KeyError):
        m.operation_stats[5]


def test_str_subclass_operation_is_stored_as_plain_str(make_monitor):
    class Name(str):
        def __hash__(self):
            raise AssertionError("monitor must not hash through the subclass")

    m = make_monitor()
    m.record_operation(Name("get"), 0.5, True)
    assert type(m.metrics[0].operation) is str
    assert m.get_operation_count(Name("get")) == 1


def test_negative_zero_duration_is_recorded_as_zero(make_monitor):
    m = make_monitor()
    m.record_operation("get", -0.0, True)
    summary = m.get_performance_summary()["get"]
    assert math.copysign(1.0, m.metrics[0].duration) == 1.0
    assert summary["p99"] == 0.0 and summary["max_duration"] == 0.0


def test_total_size_beyond_64_bits_is_exact(make_monitor):
    m = make_monitor()
    for _ in range(3):
        m.record_operation("big", 0.1, True, 2**64 - 1)
    assert m.get_total_data_size("big") == 3 * (2**64 - 1)
    assert m.get_performance_summary()["big"]["avg_data_size"] == float(2**64 - 1)


def test_success_takes_truthiness(make_monitor):
    m = make_monitor()
    m.record_operation("get", 0.1, [1])
    m.record_operation("get", 0.1, "")
    m.record_operation("get", 0.1, None)
    assert [x.success for x in m.metrics] == [True, False, False]


def test_clock_is_read_once_per_record(monitor_mod):
    calls = []

    def clock():
        calls.append(1)
        return 5.0

    m = monitor_mod.SimpleMonitor(clock=clock)
    m.record_operation("get", 0.1, True)
    assert len(calls) == 1 and m.metrics[0].timestamp == 5.0


def test_default_clock_is_wall_time(monitor_mod):
    import time

    m = monitor_mod.SimpleMonitor()
    before = time.time()
    m.record_operation("get", 0.1, True)
    after = time.time()
    assert before - 0.001 <= m.metrics[0].timestamp <= after + 0.001


# -- bad inputs leave the monitor unchanged ------------------------------------------------


class Boom:
    def __bool__(self):
        raise RuntimeError("no truth here")


BAD_CALLS = [
    (("get", 0.1, True, 0), {}, None),  # control: must succeed
    ((b"get", 0.1, True), {}, TypeError),
    ((None, 0.1, True), {}, TypeError),
    (("get", "0.1", True), {}, TypeError),
    (("get", None, True), {}, TypeError),
    (("get", True, True), {}, TypeError),
    (("get", 1 + 0j, True), {}, TypeError),
    (("get", -0.1, True), {}, ValueError),
    (("get", -1, True), {}, ValueError),
    (("get", math.nan, True), {}, ValueError),
    (("get", math.inf, True), {}, ValueError),
    (("get", -math.inf, True), {}, ValueError),
    (("get", 10**400, True), {}, ValueError),
    (("get", 0.1, True, -1), {}, ValueError),
    (("get", 0.1, True, 2**64), {}, ValueError),
    (("get", 0.1, True, 1.0), {}, TypeError),
    (("get", 0.1, True, "1"), {}, TypeError),
    (("get", 0.1, True, True), {}, TypeError),
    (("get", 0.1, Boom()), {}, RuntimeError),
    (("get", 0.1), {}, TypeError),
    (("get", 0.1, True), {"size": 1}, TypeError),
]


@pytest.mark.parametrize("args, kwargs, error", BAD_CALLS)
def test_bad_record_raises_and_changes_nothing(make_monitor, args, kwargs, error):
    m = make_monitor(max_metrics=3)
    for i in range(4):
        m.record_operation("get", 0.01 * (i + 1), i % 2 == 0, i)
    before = monitor_state(m)
    if error is None:
        m.record_operation(*args, **kwargs)
        assert monitor_state(m) != before
    else:
        with pytest.raises(error):
            m.record_operation(*args, **kwargs)
        assert monitor_state(m) == before


@pytest.mark.parametrize("value, error", [(-1, ValueError), (1.5, TypeError), (True, TypeError), ("3", TypeError)])
def test_bad_max_metrics_raises(monitor_mod, value, error):
    with pytest.raises(error):
        monitor_mod.SimpleMonitor(value)


def test_non_callable_clock_raises(monitor_mod):
    with pytest.raises(TypeError):
        monitor_mod.SimpleMonitor(clock=5.0)


def test_failing_clock_records_nothing(monitor_mod):
    def clock():
        raise OSError("clock broke")

    m = monitor_mod.SimpleMonitor(clock=clock)
    with pytest.raises(OSError):
        m.record_operation("get", 0.1, True)
    assert m.get_supported_operations() == [] and len(m.metrics) == 0


# -- the metrics sequence ------------------------------------------------------------------


def test_metrics_keeps_the_most_recent_oldest_first(make_monitor):
    m = make_monitor(max_metrics=3)
    for i in range(5):
        m.record_operation(f"op{i}", 0.1, True, i)
    assert [x.data_size for x in m.metrics] == [2, 3, 4]
    assert m.get_metrics_count() == 3 and m.max_metrics == 3
    # Totals still cover all five records.
    assert sum(row["count"] for row in m.operation_stats.values()) == 5


def test_metrics_supports_len_index_slice_and_iteration(make_monitor):
    m = make_monitor(max_metrics=4)
    for i in range(6):
        m.record_operation("get", 0.1, True, i)
    view = m.metrics
    assert len(view) == 4
    assert view[0].data_size == 2 and view[-1].data_size == 5 and view[-4].data_size == 2
    assert [x.data_size for x in view[1:3]] == [3, 4]
    assert [x.data_size for x in view[::-2]] == [5, 3]
    assert [x.data_size for x in view[10:]] == []
    assert [x.data_size for x in reversed(view)] == [5, 4, 3, 2]
    assert view[1] in view and view.index(view[2]) == 2
    for bad in (4, -5, 2**70):
        with pytest.raises(IndexError):
            view[bad]
    with pytest.raises(TypeError):
        view["0"]


def test_metrics_is_read_only(make_monitor):
    m = make_monitor()
    m.record_operation("get", 0.1, True)
    with pytest.raises(TypeError):
        m.metrics[0] = None
    with pytest.raises(AttributeError):
        m.metrics.append(None)
    with pytest.raises(AttributeError):
        m.metrics = []
    assert len(m.metrics) == 1


def test_metrics_view_is_live(make_monitor):
    m = make_monitor()
    view = m.metrics
    m.record_operation("get", 0.1, True)
    assert len(view) == 1


def test_max_metrics_zero_keeps_totals_only(make_monitor):
    m = make_monitor(max_metrics=0)
    m.record_operation("get", 0.1, True)
    assert len(m.metrics) == 0 and m.get_recent_metrics(math.inf) == []
    assert m.get_operation_count("get") == 1


def test_operation_stats_is_a_read_only_mapping_of_fresh_rows(make_monitor):
    m = make_monitor()
    m.record_operation("get", 0.5, True)
    stats = m.operation_stats
    with pytest.raises(TypeError):
        stats["get"] = {}
    row = stats["get"]
    row["count"] = 99
    assert stats["get"]["count"] == 1
    assert list(stats) == ["get"] and len(stats) == 1
    assert stats == {"get": {"count": 1, "total_time": 0.5, "success_count": 1, "total_size": 0}}


# -- summary and percentiles ---------------------------------------------------------------


def test_summary_reports_every_field(make_monitor):
    m = make_monitor()
    for i in range(1, 101):
        m.record_operation("get", i / 1000, i % 4 != 0, i)
    s = m.get_performance_summary()["get"]
    assert s["count"] == 100
    assert s["success_rate"] == 0.75
    assert s["avg_data_size"] == 50.5
    assert s["min_duration"] == 0.001 and s["max_duration"] == 0.1
    assert s["avg_duration"] == pytest.approx(0.0505)
    # nearest rank: p50 is the 50th value (0.050), p90 the 90th, p99 the 99th
    assert s["p50"] == pytest.approx(0.050, rel=0.01)
    assert s["p90"] == pytest.approx(0.090, rel=0.01)
    assert s["p99"] == pytest.approx(0.099, rel=0.01)


def test_percentiles_cover_records_dropped_from_history(make_monitor):
    m = make_monitor(max_metrics=10)
    for _ in range(990):
        m.record_operation("get", 0.001, True)
    for _ in range(10):
        m.record_operation("get", 1.0, True)
    s = m.get_performance_summary()["get"]
    assert s["p50"] == pytest.approx(0.001, rel=0.01)
    assert s["p99"] == pytest.approx(0.001, rel=0.01)
    assert s["max_duration"] == 1.0


def test_single_record_percentiles_are_exact(make_monitor):
    m = make_monitor()
    m.record_operation("get", 0.0123, True)
    s = m.get_performance_summary()["get"]
    assert s["p50"] == s["p90"] == s["p99"] == 0.0123


def test_percentiles_outside_the_histogram_range_report_min_or_max(make_monitor):
    # Documented in mooncake.monitor.histogram: above 2**24 s is the overflow bucket
    # (reports the maximum), at or below 2**-40 s the underflow bucket (the minimum).
    m = make_monitor()
    m.record_operation("slow", 1e9, True)
    m.record_operation("slow", 2e9, True)
    m.record_operation("instant", 0.0, True)
    m.record_operation("instant", 1e-15, True)
    summary = m.get_performance_summary()
    assert summary["slow"]["p50"] == 2e9 and summary["slow"]["min_duration"] == 1e9
    assert summary["instant"]["p99"] == 0.0 and summary["instant"]["max_duration"] == 1e-15


# -- recent metrics ------------------------------------------------------------------------


def test_get_recent_metrics_includes_the_boundary(make_monitor, clock):
    m = make_monitor()
    m.record_operation("old", 0.1, True)      # t = 1000
    clock.advance(60)
    m.record_operation("edge", 0.1, True)     # t = 1060
    clock.advance(30)
    m.record_operation("new", 0.1, True)      # t = 1090
    clock.advance(270)                        # now = 1360; 5 minutes back = 1060
    assert [x.operation for x in m.get_recent_metrics()] == ["edge", "new"]
    assert [x.operation for x in m.get_recent_metrics(0.5)] == []
    assert [x.operation for x in m.get_recent_metrics(4.5)] == ["new"]
    assert [x.operation for x in m.get_recent_metrics(math.inf)] == ["old", "edge", "new"]


def test_get_recent_metrics_survives_a_clock_stepping_back(make_monitor, clock):
    m = make_monitor()
    m.record_operation("a", 0.1, True)        # t = 1000
    clock.advance(-500)
    m.record_operation("b", 0.1, True)        # t = 500
    clock.advance(500)
    assert [x.operation for x in m.get_recent_metrics(1)] == ["a"]


@pytest.mark.parametrize("minutes, error", [(-1, ValueError), (math.nan, ValueError), ("5", TypeError), (None, TypeError), (True, TypeError)])
def test_get_recent_metrics_rejects_bad_minutes(make_monitor, minutes, error):
    m = make_monitor()
    m.record_operation("a", 0.1, True)
    with pytest.raises(error):
        m.get_recent_metrics(minutes)


# -- reset ---------------------------------------------------------------------------------


def test_reset_forgets_everything(make_monitor):
    m = make_monitor()
    m.record_operation("get", 0.1, True, 3)
    view = m.metrics
    m.reset_metrics()
    assert monitor_state(m) == monitor_state(make_monitor())
    assert len(view) == 0
    m.record_operation("put", 0.2, False)
    assert m.get_supported_operations() == ["put"]
    assert m.get_performance_summary()["put"]["count"] == 1


# -- track ---------------------------------------------------------------------------------


def test_track_context_manager_records_success(make_monitor):
    m = make_monitor()
    with m.track("load", data_size=7):
        pass
    (rec,) = m.metrics
    assert rec.operation == "load" and rec.success is True and rec.data_size == 7
    assert rec.duration >= 0.0


def test_track_records_failure_and_reraises(make_monitor):
    m = make_monitor()
    with pytest.raises(KeyError):
        with m.track("load"):
            raise KeyError("x")
    assert m.metrics[0].success is False
    assert m.get_operation_success_rate("load") == 0.0


def test_track_decorator_times_every_call(make_monitor):
    m = make_monitor()

    @m.track("compute", data_size=1)
    def compute(x):
        if x < 0:
            raise ValueError(x)
        return x * 2

    assert compute(3) == 6 and compute.__name__ == "compute"
    with pytest.raises(ValueError):
        compute(-1)
    assert [r.success for r in m.metrics] == [True, False]


def test_track_decorator_handles_recursion(make_monitor):
    m = make_monitor()

    @m.track("fact")
    def fact(n):
        return 1 if n <= 1 else n * fact(n - 1)

    assert fact(5) == 120
    assert m.get_operation_count("fact") == 5


def test_track_decorator_times_coroutines_until_done(make_monitor):
    m = make_monitor()

    @m.track("fetch")
    async def fetch():
        await asyncio.sleep(0)
        return 42

    coro = fetch()
    assert m.get_operation_count("fetch") == 0
    assert asyncio.run(coro) == 42
    assert m.get_operation_count("fetch") == 1


def test_track_context_manager_cannot_nest_itself(make_monitor):
    m = make_monitor()
    t = m.track("x")
    with t:
        with pytest.raises(RuntimeError):
            t.__enter__()
    with t:  # usable again once left
        pass
    assert m.get_operation_count("x") == 2


@pytest.mark.parametrize("args, error", [((5,), TypeError), (("x", -1), ValueError), (("x", 1.5), TypeError)])
def test_track_rejects_bad_arguments_before_running(make_monitor, args, error):
    m = make_monitor()
    with pytest.raises(error):
        m.track(*args)
    assert m.get_supported_operations() == []


# -- memory --------------------------------------------------------------------------------


def test_memory_is_bounded_by_max_metrics(make_monitor):
    m = make_monitor(max_metrics=1000)
    ops = ["get", "put", "delete"]

    def record(n):
        for i in range(n):
            m.record_operation(ops[i % 3], 1e-6 * (1 + i % 50), True, i % 100)

    tracemalloc.start()
    try:
        record(3000)  # fill the history and every histogram bucket used below
        filled, _ = tracemalloc.get_traced_memory()
        record(30000)
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert m.get_metrics_count() == 1000 and m.get_operation_count("get") == 11000
    assert after - filled < 32 * 1024


def test_a_new_monitor_copies_and_pickles(monitor_cls):
    # Its operation table is still unallocated: nothing may be copied from it.
    import copy
    import pickle

    for clone in (copy.copy(monitor_cls()), pickle.loads(pickle.dumps(monitor_cls()))):
        assert clone.get_metrics_count() == 0
        clone.record_operation("get", 0.001, True)
        assert clone.get_operation_count("get") == 1
