"""The types in the shared tier's signatures, for the user's type checker.

At run time these are plain aliases (or absent: the ``Protocol``s exist only
for type checkers); the shared classes check their arguments themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Tuple, TypedDict, Union

#: A key of the shared tier: str, bytes, int (bool is int) and tuples of these.
Key = Union[str, bytes, int, Tuple["Key", ...]]


class _Stats(TypedDict):
    """The fields of every shared cache's ``get_stats()``."""

    total_objects: Optional[int]
    hits: int
    misses: int
    hit_rate: float
    puts: int
    deletes: int
    errors: int
    rejected: int


class SharedStats(_Stats, total=False):
    """``get_stats()`` of a shared cache: the fields below only with a near cache."""

    near_hits: int
    remote_hits: int
    invalidations: int
    flushes: int
    fills_discarded: int
    fills_failed: int
    reconnects: int
    backlogs: int


if TYPE_CHECKING:
    from typing import Any, Awaitable, Protocol

    from typing_extensions import ParamSpec, TypeVar

    from ..memoize import CacheInfo

    P = ParamSpec("P")
    R_co = TypeVar("R_co", covariant=True)

    class Serializer(Protocol):
        """A ``serializer=`` of your own (a ``name`` attribute is optional)."""

        def dumps(self, value: Any, /) -> bytes: ...
        def loads(self, data: bytes, /) -> Any: ...

    class Memoized(Protocol[P, R_co]):
        """What a SharedMooncake's ``memoize`` returns: the function, plus its counters."""

        def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R_co: ...
        def cache_info(self) -> CacheInfo: ...
        def cache_clear(self) -> None: ...

    class AsyncMemoized(Protocol[P, R_co]):
        """What an AsyncSharedMooncake's ``memoize`` returns: the coroutine
        function, plus its counters (coroutines too)."""

        def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Awaitable[R_co]: ...
        def cache_info(self) -> Awaitable[CacheInfo]: ...
        def cache_clear(self) -> Awaitable[None]: ...

__all__ = ["Key", "SharedStats"]
