"""``cache.memoize``: cache a function's results, with one call per key at a time.

The rules, for plain functions and coroutine functions alike:

* The cache key is ``(wrapper token, positional args, sorted keyword items)``,
  or ``(wrapper token, key(*args, **kwargs))`` with a ``key`` callable. So
  ``f(1, 23)`` and ``f(12, 3)`` differ, keyword order does not matter, and two
  memoized functions sharing one cache never see each other's results.
  ``f(1, b=2)`` and ``f(1, 2)`` are different keys, as with functools.lru_cache.
* Exceptions are not cached.
* Single flight: while one caller computes a key, other callers of the same
  key wait for that result (threads block, coroutines await) instead of
  computing it again. If the computation fails (or, for coroutines, is
  cancelled), the waiters wake up and retry; one of them computes next. A
  thread that re-enters its own computation (recursion on the same key) calls
  the function directly rather than wait for itself.
* No deadlock between waiters: before a caller waits, it follows the chain of
  waits (thread A waits for a key thread B computes, B waits for one C
  computes, ...), across every memoized function; if the chain leads back to
  the caller, waiting would block for ever, so the caller calls the function
  itself instead (that result is returned, not cached; the leader's is). The
  same holds for coroutines, task by task. A leader that never returns still
  blocks its waiters: bound the function itself (a timeout on its I/O).
* ``per_instance=True`` (``cache.memoize_method``) is for methods: the first
  argument is the instance, and it enters the key as a token private to that
  instance, so the cache holds no reference to the instance and two instances
  that compare equal still get separate results. The instance must support
  weak references. Results of an instance that died stay until their TTL or
  eviction removes them.
* On a cache whose operations are coroutines (AsyncSharedMooncake) only
  coroutine functions may be memoized, and ``cache_info()``/``cache_clear()``
  are coroutines too.
* ``wrapper.cache_info()`` returns ``CacheInfo(hits, misses, size)``, where
  size counts this function's live entries (O(n) in the cache size);
  ``wrapper.cache_clear()`` removes them and zeroes hits and misses.
"""

import asyncio
import functools
import inspect
import threading
import typing
import weakref

from .checks import ttl_seconds

class CacheInfo(typing.NamedTuple):
    """``wrapper.cache_info()``: hits and misses since the last cache_clear, and live entries."""

    hits: int
    misses: int
    size: int

_MISSING = object()
_KWARGS = object()  # separates positional from keyword arguments in a key


class _Token:
    """Names one memoized function (or one instance) inside cache keys."""

    __slots__ = ("__weakref__", "label")

    def __init__(self, label):
        self.label = label

    def __repr__(self):
        return f"<memoize {self.label}>"


class _InstanceTokens:
    """A token per live instance, found by identity, holding no reference to it."""

    def __init__(self):
        self._tokens = {}
        self._lock = threading.Lock()

    def token_for(self, instance):
        ident = id(instance)
        with self._lock:
            found = self._tokens.get(ident)
            if found is not None and found[0]() is instance:
                return found[1]
        token = _Token(f"instance of {type(instance).__qualname__}")
        try:
            ref = weakref.ref(instance, functools.partial(self._forget, ident))
        except TypeError:
            raise TypeError(
                f"memoize_method needs instances that support weak references; "
                f"{type(instance).__qualname__} does not (add '__weakref__' to its __slots__)"
            ) from None
        with self._lock:
            self._tokens[ident] = (ref, token)
        return token

    def _forget(self, ident, ref):
        with self._lock:
            found = self._tokens.get(ident)
            if found is not None and found[0] is ref:
                del self._tokens[ident]


class _Flight:
    """One computation in progress, shared by the callers of one key."""

    __slots__ = ("owner", "done", "ok", "result")

    def __init__(self, owner):
        self.owner = owner  # the thread ident of the leader
        self.done = threading.Event()
        self.ok = False
        self.result = None


class _AsyncFlight:
    """One coroutine computation in progress: its leader task and the future of its outcome."""

    __slots__ = ("owner", "future")

    def __init__(self, owner, future):
        self.owner = owner
        self.future = future


class _WaitGraph:
    """Who waits for whose computation, across every memoized function.

    A waiter is a thread ident or an asyncio task; each waits for one flight at
    a time, and a flight knows its leader. A wait that would close a cycle is
    refused, so memoize can never deadlock on its own waits.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._waiting = {}  # waiter -> the flight it waits for

    def begin_wait(self, waiter, flight):
        """Record that ``waiter`` waits for ``flight``; False (nothing recorded)
        if the chain of waits from the flight's leader leads back to ``waiter``."""
        with self._lock:
            leader, seen = flight.owner, set()
            while leader is not None and leader not in seen:
                if leader == waiter:
                    return False
                seen.add(leader)
                blocking = self._waiting.get(leader)
                leader = None if blocking is None else blocking.owner
            self._waiting[waiter] = flight
            return True

    def end_wait(self, waiter):
        with self._lock:
            self._waiting.pop(waiter, None)


_WAITS = _WaitGraph()


