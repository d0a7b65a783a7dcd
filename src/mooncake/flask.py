"""Flask-Caching backends: ``MooncakeCache`` (in-process) and ``SharedMooncakeCache``.

Adapters over mooncake's public API, nothing more::

    app.config["CACHE_TYPE"] = "mooncake.flask.MooncakeCache"        # CACHE_THRESHOLD: maxsize
    app.config["CACHE_TYPE"] = "mooncake.flask.SharedMooncakeCache"
    app.config["CACHE_REDIS_URL"] = "redis://127.0.0.1:6379/0"       # or CACHE_OPTIONS={"url": ...}

Flask-Caching's rules, which differ from Django's: ``timeout=None`` is the
default (``CACHE_DEFAULT_TIMEOUT``), ``0`` never expires, and a negative
timeout is refused (ValueError, nothing stored). ``inc``/``dec`` start an
absent key at ``delta``/``-delta`` and are atomic (across threads in-process,
across processes on the server).
"""

from __future__ import annotations

import datetime
import math
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from flask_caching.backends.base import BaseCache

from .framework_store import InProcessStore

if TYPE_CHECKING:
    from .shared import SharedMooncake

__all__ = ["MooncakeCache", "SharedMooncakeCache"]

#: What Flask-Caching accepts as a timeout.
Timeout = Union[int, datetime.timedelta, None]


def _ttl(cache: BaseCache, timeout: Timeout) -> float:
    """A Flask-Caching timeout as mooncake's ttl: None the default, 0 never expires."""
    seconds = cache._normalize_timeout(timeout)  # None -> default; timedelta -> seconds
    if seconds < 0:
        raise ValueError(f"timeout must be >= 0 (0 never expires), not {timeout!r}")
    return math.inf if seconds == 0 else seconds


class MooncakeCache(BaseCache):
    """An in-process cache on ``SimpleMooncake``, shared by the threads of a process.

    ``maxsize``: the most entries kept (``CACHE_THRESHOLD`` through the factory;
    None: unbounded); a full cache evicts one entry per new key by ``policy``
    (``"tinylfu"`` by default, or ``"sieve"``). ``isolate`` (default True)
    pickles each value, so mutating an object after ``set`` or ``get`` never
    changes the cached one; False stores the object itself. ``clock``: as
    ``SimpleMooncake``'s (tests pass a fake one).
    """

    def __init__(self, default_timeout: int = 300, ignore_delete_many_errors: bool = False, *,
                 maxsize: Optional[int] = None, isolate: bool = True, policy: Optional[str] = None,
                 clock: Optional[Callable[[], float]] = None) -> None:
        super().__init__(default_timeout=default_timeout,
                         ignore_delete_many_errors=ignore_delete_many_errors)
        self._store = InProcessStore(maxsize, isolate=isolate, policy=policy, clock=clock)

    @classmethod
    def factory(cls, app: Any, config: dict[str, Any], args: list[Any], kwargs: dict[str, Any]) -> Any:
        kwargs.setdefault("maxsize", config.get("CACHE_THRESHOLD"))
        return cls(*args, **kwargs)

    @property
    def engine(self) -> Any:
        """The ``SimpleMooncake`` holding the entries (for its stats)."""
        return self._store.engine

    def get(self, key: str) -> Any:
        return self._store.get(key)

    def get_many(self, *keys: str) -> list[Any]:
        found = self._store.get_many(keys)
        return [found.get(key) for key in keys]

    def has(self, key: str) -> bool:
        return self._store.contains(key)

    def set(self, key: str, value: Any, timeout: Timeout = None) -> bool:
        self._store.set(key, value, _ttl(self, timeout))
        return True

    def set_many(self, mapping: dict[str, Any], timeout: Timeout = None) -> list[Any]:
        self._store.set_many(dict(mapping), _ttl(self, timeout))
        return list(mapping)

    def add(self, key: str, value: Any, timeout: Timeout = None) -> bool:
        return self._store.add(key, value, _ttl(self, timeout))

    def delete(self, key: str) -> bool:
        return self._store.delete(key)

    def delete_many(self, *keys: str) -> list[Any]:
        self._store.delete_many(keys)
        return list(keys)  # every key is absent now

    def inc(self, key: str, delta: int = 1) -> Optional[int]:
        return self._store.add_or_incr(key, delta, _ttl(self, None))

    def dec(self, key: str, delta: int = 1) -> Optional[int]:
        return self._store.add_or_incr(key, -delta, _ttl(self, None))

    def clear(self) -> bool:
        self._store.clear()
        return True


