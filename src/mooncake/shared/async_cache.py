"""AsyncSharedMooncake: the shared tier for asyncio, the async shell over ``core``.

The same plans as ``SharedMooncake`` (``core``), driven by awaiting each
command on a redis.asyncio client instead of calling it: one wire format, one
set of rules, one set of counters. A near hit is answered by the near front
before anything is awaited, so it never yields to the loop.

Cancellation. A task cancelled at any await is thrown the CancelledError
inside the plan (whose ``finally`` blocks drop the near copy of a key a
cancelled write may or may not have changed), and redis.asyncio closes a
connection whose reply was not read (it disconnects on any exception while
sending or reading), so no later command can be handed that reply.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import time
import typing
from types import CoroutineType
from typing import (TYPE_CHECKING, Any, Awaitable, Callable, Dict, Generic, Iterable, Mapping, Optional,
                    Tuple, Union, overload)

import redis
import redis.cluster

from .. import engines
from ..memoize import memoize as _memoize
from .async_connection import AsyncConnection, is_configuration_mistake, sync_mirror_options
from .cache import check_near_options, near_engine, start_near
from .connection import Connection
from .core import MISSING, SharedCore, lease_seconds
from .errors import SERVER_ERRORS, SharedCacheError
from .keys import MemoKey
from .memo_keys import SharedMemoKeys
from .single_flight import AsyncLeaseLocks, AsyncSingleFlight, Waiters

if TYPE_CHECKING:
    import redis.asyncio
    import redis.asyncio.cluster
    from typing_extensions import ParamSpec, Self, TypeVar

    from ..cache._engine import SimpleMooncake as Engine
    from ..cache._engine import _Recorder
    from .cache import SharedMooncake
    from .protocols import AsyncMemoized, Key, Serializer, SharedStats

    V = TypeVar("V", default=Any)  # the values' type: Any unless the user says
    D = TypeVar("D")
    T = TypeVar("T")
    P = ParamSpec("P")
else:
    V = typing.TypeVar("V")


class _Refused(SharedCacheError):
    """A configuration mistake found while connecting: raised, fail_open or not."""


def _near_miss(key, default=None):
    return default


class _MirrorConnection(Connection):
    """A sync Connection to the server of a given async client, for the near
    cache's listener thread alone (made on first use)."""

    def __init__(self, options, is_cluster):
        super().__init__("redis://", None, connect=False)  # a URL: close() closes what we made
        self._options, self._cluster = options, is_cluster

    def resolve(self):
        with self._lock:
            if self.client is None:
                try:
                    if self._cluster:
                        self.client = redis.cluster.RedisCluster(**self._options)
                    else:
                        self.client = redis.Redis(**self._options)
                        self.client.ping()
                except SERVER_ERRORS as exc:
                    self.client = None
                    raise SharedCacheError(f"cannot reach the server: {exc}") from exc
                self.is_cluster = self._cluster
            return self.client


