"""Read-only live views of a monitor: ``metrics`` (a sequence) and ``operation_stats`` (a mapping).

Both twins hand out these views, so the two cannot differ in how a view
behaves. A view holds no data: every call asks the monitor, which answers
from one consistent moment (under its lock). So ``len(view)`` and a later
``view[i]`` may see different histories if other threads record in between;
iteration and slicing first take a snapshot of the records, so they never see
a half-written history and never fail because of concurrent recording.

The monitor side of the protocol (private, implemented by both twins):
``_metrics_len()``, ``_metrics_item(i)``, ``_metrics_slice(slice)``,
``_operation_row(op)`` and ``get_supported_operations()``.
"""

import operator
from collections.abc import Mapping, Sequence

__all__ = ["MetricsView", "OperationStatsView"]


class MetricsView(Sequence):
    """The retained ``PerformanceMetrics``, oldest first; at most ``max_metrics`` long.

    Supports ``len``, indexing (negative too; ``IndexError`` out of range),
    slicing (returns a ``list``), iteration, ``in``, ``reversed``, ``index``
    and ``count``. It cannot be modified.
    """

    __slots__ = ("_monitor",)

    def __init__(self, monitor):
        self._monitor = monitor

    def __len__(self):
        return self._monitor._metrics_len()

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self._monitor._metrics_slice(index)
        return self._monitor._metrics_item(operator.index(index))

    def __iter__(self):
        # Iterate a snapshot: recording meanwhile cannot skip or repeat a record.
        return iter(self._monitor._metrics_slice(slice(None)))

    def __reversed__(self):
        return reversed(self._monitor._metrics_slice(slice(None)))

    def __eq__(self, other):
        if isinstance(other, MetricsView):
            other = other[:]
        if isinstance(other, (list, tuple)):
            return self[:] == list(other)
        return NotImplemented

    __hash__ = None

    def __repr__(self):
        return f"<MetricsView of {len(self)} PerformanceMetrics>"


class OperationStatsView(Mapping):
    """``operation -> {'count', 'total_time', 'success_count', 'total_size'}``.

    Covers everything recorded since creation or the last reset, not only the
    retained history. Keys are in first-recorded order. Looking up an
    operation never recorded (or a non-``str`` key) raises ``KeyError``; each
    lookup returns a fresh ``dict``, so changing it does not touch the monitor.
    """

    __slots__ = ("_monitor",)

    def __init__(self, monitor):
        self._monitor = monitor

    def __getitem__(self, operation):
        row = self._monitor._operation_row(operation)
        if row is None:
            raise KeyError(operation)
        return row

    def __iter__(self):
        return iter(self._monitor.get_supported_operations())

    def __len__(self):
        return len(self._monitor.get_supported_operations())

    def __repr__(self):
        return f"OperationStatsView({dict(self.items())!r})"
