"""SharedMooncake: SimpleMooncake's API over a Valkey/Redis server or Cluster (the sync shell).

Everything but I/O lives in ``core``: each method here asks the core for the
operation's plan and runs it (``_run``): it sends each command the plan
yields through the redis-py client and passes the reply back, or throws the
client's error in. ``AsyncSharedMooncake`` (``async_cache``) is the same shell
awaiting instead of calling.
"""

from __future__ import annotations

import functools
import time
import typing
from typing import (TYPE_CHECKING, Any, Callable, Dict, Generic, Iterable, Mapping, Optional, Tuple,
                    Union, overload)

from .. import engines
from ..memoize import memoize as _memoize
from .connection import DEFAULT_SOCKET_TIMEOUT, Connection
from .core import MISSING, SharedCore, lease_seconds, seconds
from .errors import SERVER_ERRORS
from .keys import MemoKey
from .memo_keys import SharedMemoKeys
from .near import NearCache, check_engine
from .single_flight import LeaseLocks, SingleFlight, Waiters

if TYPE_CHECKING:
    import redis
    import redis.cluster
    from typing_extensions import ParamSpec, Self, TypeVar

    from ..cache._engine import SimpleMooncake, _Recorder
    from .async_cache import AsyncSharedMooncake
    from .protocols import Key, Memoized, Serializer, SharedStats

    V = TypeVar("V", default=Any)  # the values' type: Any unless the user says
    D = TypeVar("D")
    T = TypeVar("T")
    P = ParamSpec("P")
else:
    V = typing.TypeVar("V")


def near_engine(near):
    """The SimpleMooncake of ``near=``: an int is its maxsize; a SimpleMooncake is used as given."""
    if isinstance(near, bool) or not isinstance(near, (int, engines.SimpleMooncake)):
        raise TypeError(f"near must be None, an int (the near cache's maxsize) or a SimpleMooncake, "
                        f"not {type(near).__name__}")
    if isinstance(near, int):
        if near <= 0:
            raise ValueError(f"near must be > 0, not {near}")
        return engines.SimpleMooncake(near)
    check_engine(near)
    return near


def check_near_options(near, near_ttl, strict):
    """near_ttl as seconds, after the checks every shell makes of the near options."""
    if not isinstance(strict, bool):
        raise TypeError(f"strict must be a bool, not {type(strict).__name__}")
    near_seconds = seconds(near_ttl)
    if near_seconds <= 0:
        raise ValueError(f"near_ttl must be > 0, not {near_ttl!r}")
    if strict and near is None:
        raise ValueError("strict=True needs a near cache (near=...)")
    return near_seconds


def start_near(core, engine, connection, near_seconds, strict, waiters, start=True):
    """The NearCache of ``core`` on ``connection`` (a sync Connection), its hooks set."""
    near = NearCache(engine, connection, core.namespace.prefix, near_seconds, strict,
                     core.counters, DEFAULT_SOCKET_TIMEOUT, start=start)
    near.on_invalidate.append(waiters.wake)
    core.near = near
    return near


def run_plan(core, connection, operation, plan, fallback, monitored=True):
    """Drive ``plan`` through ``connection``'s client (made on first use): the
    plan's result; a server error becomes SharedCacheError (or ``fallback``
    with fail_open); the monitor records the outcome (if ``monitored``)."""
    monitor = core.monitor if monitored else None
    started = time.perf_counter() if monitor is not None else 0.0
    try:
        command = plan.send(None)
        while True:
            try:
                reply = command(connection.client or connection.resolve())
            except SERVER_ERRORS as exc:
                command = plan.throw(exc)
            else:
                command = plan.send(reply)
    except StopIteration as stop:
        result, success, size = stop.value
    except SERVER_ERRORS as exc:
        if monitor is not None:
            core.record(operation, started, False, 0)
        return core.server_error(operation, exc, fallback)
    if monitor is not None:
        core.record(operation, started, success, size)
    return result


