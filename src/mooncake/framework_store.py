"""The in-process store behind the Django and Flask-Caching backends.

Both frameworks ask an in-process cache for what ``SimpleMooncake`` does not
offer by itself: ``add`` (store only if absent) and ``incr`` (read, add, write
back) atomic across threads, and values isolated from the caller's objects, as
Django's ``LocMemCache`` and Flask-Caching's ``SimpleCache`` isolate them by
pickling. ``InProcessStore`` adds exactly that over the engine's public API,
once for both adapters: one lock for every write (so a ``set`` never lands
between the read and the write of an ``add`` or an ``incr``), reads without it
(every engine method is atomic by itself), and pickling outside the lock.
"""

from __future__ import annotations

import pickle
import threading
from collections.abc import Hashable, Iterable, Mapping
from typing import Any, Callable, Optional

from . import engines

_MISSING = object()


def _dumps(value: Any) -> bytes:
    return pickle.dumps(value, pickle.HIGHEST_PROTOCOL)


class InProcessStore:
    """A ``SimpleMooncake`` with atomic ``add``/``incr`` and optional value isolation.

    ``isolate=True`` stores a pickle of each value and returns a fresh object
    on every read, so mutating a value after ``set`` or after ``get`` never
    changes the cached one (an unpicklable value raises pickle's own error,
    and nothing is stored). ``isolate=False`` stores the object itself: no
    pickling cost, but the caller shares the object with every other reader.
    A ttl is in seconds: ``math.inf`` never expires, ``<= 0`` removes the key.
    """

    def __init__(self, maxsize: Optional[int] = None, *, isolate: bool = True,
                 policy: Optional[str] = None, clock: Optional[Callable[[], float]] = None) -> None:
        if not isinstance(isolate, bool):
            raise TypeError(f"isolate must be a bool, not {type(isolate).__name__}")
        self.engine = engines.SimpleMooncake(maxsize, policy=policy, clock=clock, access_log_size=0)
        self.isolate = isolate
        self.lock = threading.Lock()

    def _encode(self, value: Any) -> Any:
        return _dumps(value) if self.isolate else value

    def _decode(self, stored: Any) -> Any:
        return pickle.loads(stored) if self.isolate else stored

    def get(self, key: Hashable, default: Any = None) -> Any:
        stored = self.engine.get(key, _MISSING)
        return default if stored is _MISSING else self._decode(stored)

    def get_many(self, keys: Iterable[Hashable]) -> dict[Any, Any]:
        found = self.engine.get_many(keys)
        if self.isolate:
            return {key: pickle.loads(stored) for key, stored in found.items()}
        return found

    def contains(self, key: Hashable) -> bool:
        return key in self.engine

    def set(self, key: Hashable, value: Any, ttl: float) -> None:
        stored = self._encode(value)
        with self.lock:
            self.engine.put(key, stored, ttl)

    def set_many(self, items: Mapping[Any, Any], ttl: float) -> None:
        """Store every ``(key, value)`` of a mapping; all are pickled before any is stored."""
        stored = {key: self._encode(value) for key, value in items.items()}
        with self.lock:
            self.engine.put_many(stored, ttl)

    def add(self, key: Hashable, value: Any, ttl: float) -> bool:
        """Store ``value`` only if ``key`` is absent; True if it was absent."""
        stored = self._encode(value)
        with self.lock:
            if key in self.engine:
                return False
            self.engine.put(key, stored, ttl)
            return True

    def incr(self, key: Hashable, delta: Any) -> Any:
        """Add ``delta`` to the value of ``key`` and return the sum, keeping the
        key's remaining ttl. KeyError if absent; the value's own TypeError if it
        cannot be added to ``delta`` (then nothing changes)."""
        with self.lock:
            return self._incr_locked(key, delta)

    def _incr_locked(self, key: Hashable, delta: Any) -> Any:
        stored = self.engine.get(key, _MISSING)
        remaining = self.engine.ttl(key)
        if stored is _MISSING or remaining is None:
            raise KeyError(key)
        value = self._decode(stored) + delta
        self.engine.put(key, self._encode(value), remaining)
        return value

    def add_or_incr(self, key: Hashable, delta: Any, ttl: float) -> Any:
        """``incr``, or store ``delta`` for ``ttl`` seconds if ``key`` is absent;
        the new value (Flask-Caching's ``inc``)."""
        with self.lock:
            try:
                return self._incr_locked(key, delta)
            except KeyError:
                self.engine.put(key, self._encode(delta), ttl)
                return delta

    def touch(self, key: Hashable, ttl: float) -> bool:
        with self.lock:
            return self.engine.touch(key, ttl)

    def delete(self, key: Hashable) -> bool:
        with self.lock:
            return self.engine.delete(key)

    def delete_many(self, keys: Iterable[Hashable]) -> int:
        """Remove every key; how many were there."""
        with self.lock:
            return sum(self.engine.delete(key) for key in keys)

    def clear(self) -> None:
        with self.lock:
            self.engine.clear()
