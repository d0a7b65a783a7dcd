"""SharedMooncake: SimpleMooncake's API over a Valkey/Redis server or Cluster.

Each public operation follows one path: check every argument (keys, ttl,
values) so that bad input raises before anything is sent; run the server
commands through the ``Store``; turn a redis-py error into SharedCacheError,
or, with ``fail_open``, into the answer an empty cache that refuses writes
would give; count it and, with a monitor, record it.
"""

import functools
import math
import os
import threading
import time

from .. import engines
from ..checks import as_pair, check_monitor, ttl_seconds
from ..memoize import memoize as _memoize
from ..user_code import report_unraisable
from .codec import Rejected, ValueCodec
from .connection import DEFAULT_SOCKET_TIMEOUT, Connection
from .errors import SERVER_ERRORS, SharedCacheError
from .keys import MemoKey, Namespace, plain_key
from .memo_keys import SharedMemoKeys
from .near import NearCache, check_engine
from .near_store import NearStore
from .single_flight import SingleFlight, Waiters
from .store import Store, receipt_name

_MISSING = object()

#: Beyond this many seconds a ttl is stored as "never expires": the server
#: refuses expiry times that overflow its millisecond clock.
_LONGEST_TTL = 1e15


def _seconds(ttl):
    """ttl_seconds, with the common int and float checked without the ABCs."""
    kind = type(ttl)
    if kind is float and ttl == ttl:  # not NaN
        return ttl
    if kind is int:
        return float(ttl)
    return ttl_seconds(ttl)


def _ttl_ms(seconds):
    """Whole milliseconds, rounded up, for a ttl > 0; None for no expiry."""
    if seconds >= _LONGEST_TTL:
        return None
    ms = math.ceil(seconds * 1000.0)
    return ms if ms > 0 else 1


def _near_engine(near):
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



