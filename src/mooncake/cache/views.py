"""Read-only views that both cache twins hand out: ``storage`` and ``access_log``.

They hold no data of their own. Each read asks the cache for a fresh snapshot
through two private methods every twin provides:

``_entry_info(key)``
    ``{'value', 'created_at', 'ttl', 'access_count'}`` for a live key, else None.
``_access_log_snapshot()``
    the retained get hits as ``(key, wall_timestamp)`` pairs, oldest first.
``_access_log_len()``, ``_access_log_item(i)``
    how many hits are retained, and one of them (IndexError out of range): O(1).
"""

import operator
from collections.abc import Mapping, Sequence


class StorageView(Mapping):
    """``key -> {'value', 'created_at', 'ttl', 'access_count'}`` over the live entries.

    ``created_at`` is wall-clock seconds (like ``time.time()``), ``ttl`` the
    seconds given at the last put or touch, ``access_count`` the get hits since
    that put. Reading the view never counts as a hit or a miss.
    """

    __slots__ = ("_cache",)

    def __init__(self, cache):
        self._cache = cache

    def __getitem__(self, key):
        info = self._cache._entry_info(key)
        if info is None:
            raise KeyError(key)
        return info

    def __contains__(self, key):
        return key in self._cache

    def __iter__(self):
        return iter(self._cache.keys())

    def __len__(self):
        return len(self._cache)

    def __repr__(self):
        return f"StorageView({dict(self)!r})"


class AccessLogView(Sequence):
    """The most recent get hits, oldest first: ``{'key', 'timestamp', 'operation': 'get'}``.

    ``len`` and indexing (negative too; IndexError out of range) are O(1);
    slicing returns a list; iteration and ``reversed`` walk one snapshot, so
    hits recorded meanwhile are neither skipped nor repeated. A view equals a
    list or tuple holding the same records (and another view over the same ones).
    """

    __slots__ = ("_cache",)

    def __init__(self, cache):
        self._cache = cache

    @staticmethod
    def _record(pair):
        key, timestamp = pair
        return {"key": key, "timestamp": timestamp, "operation": "get"}

    def __len__(self):
        return self._cache._access_log_len()

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._record(pair) for pair in self._cache._access_log_snapshot()[index]]
        return self._record(self._cache._access_log_item(operator.index(index)))

    def __iter__(self):
        return map(self._record, self._cache._access_log_snapshot())

    def __reversed__(self):
        return map(self._record, reversed(self._cache._access_log_snapshot()))

    def __eq__(self, other):
        if isinstance(other, AccessLogView):
            other = other[:]
        if isinstance(other, (list, tuple)):
            return self[:] == list(other)
        return NotImplemented

    __hash__ = None

    def __repr__(self):
        return f"AccessLogView({list(self)!r})"
