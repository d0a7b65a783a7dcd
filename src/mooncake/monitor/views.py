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

from typing import TYPE_CHECKING, Any, Optional, TypedDict

from ..views import SnapshotMapping, SnapshotSequence

if TYPE_CHECKING:
    from .metrics import PerformanceMetrics

__all__ = ["MetricsView", "OperationStats", "OperationStatsView"]


class OperationStats(TypedDict):
    """One row of ``operation_stats``: totals since creation or the last reset."""

    count: int
    total_time: float
    success_count: int
    total_size: int


class MetricsView(SnapshotSequence["PerformanceMetrics"]):
    """The retained ``PerformanceMetrics``, oldest first; at most ``max_metrics`` long.

    Supports ``len``, indexing (negative too; ``IndexError`` out of range),
    slicing (returns a ``list``), iteration, ``in``, ``reversed``, ``index``
    and ``count``. It cannot be modified.
    """

    __slots__ = ()

    def _length(self) -> int:
        length: int = self._owner._metrics_len()
        return length

    def _item(self, index: int) -> "PerformanceMetrics":
        item: PerformanceMetrics = self._owner._metrics_item(index)
        return item

    def _snapshot(self) -> list[Any]:
        return self._slice(slice(None))

    def _slice(self, where: slice) -> list[Any]:
        records: list[Any] = self._owner._metrics_slice(where)
        return records

    def __repr__(self) -> str:
        return f"<MetricsView of {len(self)} PerformanceMetrics>"


class OperationStatsView(SnapshotMapping[str, OperationStats]):
    """``operation -> {'count', 'total_time', 'success_count', 'total_size'}``.

    Covers everything recorded since creation or the last reset, not only the
    retained history. Keys are in first-recorded order. Looking up an
    operation never recorded (or a non-``str`` key) raises ``KeyError``; each
    lookup returns a fresh ``dict``, so changing it does not touch the monitor.
    """

    __slots__ = ()

    def _row(self, operation: Any) -> Optional[OperationStats]:
        row: Optional[OperationStats] = self._owner._operation_row(operation)
        return row

    def _keys(self) -> list[str]:
        names: list[str] = self._owner.get_supported_operations()
        return names

    def __repr__(self) -> str:
        return f"OperationStatsView({dict(self.items())!r})"