class _LocalKeys:
    """The in-process key scheme: a token object names the function (and the
    instance), so two memoized functions sharing one cache never meet."""

    def __init__(self, cache, func, key, per_instance):
        self._cache = cache
        self._key = key
        self._token = _Token(getattr(func, "__qualname__", repr(func)))
        self._instances = _InstanceTokens() if per_instance else None

    def make(self, args, kwargs):
        prefix = (self._token,)
        if self._instances is not None:
            if not args:
                raise TypeError("memoize_method needs the instance as first argument")
            prefix = (self._token, self._instances.token_for(args[0]))
            args = args[1:]
        if self._key is not None:
            return prefix + (self._key(*args, **kwargs),)
        if kwargs:
            return prefix + (args, _KWARGS, tuple(sorted(kwargs.items())))
        return prefix + (args,)

    def _owns(self, k):
        return type(k) is tuple and k and k[0] is self._token

    def size(self):
        return sum(1 for k in self._cache.keys() if self._owns(k))

    def clear(self):
        for k in self._cache.keys():
            if self._owns(k):
                self._cache.delete(k)


def memoize(cache, ttl=3600, key=None, per_instance=False, key_scheme=_LocalKeys):
    """Return a decorator caching a function's results in ``cache`` for ``ttl`` seconds.

    ``key_scheme(cache, func, key, per_instance)`` builds the object that makes
    the cache keys (``make(args, kwargs)``) and counts (``size()``) and removes
    (``clear()``) one function's results; a shared cache passes its own.
    """
    seconds = ttl_seconds(ttl)
    if key is not None and not callable(key):
        raise TypeError(f"key must be None or a callable, not {type(key).__name__}")

    def decorate(func):
        if not callable(func):
            raise TypeError(f"memoize decorates callables, not {type(func).__name__}")
        # A cache whose operations are coroutines (AsyncSharedMooncake) serves coroutine functions only.
        awaiting = inspect.iscoroutinefunction(getattr(cache, "get", None))
        if awaiting and not inspect.iscoroutinefunction(func):
            raise TypeError(f"a cache whose operations are coroutines memoizes coroutine functions "
                            f"(async def) only, not {func!r}")
        keys = key_scheme(cache, func, key, per_instance)
        make_key = keys.make
        # A shared cache's scheme may run the leader under a cross-process lock.
        run_leader = getattr(keys, "run_leader", None)
        lock = threading.Lock()
        flights = {}
        stats = {"hits": 0, "misses": 0}

        def count(outcome):
            with lock:
                stats[outcome] += 1

        def cache_info():
            size = keys.size()
            with lock:
                return CacheInfo(stats["hits"], stats["misses"], size)

        def cache_clear():
            keys.clear()
            with lock:
                stats["hits"] = stats["misses"] = 0

        if awaiting:  # the scheme's size() and clear() are coroutines too

            async def cache_info():
                size = await keys.size()
                with lock:
                    return CacheInfo(stats["hits"], stats["misses"], size)

            async def cache_clear():
                await keys.clear()
                with lock:
                    stats["hits"] = stats["misses"] = 0

        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def wrapper(*args, **kwargs):
                k = make_key(args, kwargs)
                while True:
                    value = cache.get(k, _MISSING)
                    if awaiting:
                        value = await value
                    if value is not _MISSING:
                        count("hits")
                        return value
                    loop = asyncio.get_running_loop()
                    task = asyncio.current_task()
                    with lock:
                        flight = flights.get((loop, k))
                        leader = flight is None
                        if leader:
                            flight = flights[(loop, k)] = _AsyncFlight(task, loop.create_future())
                    if not leader:
                        if flight.owner is task or not _WAITS.begin_wait(task, flight):
                            count("misses")  # recursion, or a cycle of waits: compute it here
                            return await func(*args, **kwargs)
                        try:
                            ok, result = await asyncio.shield(flight.future)
                        finally:
                            _WAITS.end_wait(task)
                        if ok:
                            count("hits")
                            return result
                        continue  # the leader failed: retry
                    count("misses")
                    outcome = (False, None)
                    try:
                        if run_leader is not None and awaiting:
                            result = await run_leader(k, functools.partial(func, *args, **kwargs),
                                                      seconds)
                        else:
                            result = await func(*args, **kwargs)
                            stored = cache.put(k, result, seconds)
                            if awaiting:
                                await stored
                        outcome = (True, result)
                        return result
                    finally:
                        with lock:
                            del flights[(loop, k)]
                        flight.future.set_result(outcome)

        else:

            @functools.wraps(func)
            def wrapper(*args, **kwargs):
                k = make_key(args, kwargs)
                me = threading.get_ident()
                while True:
                    value = cache.get(k, _MISSING)
                    if value is not _MISSING:
                        count("hits")
                        return value
                    with lock:
                        flight = flights.get(k)
                        leader = flight is None
                        if leader:
                            flight = flights[k] = _Flight(me)
                    if not leader:
                        if flight.owner == me or not _WAITS.begin_wait(me, flight):
                            count("misses")  # recursion, or a cycle of waits: compute it here
                            return func(*args, **kwargs)
                        try:
                            flight.done.wait()
                        finally:
                            _WAITS.end_wait(me)
                        if flight.ok:
                            count("hits")
                            return flight.result
                        continue  # the leader failed: retry
                    count("misses")
                    try:
                        if run_leader is None:
                            result = func(*args, **kwargs)
                            cache.put(k, result, seconds)
                        else:
                            result = run_leader(k, functools.partial(func, *args, **kwargs), seconds)
                        flight.ok, flight.result = True, result
                        return result
                    finally:
                        with lock:
                            del flights[k]
                        flight.done.set()

        wrapper.cache_info = cache_info
        wrapper.cache_clear = cache_clear
        wrapper.cache = cache
        return wrapper

    return decorate
