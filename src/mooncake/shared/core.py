"""The sans-I/O core of the shared tier: everything a shared cache does but I/O.

``SharedCore`` holds a cache's namespace, value codec, counters, fail-open rule,
monitor and (optionally) near cache. Each operation is a method returning a
*plan* (see ``store``): a generator that checks the arguments (so bad input
raises before anything is sent), encodes keys and values, yields the commands
of the operation, turns the replies into the result, counts it, and keeps the
near cache in step (fill tokens, drops on writes). A plan returns
``(result, success, bytes moved)``; the shell that drove it records that in
the monitor and answers ``result``. A server error thrown into a plan that
does not handle it comes out of the shell as SharedCacheError, or, with
``fail_open``, as the operation's fallback (``server_error``).

The two shells, ``SharedMooncake`` (sync) and ``AsyncSharedMooncake``, only
send the commands and pass the replies back (``run_plan`` and its async twin).
"""

import math
import operator
import os
import time

from ..checks import as_pair, check_monitor, ttl_seconds
from ..user_code import report_unraisable
from . import store
from .codec import Rejected, ValueCodec
from .errors import SharedCacheError
from .keys import HELPER_MARK, Namespace, plain_key
from .stats import Counters

MISSING = object()

#: Beyond this many seconds a ttl is stored as "never expires": the server
#: refuses expiry times that overflow its millisecond clock.
LONGEST_TTL = 1e15


def seconds(ttl):
    """ttl_seconds, with the common int and float checked without the ABCs."""
    kind = type(ttl)
    if kind is float and ttl == ttl:  # not NaN
        return ttl
    if kind is int:
        return float(ttl)
    return ttl_seconds(ttl)


def ttl_ms(secs):
    """Whole milliseconds, rounded up, for a ttl > 0; None for no expiry."""
    if secs >= LONGEST_TTL:
        return None
    ms = math.ceil(secs * 1000.0)
    return ms if ms > 0 else 1


def lease_seconds(lease):
    """A memoize lease as seconds in ``0 < lease <= LONGEST_TTL``; ValueError otherwise."""
    try:
        secs = seconds(lease)
    except OverflowError:  # an int too large for a float
        secs = math.inf
    # The lock is SET PX <ms>: the server refuses an expiry past its millisecond
    # clock, so a longer lease would make every call fail there.
    if not 0 < secs <= LONGEST_TTL:
        raise ValueError(f"lease must be > 0 and at most {LONGEST_TTL:.0e} seconds "
                         f"(the server's millisecond clock), not {lease!r}")
    return secs


def _delta(delta):
    if isinstance(delta, bool):
        raise TypeError("delta must be an int, not bool")
    try:
        return operator.index(delta)
    except TypeError:
        raise TypeError(f"delta must be an int, not {type(delta).__name__}") from None


