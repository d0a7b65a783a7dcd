"""Prometheus export of a monitor: the text exposition format, and a ``prometheus_client`` collector.

Per operation (label ``operation``) a monitor exports, under a name prefix
(``mooncake`` by default):

- ``<prefix>_operations_total``: counter of recorded operations;
- ``<prefix>_operation_failures_total``: counter of those with ``success`` false;
- ``<prefix>_operation_bytes_total``: counter of their ``data_size``;
- ``<prefix>_operation_duration_seconds``: histogram of durations with the
  fixed ``le`` boundaries ``mooncake.histogram.EXPORT_BOUNDS`` (100 ns to
  10 s, 1-2.5-5 per decade). Bucket counts are exact; ``_sum`` is the plain
  sum of durations.

``render_text`` needs nothing but the standard library. ``MonitorCollector``
needs ``prometheus_client`` (the ``mooncake[prometheus]`` extra), imported
only when a collector is used. Both read one snapshot of the monitor per
scrape, so a scrape never mixes two moments. After ``reset_metrics()`` the
counters restart from zero, which Prometheus treats as a counter reset.
"""

import math
import re
from typing import TYPE_CHECKING, Any, Optional, Sequence

from .histogram import EXPORT_BOUNDS

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

    from ..engines import SimpleMonitor
    from prometheus_client.registry import CollectorRegistry

__all__ = ["MonitorCollector", "format_float", "render_text"]

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")

_HELP = {
    "operations": "Operations recorded by the mooncake monitor.",
    "failures": "Recorded operations that did not succeed.",
    "bytes": "Sum of the data_size of recorded operations, in bytes.",
    "duration": "Duration of recorded operations, in seconds.",
}


def format_float(value: float) -> str:
    """A float as Prometheus (and ``prometheus_client``) writes it: ``+Inf``, ``1e-07``, ``0.25``."""
    value = float(value)
    if value == math.inf:
        return "+Inf"
    if value == -math.inf:
        return "-Inf"
    if math.isnan(value):
        return "NaN"
    text = repr(value)
    dot = text.find(".")
    # Go (and so prometheus_client) switches to an exponent sooner than Python.
    if value > 0 and dot > 6:
        mantissa = f"{text[0]}.{text[1:dot]}{text[dot + 1:]}".rstrip("0.")
        return f"{mantissa}e+0{dot - 1}"
    return text


_LE_LABELS = tuple(format_float(bound) for bound in EXPORT_BOUNDS) + ("+Inf",)


def _check_prefix(prefix: object) -> None:
    if not isinstance(prefix, str) or not _NAME.match(prefix):
        raise ValueError(f"prefix must be a Prometheus metric name, got {prefix!r}")


def _escape(label_value: str) -> str:
    return label_value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _cumulative(counts: Sequence[int]) -> list[int]:
    total = 0
    out: list[int] = []
    for count in counts:
        total += count
        out.append(total)
    return out


def render_text(monitor: "SimpleMonitor", prefix: str = "mooncake") -> str:
    """The monitor's metrics in the Prometheus text exposition format (version 0.0.4).

    An empty monitor gives the HELP and TYPE lines with no samples. Raises
    ``ValueError`` if ``prefix`` is not a valid metric name.
    """
    _check_prefix(prefix)
    rows = monitor._export_rows()
    lines: list[str] = []

    def family(name: str, kind: str, help_text: str) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")

    family(f"{prefix}_operations_total", "counter", _HELP["operations"])
    for op, count, _ok, _size, _time, _buckets in rows:
        lines.append(f'{prefix}_operations_total{{operation="{_escape(op)}"}} {count}')
    family(f"{prefix}_operation_failures_total", "counter", _HELP["failures"])
    for op, count, ok, _size, _time, _buckets in rows:
        lines.append(f'{prefix}_operation_failures_total{{operation="{_escape(op)}"}} {count - ok}')
    family(f"{prefix}_operation_bytes_total", "counter", _HELP["bytes"])
    for op, _count, _ok, size, _time, _buckets in rows:
        lines.append(f'{prefix}_operation_bytes_total{{operation="{_escape(op)}"}} {size}')
    name = f"{prefix}_operation_duration_seconds"
    family(name, "histogram", _HELP["duration"])
    for op, count, _ok, _size, total_time, buckets in rows:
        label = f'operation="{_escape(op)}"'
        for le, cumulative in zip(_LE_LABELS, _cumulative(buckets)):
            lines.append(f'{name}_bucket{{{label},le="{le}"}} {cumulative}')
        lines.append(f"{name}_sum{{{label}}} {format_float(total_time)}")
        lines.append(f"{name}_count{{{label}}} {count}")
    return "\n".join(lines) + "\n"


class MonitorCollector:
    """A ``prometheus_client`` collector exporting a monitor (same metrics as ``render_text``).

    Register it with ``registry.register(MonitorCollector(monitor))``, or use
    ``MonitorCollector(monitor).register()`` for the default registry.
    ``describe()`` names the metrics, so registering two collectors with the
    same prefix in one registry raises ``ValueError`` (give each a ``prefix``).
    Needs ``prometheus_client`` (``pip install mooncake[prometheus]``).
    """

    def __init__(self, monitor: "SimpleMonitor", prefix: str = "mooncake") -> None:
        _check_prefix(prefix)
        _import_client()  # fail at construction, not at the first scrape
        self._monitor = monitor
        self._prefix = prefix

    def register(self, registry: Optional["CollectorRegistry"] = None) -> "MonitorCollector":
        """Register with ``registry`` (default: ``prometheus_client.REGISTRY``); returns self."""
        if registry is None:
            registry = _import_client().REGISTRY
        registry.register(self)
        return self

    def describe(self) -> list["Metric"]:
        return self._families([])

    def collect(self) -> list["Metric"]:
        return self._families(self._monitor._export_rows())

    def _families(self, rows: Sequence[Any]) -> list["Metric"]:
        core = _import_client().core
        labels = ["operation"]
        ops = core.CounterMetricFamily(f"{self._prefix}_operations", _HELP["operations"], labels=labels)
        failures = core.CounterMetricFamily(
            f"{self._prefix}_operation_failures", _HELP["failures"], labels=labels
        )
        size = core.CounterMetricFamily(f"{self._prefix}_operation_bytes", _HELP["bytes"], labels=labels)
        duration = core.HistogramMetricFamily(
            f"{self._prefix}_operation_duration_seconds", _HELP["duration"], labels=labels
        )
        for op, count, ok, total_size, total_time, buckets in rows:
            ops.add_metric([op], count)
            failures.add_metric([op], count - ok)
            size.add_metric([op], total_size)
            duration.add_metric(
                [op], list(zip(_LE_LABELS, _cumulative(buckets))), sum_value=total_time
            )
        return [ops, failures, size, duration]


def _import_client() -> Any:
    try:
        import prometheus_client
        import prometheus_client.core  # noqa: F401 - the metric families live there
    except ImportError as exc:
        raise ImportError(
            "MonitorCollector needs prometheus_client: pip install 'mooncake[prometheus]'"
        ) from exc
    return prometheus_client
