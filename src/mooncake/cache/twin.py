"""The pure-Python SimpleMooncake: the reference model of the Cython engine.

Written to be read, not to be fast. It keeps the same rules as the engine
(``mooncake.cache._engine``), step for step, so that the hypothesis model test
can hold the two side by side:

* entries sit in buckets by hash, looked up the way the engine (and dict)
  does: identity first, then ``==`` on entries of equal hash, restarting when
  a key's ``__eq__`` changed the table; a key is hashed once, at the start of
  an operation, and removal is by identity, so no user code runs while the
  table changes;
* a second dict, ``seq -> entry`` in insertion order, is the SIEVE queue
  (oldest first); an overwrite keeps its place, as in the engine;
* expiry uses a heapq of ``(expires_at, token, entry)`` with lazy deletion;
* one clock reading per operation, taken after the arguments are checked and
  the key is hashed (and weighed, with a byte budget);
* what an operation removes goes to a graveyard: ``on_remove`` is called and
  the references are dropped only when the operation is complete, because
  both may run code that calls back into the cache.
"""

import collections
import contextlib
import copyreg
import functools
import heapq
import math
import sys
import threading
import time
from types import GenericAlias

from ..checks import as_pair
from ..user_code import calling_user_code, report_unraisable
from .arguments import (
    check_access_log_size,
    check_clock,
    check_maxmemory,
    check_maxsize,
    check_monitor,
    check_optional_callable,
    check_policy,
    clock_seconds,
    entry_size,
    measured_bytes,
    ttl_seconds,
    wall_offset,
)
from .pickling import restore_attributes, subclass_attributes
from .views import AccessLogView, StorageView
from ..memoize import memoize as _memoize
from .removal import RemovalReason
from .twin_admission import EAGER_MAXSIZE, AdmissionState, evict_tinylfu

#: The twin always checks its invariants (``_check_invariants``); the engine
#: does only when built with ``MOONCAKE_DEBUG=1``, and says so in its own
#: ``DEBUG_BUILD``, so tests can ask either module the same question.
DEBUG_BUILD = True

_MISSING = object()
_PLAIN_KEYS = (str, int, bytes)  # comparing these exactly runs no user code
_MAX_RESTARTS = 64  # lookups restarted by a mutating __eq__ before giving up, as in the engine
EXPIRED, EVICTED, DELETED, REPLACED, CLEARED = (
    RemovalReason.EXPIRED,
    RemovalReason.EVICTED,
    RemovalReason.DELETED,
    RemovalReason.REPLACED,
    RemovalReason.CLEARED,
)


def _fold(h):
    """32 bits of a hash: the high half, times an odd constant, xor-ed onto the
    low half. Every decision (buckets, the sketch, ghost fingerprints) is made
    on it, as in the engine, whose records keep only these 32 bits."""
    h &= 0xFFFF_FFFF_FFFF_FFFF
    return (h & 0xFFFF_FFFF) ^ (((h >> 32) * 0x9E3779B1) & 0xFFFF_FFFF)


def _hash(key):
    """The key's folded hash; a user __hash__ may re-enter the cache, so it is counted."""
    if type(key) in _PLAIN_KEYS:
        return _fold(hash(key))
    with calling_user_code(" in a key's __hash__"):
        return _fold(hash(key))


class _Entry:
    __slots__ = ("key", "hash", "value", "put_time", "ttl", "hits", "visited", "seq", "size",
                 "heap_token", "removed")

    def __init__(self, key, key_hash, value, put_time, ttl, seq, size):
        self.key = key
        self.hash = key_hash
        self.value = value
        self.put_time = put_time
        self.ttl = ttl
        self.hits = 0
        self.visited = False
        self.seq = seq  # its place in the SIEVE queue: insertion order
        self.size = size  # its weight against maxmemory (0 without a budget)
        self.heap_token = 0  # names its current item in the expiry heap
        self.removed = False

    @property
    def expires_at(self):
        return self.put_time + self.ttl

    def is_live(self, now):
        return now < self.put_time + self.ttl

    def seconds_left(self, now):
        # put time + ttl - now can round to a hair above ttl: never report more.
        return min(self.put_time + self.ttl - now, self.ttl)


