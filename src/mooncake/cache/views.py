"""Read-only views that both cache twins hand out: ``storage`` and ``access_log``.

They hold no data of their own (the machinery is ``mooncake.views``). Each
read asks the cache for a fresh snapshot through private methods every twin
provides:

``_entry_info(key)``
    ``{'value', 'created_at', 'ttl', 'access_count'}`` for a live key, else None.
``_access_log_snapshot()``
    the retained get hits as ``(key, wall_timestamp)`` pairs, oldest first.
``_access_log_len()``, ``_access_log_item(i)``
    how many hits are retained, and one of them (IndexError out of range): O(1).
"""

from collections.abc import Hashable
from typing import Any, Optional, TypedDict, TypeVar

from ..views import SnapshotMapping, SnapshotSequence

_K = TypeVar("_K", bound=Hashable)


class EntryInfo(TypedDict):
    """One row of ``storage``."""

    value: Any
    created_at: float
    ttl: float
    access_count: int


class AccessRecord(TypedDict):
    """One record of ``access_log``."""

    key: Any
    timestamp: float
    operation: str


class StorageView(SnapshotMapping[_K, EntryInfo]):
    """``key -> {'value', 'created_at', 'ttl', 'access_count'}`` over the live entries.

    ``created_at`` is wall-clock seconds (like ``time.time()``), ``ttl`` the
    seconds given at the last put or touch, ``access_count`` the get hits since
    that put. Reading the view never counts as a hit or a miss.
    """

    __slots__ = ()

    def _row(self, key: Any) -> Optional[EntryInfo]:
        row: Optional[EntryInfo] = self._owner._entry_info(key)
        return row

    def _keys(self) -> list[_K]:
        keys: list[_K] = self._owner.keys()
        return keys

    def __contains__(self, key: object) -> bool:
        return key in self._owner

    def __len__(self) -> int:
        return len(self._owner)

    def __repr__(self) -> str:
        return f"StorageView({dict(self)!r})"


def _hit_record(pair: tuple[Any, float]) -> AccessRecord:
    key, timestamp = pair
    return {"key": key, "timestamp": timestamp, "operation": "get"}


class AccessLogView(SnapshotSequence[AccessRecord]):
    """The most recent get hits, oldest first: ``{'key', 'timestamp', 'operation': 'get'}``.

    ``len`` and indexing (negative too; IndexError out of range) are O(1);
    slicing returns a list; iteration and ``reversed`` walk one snapshot, so
    hits recorded meanwhile are neither skipped nor repeated. A view equals a
    list or tuple holding the same records (and another view over the same ones).
    """

    __slots__ = ()

    _convert = staticmethod(_hit_record)

    def _length(self) -> int:
        length: int = self._owner._access_log_len()
        return length

    def _item(self, index: int) -> tuple[Any, float]:
        item: tuple[Any, float] = self._owner._access_log_item(index)
        return item

    def _snapshot(self) -> list[tuple[Any, float]]:
        records: list[tuple[Any, float]] = self._owner._access_log_snapshot()
        return records

    def __repr__(self) -> str:
        return f"AccessLogView({list(self)!r})"