class SharedCore:
    """The rules of one shared cache, shared by its sync and async shells."""

    def __init__(self, namespace, serializer, signing_key, fail_open, monitor):
        if not isinstance(fail_open, bool):
            raise TypeError(f"fail_open must be a bool, not {type(fail_open).__name__}")
        self.namespace = Namespace(namespace)
        self.codec = ValueCodec(serializer, signing_key)
        self.monitor = check_monitor(monitor)
        self.fail_open = fail_open
        self.counters = Counters()
        self.near = None          # a NearCache, set by the shell that made one

    # -- what the shells do around a plan ---------------------------------

    def server_error(self, operation, exc, fallback):
        """Count a server error; ``fallback`` with fail_open, else SharedCacheError."""
        self.counters.add("errors")
        if self.fail_open:
            return fallback
        raise SharedCacheError(f"{operation} failed on the server: {exc}") from exc

    def record(self, operation, started, success, size):
        """Tell the monitor (a failing monitor is reported, never raised)."""
        try:
            self.monitor.record_operation(
                operation, max(time.perf_counter() - started, 0.0), bool(success), size)
        except BaseException:
            report_unraisable(self.monitor)

    def receipt(self, name):
        """A receipt name for one call that changes ``name`` (see store.receipt_name)."""
        return store.receipt_name(self.namespace.prefix, name, os.urandom(8).hex().encode())

    def decode(self, name, data):
        """The value stored as ``data``, or MISSING for no value or a rejected one."""
        if data is None:
            return MISSING
        try:
            return self.codec.decode(name, data)
        except Rejected:
            self.counters.add("rejected")
            return MISSING

    def _drop_many(self, names):
        near = self.near
        if near is not None:
            near.drop_many(names)

    # -- single keys ------------------------------------------------------

    # put and get also come in two halves around their one command, so a shell
    # without a monitor can send it directly: the hottest calls skip the plan's
    # generator. The plans below are made of the same halves.

    def put_args(self, key, value, ttl):
        """(name, data, ms) of a put that stores; None for ``ttl <= 0`` (the
        ``put`` plan removes the key then). Bad input raises here."""
        secs = seconds(ttl)
        name = self.namespace.key(key)
        if secs <= 0:
            return None
        return name, self.codec.encode(name, value), ttl_ms(secs)

    def drop(self, name):
        """A write of ``name`` answered or failed: the near copy goes either way."""
        near = self.near
        if near is not None:
            near.drop(name)

    def put(self, key, value, ttl):
        args = self.put_args(key, value, ttl)
        if args is None:
            name = self.namespace.key(key)
            try:
                yield from store.remove(name)
            finally:
                self.drop(name)
            self.counters.add("puts")
            return True, True, 0
        name, data, ms = args
        try:
            yield from store.set(name, data, ms)
        finally:
            self.drop(name)
        self.counters.add("puts")
        return True, True, len(data)

    def add(self, key, value, ttl):
        secs = seconds(ttl)
        name = self.namespace.key(key)
        if secs <= 0:  # stored and expired at once: True if nothing was there
            found = yield from store.exists(name)
            return not found, not found, 0
        data = self.codec.encode(name, value)
        try:
            stored = yield from store.add(name, data, ttl_ms(secs), self.receipt(name))
        finally:
            self.drop(name)
        if stored:
            self.counters.add("puts")
        return stored, stored, len(data) if stored else 0

    def got(self, name, data):
        """The value read as ``data`` (MISSING if none or rejected), counted as a hit or a miss."""
        value = self.decode(name, data)
        if value is MISSING:
            self.counters.lookups(0, 1)
        else:
            self.counters.lookups(1, 0)
        return value

    def get(self, key):
        """The remote read of ``key``: its value or MISSING."""
        name = self.namespace.key(key)
        data = yield from store.get(name)
        value = self.got(name, data)
        return value, value is not MISSING, 0 if value is MISSING else len(data)

    def get_filling(self, key):
        """The remote read of ``key`` that fills the near cache, unless an
        invalidation raced it."""
        near = self.near
        name = self.namespace.key(key)
        token = near.token(name)
        sent = time.monotonic()
        data, ms = yield from store.get_with_ttl(name)
        value = self.decode(name, data)
        if value is MISSING:
            self.counters.lookups(0, 1)
            return value, False, 0
        self.counters.lookups(1, 0, remote=True)
        if token is not None and ms != -2:
            remaining = math.inf if ms == -1 else ms / 1000.0 - (time.monotonic() - sent)
            near.fill(name, value, token, remaining)
        return value, True, len(data)

    def near_lookup(self, key):
        """A near hit for ``key`` on the Python path (a key the front does not
        serve itself), or MISSING."""
        near = self.near
        if near is None or not near.trusted:
            return MISSING
        if near.strict:
            near.drain()
        value = near.engine.get(plain_key(key), MISSING)
        if value is not MISSING and near.trusted:
            near.front.count_near_hit()
            return value
        return MISSING

    def delete(self, key):
        name = self.namespace.key(key)
        try:
            removed = yield from store.delete(name, self.receipt(name))
        finally:
            self.drop(name)
        if removed:
            self.counters.add("deletes")
        return removed, removed, 0

    def pop(self, key):
        """The value removed, or MISSING."""
        name = self.namespace.key(key)
        try:
            data = yield from store.get_and_delete(name, self.receipt(name))
        finally:
            self.drop(name)
        if data is not None:
            self.counters.add("deletes")
        value = self.decode(name, data)
        return value, value is not MISSING, 0 if data is None else len(data)

    def contains(self, key):
        name = self.namespace.key(key)
        found = yield from store.exists(name)
        return found, found, 0

    def ttl(self, key):
        name = self.namespace.key(key)
        ms = yield from store.remaining_ms(name)
        if ms == -2:
            return None, False, 0
        if ms == -1:
            return math.inf, True, 0
        return ms / 1000.0, True, 0

    def touch(self, key, ttl):
        secs = seconds(ttl)
        name = self.namespace.key(key)
        try:
            if secs <= 0:
                found = yield from store.delete(name, self.receipt(name))
            else:
                found = yield from store.expire(name, ttl_ms(secs))
        finally:
            self.drop(name)
        return found, found, 0

    def incr(self, key, delta):
        """Add ``delta`` to the int stored under ``key`` (compare-and-set, so
        atomic across processes; the ttl is kept): the new value, or MISSING if
        the key is absent or its value rejected. TypeError if it holds no int."""
        delta = _delta(delta)
        name = self.namespace.key(key)
        receipt = self.receipt(name)  # written only by the attempt that swaps
        try:
            while True:
                data = yield from store.get(name)
                value = self.decode(name, data)
                if value is MISSING:
                    return MISSING, False, 0
                if isinstance(value, bool) or not isinstance(value, int):
                    raise TypeError(f"incr needs an int value, not {type(value).__name__}")
                new = value + delta
                new_data = self.codec.encode(name, new)
                swapped = yield from store.swap(name, data, new_data, receipt)
                if swapped == 1:
                    self.counters.add("puts")
                    return new, True, len(new_data)
                if swapped == -1:
                    return MISSING, False, 0
                # another writer came between our read and our swap: read again
        finally:
            self.drop(name)

    # -- many keys --------------------------------------------------------

    def get_many(self, keys, names):
        datas = yield from store.get_many(names)
        found, hits, rejected, size = self.codec.decode_many(keys, names, datas)
        self.counters.lookups(hits, len(keys) - hits, rejected)
        return found, hits == len(keys), size

    def get_many_filling(self, keys, names):
        near = self.near
        tokens = [near.token(name) for name in names]
        sent = time.monotonic()
        datas, remaining_ms = yield from store.get_many_with_ttl(names)
        found, hits, rejected, size = self.codec.decode_many(keys, names, datas)
        self.counters.lookups(hits, len(keys) - hits, rejected, remote=True)
        elapsed = time.monotonic() - sent
        for key, name, token, ms in zip(keys, names, tokens, remaining_ms):
            if token is not None and ms != -2 and key in found:
                remaining = math.inf if ms == -1 else ms / 1000.0 - elapsed
                near.fill(name, found[key], token, remaining)
        return found, hits == len(keys), size

    def near_many(self, keys, names):
        """Split a get_many: (near hits {key: value}, keys and names left to
        read remotely); all keys are left while the near cache is not trusted."""
        near = self.near
        if near is None or not near.trusted:
            return {}, keys, names
        if near.strict:
            near.drain()  # may find a backlog, or lose a listener: trust again after
            if not near.trusted:
                return {}, keys, names
        found, rest_keys, rest_names = {}, [], []
        near_hits = 0  # per key asked, as SimpleMooncake counts (a key twice: two hits)
        lookup = near.engine.get
        for key, name in zip(keys, names):
            value = lookup(plain_key(key), MISSING)
            if value is MISSING:
                rest_keys.append(key)
                rest_names.append(name)
            else:
                found[key] = value
                near_hits += 1
        near.front.count_near_hit(near_hits)
        return found, rest_keys, rest_names

    def remote_many(self, keys, names):
        """The plan reading ``keys`` from the server (filling the near cache if trusted)."""
        near = self.near
        if near is not None and near.trusted:
            return self.get_many_filling(keys, names)
        return self.get_many(keys, names)

    def put_many_plan(self, items, ttl):
        """Check and encode everything first; None if there is nothing to send,
        else the plan."""
        secs = seconds(ttl)
        pairs = list(items.items()) if hasattr(items, "keys") else [as_pair(p) for p in items]
        names = self.namespace.names([key for key, _ in pairs])
        if not names:
            return None
        if secs <= 0:
            return self._remove_many(names)
        encoded = [(name, self.codec.encode(name, value)) for name, (_, value) in zip(names, pairs)]
        return self._put_many(encoded, ttl_ms(secs))

    def _put_many(self, encoded, ms):
        try:
            yield from store.set_many(encoded, ms)
        finally:
            self._drop_many([name for name, _ in encoded])
        self.counters.add("puts", len(encoded))
        return len(encoded), True, sum(len(data) for _, data in encoded)

    def _remove_many(self, names):
        try:
            yield from store.delete_many(names)
        finally:
            self._drop_many(names)
        self.counters.add("puts", len(names))
        return 0, True, 0

    # -- the whole namespace ----------------------------------------------

    def clear(self, pattern=None, keep=None):
        """Remove the namespace (or what ``pattern``/``keep`` select of it)."""
        if pattern is None:
            pattern, keep = self.namespace.everything, self.namespace.is_own
        try:
            removed = yield from store.unlink_matching(pattern, keep)
        finally:
            near = self.near
            if near is not None:
                near.flush()
        return None, True, removed

    def size(self):
        n = yield from store.count(self.namespace.entries, self.namespace.is_entry)
        return n, True, 0

    def count_matching(self, pattern):
        n = yield from store.count(pattern)
        return n, True, 0

    def ping(self):
        answer = yield from store.ping()
        return bool(answer), True, 0

    def stats(self, total):
        """get_stats' dict, with ``total_objects`` counted by the shell (None if unknown)."""
        counts = self.counters.snapshot()
        near = self.near
        near_hits = 0 if near is None else near.near_hits
        hits = counts["hits"] + near_hits
        lookups = hits + counts["misses"]
        stats = {
            "total_objects": total,
            "hits": hits,
            "misses": counts["misses"],
            "hit_rate": hits / lookups if lookups else 0.0,
            "puts": counts["puts"],
            "deletes": counts["deletes"],
            "errors": counts["errors"],
            "rejected": counts["rejected"],
        }
        if near is not None:
            stats.update(near_hits=near_hits, remote_hits=counts["remote_hits"])
            for field in ("invalidations", "flushes", "fills_discarded", "fills_failed",
                          "reconnects", "backlogs"):
                stats[field] = counts[field]
        return stats

    # -- memoize's lease locks ----------------------------------------------

    def lock_name(self, name):
        """The lease lock of a memoized result's server key."""
        prefix = self.namespace.prefix
        return prefix + HELPER_MARK + b"lock:" + name[len(prefix):]

    def lock_acquire(self, lock, token, ms):
        holder = yield from store.acquire(lock, token, ms)
        return holder, True, 0

    def lock_release(self, lock, token):
        yield from store.release(lock, token)
        return None, True, 0

    def lock_holder(self, lock):
        holder = yield from store.lock_holder(lock)
        return holder, True, 0

    def lock_take_over(self, lock, holder, token, ms):
        taken = yield from store.take_over(lock, holder, token, ms)
        return taken, True, 0
