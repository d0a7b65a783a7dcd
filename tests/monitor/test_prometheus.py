"""Prometheus export: the text format parses, and the collector registers the same metrics."""

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from mooncake.monitor.histogram import EXPORT_BOUNDS
from mooncake.monitor.prometheus import MonitorCollector


def parse(text):
    return {f.name: f for f in text_string_to_metric_families(text)}


def samples(families):
    """{(sample name, labels as a sorted tuple): value} over all families."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in families.values()
        for s in f.samples
    }


@pytest.fixture
def monitor(monitor_mod):
    m = monitor_mod.SimpleMonitor(clock=lambda: 1000.0)
    m.record_operation("get", 2e-7, True, 10)
    m.record_operation("get", 1e-6, True, 20)   # exactly on an le bound: counted in le="1e-06"
    m.record_operation("get", 0.3, False, 5)
    m.record_operation("put", 20.0, True, 1000)  # above the last bound: only in +Inf
    m.record_operation('we"ird\\op\nname', 0.001, False)
    return m


def test_text_parses_into_the_four_families(monitor):
    families = parse(monitor.to_prometheus())
    assert {name: f.type for name, f in families.items()} == {
        "mooncake_operations": "counter",
        "mooncake_operation_failures": "counter",
        "mooncake_operation_bytes": "counter",
        "mooncake_operation_duration_seconds": "histogram",
    }
    values = samples(families)
    assert values["mooncake_operations_total", (("operation", "get"),)] == 3
    assert values["mooncake_operation_failures_total", (("operation", "get"),)] == 1
    assert values["mooncake_operation_bytes_total", (("operation", "put"),)] == 1000
    assert values["mooncake_operations_total", (("operation", 'we"ird\\op\nname'),)] == 1


def test_histogram_buckets_are_cumulative_and_exact(monitor):
    values = samples(parse(monitor.to_prometheus()))

    def bucket(op, le):
        return values["mooncake_operation_duration_seconds_bucket", (("le", le), ("operation", op))]

    assert bucket("get", "1e-07") == 0
    assert bucket("get", "2.5e-07") == 1
    assert bucket("get", "1e-06") == 2
    assert bucket("get", "0.25") == 2
    assert bucket("get", "0.5") == 3
    assert bucket("get", "+Inf") == 3
    assert bucket("put", "10.0") == 0 and bucket("put", "+Inf") == 1
    assert values["mooncake_operation_duration_seconds_count", (("operation", "get"),)] == 3
    assert values["mooncake_operation_duration_seconds_sum", (("operation", "get"),)] == 2e-7 + 1e-6 + 0.3
    les = [k[1][0][1] for k in values if k[0].endswith("_bucket") and k[1][1] == ("operation", "get")]
    assert len(les) == len(EXPORT_BOUNDS) + 1


def test_empty_monitor_exports_families_without_samples(monitor_mod):
    families = parse(monitor_mod.SimpleMonitor().to_prometheus())
    assert len(families) == 4
    assert all(f.samples == [] for f in families.values())


def test_prefix_renames_metrics_and_is_validated(monitor):
    assert "app_cache_operations" in parse(monitor.to_prometheus("app_cache"))
    with pytest.raises(ValueError):
        monitor.to_prometheus("bad-name")


def test_collector_registers_the_same_metrics(monitor):
    registry = CollectorRegistry()
    MonitorCollector(monitor).register(registry)
    scraped = samples(parse(generate_latest(registry).decode()))
    assert scraped == samples(parse(monitor.to_prometheus()))
    assert registry.get_sample_value("mooncake_operations_total", {"operation": "get"}) == 3


def test_collector_sees_new_records_on_each_scrape(monitor):
    registry = CollectorRegistry()
    registry.register(MonitorCollector(monitor))
    monitor.record_operation("get", 0.1, True)
    assert registry.get_sample_value("mooncake_operations_total", {"operation": "get"}) == 4
    monitor.reset_metrics()
    assert registry.get_sample_value("mooncake_operations_total", {"operation": "get"}) is None


def test_two_collectors_with_one_prefix_clash(monitor, monitor_mod):
    registry = CollectorRegistry()
    MonitorCollector(monitor).register(registry)
    with pytest.raises(ValueError):
        MonitorCollector(monitor_mod.SimpleMonitor()).register(registry)
    MonitorCollector(monitor_mod.SimpleMonitor(), prefix="other").register(registry)
    assert "other_operations_total" in generate_latest(registry).decode()


def test_export_sum_matches_total_time(monitor):
    values = samples(parse(monitor.to_prometheus()))
    for op, row in monitor.operation_stats.items():
        exported = values["mooncake_operation_duration_seconds_sum", (("operation", op),)]
        assert exported == row["total_time"]  # repr round-trips a float exactly
