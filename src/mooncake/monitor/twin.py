"""The pure-Python twin of the monitor engine (``mooncake.monitor._engine``): the reference model.

It is written to be read, with the same docstrings, signatures and results as
the Cython engine; the model test runs the two in lockstep and checks that
every accessor agrees exactly. See ``mooncake.monitor.histogram`` for the
percentile design, shared by both twins.
"""

import copyreg
import math
import sys
import time
from collections import deque

from ..checks import clock_seconds
from .histogram import EXPORT_BOUNDS, bucket_index, bucket_value, export_index, percentile_rank
from .arguments import OTHER_OPERATION, check_max_metrics, check_max_operations
from .lock import MonitorLock
from .tracking import Track
from .views import MetricsView, OperationStatsView
from .metrics import PerformanceMetrics
from .prometheus import render_text
from ..user_code import calling_user_code

__all__ = ["MonitorLock", "PerformanceMetrics", "SimpleMonitor"]

_PERCENTILES = (("p50", 50), ("p90", 90), ("p99", 99))


def _check_operation(operation):
    if not isinstance(operation, str):
        raise TypeError(f"operation must be a str, not {type(operation).__name__}")
    # str.__str__ turns a str subclass into a plain str without running its code.
    return str.__str__(operation)


def _check_duration(duration):
    if isinstance(duration, bool) or not isinstance(duration, (int, float)):
        raise TypeError(f"duration must be a float (seconds), not {type(duration).__name__}")
    try:
        # int.__float__/float.__float__: the value itself, never a subclass override.
        seconds = int.__float__(duration) if isinstance(duration, int) else float.__float__(duration)
    except OverflowError:
        raise ValueError(f"duration is too large: {duration}") from None
    if not 0.0 <= seconds <= sys.float_info.max:
        raise ValueError(f"duration must be a finite number >= 0, got {duration!r}")
    return 0.0 if seconds == 0.0 else seconds  # -0.0 becomes 0.0


def _check_data_size(data_size):
    if isinstance(data_size, bool) or not isinstance(data_size, int):
        raise TypeError(f"data_size must be an int, not {type(data_size).__name__}")
    size = int.__index__(data_size)  # a plain int, never a subclass override
    if not 0 <= size < 1 << 64:
        raise ValueError(f"data_size must be in 0 .. 2**64 - 1, got {size}")
    return size


def _check_minutes(minutes):
    if isinstance(minutes, bool) or not isinstance(minutes, (int, float)):
        raise TypeError(f"minutes must be a number, not {type(minutes).__name__}")
    try:
        value = int.__float__(minutes) if isinstance(minutes, int) else float.__float__(minutes)
    except OverflowError:
        value = math.inf
    if not value >= 0.0:
        raise ValueError(f"minutes must be >= 0, got {minutes!r}")
    return value


class _OperationStats:
    """Everything kept about one operation name: totals and its duration histogram."""

    __slots__ = (
        "count", "success_count", "total_time", "total_size",
        "min_duration", "max_duration", "buckets", "export_counts",
    )

    def __init__(self):
        self.count = 0
        self.success_count = 0
        self.total_time = 0.0
        self.total_size = 0
        self.min_duration = math.inf
        self.max_duration = 0.0
        self.buckets = {}  # histogram bucket index -> count
        self.export_counts = [0] * (len(EXPORT_BOUNDS) + 1)  # per Prometheus le bound, then +Inf

    def add(self, duration, success, data_size):
        self.count += 1
        self.success_count += success
        self.total_time += duration
        self.total_size += data_size
        self.min_duration = min(self.min_duration, duration)
        self.max_duration = max(self.max_duration, duration)
        index = bucket_index(duration)
        self.buckets[index] = self.buckets.get(index, 0) + 1
        self.export_counts[export_index(duration)] += 1

    def percentile(self, p):
        rank = percentile_rank(p, self.count)
        seen = 0
        for index in sorted(self.buckets):
            seen += self.buckets[index]
            if seen >= rank:
                return bucket_value(index, self.min_duration, self.max_duration)
        raise AssertionError("rank beyond count")  # pragma: no cover

    def row(self):
        return {
            "count": self.count,
            "total_time": self.total_time,
            "success_count": self.success_count,
            "total_size": self.total_size,
        }

    def summary(self):
        out = {
            "count": self.count,
            "avg_duration": self.total_time / self.count,
            "success_rate": self.success_count / self.count,
            "avg_data_size": self.total_size / self.count,
            "min_duration": self.min_duration,
            "max_duration": self.max_duration,
        }
        for name, p in _PERCENTILES:
            out[name] = self.percentile(p)
        return out