class SharedMooncake:
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

    def __init__(self, url=None, *, client=None, namespace="mooncake:", serializer="pickle",
                 signing_key=None, fail_open=False, monitor=None, near=None, near_ttl=60,
                 strict=False):
        if not isinstance(fail_open, bool):
            raise TypeError(f"fail_open must be a bool, not {type(fail_open).__name__}")
        if not isinstance(strict, bool):
            raise TypeError(f"strict must be a bool, not {type(strict).__name__}")
        near_seconds = _seconds(near_ttl)
        if near_seconds <= 0:
            raise ValueError(f"near_ttl must be > 0, not {near_ttl!r}")
        if strict and near is None:
            raise ValueError("strict=True needs a near cache (near=...)")
        engine = None if near is None else _near_engine(near)
        self._near = None
        self._namespace = Namespace(namespace)
        self._codec = ValueCodec(serializer, signing_key)
        self._monitor = check_monitor(monitor)
        self._fail_open = fail_open
        self._lock = threading.Lock()
        self._hits = self._misses = self._puts = self._deletes = 0
        self._errors = self._rejected = 0
        self._remote_hits = self._invalidations = self._flushes = 0
        self._fills_discarded = self._fills_failed = self._reconnects = self._backlogs = 0
        self._waiters = Waiters()
        self._connection = Connection(url, client, fail_open=fail_open)
        if engine is None:
            self._store = Store(self._connection)
        else:
            timeout = DEFAULT_SOCKET_TIMEOUT
            try:
                self._near = NearCache(engine, self._connection, self._namespace.prefix, near_seconds,
                                       strict, self._count, timeout)
            except ValueError:  # another cache took the engine since _near_engine checked it
                self._connection.close()
                raise
            self._store = NearStore(self._connection, self._near)
            self._near._wake_events.append(self._waiters.wake)
            front = engines.near_front()(engine.get, self._near.drain, self._near_get, _MISSING, MemoKey, strict)
            self._near.attach(front)
            self.get = front.get  # near hits never run Python code of this class

    # -- the one path of every operation ----------------------------------

    def _count(self, name, n=1):
        with self._lock:
            setattr(self, name, getattr(self, name) + n)

    def _perform(self, operation, body, args, fallback):
        """Run ``body(*args) -> (result, success, bytes moved)`` against the
        server: a server error becomes SharedCacheError (counted in errors),
        or ``fallback`` with fail_open; the monitor records the outcome."""
        monitor = self._monitor
        started = time.perf_counter() if monitor is not None else 0.0
        try:
            result, success, size = body(*args)
        except SERVER_ERRORS as exc:
            if monitor is not None:
                self._record(operation, started, False, 0)
            return self._server_error(operation, exc, fallback)
        if monitor is not None:
            self._record(operation, started, success, size)
        return result

    def _server_error(self, operation, exc, fallback):
        """Count a server error; ``fallback`` with fail_open, else SharedCacheError."""
        with self._lock:
            self._errors += 1
        if self._fail_open:
            return fallback
        raise SharedCacheError(f"{operation} failed on the server: {exc}") from exc

    def _record(self, operation, started, success, size):
        try:
            self._monitor.record_operation(
                operation, max(time.perf_counter() - started, 0.0), bool(success), size)
        except BaseException:
            report_unraisable(self._monitor)

    def _decode(self, name, data):
        """The value stored as ``data``, or _MISSING for no value or a rejected one."""
        if data is None:
            return _MISSING
        try:
            return self._codec.decode(name, data)
        except Rejected:
            self._count("_rejected")
            return _MISSING

    # -- single keys ------------------------------------------------------

    def put(self, key, value, ttl=3600):
        """Store ``value`` under ``key`` for ``ttl`` seconds; return True.

        The ttl is sent in milliseconds, rounded up (``SET ... PX``);
        ``math.inf`` (or more than 1e15 s) never expires; ``ttl <= 0`` stores
        nothing and removes any older value. A key of the wrong type or a
        value the serializer cannot encode: TypeError; a non-real ttl:
        TypeError; NaN: ValueError; in each case nothing is sent. With
        fail_open, a server error returns False.
        """
        seconds = _seconds(ttl)
        name = self._namespace.key(key)
        if seconds <= 0:
            return self._perform("put", self._remove_for_put, (name,), False)
        data = self._codec.encode(name, value)
        if self._monitor is not None:
            return self._perform("put", self._put, (name, data, _ttl_ms(seconds)), False)
        # _perform's path, inlined for the most frequent calls
        try:
            self._store.set(name, data, _ttl_ms(seconds))
        except SERVER_ERRORS as exc:
            return self._server_error("put", exc, False)
        with self._lock:
            self._puts += 1
        return True

    def _put(self, name, data, ms):
        self._store.set(name, data, ms)
        with self._lock:
            self._puts += 1
        return True, True, len(data)

    def _remove_for_put(self, name):
        self._store.remove(name)
        self._count("_puts")
        return True, True, 0

    def __setitem__(self, key, value):
        """``cache[key] = value``: put with the default ttl of 3600 seconds."""
        self.put(key, value)

    def get(self, key, default=None):
        """The value of ``key``, or ``default`` if it is absent, expired or
        rejected (a value this cache will not decode: counted in ``rejected``).
        Counts a hit or a miss. With fail_open, a server error returns ``default``."""
        name = self._namespace.key(key)
        if self._monitor is not None:
            value = self._perform("get", self._get, (name,), _MISSING)
            return default if value is _MISSING else value
        # _perform's path, inlined for the most frequent calls
        try:
            data = self._store.get(name)
        except SERVER_ERRORS as exc:
            return self._server_error("get", exc, default)
        value = self._decode(name, data)
        with self._lock:
            if value is _MISSING:
                self._misses += 1
                return default
            self._hits += 1
        return value

    def _get(self, name):
        data = self._store.get(name)
        value = self._decode(name, data)
        with self._lock:
            if value is _MISSING:
                self._misses += 1
                return value, False, 0
            self._hits += 1
        return value, True, len(data)

    def _near_get(self, key, default=None):
        """get with a near cache, where NearFront.get could not serve a hit: a key
        of another type, a near miss, or the near cache not trusted."""
        plain = plain_key(key)
        name = self._namespace.key(key)
        near = self._near
        if near.trusted:
            if near.strict:
                near.drain()
            value = near.engine.get(plain, _MISSING)
            if value is not _MISSING and near.trusted:
                near.front.count_near_hit()
                return value
        value = self._perform("get", self._get_filling, (name, near), _MISSING)
        return default if value is _MISSING else value

    def _get_filling(self, name, near):
        """A remote read that fills the near cache, unless an invalidation raced it."""
        token = near.token(name)
        sent = time.monotonic()
        data, ms = self._store.get_with_ttl(name)
        value = self._decode(name, data)
        with self._lock:
            if value is _MISSING:
                self._misses += 1
                return value, False, 0
            self._hits += 1
            self._remote_hits += 1
        if token is not None and ms != -2:
            remaining = math.inf if ms == -1 else ms / 1000.0 - (time.monotonic() - sent)
            near.fill(name, value, token, remaining)
        return value, True, len(data)

    def __getitem__(self, key):
        """``cache[key]``: the value; KeyError if absent, expired or rejected."""
        value = self.get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def delete(self, key):
        """Remove ``key``; True if it was there. With fail_open, a server error returns False."""
        name = self._namespace.key(key)
        return self._perform("delete", self._delete, (name,), False)

    def _receipt(self, name):
        """A receipt name for one call that removes ``name`` (see store.receipt_name)."""
        return receipt_name(self._namespace.prefix, name, os.urandom(8).hex().encode())

    def _delete(self, name):
        removed = self._store.delete(name, self._receipt(name))
        if removed:
            self._count("_deletes")
        return removed, removed, 0

    def __delitem__(self, key):
        """``del cache[key]``: KeyError if absent or expired."""
        if not self.delete(key):
            raise KeyError(key)

    def pop(self, key, default=_MISSING):
        """Remove ``key`` and return its value (GETDEL); ``default``, or KeyError
        when no default is given, if it was absent (or rejected: then it is
        removed all the same). Not a hit or a miss. With fail_open, a server
        error is treated as absent."""
        name = self._namespace.key(key)
        value = self._perform("pop", self._pop, (name,), _MISSING)
        if value is _MISSING:
            if default is _MISSING:
                raise KeyError(key)
            return default
        return value

    def _pop(self, name):
        data = self._store.get_and_delete(name, self._receipt(name))
        if data is not None:
            self._count("_deletes")
        value = self._decode(name, data)
        return value, value is not _MISSING, 0 if data is None else len(data)

    def __contains__(self, key):
        """True if ``key`` is on the server (EXISTS: the value is not decoded).
        Not a hit or a miss. With fail_open, a server error returns False."""
        name = self._namespace.key(key)
        return self._perform("contains", self._exists, (name,), False)

    def _exists(self, name):
        found = self._store.exists(name)
        return found, found, 0

    def ttl(self, key):
        """Seconds left for ``key`` (millisecond precision), ``math.inf`` if it
        never expires, None if absent. With fail_open, a server error returns None."""
        name = self._namespace.key(key)
        return self._perform("ttl", self._ttl, (name,), None)

    def _ttl(self, name):
        ms = self._store.remaining_ms(name)
        if ms == -2:
            return None, False, 0
        if ms == -1:
            return math.inf, True, 0
        return ms / 1000.0, True, 0

    def touch(self, key, ttl):
        """Restart a live key's TTL at ``ttl`` seconds from now; True if it was
        there, False if absent. ``ttl <= 0`` removes it at once (still True).
        With fail_open, a server error returns False."""
        seconds = _seconds(ttl)
        name = self._namespace.key(key)
        return self._perform("touch", self._touch, (name, seconds), False)

    def _touch(self, name, seconds):
        if seconds <= 0:
            found = self._store.delete(name, self._receipt(name))
        else:
            found = self._store.expire(name, _ttl_ms(seconds))
        return found, found, 0

    # -- many keys --------------------------------------------------------

    def get_many(self, keys):
        """``{key: value}`` for those of ``keys`` that are present (MGET, one
        round trip per node); each key counts a hit or a miss. Every key is
        checked before anything is sent. With fail_open, a server error returns {}."""
        keys = list(keys)
        names = self._namespace.names(keys)
        if not names:
            return {}
        near = self._near
        if near is not None and near.trusted:
            if near.strict:
                near.drain()  # may find a backlog, or lose a listener: trust again after
            if near.trusted:
                return self._get_many_near(keys, names, near)
        return self._perform("get_many", self._get_many, (keys, names), {})

    def _get_many_near(self, keys, names, near):
        """Near hits first, then one remote batch for the rest (GET and PTTL of
        each, one round trip per node), which fills the near cache."""
        found, rest_keys, rest_names = {}, [], []
        near_hits = 0  # per key asked, as SimpleMooncake counts (a key twice: two hits)
        lookup = near.engine.get
        for key, name in zip(keys, names):
            value = lookup(plain_key(key), _MISSING)
            if value is _MISSING:
                rest_keys.append(key)
                rest_names.append(name)
            else:
                found[key] = value
                near_hits += 1
        near.front.count_near_hit(near_hits)
        if rest_keys:
            found.update(self._perform("get_many", self._get_many_filling,
                                       (rest_keys, rest_names, near), {}))
        return found

    def _get_many_filling(self, keys, names, near):
        tokens = [near.token(name) for name in names]
        sent = time.monotonic()
        datas, remaining_ms = self._store.get_many_with_ttl(names)
        found, hits, rejected, size = self._codec.decode_many(keys, names, datas)
        with self._lock:
            self._hits += hits
            self._remote_hits += hits
            self._misses += len(keys) - hits
            self._rejected += rejected
        elapsed = time.monotonic() - sent
        for key, name, token, ms in zip(keys, names, tokens, remaining_ms):
            if token is not None and ms != -2 and key in found:
                remaining = math.inf if ms == -1 else ms / 1000.0 - elapsed
                near.fill(name, found[key], token, remaining)
        return found, hits == len(keys), size

    def _get_many(self, keys, names):
        datas = self._store.get_many(names)
        found, hits, rejected, size = self._codec.decode_many(keys, names, datas)
        with self._lock:
            self._hits += hits
            self._misses += len(keys) - hits
            self._rejected += rejected
        return found, hits == len(keys), size

    def put_many(self, items, ttl=3600):
        """Store every ``(key, value)`` of a mapping or iterable of pairs with one
        ``ttl`` (a pipeline of SET PX: one round trip per node); return how many
        were stored (0 when ``ttl <= 0``, which removes the keys). Every key,
        value and the ttl are checked, and every value encoded, before anything
        is sent. With fail_open, a server error returns 0 (some may be stored)."""
        seconds = _seconds(ttl)
        pairs = list(items.items()) if hasattr(items, "keys") else [as_pair(p) for p in items]
        names = self._namespace.names([key for key, _ in pairs])
        if seconds <= 0:
            if not names:
                return 0
            return self._perform("put_many", self._remove_many, (names,), 0)
        encoded = [(name, self._codec.encode(name, value)) for name, (_, value) in zip(names, pairs)]
        if not encoded:
            return 0
        return self._perform("put_many", self._put_many, (encoded, _ttl_ms(seconds)), 0)

    def _put_many(self, encoded, ms):
        self._store.set_many(encoded, ms)
        self._count("_puts", len(encoded))
        return len(encoded), True, sum(len(data) for _, data in encoded)

    def _remove_many(self, names):
        self._store.delete_many(names)
        self._count("_puts", len(names))
        return 0, True, 0

    # -- the whole namespace ----------------------------------------------

    def clear(self):
        """Remove every key of this namespace, helper keys included (SCAN +
        UNLINK on every master node; never FLUSHDB). O(n) in the namespace.
        With fail_open, a server error leaves what was not reached."""
        namespace = self._namespace
        self._perform("clear", self._clear, (namespace.everything, namespace.is_own), None)

    def _clear(self, pattern, keep=None):
        removed = self._store.unlink_matching(pattern, keep)
        return None, True, removed

    def __len__(self):
        """The number of entries in this namespace (SCAN: O(n), not a snapshot
        under concurrent writes). With fail_open, a server error gives 0."""
        return self._perform("len", self._len, (), 0)

    def _len(self):
        n = self._store.count(self._namespace.entries, self._namespace.is_entry)
        return n, True, 0

    def cleanup_expired(self):
        """The server expires keys itself: returns 0."""
        return 0

    def get_stats(self):
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
        try:
            total = self._store.count(self._namespace.entries, self._namespace.is_entry)
        except SERVER_ERRORS:
            self._count("_errors")
            total = None
        near_hits = 0 if self._near is None else self._near.front.near_hits
        with self._lock:
            hits = self._hits + near_hits
            lookups = hits + self._misses
            stats = {
                "total_objects": total,
                "hits": hits,
                "misses": self._misses,
                "hit_rate": hits / lookups if lookups else 0.0,
                "puts": self._puts,
                "deletes": self._deletes,
                "errors": self._errors,
                "rejected": self._rejected,
            }
            if self._near is not None:
                stats.update(near_hits=near_hits, remote_hits=self._remote_hits,
                             invalidations=self._invalidations, flushes=self._flushes,
                             fills_discarded=self._fills_discarded, fills_failed=self._fills_failed,
                             reconnects=self._reconnects, backlogs=self._backlogs)
            return stats

    # -- memoize ----------------------------------------------------------

    def memoize(self, ttl=3600, key=None, lease=30):
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
        try:
            seconds = _seconds(lease)
        except OverflowError:  # an int too large for a float
            seconds = math.inf
        # The lock is SET PX <ms>: the server refuses an expiry past its millisecond
        # clock, so a longer lease would make every call fail there.
        if not 0 < seconds <= _LONGEST_TTL:
            raise ValueError(f"lease must be > 0 and at most {_LONGEST_TTL:.0e} seconds "
                             f"(the server's millisecond clock), not {lease!r}")
        lease = seconds
        scheme = functools.partial(SharedMemoKeys, flight=SingleFlight(self, lease))
        return _memoize(self, ttl=ttl, key=key, key_scheme=scheme)

    def _acquire(self, lock, token, ms):
        """Take a single-flight lock: None if taken (or it already held ``token``),
        else the holder's token; with fail_open a server error says "compute it yourself"."""
        holder = self._perform("lock", lambda: (self._store.acquire(lock, token, ms), True, 0), (), None)
        return None if holder == token else holder

    def _release(self, lock, token):
        self._perform("unlock", lambda: (self._store.release(lock, token), True, 0), (), None)

    def _lock_holder(self, lock):
        """The lock's token, None if free (or, with fail_open, unknown)."""
        return self._perform("lock", lambda: (self._store.lock_holder(lock), True, 0), (), None)

    def _take_over(self, lock, holder, token, ms):
        """Replace a lock ``holder`` kept past its lease; True if ``token`` now holds
        it (with fail_open, a server error says "compute it yourself")."""
        return self._perform("lock", lambda: (self._store.take_over(lock, holder, token, ms), True, 0),
                             (), True)

    def _memo_key(self, label, digest):
        return self._namespace.memo_key(label, digest)

    def _memo_count(self, label):
        return self._perform("len", lambda: (self._store.count(self._namespace.memo_pattern(label)),
                                             True, 0), (), 0)

    def _memo_clear(self, label):
        pattern = self._namespace.memo_pattern(label)
        self._perform("clear", self._clear, (pattern,), None)

    # -- the connection ---------------------------------------------------

    @property
    def namespace(self):
        """The namespace, as given."""
        return self._namespace.prefix.decode("utf-8")

    @property
    def client(self):
        """The redis-py client (None while a URL's server was never reached)."""
        return self._connection.client

    def ping(self):
        """True if the server answers; SharedCacheError (or False with fail_open) if not."""
        return self._perform("ping", lambda: (bool(self._store.ping()), True, 0), (), False)

    def close(self):
        """Close the connections of a client made from a URL (a given client is
        left open), and stop the near cache's listener (it is bypassed after).
        The cache stays usable: every operation opens new connections on its
        next call, on a Cluster as on a standalone server."""
        if self._near is not None:
            self._near.close()
        self._connection.close()

    def __reduce__(self):
        raise TypeError("a SharedMooncake holds live connections and cannot be pickled; "
                        "build one per process from the same URL and namespace")

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        kind = "cluster" if self._connection.is_cluster else "server"
        return f"<SharedMooncake namespace={self.namespace!r} on a {kind}>"