def _serializer_error(exc: TypeError) -> BaseException:
    """SharedMooncake says TypeError for a value its serializer cannot encode;
    Flask-Caching's contract is the serializer's own error (pickle.PickleError)."""
    return exc.__cause__ if exc.__cause__ is not None else exc


class SharedMooncakeCache(BaseCache):
    """A cache shared by processes and hosts, on ``mooncake.shared.SharedMooncake``.

    ``url``: the server (``CACHE_REDIS_URL`` through the factory); the other
    keyword arguments are SharedMooncake's (``namespace``: default
    ``CACHE_KEY_PREFIX``; ``serializer``, ``signing_key``, ``fail_open``,
    ``near``, ``near_ttl``, ``strict``), from ``CACHE_OPTIONS``. ``add`` and
    ``inc``/``dec`` are atomic across processes; ``clear()`` removes this namespace's keys only. A server error
    raises ``mooncake.shared.SharedCacheError``, or with ``fail_open`` answers
    as an empty cache that refuses writes.
    """

    def __init__(self, url: Optional[str] = None, default_timeout: int = 300,
                 ignore_delete_many_errors: bool = False, **options: Any) -> None:
        super().__init__(default_timeout=default_timeout,
                         ignore_delete_many_errors=ignore_delete_many_errors)
        from .shared import SharedMooncake  # redis-py is needed only by this backend

        options.setdefault("namespace", "flask_cache_")
        self._cache = SharedMooncake(url, **options)

    @classmethod
    def factory(cls, app: Any, config: dict[str, Any], args: list[Any], kwargs: dict[str, Any]) -> Any:
        if "url" not in kwargs:
            kwargs["url"] = config.get("CACHE_REDIS_URL")
        if config.get("CACHE_KEY_PREFIX"):
            kwargs.setdefault("namespace", config["CACHE_KEY_PREFIX"])
        return cls(*args, **kwargs)

    @property
    def shared(self) -> SharedMooncake:
        """The ``SharedMooncake`` this backend runs on (for its stats)."""
        return self._cache

    def get(self, key: str) -> Any:
        return self._cache.get(key)

    def get_many(self, *keys: str) -> list[Any]:
        found = self._cache.get_many(keys)
        return [found.get(key) for key in keys]

    def has(self, key: str) -> bool:
        return key in self._cache

    def set(self, key: str, value: Any, timeout: Timeout = None) -> bool:
        try:
            return self._cache.put(key, value, _ttl(self, timeout))
        except TypeError as exc:
            raise _serializer_error(exc)

    def set_many(self, mapping: dict[str, Any], timeout: Timeout = None) -> list[Any]:
        try:
            stored = self._cache.put_many(dict(mapping), _ttl(self, timeout))
        except TypeError as exc:
            raise _serializer_error(exc)
        return list(mapping) if stored == len(mapping) else []

    def add(self, key: str, value: Any, timeout: Timeout = None) -> bool:
        try:
            return self._cache.add(key, value, _ttl(self, timeout))
        except TypeError as exc:
            raise _serializer_error(exc)

    def delete(self, key: str) -> bool:
        return self._cache.delete(key)

    def delete_many(self, *keys: str) -> list[Any]:
        # put_many with ttl 0 removes every key in one round trip per node.
        self._cache.put_many(dict.fromkeys(keys), 0)
        return list(keys)

    def inc(self, key: str, delta: int = 1) -> Optional[int]:
        """Add ``delta`` to the int under ``key`` (atomic on the server), or store
        ``delta`` there with the default timeout if the key is absent; the new
        value, or None if it could not be written (fail_open and the server down)."""
        ttl = _ttl(self, None)
        for _ in range(3):  # absent, then added by another process before our add: incr again
            try:
                return self._cache.incr(key, delta)
            except KeyError:
                if self._cache.add(key, delta, ttl):
                    return delta
        return None

    def dec(self, key: str, delta: int = 1) -> Optional[int]:
        return self.inc(key, -delta)

    def clear(self) -> bool:
        self._cache.clear()
        return True