class SimpleMooncake:
    """A key/value cache with a TTL per key and an optional size bound.

    ``SimpleMooncake(maxsize=None, *, clock=None, access_log_size=10000,
    on_remove=None, maxmemory=None, getsizeof=None, monitor=None, policy=None)``

    ``maxsize``: None (unbounded) or an int >= 1; when a new key would exceed
    it, expired entries go first, then one victim chosen by ``policy``.
    ``policy``: ``"tinylfu"`` (W-TinyLFU-SIEVE, the default), ``"sieve"``, or
    None for the default (``"sieve"`` when ``maxmemory`` is set). Not a str:
    TypeError; an unknown name, or ``"tinylfu"`` with ``maxmemory``: ValueError.
    ``clock``: None for the built-in monotonic clock, or a zero-argument
    callable returning seconds; every expiry decision uses its readings.
    ``access_log_size``: how many recent get hits ``access_log`` keeps (0: none).
    ``on_remove``: None, or ``on_remove(key, value, reason)`` called after each
    removal (reason: a ``RemovalReason``), once the table is consistent.
    ``maxmemory``: None, or a budget in bytes for the sum of entry weights:
    ``getsizeof(value)`` if given, else ``sys.getsizeof(key) + sys.getsizeof(value)``.
    ``monitor``: None, or a ``SimpleMonitor`` that records each operation.

    ``__init__`` runs once: calling it again (even after it failed) raises
    TypeError. Until it has completed, every operation raises RuntimeError (a
    subclass must call ``super().__init__()`` before using the cache).
    """

    _init_started = False  # class defaults, shadowed by __init__
    _ready = False
    _maxsize = _maxmemory = _monitor = None

    def __init__(self, maxsize=None, *, clock=None, access_log_size=10000,
                 on_remove=None, maxmemory=None, getsizeof=None, monitor=None, policy=None):
        if self._init_started:
            raise TypeError(f"{type(self).__name__}.__init__ may run only once; create a new cache instead")
        self._init_started = True
        self._maxsize = check_maxsize(maxsize)
        self._maxmemory = check_maxmemory(maxmemory)
        self._policy = check_policy(policy, self._maxmemory)
        self._clock = check_clock(clock)
        log_size = check_access_log_size(access_log_size)
        self._on_remove = check_optional_callable("on_remove", on_remove)
        self._getsizeof = check_optional_callable("getsizeof", getsizeof)
        self._monitor = check_monitor(monitor)
        self._lock = threading.RLock()
        self._buckets = {}  # hash -> [entry, ...]
        self._queue = {}  # seq -> entry, oldest first: the SIEVE queue
        self._version = 0  # bumped by every insertion and removal
        self._heap = []  # (expires_at, token, entry); stale items are skipped
        self._heap_tokens = 0
        self._next_seq = 0
        self._hand = 0  # SIEVE hand: the seq from which the next victim search starts
        # W-TinyLFU-SIEVE: entries of seq < boundary are main (a SIEVE queue,
        # the hand among them), the newer ones the window (FIFO).
        self._tinylfu = self._policy == "tinylfu" and self._maxsize is not None
        self._boundary = 0
        self._n_main = self._n_window = 0
        self._admission = None  # AdmissionState, built when needed (see tinylfu.EAGER_MAXSIZE)
        if self._tinylfu and self._maxsize <= EAGER_MAXSIZE:
            self._admission = AdmissionState(self._maxsize)
        self._memory = 0  # sum of entry sizes, kept with a budget
        self._log = collections.deque(maxlen=log_size)
        self._log_size = log_size
        self._hits = self._misses = self._puts = 0
        self._deletes = self._expirations = self._evictions = 0
        self._wall_offset = wall_offset(self._now())
        self._ready = True

    # -- time -------------------------------------------------------------

    def _check_ready(self):
        if not self._ready:
            raise RuntimeError(
                f"this {type(self).__name__} is not initialised: its __init__ has not run, or failed; "
                "a subclass must call super().__init__() before using the cache")

    def _now(self):
        if self._clock is None:
            return time.monotonic()
        with calling_user_code(" in the cache's clock"):
            reading = self._clock()
        return clock_seconds(reading)

    # -- the graveyard ----------------------------------------------------

    def _release(self, graveyard):
        """Call on_remove for each removal, then drop the references."""
        callback = self._on_remove
        for i, (key, value, reason) in enumerate(graveyard):
            graveyard[i] = None
            if callback is not None and reason is not None:
                try:
                    with calling_user_code(" in on_remove"):
                        callback(key, value, reason)
                except BaseException:
                    report_unraisable(callback)
            del key, value  # here, as the engine drops each one after its callback
        graveyard.clear()

    @contextlib.contextmanager
    def _operation(self):
        """One public operation: under the lock, with one clock reading and a
        graveyard that is emptied once the operation is complete."""
        self._check_ready()
        graveyard = []
        try:
            with self._lock:
                yield self._now(), graveyard
        finally:
            self._release(graveyard)

    # -- the table --------------------------------------------------------

    def _lookup(self, key, key_hash):
        """The entry holding key, or None: identity first, then ``==``."""
        for _ in range(_MAX_RESTARTS):
            for entry in self._buckets.get(key_hash, ()):
                if entry.key is key:
                    return entry
                version = self._version
                if type(entry.key) in _PLAIN_KEYS and type(key) in _PLAIN_KEYS:
                    equal = entry.key == key
                else:  # a user __eq__ may re-enter the cache: count it, as the engine does
                    with calling_user_code(" in a key's __eq__"):
                        equal = bool(entry.key == key)
                if self._version != version:
                    break  # the table changed under the comparison: start again
                if equal:
                    return entry
            else:
                return None
        raise RuntimeError("the cache kept changing while a key's __eq__ ran; lookup abandoned")

    def _find(self, key, key_hash, now, graveyard):
        """The live entry for key, or None. An expired one met here is removed."""
        entry = self._lookup(key, key_hash)
        if entry is not None and not entry.is_live(now):
            self._remove(entry, graveyard, EXPIRED)
            self._expirations += 1
            return None
        return entry

    def _remove(self, entry, graveyard, reason):
        bucket = self._buckets[entry.hash]
        bucket[:] = [e for e in bucket if e is not entry]  # by identity: no __eq__
        if not bucket:
            del self._buckets[entry.hash]
        end = self._boundary if self._tinylfu else math.inf
        if entry.seq == self._hand:
            # As in the SIEVE paper: the hand moves to the next newer entry
            # (of main, with tinylfu), or back to the oldest when there is none.
            self._hand = next((seq for seq in self._queue if entry.seq < seq < end), 0)
        if self._tinylfu:
            if entry.seq < end:
                self._n_main -= 1
            else:
                self._n_window -= 1
        del self._queue[entry.seq]
        self._version += 1
        entry.removed = True
        self._memory -= entry.size
        # A stale heap item may outlive the entry: it must not keep the key
        # and value alive.
        graveyard.append((entry.key, entry.value, reason))
        entry.key = entry.value = None

    def _schedule(self, entry):
        """(Re)file the entry in the expiry heap; its older heap item goes stale."""
        self._heap_tokens += 1
        entry.heap_token = self._heap_tokens
        if entry.ttl != math.inf:
            heapq.heappush(self._heap, (entry.expires_at, entry.heap_token, entry))
        if len(self._heap) > 2 * len(self._queue) + 16:
            self._heap = [item for item in self._heap if self._is_current(item)]
            heapq.heapify(self._heap)

    @staticmethod
    def _is_current(item):
        _, token, entry = item
        return entry.heap_token == token and not entry.removed

    def _purge_expired(self, now, graveyard):
        removed = 0
        while self._heap and self._heap[0][0] <= now:
            item = heapq.heappop(self._heap)
            if self._is_current(item):
                self._remove(item[2], graveyard, EXPIRED)
                removed += 1
        self._expirations += removed
        return removed

    def _sieve_victim(self, spared, end=math.inf):
        """The SIEVE victim among the entries of seq < ``end``: from the hand
        towards newer entries, wrapping around, the first entry not visited
        since the hand last passed it (never ``spared``, the entry a put is
        writing). The hand rests on it; removing it moves the hand on."""
        queue = [e for e in self._queue.values() if e is not spared and e.seq < end]
        i = next((i for i, e in enumerate(queue) if e.seq >= self._hand), 0)
        while queue[i].visited:
            queue[i].visited = False
            i = (i + 1) % len(queue)
        self._hand = queue[i].seq
        return queue[i]

    def _evict(self, entry, graveyard):
        self._remove(entry, graveyard, EVICTED)
        self._evictions += 1

    def _over_budget(self, extra_entries, extra_bytes):
        return (self._maxsize is not None and len(self._queue) + extra_entries > self._maxsize) or (
            self._maxmemory is not None and self._memory + extra_bytes > self._maxmemory)

    def _make_room(self, extra_entries, extra_bytes, spared, now, graveyard):
        """Free room for what a put adds: expired entries first, then the policy's victims."""
        if not self._over_budget(extra_entries, extra_bytes):
            return
        self._purge_expired(now, graveyard)
        if self._tinylfu:
            # Only a new key can be over a count-only budget: one removal.
            if self._over_budget(extra_entries, extra_bytes):
                if self._admission is None:
                    self._admission = AdmissionState(self._maxsize)
                evict_tinylfu(self, graveyard)
            return
        while self._over_budget(extra_entries, extra_bytes) and len(self._queue) > (spared is not None):
            self._evict(self._sieve_victim(spared), graveyard)

    # -- the instrumented cache -------------------------------------------

    def _record(self, operation, started, success, value=None):
        elapsed = max(time.perf_counter() - started, 0.0)
        try:
            with calling_user_code(" in the cache's monitor"):
                self._monitor.record_operation(
                    operation, elapsed, success, sys.getsizeof(value) if value is not None else 0)
        except BaseException:
            report_unraisable(self._monitor)

    def _timed(self, operation, call, success=bool, size_of=lambda result: None):
        """Run ``call()``; with a monitor, record how long it took."""
        if self._monitor is None:
            return call()
        started = time.perf_counter()
        try:
            result = call()
        except BaseException:
            self._record(operation, started, False)
            raise
        self._record(operation, started, success(result), size_of(result))
        return result

    # -- the public API ---------------------------------------------------

    def put(self, key, value, ttl=3600):
        """Store ``value`` under ``key`` for ``ttl`` seconds; return True.

        The entry is live while ``now < put_time + ttl``: ``ttl <= 0`` stores
        nothing and removes any older value of the key; ``math.inf`` never
        expires. Overwriting a key never evicts for ``maxsize``. When the cache
        is full, expired entries go first, then the policy's victims. With
        ``maxmemory``, a value weighing more than the whole budget is refused:
        put returns False and changes nothing. Unhashable key or non-real ttl:
        TypeError; NaN ttl: ValueError; the cache is then unchanged.
        """
        seconds = ttl_seconds(ttl)
        return self._timed("put", lambda: self._put_one(key, value, seconds),
                           size_of=lambda stored: value if stored else None)

    def _put_one(self, key, value, seconds):
        key_hash = _hash(key)
        size = 0
        if self._maxmemory is not None:
            size = entry_size(self._getsizeof, key, value)
            if size > self._maxmemory:
                return False
        with self._operation() as (now, graveyard):
            self._put(key, key_hash, value, seconds, size, now, graveyard)
        return True

    def _put(self, key, key_hash, value, seconds, size, now, graveyard):
        entry = self._find(key, key_hash, now, graveyard)
        self._puts += 1
        if seconds <= 0:
            if entry is not None:
                self._remove(entry, graveyard, REPLACED)
            return
        if entry is None:
            if self._admission is not None:
                self._admission.adapt_window(key_hash)
                self._admission.increment(key_hash)
            self._make_room(1, size, None, now, graveyard)
            if self._tinylfu:
                self._n_window += 1
            entry = _Entry(key, key_hash, value, now, seconds, self._next_seq, size)
            self._next_seq += 1
            self._buckets.setdefault(key_hash, []).append(entry)
            self._queue[entry.seq] = entry
            self._version += 1
            self._memory += size
            self._schedule(entry)
            return
        if self._maxmemory is not None:
            self._make_room(0, size - entry.size, entry, now, graveyard)
            self._memory += size - entry.size
            entry.size = size
        graveyard.append((entry.key, entry.value, REPLACED))
        entry.value = value
        entry.put_time = now
        entry.ttl = seconds
        entry.hits = 0
        entry.visited = True
        if self._admission is not None:
            self._admission.increment(key_hash)
        self._schedule(entry)

    def get(self, key, default=None):
        """The live value of ``key``, else ``default``. Counts a hit or a miss; an
        expired entry met here is removed (an expiration and a miss)."""
        result = self._timed(
            "get", lambda: self._get_one(key),
            success=lambda r: r is not _MISSING,
            size_of=lambda r: r if r is not _MISSING else None,
        )
        return default if result is _MISSING else result

    def _get_one(self, key):
        key_hash = _hash(key)
        with self._operation() as (now, graveyard):
            entry = self._find(key, key_hash, now, graveyard)
            if entry is None:
                self._misses += 1
                return _MISSING
            self._hits += 1
            entry.hits += 1
            entry.visited = True
            if self._admission is not None:
                self._admission.increment(key_hash)
            if self._log_size:
                self._log.append((entry.key, now + self._wall_offset))
            return entry.value

    def __getitem__(self, key):
        """``cache[key]``: ``self.get(key)``, but KeyError if absent or expired.
        The item syntax always goes through the named methods, so a subclass
        overriding get, put or delete sees it too."""
        value = self.get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def __setitem__(self, key, value):
        """``cache[key] = value``: ``self.put(key, value)``, the default ttl of 3600 seconds."""
        self.put(key, value)

    def delete(self, key):
        """Remove ``key``. True if a live entry was removed; False if it was absent
        or already expired (an expired one is removed and counted as expired)."""
        return self._timed("delete", lambda: self._pop(key) is not _MISSING)

    def __delitem__(self, key):
        """``del cache[key]``: ``self.delete(key)``, but KeyError if absent or expired."""
        if not self.delete(key):
            raise KeyError(key)

    def pop(self, key, default=_MISSING):
        """Remove ``key`` and return its live value; ``default`` (or KeyError when
        no default is given) if it was absent or expired. Not a hit or a miss."""
        value = self._pop(key)
        if value is _MISSING:
            if default is _MISSING:
                raise KeyError(key)
            return default
        return value

    def _pop(self, key):
        key_hash = _hash(key)
        with self._operation() as (now, graveyard):
            entry = self._find(key, key_hash, now, graveyard)
            if entry is None:
                return _MISSING
            value = entry.value
            self._remove(entry, graveyard, DELETED)
            self._deletes += 1
            return value

    def __contains__(self, key):
        """True if ``key`` is live. Not a hit or a miss; an expired entry met here
        is removed."""
        key_hash = _hash(key)
        with self._operation() as (now, graveyard):
            return self._find(key, key_hash, now, graveyard) is not None

    def ttl(self, key):
        """Seconds left for a live ``key`` (``math.inf`` if it never expires), else None.
        Never more than the ttl given to its last put or touch."""
        key_hash = _hash(key)
        with self._operation() as (now, graveyard):
            entry = self._find(key, key_hash, now, graveyard)
            return None if entry is None else entry.seconds_left(now)

    def touch(self, key, ttl):
        """Restart a live key's TTL at ``ttl`` seconds from now. False if it is
        absent or expired. ``ttl <= 0`` expires the entry at once (still True)."""
        seconds = ttl_seconds(ttl)
        key_hash = _hash(key)
        with self._operation() as (now, graveyard):
            entry = self._find(key, key_hash, now, graveyard)
            if entry is None:
                return False
            if seconds <= 0:
                self._remove(entry, graveyard, EXPIRED)
                self._expirations += 1
            else:
                entry.put_time = now
                entry.ttl = seconds
                self._schedule(entry)
            return True

    def cleanup_expired(self):
        """Remove every expired entry and return how many were removed:
        O(k log n) for k expired among n, never a scan of the table."""
        return self._timed("cleanup_expired", self._cleanup, success=lambda n: True)

    def _cleanup(self):
        with self._operation() as (now, graveyard):
            return self._purge_expired(now, graveyard)

    def clear(self):
        """Remove every entry (on_remove gets reason "cleared" for each).
        Counters and the access log are kept."""
        with self._operation() as (_, graveyard):
            entries = list(self._queue.values())
            self._buckets.clear()
            self._queue.clear()
            self._version += 1
            self._heap.clear()
            self._hand = 0
            self._boundary = self._next_seq  # every later entry joins the window
            self._n_main = self._n_window = 0
            if self._admission is not None:  # counters, ghosts and window share start over
                self._admission = AdmissionState(self._maxsize)
            self._memory = 0
            for entry in entries:
                entry.removed = True
                graveyard.append((entry.key, entry.value, CLEARED))
                entry.key = entry.value = None

    def __class_getitem__(cls, params):
        """``SimpleMooncake[str, bytes]``: the key and value types, for annotations
        (a ``types.GenericAlias``; the cache itself checks no types)."""
        return GenericAlias(cls, params)

    def __len__(self):
        """The number of live entries (expired ones are removed first)."""
        with self._operation() as (now, graveyard):
            self._purge_expired(now, graveyard)
            return len(self._queue)

    def _live_entries(self, purge=True):
        """The live entries, oldest first, and the clock reading they were taken at."""
        with self._operation() as (now, graveyard):
            if purge:
                self._purge_expired(now, graveyard)
            return [e for e in self._queue.values() if e.is_live(now)], now

    def keys(self):
        """A list of the live keys, oldest first."""
        return [e.key for e in self._live_entries()[0]]

    def values(self):
        """A list of the live values, in key order."""
        return [e.value for e in self._live_entries()[0]]

    def items(self):
        """A list of the live ``(key, value)`` pairs, in key order."""
        return [(e.key, e.value) for e in self._live_entries()[0]]

    def __iter__(self):
        """Iterate over a snapshot of the live keys."""
        return iter(self.keys())

    def get_many(self, keys):
        """``{key: value}`` for the live ones among ``keys``; each counts a hit or a miss."""
        keys = list(keys)

        def fetch():
            for key in keys:
                _hash(key)  # an unhashable key fails before anything is counted
            found = {}
            for key in keys:
                value = self._get_one(key)
                if value is not _MISSING:
                    found[key] = value
            return found

        return self._timed("get_many", fetch, success=lambda found: len(found) == len(keys))

    def put_many(self, items, ttl=3600):
        """Store every ``(key, value)`` of a mapping or iterable of pairs with one
        ``ttl``; return how many were stored (0 when ``ttl <= 0``; values refused
        by ``maxmemory`` are not counted). A bad ttl, a malformed pair or an
        unhashable key raises before anything is stored."""
        seconds = ttl_seconds(ttl)
        pairs = list(items.items()) if hasattr(items, "keys") else [as_pair(p) for p in items]

        def store():
            for key, _ in pairs:
                _hash(key)  # an unhashable key fails before anything is stored
            stored = sum(self._put_one(key, value, seconds) for key, value in pairs)
            return stored if seconds > 0 else 0

        return self._timed("put_many", store, success=lambda n: True)

    def memoize(self, ttl=3600, key=None):
        """Decorate a function or coroutine function to cache its results here.
        See ``mooncake.memoize`` for the rules."""
        return _memoize(self, ttl=ttl, key=key)

    def memoize_method(self, ttl=3600, key=None):
        """Like ``memoize``, for methods: results are cached per instance, and
        the cache holds no reference to the instance."""
        return _memoize(self, ttl=ttl, key=key, per_instance=True)

    @property
    def storage(self):
        """A read-only mapping view ``key -> {'value', 'created_at', 'ttl', 'access_count'}``."""
        return StorageView(self)

    @property
    def access_log(self):
        """A read-only sequence of the most recent get hits, oldest first."""
        return AccessLogView(self)

    @property
    def maxsize(self):
        """The bound on the number of live entries (None: unbounded)."""
        return self._maxsize

    @property
    def maxmemory(self):
        """The budget in bytes for the sum of entry weights (None: no budget)."""
        return self._maxmemory

    @property
    def policy(self):
        """The eviction policy's name: ``"tinylfu"`` or ``"sieve"``."""
        return self._policy

    def _entry_info(self, key):
        key_hash = _hash(key)
        with self._operation() as (now, graveyard):
            entry = self._find(key, key_hash, now, graveyard)
            if entry is None:
                return None
            return {
                "value": entry.value,
                "created_at": entry.put_time + self._wall_offset,
                "ttl": entry.ttl,
                "access_count": entry.hits,
            }

    def _access_log_snapshot(self):
        self._check_ready()
        with self._lock:
            return list(self._log)

    def _access_log_len(self):
        self._check_ready()
        return len(self._log)

    def _access_log_item(self, index):
        self._check_ready()
        with self._lock:
            try:
                return self._log[index]
            except IndexError:
                raise IndexError("access_log index out of range") from None

    def get_stats(self):
        """Counters and sizes; expired entries are removed first.

        ``memory_usage`` is the sum of the live entries' sizes: with
        ``maxmemory``, the weights taken at put (the budget's own accounting);
        without, ``sys.getsizeof`` of each live key and value, measured now (O(n));
        an object whose ``__sizeof__`` raises counts as its base size, so the
        stats stay readable.
        """
        entries, _ = self._live_entries()
        if self._maxmemory is not None:
            memory = self._memory
        else:
            memory = measured_bytes([x for e in entries for x in (e.key, e.value)])
        with self._lock:
            lookups = self._hits + self._misses
            return {
                "total_objects": len(self._queue),
                "total_accesses": self._hits,
                "memory_usage": memory,
                "hits": self._hits,
                "misses": self._misses,
                "hit_rate": self._hits / lookups if lookups else 0.0,
                "puts": self._puts,
                "deletes": self._deletes,
                "expirations": self._expirations,
                "evictions": self._evictions,
                "maxsize": self._maxsize,
                "maxmemory": self._maxmemory,
            }

    # -- self-checks ------------------------------------------------------

    def _check_invariants(self):
        """Check the cache's internal consistency; return None, or raise
        AssertionError naming the first broken invariant. RuntimeError if the
        cache is not initialised.

        For tests: call it between operations, never from a callback the cache
        is running (a key's ``__eq__``, ``on_remove``, a value's ``__del__``).
        It runs no user code (no hash, ``==`` or clock of the user's) and
        changes nothing. O(n); raises even under ``python -O``.
        """
        from .twin_invariants import check_invariants  # only tests call it

        self._check_ready()
        with self._lock:
            check_invariants(self)

    def __reduce__(self):
        """Live entries with their remaining TTLs, settings, counters and a
        subclass's attributes (see ``mooncake.cache.pickling``); expired entries
        are left behind, and so are the access log and hit counts per entry."""
        return (copyreg.__newobj__, (type(self),), self._state())

    def __setstate__(self, state):
        """Load a state from ``__reduce__`` into a new, uninitialised cache,
        without calling overridable methods; TypeError on one already initialised."""
        if self._init_started:
            raise TypeError("__setstate__ restores only a new, uninitialised cache")
        SimpleMooncake.__init__(self, **state["settings"])
        for key, value, seconds_left in state["entries"]:
            SimpleMooncake._put_one(self, key, value, ttl_seconds(seconds_left))
        SimpleMooncake._finish_restore(self, state["counters"], state["monitor"])
        restore_attributes(self, state["attributes"])

    def _state(self):
        entries, now = self._live_entries(purge=False)
        with self._lock:
            return {
                "settings": {
                    "maxsize": self._maxsize,
                    "clock": self._clock,
                    "access_log_size": self._log_size,
                    "on_remove": self._on_remove,
                    "maxmemory": self._maxmemory,
                    "getsizeof": self._getsizeof,
                    "policy": self._policy,
                },
                "monitor": self._monitor,  # attached last: the reload is not user traffic
                "attributes": subclass_attributes(self, SimpleMooncake, _own_attributes()),
                "entries": [(e.key, e.value, e.seconds_left(now)) for e in entries],
                "counters": (self._hits, self._misses, self._puts, self._deletes,
                             self._expirations, self._evictions),
            }

    def _finish_restore(self, counters, monitor):
        with self._lock:
            (self._hits, self._misses, self._puts, self._deletes,
             self._expirations, self._evictions) = counters
            self._monitor = check_monitor(monitor)

    def __repr__(self):
        if not self._ready:
            return f"<{type(self).__name__}, not initialised>"
        return f"{type(self).__name__}(maxsize={self._maxsize!r}, entries={len(self._queue)})"


@functools.lru_cache(maxsize=None)
def _own_attributes():
    """The instance attributes SimpleMooncake.__init__ sets (not a subclass's)."""
    return frozenset(vars(SimpleMooncake()))
