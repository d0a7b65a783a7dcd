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

from ..views import SnapshotMapping, SnapshotSequence


class StorageView(SnapshotMapping):
    """``key -> {'value', 'created_at', 'ttl', 'access_count'}`` over the live entries.

    ``created_at`` is wall-clock seconds (like ``time.time()``), ``ttl`` the
    seconds given at the last put or touch, ``access_count`` the get hits since
    that put. Reading the view never counts as a hit or a miss.
    """

    __slots__ = ()

    def _row(self, key):
        return self._owner._entry_info(key)

    def _keys(self):
        return self._owner.keys()

    def __contains__(self, key):
        return key in self._owner

    def __len__(self):
        return len(self._owner)

    def __repr__(self):
        return f"StorageView({dict(self)!r})"


def _hit_record(pair):
    key, timestamp = pair
    return {"key": key, "timestamp": timestamp, "operation": "get"}


class AccessLogView(SnapshotSequence):
    """The most recent get hits, oldest first: ``{'key', 'timestamp', 'operation': 'get'}``.

    ``len`` and indexing (negative too; IndexError out of range) are O(1);
    slicing returns a list; iteration and ``reversed`` walk one snapshot, so
    hits recorded meanwhile are neither skipped nor repeated. A view equals a
    list or tuple holding the same records (and another view over the same ones).
    """

    __slots__ = ()

    _convert = staticmethod(_hit_record)

    def _length(self):
        return self._owner._access_log_len()

    def _item(self, index):
        return self._owner._access_log_item(index)

    def _snapshot(self):
        return self._owner._access_log_snapshot()

    def __repr__(self):
        return f"AccessLogView({list(self)!r})"