class SimpleMonitor:
    """Records operation timings: bounded history, per-operation totals and percentiles.

    ``SimpleMonitor(max_metrics=10000, *, clock=None, max_operations=1000)``.
    ``max_metrics`` (an int in 0 .. MAX_METRICS, 2**30) bounds the retained
    history; 0 keeps none (totals and percentiles still cover every record);
    the history's memory grows as records arrive. ``clock`` is a callable
    returning wall-clock seconds (a finite real number), used for timestamps
    and by ``get_recent_metrics``; ``None`` means the system wall clock
    (``time.time``). Each call reads the clock once. ``max_operations`` (an
    int >= 1, or None for no bound) bounds the distinct operation names kept:
    records of further names are counted under ``"__other__"``, so names made
    from URLs cannot exhaust memory. Safe to use from several threads; see
    ``lock``.

    ``__init__`` runs once (again: TypeError); before it, methods raise RuntimeError.
    """

    # The engine's fields and no others: like the engine, a monitor takes no
    # new attributes and no weak references. Until __init__ sets them,
    # _init_started and _ready are unset slots, read as False.
    __slots__ = ("_init_started", "_ready", "_max_ops", "_max_operations", "_max_metrics",
                 "_clock", "_lock", "_history", "_stats")

    def __init_subclass__(cls, **kwargs):
        # The engine's SimpleMonitor is a final type: code that subclasses it
        # must fail here too, not only once the engine is in use.
        raise TypeError("type 'SimpleMonitor' is not an acceptable base type")

    def __init__(self, max_metrics=10000, *, clock=None, max_operations=1000):
        if getattr(self, "_init_started", False):
            raise TypeError("SimpleMonitor.__init__ may run only once; create a new monitor instead")
        self._init_started = True
        max_metrics = check_max_metrics(max_metrics)
        if clock is not None and not callable(clock):
            raise TypeError("clock must be callable or None")
        self._max_ops = check_max_operations(max_operations)
        self._max_operations = None if max_operations is None else int(max_operations)
        self._max_metrics = max_metrics
        self._clock = clock
        self._lock = MonitorLock()
        self._history = deque(maxlen=max_metrics)  # PerformanceMetrics, oldest first
        self._stats = {}  # operation -> _OperationStats, in first-recorded order
        self._ready = True

    @property
    def lock(self):
        """The monitor's ``MonitorLock``: hold it (``with monitor.lock:``) to make
        several calls one consistent step; other threads' calls wait meanwhile."""
        self._check_ready()
        return self._lock

    @property
    def max_operations(self):
        """The most distinct operation names kept (None: no bound)."""
        return self._max_operations

    def _check_ready(self):
        if not getattr(self, "_ready", False):
            raise RuntimeError("this SimpleMonitor is not initialised: its __init__ has not run, or failed")

    @property
    def max_metrics(self):
        """The most records the history keeps."""
        return self._max_metrics

    def _now(self):
        if self._clock is None:
            return time.time()
        with calling_user_code(" in the monitor's clock"):
            reading = self._clock()
        return clock_seconds(reading)

    def record_operation(self, operation, duration, success, data_size=0):
        """Record one operation.

        ``operation`` a str; ``duration`` seconds, an int or float, finite and
        >= 0; ``success`` any truthy/falsy value; ``data_size`` an int in
        0 .. 2**64 - 1. A wrong type raises TypeError, a negative, NaN,
        infinite or too large value raises ValueError, and then nothing is
        recorded. When the history is full the oldest record is dropped.
        """
        operation = _check_operation(operation)
        duration = _check_duration(duration)
        success = bool(success)
        data_size = _check_data_size(data_size)
        self._check_ready()
        timestamp = self._now()
        with self._lock:
            stats = self._stats.get(operation)
            if stats is None:
                if len(self._stats) >= self._max_ops:
                    operation = OTHER_OPERATION  # a name beyond the bound
                    stats = self._stats.get(operation)
                if stats is None:
                    stats = self._stats[operation] = _OperationStats()
            stats.add(duration, success, data_size)
            self._history.append(PerformanceMetrics(timestamp, operation, duration, success, data_size))

    def track(self, operation, data_size=0):
        """A context manager and decorator timing a block with ``time.perf_counter``.

        Records ``success=False`` when an exception escapes (and re-raises it).
        Bad ``operation`` or ``data_size`` raise at once, as in record_operation.
        """
        return Track(self, operation, data_size)

    @property
    def metrics(self):
        """The retained ``PerformanceMetrics``, oldest first: a read-only live sequence."""
        return MetricsView(self)

    @property
    def operation_stats(self):
        """A read-only live mapping ``operation -> {'count', 'total_time', 'success_count', 'total_size'}``."""
        return OperationStatsView(self)

    def get_performance_summary(self):
        """``operation -> {'count', 'avg_duration', 'success_rate', 'avg_data_size',
        'min_duration', 'max_duration', 'p50', 'p90', 'p99'}`` over every record
        since creation or reset; ``{}`` when nothing was recorded.

        Percentiles are nearest-rank, from the log-linear histogram: within
        0.79% of the exact value (see ``mooncake.monitor.histogram``).
        """
        self._check_ready()
        with self._lock:
            return {op: stats.summary() for op, stats in self._stats.items()}

    def get_recent_metrics(self, minutes=5):
        """Retained records with ``timestamp >= now - minutes * 60``, oldest first.

        ``minutes`` an int or float >= 0 (``math.inf`` for all); a wrong type
        raises TypeError, a negative or NaN value ValueError.
        """
        minutes = _check_minutes(minutes)
        self._check_ready()
        cutoff = self._now() - minutes * 60.0
        with self._lock:
            return [m for m in self._history if m.timestamp >= cutoff]

    def reset_metrics(self):
        """Forget everything: history, totals and histograms; their memory is
        given back (the history grows again as records arrive)."""
        self._check_ready()
        with self._lock:
            self._history = deque(maxlen=self._max_metrics)
            self._stats = {}

    def _get(self, operation):
        self._check_ready()
        return self._stats.get(_check_operation(operation))

    def get_operation_count(self, operation):
        """Operations recorded under ``operation`` since creation or reset; 0 if never seen."""
        self._check_ready()
        with self._lock:
            stats = self._get(operation)
            return 0 if stats is None else stats.count

    def get_operation_success_rate(self, operation):
        """Fraction of ``operation`` records that succeeded; 0.0 if never seen."""
        self._check_ready()
        with self._lock:
            stats = self._get(operation)
            return 0.0 if stats is None else stats.success_count / stats.count

    def get_average_duration(self, operation):
        """Mean duration of ``operation`` in seconds; 0.0 if never seen."""
        self._check_ready()
        with self._lock:
            stats = self._get(operation)
            return 0.0 if stats is None else stats.total_time / stats.count

    def get_total_data_size(self, operation):
        """Sum of ``data_size`` over ``operation`` records; 0 if never seen."""
        self._check_ready()
        with self._lock:
            stats = self._get(operation)
            return 0 if stats is None else stats.total_size

    def get_metrics_count(self):
        """Number of retained records (at most ``max_metrics``)."""
        self._check_ready()
        with self._lock:
            return len(self._history)

    def get_supported_operations(self):
        """Operation names recorded since creation or reset, in first-recorded order; [] if none."""
        self._check_ready()
        with self._lock:
            return list(self._stats)

    def to_prometheus(self, prefix="mooncake"):
        """The metrics in the Prometheus text exposition format (see ``mooncake.monitor.prometheus``)."""
        return render_text(self, prefix)

    def __repr__(self):
        if not getattr(self, "_ready", False):
            return "<SimpleMonitor, not initialised>"
        return (
            f"<SimpleMonitor: {len(self._stats)} operations, "
            f"{len(self._history)}/{self._max_metrics} records retained>"
        )

    # -- pickling and copying ---------------------------------------------------

    def __reduce__(self):
        """Settings, per-operation totals and histograms, and the retained
        history; restored without calling ``__init__`` of a subclass. The
        format is shared with the pure twin (see ``mooncake.monitor.twin``)."""
        return (copyreg.__newobj__, (type(self),), self._getstate())

    def _getstate(self):
        """The state both twins pickle: ``{"settings": {...}, "operations":
        [(name, count, success_count, total_size, total_time, min, max,
        {bucket index: count}, export counts)], "history": [(timestamp, name,
        duration, success, data_size)]}``."""
        self._check_ready()
        with self._lock:
            operations = [
                (op, s.count, s.success_count, s.total_size, s.total_time,
                 s.min_duration, s.max_duration, dict(s.buckets), tuple(s.export_counts))
                for op, s in self._stats.items()
            ]
            history = [(m.timestamp, m.operation, m.duration, m.success, m.data_size)
                       for m in self._history]
        return {
            "settings": {"max_metrics": self._max_metrics, "clock": self._clock,
                         "max_operations": self._max_operations},
            "operations": operations,
            "history": history,
        }

    def __setstate__(self, state):
        """Restore a pickled or copied monitor into a fresh, uninitialised one;
        TypeError on a monitor that was already initialised."""
        if getattr(self, "_init_started", False):
            raise TypeError("__setstate__ restores only a new, uninitialised SimpleMonitor")
        SimpleMonitor.__init__(self, **state["settings"])
        for (name, count, success_count, total_size, total_time, low, high,
             buckets, exports) in state["operations"]:
            if type(name) is not str or name in self._stats or len(exports) != len(EXPORT_BOUNDS) + 1:
                raise ValueError("corrupt SimpleMonitor state")
            stats = self._stats[name] = _OperationStats()
            stats.count, stats.success_count, stats.total_size = count, success_count, total_size
            stats.total_time, stats.min_duration, stats.max_duration = total_time, low, high
            stats.buckets = dict(buckets)
            stats.export_counts = list(exports)
        for timestamp, name, duration, success, data_size in state["history"]:
            self._history.append(PerformanceMetrics(timestamp, name, duration, success, data_size))

    # -- the private protocol of mooncake.monitor.views and mooncake.monitor.prometheus --

    def _metrics_len(self):
        return self.get_metrics_count()

    def _metrics_item(self, index):
        self._check_ready()
        with self._lock:
            n = len(self._history)
            if index < 0:
                index += n
            if not 0 <= index < n:
                raise IndexError("metrics index out of range")
            return self._history[index]

    def _metrics_slice(self, where):
        self._check_ready()
        with self._lock:
            records = list(self._history)
        return records[where]

    def _operation_row(self, operation):
        if not isinstance(operation, str):
            return None
        operation = str.__str__(operation)
        self._check_ready()
        with self._lock:
            stats = self._stats.get(operation)
            return None if stats is None else stats.row()

    def _export_rows(self):
        self._check_ready()
        with self._lock:
            return [
                (op, s.count, s.success_count, s.total_size, s.total_time, tuple(s.export_counts))
                for op, s in self._stats.items()
            ]
