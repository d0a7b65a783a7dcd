"""Read-only snapshot views shared by the cache and the monitor.

A view holds no data, only its owner (a cache or a monitor); every read asks
the owner, through a few private methods a subclass names, for a fresh answer.
Whatever walks the whole view (iteration, ``reversed``, slicing, ``==``)
first takes one snapshot, so records added meanwhile are neither skipped nor
repeated and nothing fails half-way. The views cannot be modified.

``SnapshotSequence`` is the base of ``access_log`` (``mooncake.cache.views``)
and ``metrics`` (``mooncake.monitor.views``); ``SnapshotMapping`` of
``storage`` and ``operation_stats``.
"""

import operator
from collections.abc import Mapping, Sequence

__all__ = ["SnapshotMapping", "SnapshotSequence"]


class SnapshotSequence(Sequence):
    """A read-only sequence over records its owner keeps, oldest first.

    A subclass provides ``_length()``, ``_item(index)`` (an int, negative
    too; IndexError out of range) and ``_snapshot()`` (a new list of every
    record), and may set ``_convert``, a function turning a stored record
    into the one the view shows (None: shown as stored). A view equals a list
    or tuple of the same records, and a view of its own class showing them.
    """

    __slots__ = ("_owner",)

    _convert = None

    def __init__(self, owner):
        self._owner = owner

    def _length(self):
        raise NotImplementedError

    def _item(self, index):
        raise NotImplementedError

    def _snapshot(self):
        raise NotImplementedError

    def _slice(self, where):
        """The records a slice selects, as a list (a subclass may ask its owner directly)."""
        return self._snapshot()[where]

    def _shown(self, records):
        """An iterator of ``records`` as the view shows them."""
        return iter(records) if self._convert is None else map(self._convert, records)

    def __len__(self):
        return self._length()

    def __getitem__(self, index):
        if isinstance(index, slice):
            records = self._slice(index)
            return records if self._convert is None else list(map(self._convert, records))
        record = self._item(operator.index(index))
        return record if self._convert is None else self._convert(record)

    def __iter__(self):
        return self._shown(self._snapshot())

    def __reversed__(self):
        return self._shown(reversed(self._snapshot()))

    def __eq__(self, other):
        if isinstance(other, type(self)):
            other = other[:]
        if isinstance(other, (list, tuple)):
            return self[:] == list(other)
        return NotImplemented

    __hash__ = None


class SnapshotMapping(Mapping):
    """A read-only mapping over rows its owner keeps.

    A subclass provides ``_row(key)`` (a fresh value for a present key, else
    None) and ``_keys()`` (a new list of the keys, in the owner's order);
    ``len`` and ``in`` come from them unless the subclass has a cheaper way.
    """

    __slots__ = ("_owner",)

    def __init__(self, owner):
        self._owner = owner

    def _row(self, key):
        raise NotImplementedError

    def _keys(self):
        raise NotImplementedError

    def __getitem__(self, key):
        row = self._row(key)
        if row is None:
            raise KeyError(key)
        return row

    def __iter__(self):
        return iter(self._keys())

    def __len__(self):
        return len(self._keys())
