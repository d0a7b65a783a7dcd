"""Read-only live views of a monitor: ``metrics`` (a sequence) and ``operation_stats`` (a mapping).

Both twins hand out these views, so the two cannot differ in how a view
behaves. A view holds no data (the machinery is ``mooncake.views``): every
call asks the monitor, which answers from one consistent moment (under its
lock). So ``len(view)`` and a later ``view[i]`` may see different histories
if other threads record in between; iteration and slicing first take a
snapshot of the records, so they never see a half-written history and never
fail because of concurrent recording.

The monitor side of the protocol (private, implemented by both twins):
``_metrics_len()``, ``_metrics_item(i)``, ``_metrics_slice(slice)``,
``_operation_row(op)`` and ``get_supported_operations()``.
"""

from ..views import SnapshotMapping, SnapshotSequence

__all__ = ["MetricsView", "OperationStatsView"]


class MetricsView(SnapshotSequence):
    """The retained ``PerformanceMetrics``, oldest first; at most ``max_metrics`` long.

    Supports ``len``, indexing (negative too; ``IndexError`` out of range),
    slicing (returns a ``list``), iteration, ``in``, ``reversed``, ``index``
    and ``count``. It cannot be modified.
    """

    __slots__ = ()

    def _length(self):
        return self._owner._metrics_len()

    def _item(self, index):
        return self._owner._metrics_item(index)

    def _snapshot(self):
        return self._owner._metrics_slice(slice(None))

    def _slice(self, where):
        return self._owner._metrics_slice(where)

    def __repr__(self):
        return f"<MetricsView of {len(self)} PerformanceMetrics>"


class OperationStatsView(SnapshotMapping):
    """``operation -> {'count', 'total_time', 'success_count', 'total_size'}``.

    Covers everything recorded since creation or the last reset, not only the
    retained history. Keys are in first-recorded order. Looking up an
    operation never recorded (or a non-``str`` key) raises ``KeyError``; each
    lookup returns a fresh ``dict``, so changing it does not touch the monitor.
    """

    __slots__ = ()

    def _row(self, operation):
        return self._owner._operation_row(operation)

    def _keys(self):
        return self._owner.get_supported_operations()

    def __repr__(self):
        return f"OperationStatsView({dict(self.items())!r})"