class SharedMooncake(Generic[V]):
    """SimpleMooncake's API over a Valkey/Redis server (standalone or Cluster).

    ``SharedMooncake(url=None, *, client=None, namespace="mooncake:",
    serializer="pickle", signing_key=None, fail_open=False, monitor=None)``

    ``url``: ``redis://[user:password@]host:port/db`` (``rediss://`` for TLS);
    the cache makes the client, with a default socket timeout of 5 s, and a
    RedisCluster when the server is a Cluster node. ``client``: a ready
    ``redis.Redis`` or ``redis.cluster.RedisCluster`` instead, used as it is.
    ``namespace``: the prefix of every key (a non-empty str without ``{``/``}``);
    ``clear()`` and ``len()`` see only it. ``serializer``: "pickle", "json",
    "bytes", or an object with ``dumps``/``loads`` (and optionally a ``name``:
    its identity in each value's header, see ``mooncake.shared.codec``).
    ``signing_key``: bytes (>= 16); every value then carries an HMAC-SHA256,
    and one that does not verify is never decoded. ``fail_open``: on a server
    error, answer as an empty cache that refuses writes instead of raising.
    ``monitor``: a ``SimpleMonitor`` recording each remote operation.

    ``near``: an int (the maxsize of a new SimpleMooncake) or a configured
    SimpleMooncake (empty, and no other cache's: ValueError otherwise) keeps a
    per-process near cache in front of the server, kept coherent by
    server-assisted invalidation (see ``mooncake.shared.near``); a near entry
    lives at most ``near_ttl`` seconds and never longer than the server's.
    ``strict``: apply the invalidations already received before each near hit,
    so a read that starts after another process's write returned never sees
    the old value.

    Construction PINGs the server: a configuration mistake (wrong
    credentials, a database the server does not have) raises SharedCacheError,
    ``fail_open`` or not; so does an unreachable server, unless ``fail_open``
    (the cache then connects on a later call). A client that decodes
    responses raises ValueError before anything is sent.
    """

    def __init__(self, url: Optional[str] = None, *,
                 client: Union[redis.Redis, redis.cluster.RedisCluster, None] = None,
                 namespace: str = "mooncake:", serializer: Union[str, Serializer] = "pickle",
                 signing_key: Optional[bytes] = None, fail_open: bool = False,
                 monitor: Optional[_Recorder] = None,
                 near: Union[int, SimpleMooncake[Any, Any], None] = None, near_ttl: float = 60,
                 strict: bool = False) -> None:
        near_seconds = check_near_options(near, near_ttl, strict)
        engine = None if near is None else near_engine(near)
        self._core = core = SharedCore(namespace, serializer, signing_key, fail_open, monitor)
        self._waiters = Waiters()
        self._connection = Connection(url, client, fail_open=fail_open)
        self._near = None
        if engine is not None:
            try:
                self._near = start_near(core, engine, self._connection, near_seconds, strict,
                                        self._waiters)
            except ValueError:  # another cache took the engine since near_engine checked it
                self._connection.close()
                raise
            front = engines.near_front()(engine.get, self._near.drain, self._near_get, MISSING,
                                         MemoKey, strict)
            self._near.attach(front)
            self.get = front.get  # near hits never run Python code of this class

    def _run(self, operation, plan, fallback):
        return run_plan(self._core, self._connection, operation, plan, fallback)

    # -- single keys ------------------------------------------------------

    def put(self, key: Key, value: V, ttl: float = 3600) -> bool:
        """Store ``value`` under ``key`` for ``ttl`` seconds; return True.

        The ttl is sent in milliseconds, rounded up (``SET ... PX``);
        ``math.inf`` (or more than 1e15 s) never expires; ``ttl <= 0`` stores
        nothing and removes any older value. A key of the wrong type or a
        value the serializer cannot encode: TypeError; a non-real ttl:
        TypeError; NaN: ValueError; in each case nothing is sent. With
        fail_open, a server error returns False.
        """
        core = self._core
        args = None if core.monitor is not None else core.put_args(key, value, ttl)
        if args is None:  # ttl <= 0, or a monitor to tell: the plan
            return self._run("put", core.put(key, value, ttl), False)
        name, data, ms = args
        connection = self._connection
        try:
            (connection.client or connection.resolve()).set(name, data, px=ms)
        except SERVER_ERRORS as exc:
            return core.server_error("put", exc, False)
        finally:
            core.drop(name)
        core.counters.add("puts")
        return True

    def __setitem__(self, key: Key, value: V) -> None:
        """``cache[key] = value``: put with the default ttl of 3600 seconds."""
        self.put(key, value)

    def add(self, key: Key, value: V, ttl: float = 3600) -> bool:
        """Store ``value`` under ``key`` only if the key is absent (atomic: one
        script on the server); True if this call stored it. ``ttl <= 0`` stores
        nothing and answers whether the key was absent (stored, and expired at
        once). The checks of ``put`` apply. With fail_open, a server error
        returns False."""
        return self._run("add", self._core.add(key, value, ttl), False)

    @overload
    def get(self, key: Key) -> Optional[V]: ...
    @overload
    def get(self, key: Key, default: D) -> Union[V, D]: ...

    def get(self, key: Key, default: Any = None) -> Any:
        """The value of ``key``, or ``default`` if it is absent, expired or
        rejected (a value this cache will not decode: counted in ``rejected``).
        Counts a hit or a miss. With fail_open, a server error returns ``default``."""
        core = self._core
        if core.monitor is not None:
            value = self._run("get", core.get(key), MISSING)
        else:  # the plan's two halves around its one command
            name = core.namespace.key(key)
            connection = self._connection
            try:
                data = (connection.client or connection.resolve()).get(name)
            except SERVER_ERRORS as exc:
                return core.server_error("get", exc, default)
            value = core.got(name, data)
        return default if value is MISSING else value

    def _near_get(self, key, default=None):
        """get with a near cache, where NearFront.get could not serve a hit: a key
        of another type, a near miss, or the near cache not trusted."""
        core = self._core
        value = core.near_lookup(key)
        if value is MISSING:
            value = self._run("get", core.get_filling(key), MISSING)
        return default if value is MISSING else value

    def __getitem__(self, key: Key) -> V:
        """``cache[key]``: the value; KeyError if absent, expired or rejected."""
        value = self.get(key, MISSING)
        if value is MISSING:
            raise KeyError(key)
        return value

    def delete(self, key: Key) -> bool:
        """Remove ``key``; True if it was there. With fail_open, a server error returns False."""
        return self._run("delete", self._core.delete(key), False)

    def __delitem__(self, key: Key) -> None:
        """``del cache[key]``: KeyError if absent or expired."""
        if not self.delete(key):
            raise KeyError(key)

    @overload
    def pop(self, key: Key) -> V: ...
    @overload
    def pop(self, key: Key, default: D) -> Union[V, D]: ...

    def pop(self, key: Key, default: Any = MISSING) -> Any:
        """Remove ``key`` and return its value (GETDEL); ``default``, or KeyError
        when no default is given, if it was absent (or rejected: then it is
        removed all the same). Not a hit or a miss. With fail_open, a server
        error is treated as absent."""
        value = self._run("pop", self._core.pop(key), MISSING)
        if value is MISSING:
            if default is MISSING:
                raise KeyError(key)
            return default
        return value

    def __contains__(self, key: object) -> bool:
        """True if ``key`` is on the server (EXISTS: the value is not decoded).
        Not a hit or a miss. With fail_open, a server error returns False."""
        return self._run("contains", self._core.contains(key), False)

    def ttl(self, key: Key) -> Optional[float]:
        """Seconds left for ``key`` (millisecond precision), ``math.inf`` if it
        never expires, None if absent. With fail_open, a server error returns None."""
        return self._run("ttl", self._core.ttl(key), None)

    def touch(self, key: Key, ttl: float) -> bool:
        """Restart a live key's TTL at ``ttl`` seconds from now; True if it was
        there, False if absent. ``ttl <= 0`` removes it at once (still True).
        With fail_open, a server error returns False."""
        return self._run("touch", self._core.touch(key, ttl), False)

    def incr(self, key: Key, delta: int = 1) -> int:
        """Add ``delta`` (an int) to the int stored under ``key`` and return the
        new value; the key keeps its ttl. Atomic across processes (a
        compare-and-set script, retried if another writer came between).
        KeyError if the key is absent (or its value rejected); TypeError if it
        holds something other than an int, or ``delta`` is not an int. With
        fail_open, a server error raises KeyError (the answer of an empty cache)."""
        value = self._run("incr", self._core.incr(key, delta), MISSING)
        if value is MISSING:
            raise KeyError(key)
        return value

    def decr(self, key: Key, delta: int = 1) -> int:
        """``incr(key, -delta)``."""
        if isinstance(delta, bool) or not isinstance(delta, int):
            raise TypeError(f"delta must be an int, not {type(delta).__name__}")
        return self.incr(key, -delta)

    # -- many keys --------------------------------------------------------

    def get_many(self, keys: Iterable[Key]) -> Dict[Key, V]:
        """``{key: value}`` for those of ``keys`` that are present (MGET, one
        round trip per node); each key counts a hit or a miss. Every key is
        checked before anything is sent. With fail_open, a server error returns {}."""
        keys = list(keys)
        core = self._core
        names = core.namespace.names(keys)
        if not names:
            return {}
        found, keys, names = core.near_many(keys, names)
        if keys:
            found.update(self._run("get_many", core.remote_many(keys, names), {}))
        return found

    def put_many(self, items: Union[Mapping[Key, V], Iterable[Tuple[Key, V]]],
                 ttl: float = 3600) -> int:
        """Store every ``(key, value)`` of a mapping or iterable of pairs with one
        ``ttl`` (a pipeline of SET PX: one round trip per node); return how many
        were stored (0 when ``ttl <= 0``, which removes the keys). Every key,
        value and the ttl are checked, and every value encoded, before anything
        is sent. With fail_open, a server error returns 0 (some may be stored)."""
        plan = self._core.put_many_plan(items, ttl)
        return 0 if plan is None else self._run("put_many", plan, 0)

    # -- the whole namespace ----------------------------------------------

    def clear(self) -> None:
        """Remove every key of this namespace, helper keys included (SCAN +
        UNLINK on every master node; never FLUSHDB). O(n) in the namespace.
        With fail_open, a server error leaves what was not reached."""
        self._run("clear", self._core.clear(), None)

    def __len__(self) -> int:
        """The number of entries in this namespace (SCAN: O(n), not a snapshot
        under concurrent writes). With fail_open, a server error gives 0."""
        return self._run("len", self._core.size(), 0)

    def cleanup_expired(self) -> int:
        """The server expires keys itself: returns 0."""
        return 0

    def get_stats(self) -> SharedStats:
        """This instance's counters, and ``total_objects``, counted by scanning
        the namespace (O(n)). Never raises: if the server cannot be reached,
        ``total_objects`` is None (and the failure counts in ``errors``).
        With a near cache also ``near_hits`` and ``remote_hits`` (both count
        in ``hits``), ``invalidations`` (names dropped on the server's word),
        ``flushes``, ``fills_discarded`` (remote reads not kept because an
        invalidation raced them), ``fills_failed`` (values the near engine
        refused: its ``getsizeof`` raised), ``reconnects`` (of the listener) and
        ``backlogs`` (times a listener fell behind a burst of pushes and hits
        were paused until it caught up)."""
        core = self._core
        try:
            total = run_plan(core, self._connection, "len", core.size(), None, monitored=False)
        except SERVER_ERRORS:  # counted in errors: get_stats never raises
            total = None
        return core.stats(total)

    # -- memoize ----------------------------------------------------------

    def memoize(self, ttl: float = 3600, key: Optional[Callable[..., object]] = None,
                lease: float = 30) -> Callable[[Callable[P, T]], Memoized[P, T]]:
        """Decorate a function to cache its results here, shared by every
        process using this namespace: a result's key is the function's module,
        qualified name and a digest of its arguments (None, bool, int, float,
        str, bytes and containers of these; anything else needs ``key=``).

        Single flight within this process, as ``mooncake.memoize``, and across
        processes for plain (not async) functions: a miss takes a lock key for
        ``lease`` seconds (SET NX PX), so of N processes missing one result one
        computes and the others wait for it (woken by the near cache's
        invalidation push, else by polling) and read it. A leader that raises
        releases the lock (a waiter then computes); one that dies blocks the
        others at most ``lease`` seconds, and so does a lock without an expiry
        (a waiter that saw it a whole lease takes it over); one that runs longer than ``lease``
        may see a second process compute too. With fail_open and the server
        down, every process computes for itself. A ``lease`` that is not in
        ``0 < lease <= 1e15`` seconds raises ValueError here, at decoration."""
        scheme = functools.partial(SharedMemoKeys, namespace=self._core.namespace,
                                   count=self._count_matching, clear=self._clear_matching,
                                   flight=SingleFlight(self, self._core, LeaseLocks(self._run, self._core),
                                                      self._waiters, lease_seconds(lease)))
        return _memoize(self, ttl=ttl, key=key, key_scheme=scheme)

    def _count_matching(self, pattern):
        return self._run("len", self._core.count_matching(pattern), 0)

    def _clear_matching(self, pattern):
        self._run("clear", self._core.clear(pattern), None)

    # -- the connection ---------------------------------------------------

    @property
    def namespace(self) -> str:
        """The namespace, as given."""
        return self._core.namespace.prefix.decode("utf-8")

    @property
    def _namespace(self):
        return self._core.namespace

    @property
    def client(self) -> Union[redis.Redis, redis.cluster.RedisCluster, None]:
        """The redis-py client (None while a URL's server was never reached)."""
        return self._connection.client

    def ping(self) -> bool:
        """True if the server answers; SharedCacheError (or False with fail_open) if not."""
        return self._run("ping", self._core.ping(), False)

    def as_async(self) -> AsyncSharedMooncake[V]:
        """An AsyncSharedMooncake sharing this cache's namespace, codec, stats,
        monitor and near cache, over redis.asyncio clients of the same server
        (made from the URL; a cache made from a given client cannot make them:
        TypeError). Writes through either are seen by both at once."""
        from .async_cache import AsyncSharedMooncake
        return AsyncSharedMooncake._sharing(self)

    def close(self) -> None:
        """Close the connections of a client made from a URL (a given client is
        left open), and stop the near cache's listener (it is bypassed after).
        The cache stays usable: every operation opens new connections on its
        next call, on a Cluster as on a standalone server."""
        if self._near is not None:
            self._near.close()
        self._connection.close()

    def __reduce__(self) -> Tuple[Any, ...]:
        raise TypeError("a SharedMooncake holds live connections and cannot be pickled; "
                        "build one per process from the same URL and namespace")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        kind = "cluster" if self._connection.is_cluster else "server"
        return f"<SharedMooncake namespace={self.namespace!r} on a {kind}>"
