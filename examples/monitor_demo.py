"""The operation monitor: per-operation percentiles, ``track``, and Prometheus export.

Run it with ``python examples/monitor_demo.py`` (after ``pip install .``).
"""

import random
import time

from mooncake import SimpleMonitor


def _summary_demo():
    print("== Per-operation summary ==")
    monitor = SimpleMonitor(max_metrics=1000)
    rng = random.Random(42)
    # Simulated latencies: gets are fast with a slow tail, puts are slower.
    for _ in range(20_000):
        get_time = rng.lognormvariate(-13.5, 0.4) * (20 if rng.random() < 0.02 else 1)
        monitor.record_operation("get", get_time, rng.random() < 0.9, 64)
    for _ in range(5_000):
        monitor.record_operation("put", rng.lognormvariate(-12.5, 0.3), True, 256)

    print(f"{'operation':<10}{'count':>8}{'success':>9}{'avg':>11}{'p50':>11}{'p90':>11}{'p99':>11}")
    for op, s in monitor.get_performance_summary().items():
        print(
            f"{op:<10}{s['count']:>8}{s['success_rate']:>9.1%}"
            f"{s['avg_duration'] * 1e6:>9.2f}us{s['p50'] * 1e6:>9.2f}us"
            f"{s['p90'] * 1e6:>9.2f}us{s['p99'] * 1e6:>9.2f}us"
        )
    print(f"History keeps the last {monitor.get_metrics_count()} of "
          f"{sum(r['count'] for r in monitor.operation_stats.values())} records; "
          "the percentiles cover all of them.")
    print()


def _track_demo():
    print("== track(): context manager and decorator ==")
    monitor = SimpleMonitor()

    with monitor.track("load_config", data_size=512):
        time.sleep(0.002)

    @monitor.track("parse")
    def parse(text):
        return int(text)

    parse("42")
    try:
        parse("not a number")
    except ValueError:
        print("parse('not a number') raised ValueError; it was recorded as a failure")

    for record in monitor.metrics:
        outcome = "ok" if record.success else "failed"
        print(f"  {record.operation:<12} {record.duration * 1e3:8.3f} ms  {outcome}")
    print(f"parse success rate: {monitor.get_operation_success_rate('parse'):.0%}")
    print()
    return monitor


def _prometheus_demo(monitor):
    print("== Prometheus text (first lines) ==")
    lines = monitor.to_prometheus().splitlines()
    for line in lines[:12]:
        print("  " + line)
    print(f"  ... {len(lines) - 12} more lines")
    print()


def run_monitor_demos():
    """Run every monitor demo, printing readable output."""
    _summary_demo()
    monitor = _track_demo()
    _prometheus_demo(monitor)


if __name__ == "__main__":
    run_monitor_demos()