class AsyncSharedMooncake(Generic[V]):
    """SharedMooncake's API for asyncio: every operation is a coroutine.

    ``AsyncSharedMooncake(url=None, *, client=None, namespace="mooncake:",
    serializer="pickle", signing_key=None, fail_open=False, monitor=None,
    near=None, near_ttl=60, strict=False)``: the arguments of SharedMooncake,
    with ``client`` a ready ``redis.asyncio.Redis`` or
    ``redis.asyncio.cluster.RedisCluster``. Values written by either class are
    read by the other (same namespace, serializer and signing key).

    Construction does no I/O and needs no running loop. ``await connect()``
    PINGs: a configuration mistake (wrong credentials, a database the server
    lacks) raises SharedCacheError even with ``fail_open``; an unreachable
    server raises unless ``fail_open``. The first operation connects if
    ``connect()`` was not called. ``async with cache:`` connects and closes.

    One instance serves every task of a loop. Made from a URL it also serves
    other loops (a client per loop); made from a given client, only the loop
    that first used it (another loop: RuntimeError).

    The near cache is the sync class's (a listener thread, not a loop task:
    it keeps the near cache coherent while the loop is busy or blocked, and
    serves every loop and thread of the process alike).
    """

    def __init__(self, url: Optional[str] = None, *,
                 client: Union[redis.asyncio.Redis, redis.asyncio.cluster.RedisCluster, None] = None,
                 namespace: str = "mooncake:", serializer: Union[str, Serializer] = "pickle",
                 signing_key: Optional[bytes] = None, fail_open: bool = False,
                 monitor: Optional[_Recorder] = None,
                 near: Union[int, Engine[Any, Any], None] = None, near_ttl: float = 60,
                 strict: bool = False) -> None:
        near_seconds = check_near_options(near, near_ttl, strict)
        engine = None if near is None else near_engine(near)
        self._core = core = SharedCore(namespace, serializer, signing_key, fail_open, monitor)
        self._waiters = Waiters()
        self._connection = AsyncConnection(url, client)
        self._near = self._front = None
        self._owns_near = engine is not None
        if engine is not None:
            if url is not None:
                topology = Connection(url, None, connect=False)
            else:
                topology = _MirrorConnection(sync_mirror_options(client), self._connection.is_cluster)
            self._near = start_near(core, engine, topology, near_seconds, strict, self._waiters,
                                    start=False)
            self._topology = topology
            self._attach_front(strict)

    @classmethod
    def _sharing(cls, cache: SharedMooncake[V]) -> AsyncSharedMooncake[V]:
        """The async shell of a SharedMooncake's core (see SharedMooncake.as_async)."""
        url = cache._connection._url
        if url is None:
            raise TypeError("as_async() needs a SharedMooncake made from a URL (a given sync "
                            "client cannot make asyncio clients); build an AsyncSharedMooncake "
                            "with client=redis.asyncio.Redis(...) instead")
        self = cls.__new__(cls)
        self._core = cache._core
        self._waiters = cache._waiters
        self._connection = AsyncConnection(url)
        self._near = cache._near
        self._front = None
        self._owns_near = False
        if self._near is not None:
            self._attach_front(self._near.strict)
        return self

    def _attach_front(self, strict):
        near = self._near
        self._front = front = engines.near_front()(near.engine.get, near.drain, _near_miss, MISSING,
                                                   MemoKey, strict)
        near.attach(front)
        front_get, rest = front.get, self._near_get

        async def get(key: Key, default: Any = None, _missing: Any = MISSING) -> Any:
            value = front_get(key, _missing)  # a near hit: no await, no attribute lookups
            if value is not _missing:
                return value
            return await rest(key, default)

        get.__doc__ = AsyncSharedMooncake.get.__doc__
        self.get = get  # type: ignore[method-assign]

    # -- the one path of every operation ----------------------------------

    async def _run(self, operation, plan, fallback, monitored=True):
        """Drive ``plan`` on this loop's client: SharedMooncake's run_plan, awaiting."""
        core = self._core
        monitor = core.monitor if monitored else None
        started = time.perf_counter() if monitor is not None else 0.0
        connection = self._connection
        try:
            command = plan.send(None)  # the checks: bad input raises before any I/O
            loop = asyncio.get_running_loop()
            client = connection.ready(loop) or await self._connect_now(loop)
            while True:
                try:
                    reply = command(client)
                    if type(reply) is CoroutineType:
                        reply = await reply
                except BaseException as exc:  # a cancel too: the plan's finally blocks run
                    command = plan.throw(exc)
                else:
                    command = plan.send(reply)
        except StopIteration as stop:
            result, success, size = stop.value
        except _Refused:
            raise
        except SERVER_ERRORS as exc:
            if monitor is not None:
                core.record(operation, started, False, 0)
            return core.server_error(operation, exc, fallback)
        if monitor is not None:
            core.record(operation, started, success, size)
        return result

    async def _connect_now(self, loop):
        """This loop's client (``loop``: the running one if None), connected now."""
        if loop is None:
            loop = asyncio.get_running_loop()
        try:
            client = await self._connection.connect(loop)
        except SharedCacheError as exc:
            if is_configuration_mistake(exc.__cause__):
                raise _Refused(str(exc)) from exc.__cause__
            raise
        if self._near is not None:
            self._near.start()
        return client

    async def connect(self) -> None:
        """Connect this loop's client now (PING). SharedCacheError for a
        configuration mistake, fail_open or not, and for an unreachable server
        unless fail_open (the cache then connects on a later call)."""
        try:
            await self._connect_now(asyncio.get_running_loop())
        except _Refused:
            raise
        except SharedCacheError:
            if not self._core.fail_open:
                raise
            if self._near is not None:
                self._near.start()

    # -- single keys ------------------------------------------------------

    async def put(self, key: Key, value: V, ttl: float = 3600) -> bool:
        """SharedMooncake.put: True; bad input raises before anything is sent;
        with fail_open, a server error returns False."""
        core = self._core
        args = None if core.monitor is not None else core.put_args(key, value, ttl)
        if args is None:  # ttl <= 0, or a monitor to tell: the plan
            return await self._run("put", core.put(key, value, ttl), False)
        name, data, ms = args
        try:
            client = self._connection.ready(asyncio.get_running_loop()) or await self._connect_now(None)
            await client.set(name, data, px=ms)
        except _Refused:
            raise
        except SERVER_ERRORS as exc:
            return core.server_error("put", exc, False)
        finally:  # a cancel too: the write may or may not have happened
            core.drop(name)
        core.counters.add("puts")
        return True

    async def add(self, key: Key, value: V, ttl: float = 3600) -> bool:
        """SharedMooncake.add: store only if absent (atomic); True if stored."""
        return await self._run("add", self._core.add(key, value, ttl), False)

    @overload
    async def get(self, key: Key) -> Optional[V]: ...
    @overload
    async def get(self, key: Key, default: D) -> Union[V, D]: ...

    async def get(self, key: Key, default: Any = None) -> Any:
        """SharedMooncake.get: the value, or ``default`` if absent, expired or
        rejected. A near hit returns without awaiting anything."""
        core = self._core
        if core.monitor is not None:
            value = await self._run("get", core.get(key), MISSING)
        else:  # the plan's two halves around its one command
            name = core.namespace.key(key)
            try:
                client = self._connection.ready(asyncio.get_running_loop()) or await self._connect_now(None)
                data = await client.get(name)
            except _Refused:
                raise
            except SERVER_ERRORS as exc:
                return core.server_error("get", exc, default)
            value = core.got(name, data)
        return default if value is MISSING else value

    async def _near_get(self, key: Key, default: Any = None) -> Any:
        """get with a near cache, where the front could not serve a hit: a key of
        another type, a near miss, or the near cache not trusted."""
        core = self._core
        value = core.near_lookup(key)
        if value is MISSING:
            value = await self._run("get", core.get_filling(key), MISSING)
        return default if value is MISSING else value

    async def delete(self, key: Key) -> bool:
        """SharedMooncake.delete: True if the key was there."""
        return await self._run("delete", self._core.delete(key), False)

    @overload
    async def pop(self, key: Key) -> V: ...
    @overload
    async def pop(self, key: Key, default: D) -> Union[V, D]: ...

    async def pop(self, key: Key, default: Any = MISSING) -> Any:
        """SharedMooncake.pop: the value removed; ``default``, or KeyError
        without one, if absent."""
        value = await self._run("pop", self._core.pop(key), MISSING)
        if value is MISSING:
            if default is MISSING:
                raise KeyError(key)
            return default
        return value

    async def contains(self, key: Key) -> bool:
        """SharedMooncake's ``key in cache``: True if the key is on the server."""
        return await self._run("contains", self._core.contains(key), False)

    async def ttl(self, key: Key) -> Optional[float]:
        """SharedMooncake.ttl: seconds left, math.inf, or None if absent."""
        return await self._run("ttl", self._core.ttl(key), None)

    async def touch(self, key: Key, ttl: float) -> bool:
        """SharedMooncake.touch: restart a live key's ttl; True if it was there."""
        return await self._run("touch", self._core.touch(key, ttl), False)

    async def incr(self, key: Key, delta: int = 1) -> int:
        """SharedMooncake.incr: the new value (atomic across processes);
        KeyError if absent, TypeError if not an int."""
        value = await self._run("incr", self._core.incr(key, delta), MISSING)
        if value is MISSING:
            raise KeyError(key)
        return value

    async def decr(self, key: Key, delta: int = 1) -> int:
        """``incr(key, -delta)``."""
        if isinstance(delta, bool) or not isinstance(delta, int):
            raise TypeError(f"delta must be an int, not {type(delta).__name__}")
        return await self.incr(key, -delta)

    # -- many keys --------------------------------------------------------

    async def get_many(self, keys: Iterable[Key]) -> Dict[Key, V]:
        """SharedMooncake.get_many: ``{key: value}`` of the keys present."""
        keys = list(keys)
        core = self._core
        names = core.namespace.names(keys)
        if not names:
            return {}
        found, keys, names = core.near_many(keys, names)
        if keys:
            found.update(await self._run("get_many", core.remote_many(keys, names), {}))
        return found

    async def put_many(self, items: Union[Mapping[Key, V], Iterable[Tuple[Key, V]]],
                       ttl: float = 3600) -> int:
        """SharedMooncake.put_many: how many were stored."""
        plan = self._core.put_many_plan(items, ttl)
        return 0 if plan is None else await self._run("put_many", plan, 0)

    # -- the whole namespace ----------------------------------------------

    async def clear(self) -> None:
        """SharedMooncake.clear: remove every key of this namespace."""
        await self._run("clear", self._core.clear(), None)

    async def size(self) -> int:
        """SharedMooncake's ``len(cache)``: entries in this namespace (a SCAN)."""
        return await self._run("len", self._core.size(), 0)

    async def cleanup_expired(self) -> int:
        """The server expires keys itself: 0."""
        return 0

    async def get_stats(self) -> SharedStats:
        """SharedMooncake.get_stats (the counters are shared with a sync twin
        made by as_async). Never raises."""
        core = self._core
        try:
            total = await self._run("len", core.size(), None, monitored=False)
        except SERVER_ERRORS:
            total = None
        return core.stats(total)

    async def ping(self) -> bool:
        """True if the server answers; SharedCacheError (or False with fail_open) if not."""
        return await self._run("ping", self._core.ping(), False)

    # -- memoize ----------------------------------------------------------

    def memoize(self, ttl: float = 3600, key: Optional[Callable[..., object]] = None,
                lease: float = 30) -> Callable[[Callable[P, Awaitable[T]]], AsyncMemoized[P, T]]:
        """SharedMooncake.memoize for coroutine functions (a plain function
        raises TypeError): single flight across the tasks of this process and,
        through the lease lock, across processes. ``await f.cache_info()`` and
        ``await f.cache_clear()``."""
        scheme = functools.partial(SharedMemoKeys, namespace=self._core.namespace,
                                   count=self._count_matching, clear=self._clear_matching,
                                   flight=AsyncSingleFlight(self, self._core,
                                                           AsyncLeaseLocks(self._run, self._core),
                                                           self._waiters, lease_seconds(lease)))
        decorate = _memoize(self, ttl=ttl, key=key, key_scheme=scheme)

        def check(func):
            if not inspect.iscoroutinefunction(func):
                raise TypeError(f"AsyncSharedMooncake.memoize decorates coroutine functions "
                                f"(async def), not {type(func).__name__} {func!r}")
            return decorate(func)
        return check

    async def _count_matching(self, pattern):
        return await self._run("len", self._core.count_matching(pattern), 0)

    async def _clear_matching(self, pattern):
        await self._run("clear", self._core.clear(pattern), None)

    # -- the connection ---------------------------------------------------

    @property
    def namespace(self) -> str:
        """The namespace, as given."""
        return self._core.namespace.prefix.decode("utf-8")

    @property
    def _namespace(self):
        return self._core.namespace

    @property
    def client(self) -> Union[redis.asyncio.Redis, redis.asyncio.cluster.RedisCluster, None]:
        """The redis.asyncio client of the running loop (None before it connected,
        or outside a loop); a given client, as given."""
        if self._connection.given is not None:
            return self._connection.given
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        return self._connection.ready(loop)

    async def aclose(self) -> None:
        """Close this loop's client if the cache made it (a given client is the
        user's), and stop a near cache this instance made (it is bypassed
        after; one shared with a sync cache is that cache's to close). The
        cache stays usable: the next call connects again."""
        if self._near is not None and self._owns_near:
            self._near.close()
            self._topology.close()
        await self._connection.close(asyncio.get_running_loop())

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __reduce__(self) -> Tuple[Any, ...]:
        raise TypeError("an AsyncSharedMooncake holds live connections and cannot be pickled; "
                        "build one per process from the same URL and namespace")

    def __repr__(self) -> str:
        kind = "cluster" if self._connection.is_cluster else "server"
        return f"<AsyncSharedMooncake namespace={self.namespace!r} on a {kind}>"
