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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Optional, TypeVar, Union, overload

_K = TypeVar("_K")
_V_co = TypeVar("_V_co", covariant=True)
_T_co = TypeVar("_T_co", covariant=True)

__all__ = ["SnapshotMapping", "SnapshotSequence"]


class SnapshotSequence(Sequence[_T_co]):
    """A read-only sequence over records its owner keeps, oldest first.

    A subclass provides ``_length()``, ``_item(index)`` (an int, negative
    too; IndexError out of range) and ``_snapshot()`` (a new list of every
    record), and may set ``_convert``, a function turning a stored record
    into the one the view shows (None: shown as stored). A view equals a list
    or tuple of the same records, and a view of its own class showing them.
    """

    __slots__ = ("_owner",)

    _convert: Optional[Callable[[Any], Any]] = None

    def __init__(self, owner: Any) -> None:
        self._owner = owner

    def _length(self) -> int:
        raise NotImplementedError

    def _item(self, index: int) -> Any:
        raise NotImplementedError

    def _snapshot(self) -> list[Any]:
        raise NotImplementedError

    def _slice(self, where: slice) -> list[Any]:
        """The records a slice selects, as a list (a subclass may ask its owner directly)."""
        return self._snapshot()[where]

    def _shown(self, records: Iterable[Any]) -> Iterator[_T_co]:
        """An iterator of ``records`` as the view shows them."""
        return iter(records) if self._convert is None else map(self._convert, records)

    def __len__(self) -> int:
        return self._length()

    @overload
    def __getitem__(self, index: int) -> _T_co: ...
    @overload
    def __getitem__(self, index: slice) -> list[_T_co]: ...
    def __getitem__(self, index: Union[int, slice]) -> Union[_T_co, list[_T_co]]:
        if isinstance(index, slice):
            records = self._slice(index)
            return records if self._convert is None else list(map(self._convert, records))
        record: _T_co = self._item(operator.index(index))
        return record if self._convert is None else self._convert(record)

    def __iter__(self) -> Iterator[_T_co]:
        return self._shown(self._snapshot())

    def __reversed__(self) -> Iterator[_T_co]:
        return self._shown(reversed(self._snapshot()))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, type(self)):
            other = other[:]
        if isinstance(other, (list, tuple)):
            return self[:] == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # unhashable, as a list is


class SnapshotMapping(Mapping[_K, _V_co]):
    """A read-only mapping over rows its owner keeps.

    A subclass provides ``_row(key)`` (a fresh value for a present key, else
    None) and ``_keys()`` (a new list of the keys, in the owner's order);
    ``len`` and ``in`` come from them unless the subclass has a cheaper way.
    """

    __slots__ = ("_owner",)

    def __init__(self, owner: Any) -> None:
        self._owner = owner

    def _row(self, key: Any) -> Optional[_V_co]:
        raise NotImplementedError

    def _keys(self) -> list[_K]:
        raise NotImplementedError

    def __getitem__(self, key: _K) -> _V_co:
        row = self._row(key)
        if row is None:
            raise KeyError(key)
        return row

    def __iter__(self) -> Iterator[_K]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())
