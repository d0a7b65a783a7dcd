"""Django cache backends: ``MooncakeCache`` (in-process) and ``SharedMooncakeCache``.

Adapters over mooncake's public API, nothing more::

    CACHES = {
        "default": {"BACKEND": "mooncake.django.MooncakeCache", "LOCATION": "default",
                    "OPTIONS": {"MAX_ENTRIES": 100_000}},
        "shared": {"BACKEND": "mooncake.django.SharedMooncakeCache",
                   "LOCATION": "redis://127.0.0.1:6379/0",
                   "OPTIONS": {"near": 10_000, "fail_open": True}},
    }

Django makes one backend object per thread and calls ``close()`` after every
request. So the cache itself lives in a per-process registry: one
``SimpleMooncake`` per LOCATION (and MAX_ENTRIES), one ``SharedMooncake`` per
LOCATION and OPTIONS, shared by every thread's backend object, and ``close()``
tears nothing down. Django's timeout rules apply: ``None`` never expires,
``0`` (or less) expires at once, and the default comes from ``TIMEOUT``.
``KEY_PREFIX``, ``VERSION`` and ``KEY_FUNCTION`` work through Django's own
``make_key``, and keys memcached would refuse warn as Django's backends do.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NoReturn, Optional

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache

if TYPE_CHECKING:
    from .shared import AsyncSharedMooncake, SharedMooncake

from .framework_store import InProcessStore

__all__ = ["MooncakeCache", "SharedMooncakeCache"]

#: MooncakeCache OPTIONS of mooncake's own (Django's MAX_ENTRIES and CULL_FREQUENCY aside).
_LOCAL_OPTIONS = {"isolate", "policy"}

#: SharedMooncakeCache OPTIONS: SharedMooncake's keyword arguments.
_SHARED_OPTIONS = {"namespace", "serializer", "signing_key", "fail_open", "near", "near_ttl", "strict"}

_registry_lock = threading.Lock()
#: (LOCATION, MAX_ENTRIES, policy, isolate) -> the process's store for them
_local_stores: dict[tuple[Any, ...], InProcessStore] = {}
#: (LOCATION, OPTIONS as a key) -> the process's SharedMooncake for them
_shared_caches: dict[tuple[Any, ...], _SharedEntry] = {}


def _check_options(options: Mapping[str, Any], known: set[str], backend: str) -> None:
    unknown = sorted(set(options) - known - {"MAX_ENTRIES", "CULL_FREQUENCY"})
    if unknown:
        raise ValueError(f"{backend} does not know the OPTIONS {unknown}; it takes {sorted(known)}")


def _seconds(cache: BaseCache, timeout: Any) -> float:
    """A Django timeout as mooncake's ttl: the default from TIMEOUT, None never
    expires (math.inf), and 0 or less expires at once (the engines remove the key)."""
    if timeout is DEFAULT_TIMEOUT:
        timeout = cache.default_timeout
    return math.inf if timeout is None else timeout


class MooncakeCache(BaseCache):
    """An in-process cache on ``SimpleMooncake``, shared by every thread of a process.

    ``LOCATION`` names the cache: backends with the same LOCATION (and
    MAX_ENTRIES) share one store, others are separate, as with ``LocMemCache``.
    ``OPTIONS``: ``MAX_ENTRIES`` is the engine's maxsize (default 300, as
    Django's); when full, the engine's eviction policy (``policy``:
    ``"tinylfu"`` by default, or ``"sieve"``) removes one entry per new key,
    so ``CULL_FREQUENCY`` has no meaning here and is ignored. ``isolate``
    (default True) pickles each value, so a later mutation of the object you
    set does not change the cached value and each ``get`` returns a fresh
    object; ``isolate=False`` skips pickling and returns the stored object
    itself. ``add``, ``incr`` and ``decr`` are atomic across threads; ``incr``
    keeps the key's remaining timeout.
    """

    def __init__(self, location: Any, params: dict[str, Any]) -> None:
        super().__init__(params)
        options = params.get("OPTIONS") or {}
        _check_options(options, _LOCAL_OPTIONS, "MooncakeCache")
        isolate = options.get("isolate", True)
        policy = options.get("policy")
        if self._max_entries <= 0:
            raise ValueError(f"MAX_ENTRIES must be > 0, not {self._max_entries}")
        name = (location, self._max_entries, policy, isolate)
        with _registry_lock:
            store = _local_stores.get(name)
            if store is None:
                store = _local_stores[name] = InProcessStore(self._max_entries, isolate=isolate,
                                                             policy=policy)
        self._store = store

    @property
    def engine(self) -> Any:
        """The ``SimpleMooncake`` holding this LOCATION's entries (for its stats)."""
        return self._store.engine

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Optional[int] = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        return self._store.add(key, value, _seconds(self, timeout))

    def get(self, key: Any, default: Any = None, version: Optional[int] = None) -> Any:
        key = self.make_and_validate_key(key, version=version)
        return self._store.get(key, default)

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Optional[int] = None) -> None:
        key = self.make_and_validate_key(key, version=version)
        self._store.set(key, value, _seconds(self, timeout))

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Optional[int] = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        return self._store.touch(key, _seconds(self, timeout))

    def delete(self, key: Any, version: Optional[int] = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        return self._store.delete(key)

    def has_key(self, key: Any, version: Optional[int] = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        return self._store.contains(key)

    def get_many(self, keys: Iterable[Any], version: Optional[int] = None) -> dict[Any, Any]:
        made = {self.make_and_validate_key(key, version=version): key for key in keys}
        found = self._store.get_many(list(made))
        return {made[name]: value for name, value in found.items()}

    def set_many(self, data: Mapping[Any, Any], timeout: Any = DEFAULT_TIMEOUT,
                 version: Optional[int] = None) -> list[Any]:
        items = {self.make_and_validate_key(key, version=version): value for key, value in data.items()}
        self._store.set_many(items, _seconds(self, timeout))
        return []

    def delete_many(self, keys: Iterable[Any], version: Optional[int] = None) -> None:
        self._store.delete_many([self.make_and_validate_key(key, version=version) for key in keys])

    def incr(self, key: Any, delta: int = 1, version: Optional[int] = None) -> Any:
        name = self.make_and_validate_key(key, version=version)
        try:
            return self._store.incr(name, delta)
        except KeyError:
            raise ValueError(f"Key '{name}' not found") from None

    def clear(self) -> None:
        self._store.clear()

    # An in-process cache does no I/O: its a* methods run the sync ones in the
    # loop's thread (cheaper than Django's default of a thread pool hop).

    async def aadd(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT,
                   version: Optional[int] = None) -> bool:
        return self.add(key, value, timeout, version)

    async def aget(self, key: Any, default: Any = None, version: Optional[int] = None) -> Any:
        return self.get(key, default, version)

    async def aset(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT,
                   version: Optional[int] = None) -> None:
        return self.set(key, value, timeout, version)

    async def atouch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Optional[int] = None) -> bool:
        return self.touch(key, timeout, version)

    async def adelete(self, key: Any, version: Optional[int] = None) -> bool:
        return self.delete(key, version)

    async def ahas_key(self, key: Any, version: Optional[int] = None) -> bool:
        return self.has_key(key, version)

    async def aget_many(self, keys: Iterable[Any], version: Optional[int] = None) -> dict[Any, Any]:
        return self.get_many(keys, version)

    async def aset_many(self, data: Mapping[Any, Any], timeout: Any = DEFAULT_TIMEOUT,
                        version: Optional[int] = None) -> list[Any]:
        return self.set_many(data, timeout, version)

    async def adelete_many(self, keys: Iterable[Any], version: Optional[int] = None) -> None:
        return self.delete_many(keys, version)

    async def aincr(self, key: Any, delta: int = 1, version: Optional[int] = None) -> Any:
        return self.incr(key, delta, version)

    async def aclear(self) -> None:
        return self.clear()


def _option_key(value: Any) -> Any:
    """An OPTIONS value as part of a registry key: itself if hashable, else its identity."""
    try:
        hash(value)
    except TypeError:
        return ("id", id(value))
    return value


class _SharedEntry:
    """A process's SharedMooncake for one LOCATION and OPTIONS, and its async twin:
    ``as_async()`` (same namespace, codec, counters and near cache, a redis.asyncio
    client per event loop), made on the first a* call."""

    def __init__(self, cache: SharedMooncake) -> None:
        self.cache = cache
        self._async: Optional[AsyncSharedMooncake] = None

    def aio(self) -> AsyncSharedMooncake:
        twin = self._async
        if twin is None:
            with _registry_lock:
                if self._async is None:
                    self._async = self.cache.as_async()
                twin = self._async
        return twin


def _shared_entry(location: str, options: dict[str, Any]) -> _SharedEntry:
    """This process's _SharedEntry for ``location`` and ``options`` (made on first use;
    the first backend of a process waits for the server's PING, the others do not)."""
    from .shared import SharedMooncake  # redis-py is needed only by this backend

    name = (location, tuple(sorted((key, _option_key(value)) for key, value in options.items())))
    with _registry_lock:
        entry = _shared_caches.get(name)
        if entry is None:
            entry = _shared_caches[name] = _SharedEntry(SharedMooncake(location, **options))
        return entry


def _raise_serializer_error(exc: TypeError) -> NoReturn:
    """SharedMooncake says TypeError for a value its serializer cannot encode;
    Django's contract is the serializer's own error (pickle.PickleError for pickle)."""
    if exc.__cause__ is not None:
        raise exc.__cause__
    raise exc


class SharedMooncakeCache(BaseCache):
    """A cache shared by processes and hosts, on ``mooncake.shared.SharedMooncake``.

    ``LOCATION``: the server's URL (``redis://``, ``rediss://``; a Cluster
    node's URL gets a Cluster client). ``OPTIONS``: SharedMooncake's arguments
    ``namespace`` (default ``"django:"``), ``serializer``, ``signing_key``
    (bytes, or a str taken as UTF-8), ``fail_open``, ``near``, ``near_ttl`` and
    ``strict``. One SharedMooncake per LOCATION and OPTIONS per process: its
    connections and near cache are shared by every thread and survive
    ``close()``. ``add``, ``incr`` and ``decr`` are atomic across processes
    (each one script on the server), ``clear()`` removes this namespace's keys
    only. The a* methods are native async, on the same cache's ``as_async()``. A server error
    raises ``mooncake.shared.SharedCacheError`` (a ConnectionError), or, with
    ``fail_open``, answers as an empty cache that refuses writes.
    """

    def __init__(self, location: Any, params: dict[str, Any]) -> None:
        super().__init__(params)
        if not isinstance(location, str):
            # Django's RedisCache takes a list of servers (a primary, then replicas);
            # a SharedMooncake talks to one server or one Cluster.
            raise ValueError(f"SharedMooncakeCache's LOCATION is one server's URL (a Cluster node's "
                             f"for a Cluster), not {type(location).__name__}")
        options = dict(params.get("OPTIONS") or {})
        _check_options(options, _SHARED_OPTIONS, "SharedMooncakeCache")
        options.pop("MAX_ENTRIES", None)
        options.pop("CULL_FREQUENCY", None)
        options.setdefault("namespace", "django:")
        if isinstance(options.get("signing_key"), str):
            options["signing_key"] = options["signing_key"].encode("utf-8")
        self._entry = _shared_entry(location, options)
        self._cache = self._entry.cache

    @property
    def shared(self) -> SharedMooncake:
        """The ``SharedMooncake`` this backend runs on (for its stats)."""
        return self._cache

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Optional[int] = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        try:
            return self._cache.add(key, value, _seconds(self, timeout))
        except TypeError as exc:
            _raise_serializer_error(exc)

    def get(self, key: Any, default: Any = None, version: Optional[int] = None) -> Any:
        key = self.make_and_validate_key(key, version=version)
        return self._cache.get(key, default)

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Optional[int] = None) -> None:
        key = self.make_and_validate_key(key, version=version)
        try:
            self._cache.put(key, value, _seconds(self, timeout))
        except TypeError as exc:
            _raise_serializer_error(exc)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Optional[int] = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        return self._cache.touch(key, _seconds(self, timeout))

    def delete(self, key: Any, version: Optional[int] = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        return self._cache.delete(key)

    def has_key(self, key: Any, version: Optional[int] = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        return key in self._cache

    def get_many(self, keys: Iterable[Any], version: Optional[int] = None) -> dict[Any, Any]:
        made = {self.make_and_validate_key(key, version=version): key for key in keys}
        found = self._cache.get_many(list(made))
        return {made[name]: value for name, value in found.items()}

    def set_many(self, data: Mapping[Any, Any], timeout: Any = DEFAULT_TIMEOUT,
                 version: Optional[int] = None) -> list[Any]:
        items = {self.make_and_validate_key(key, version=version): value for key, value in data.items()}
        try:
            self._cache.put_many(items, _seconds(self, timeout))
        except TypeError as exc:
            _raise_serializer_error(exc)
        return []

    def delete_many(self, keys: Iterable[Any], version: Optional[int] = None) -> None:
        names = [self.make_and_validate_key(key, version=version) for key in keys]
        # put_many with ttl 0 removes every key in one round trip per node.
        self._cache.put_many(dict.fromkeys(names), 0)

    def incr(self, key: Any, delta: int = 1, version: Optional[int] = None) -> Any:
        name = self.make_and_validate_key(key, version=version)
        try:
            return self._cache.incr(name, delta)
        except KeyError:
            raise ValueError(f"Key '{name}' not found") from None

    def clear(self) -> None:
        self._cache.clear()

    # The a* methods are native: they await the AsyncSharedMooncake that shares
    # this SharedMooncake's namespace, stats and near cache (a near hit never
    # leaves the loop's thread), instead of Django's default of running the
    # sync method in a thread.

    def _aio(self) -> AsyncSharedMooncake:
        return self._entry.aio()

    async def aadd(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT,
                   version: Optional[int] = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        try:
            return await self._aio().add(key, value, _seconds(self, timeout))
        except TypeError as exc:
            _raise_serializer_error(exc)

    async def aget(self, key: Any, default: Any = None, version: Optional[int] = None) -> Any:
        key = self.make_and_validate_key(key, version=version)
        return await self._aio().get(key, default)

    async def aset(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT,
                   version: Optional[int] = None) -> None:
        key = self.make_and_validate_key(key, version=version)
        try:
            await self._aio().put(key, value, _seconds(self, timeout))
        except TypeError as exc:
            _raise_serializer_error(exc)

    async def atouch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Optional[int] = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        return await self._aio().touch(key, _seconds(self, timeout))

    async def adelete(self, key: Any, version: Optional[int] = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        return await self._aio().delete(key)

    async def ahas_key(self, key: Any, version: Optional[int] = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        return await self._aio().contains(key)

    async def aget_many(self, keys: Iterable[Any], version: Optional[int] = None) -> dict[Any, Any]:
        made = {self.make_and_validate_key(key, version=version): key for key in keys}
        found = await self._aio().get_many(list(made))
        return {made[name]: value for name, value in found.items()}

    async def aset_many(self, data: Mapping[Any, Any], timeout: Any = DEFAULT_TIMEOUT,
                        version: Optional[int] = None) -> list[Any]:
        items = {self.make_and_validate_key(key, version=version): value for key, value in data.items()}
        try:
            await self._aio().put_many(items, _seconds(self, timeout))
        except TypeError as exc:
            _raise_serializer_error(exc)
        return []

    async def adelete_many(self, keys: Iterable[Any], version: Optional[int] = None) -> None:
        names = [self.make_and_validate_key(key, version=version) for key in keys]
        await self._aio().put_many(dict.fromkeys(names), 0)

    async def aincr(self, key: Any, delta: int = 1, version: Optional[int] = None) -> Any:
        name = self.make_and_validate_key(key, version=version)
        try:
            return await self._aio().incr(name, delta)
        except KeyError:
            raise ValueError(f"Key '{name}' not found") from None

    async def aclear(self) -> None:
        await self._aio().clear()
