"""Typing of the compiled cache engine (``mooncake.cache._engine``).

``SimpleMooncake[K, V]`` is generic in its key and value types, for the user's
type checker only: the cache checks no types (``SimpleMooncake[str, bytes]``
is a ``types.GenericAlias`` at run time). Unparametrized, it is
``SimpleMooncake[Hashable, Any]``.
"""

from typing import (
    Any, Callable, Dict, Generic, Hashable, Iterable, Iterator, List, Mapping, NamedTuple, Optional, Protocol,
    Tuple, TypedDict, Union, overload,
)

from typing_extensions import ParamSpec, TypeVar, disjoint_base

from mooncake.cache.views import AccessLogView, StorageView
from mooncake.cache.removal import RemovalReason

_K = TypeVar("_K", bound=Hashable, default=Hashable)
_V = TypeVar("_V", default=Any)
_T = TypeVar("_T")
_P = ParamSpec("_P")
_R_co = TypeVar("_R_co", covariant=True)

#: Resolution of the built-in monotonic clock, in seconds.
CLOCK_RESOLUTION: float
MAX_USER_CODE_DEPTH: int
#: True if the engine was built with MOONCAKE_DEBUG=1 (``_check_invariants`` works).
DEBUG_BUILD: bool

# Stub-only names (private: they do not exist at run time).
class _CacheStats(TypedDict):
    total_objects: int
    total_accesses: int
    memory_usage: int
    hits: int
    misses: int
    hit_rate: float
    puts: int
    deletes: int
    expirations: int
    evictions: int
    maxsize: Optional[int]
    maxmemory: Optional[int]

class _CacheInfo(NamedTuple):
    hits: int
    misses: int
    size: int

class _Recorder(Protocol):
    """A ``monitor=``: a SimpleMonitor, or anything with its ``record_operation``."""
    def record_operation(self, operation: str, duration: float, success: bool, data_size: int = ...) -> object: ...

class _Memoized(Protocol[_P, _R_co]):
    """What ``memoize`` returns: the function, plus its cache's counters."""
    def __call__(self, *args: _P.args, **kwargs: _P.kwargs) -> _R_co: ...
    def cache_info(self) -> _CacheInfo: ...
    def cache_clear(self) -> None: ...

@disjoint_base  # a C type: no class can have it and another such type as bases
class SimpleMooncake(Generic[_K, _V]):
    def __init__(
        self,
        maxsize: Optional[int] = None,
        *,
        clock: Optional[Callable[[], float]] = None,
        access_log_size: int = 10000,
        on_remove: Optional[Callable[[_K, _V, RemovalReason], object]] = None,
        maxmemory: Optional[int] = None,
        getsizeof: Optional[Callable[[_V], int]] = None,
        monitor: Optional[_Recorder] = None,
        policy: Optional[str] = None,
    ) -> None: ...
    def put(self, key: _K, value: _V, ttl: float = 3600) -> bool: ...
    @overload
    def get(self, key: _K) -> Optional[_V]: ...
    @overload
    def get(self, key: _K, default: _T) -> Union[_V, _T]: ...
    def delete(self, key: _K) -> bool: ...
    @overload
    def pop(self, key: _K) -> _V: ...
    @overload
    def pop(self, key: _K, default: _T) -> Union[_V, _T]: ...
    def ttl(self, key: _K) -> Optional[float]: ...
    def touch(self, key: _K, ttl: float) -> bool: ...
    def cleanup_expired(self) -> int: ...
    def clear(self) -> None: ...
    def keys(self) -> List[_K]: ...
    def values(self) -> List[_V]: ...
    def items(self) -> List[Tuple[_K, _V]]: ...
    def get_many(self, keys: Iterable[_K]) -> Dict[_K, _V]: ...
    def put_many(self, items: Union[Mapping[_K, _V], Iterable[Tuple[_K, _V]]], ttl: float = 3600) -> int: ...
    def get_stats(self) -> _CacheStats: ...
    @property
    def storage(self) -> StorageView[_K]: ...
    @property
    def access_log(self) -> AccessLogView: ...
    @property
    def maxsize(self) -> Optional[int]: ...
    @property
    def maxmemory(self) -> Optional[int]: ...
    @property
    def policy(self) -> str: ...
    def memoize(
        self, ttl: float = 3600, key: Optional[Callable[..., Hashable]] = None
    ) -> Callable[[Callable[_P, _T]], _Memoized[_P, _T]]: ...
    # A method's wrapper is typed as the method itself, so that it binds ``self``.
    def memoize_method(
        self, ttl: float = 3600, key: Optional[Callable[..., Hashable]] = None
    ) -> Callable[[Callable[_P, _T]], Callable[_P, _T]]: ...
    def __getitem__(self, key: _K) -> _V: ...
    def __setitem__(self, key: _K, value: _V) -> None: ...
    def __delitem__(self, key: _K) -> None: ...
    def __contains__(self, key: object) -> bool: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[_K]: ...
    def __reduce__(self) -> Tuple[Any, ...]: ...
    def __setstate__(self, state: Dict[str, Any]) -> None: ...
    def _check_invariants(self) -> None:
        """AssertionError if the internal state is inconsistent; RuntimeError
        unless the engine was built with MOONCAKE_DEBUG=1."""
