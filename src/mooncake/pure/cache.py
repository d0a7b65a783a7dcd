"""The pure-Python SimpleMooncake: the reference model of the Cython engine.

Written to be read, not to be fast. It keeps the same rules as ``_cache.pyx``,
step for step, so that the hypothesis model test can hold the two side by side:

* entries live in a dict in insertion order; that order is also the SIEVE
  queue (oldest first), and an overwrite keeps its place, as in the engine;
* expiry uses a heapq of ``(expires_at, seq)`` with lazy deletion;
* one clock reading per operation, taken after the arguments are checked and
  the key is hashed;
* references to removed keys and values are dropped only when the operation
  is complete, because their ``__del__`` may call back into the cache.
"""

import collections
import heapq
import math
import sys
import threading
import time

from ..arguments import (
    check_access_log_size,
    check_clock,
    check_maxsize,
    clock_seconds,
    ttl_seconds,
)
from ..cache_views import AccessLogView, StorageView

_MISSING = object()


class _Entry:
    __slots__ = ("key", "value", "put_time", "ttl", "hits", "visited", "seq", "heap_token", "removed")

    def __init__(self, key, value, put_time, ttl, seq):
        self.key = key
        self.value = value
        self.put_time = put_time
        self.ttl = ttl
        self.hits = 0
        self.visited = False
        self.seq = seq  # its place in the SIEVE queue: insertion order
        self.heap_token = 0  # names its current item in the expiry heap
        self.removed = False

    @property
    def expires_at(self):
        return self.put_time + self.ttl

    def is_live(self, now):
        return now < self.put_time + self.ttl


class SimpleMooncake:
    """A key/value cache with a TTL per key and an optional size bound.

    ``maxsize``: None (unbounded) or an int >= 1. ``clock``: None for the
    built-in monotonic clock, or a zero-argument callable returning seconds.
    ``access_log_size``: how many recent get hits ``access_log`` keeps (0: none).
    """

    def __init__(self, maxsize=None, *, clock=None, access_log_size=10000):
        self._maxsize = check_maxsize(maxsize)
        self._clock = check_clock(clock)
        log_size = check_access_log_size(access_log_size)
        self._lock = threading.RLock()
        self._entries = {}
        self._heap = []  # (expires_at, token, entry); stale items are skipped
        self._heap_tokens = 0
        self._next_seq = 0
        self._hand = 0  # SIEVE hand: the seq from which the next victim search starts
        self._log = collections.deque(maxlen=log_size)
        self._log_size = log_size
        self._hits = self._misses = self._puts = 0
        self._deletes = self._expirations = self._evictions = 0
        self._wall_offset = time.time() - self._now()

    # -- time -------------------------------------------------------------

    def _now(self):
        if self._clock is None:
            return time.monotonic()
        return clock_seconds(self._clock())

    # -- the table --------------------------------------------------------

    def _find(self, key, now, graveyard):
        """The live entry for key, or None. An expired one met here is removed."""
        entry = self._entries.get(key)
        if entry is not None and not entry.is_live(now):
            self._remove(entry, graveyard)
            self._expirations += 1
            return None
        return entry

    def _remove(self, entry, graveyard):
        # Removing by the stored key object: identity matches first, so no
        # user __eq__ runs while the table is being changed.
        del self._entries[entry.key]
        entry.removed = True
        # A stale heap item may outlive the entry: it must not keep the key
        # and value alive. They are dropped when the operation is complete.
        graveyard.append((entry.key, entry.value))
        entry.key = entry.value = None

    def _schedule(self, entry):
        """(Re)file the entry in the expiry heap; its older heap item goes stale."""
        self._heap_tokens += 1
        entry.heap_token = self._heap_tokens
        if entry.ttl != math.inf:
            heapq.heappush(self._heap, (entry.expires_at, entry.heap_token, entry))
        if len(self._heap) > 2 * len(self._entries) + 16:
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
                self._remove(item[2], graveyard)
                removed += 1
        self._expirations += removed
        return removed

    def _evict_one(self, graveyard):
        """Remove the SIEVE victim: from the hand towards newer entries, wrapping
        around, the first entry not visited since the hand last passed it."""
        queue = list(self._entries.values())
        start = next((i for i, e in enumerate(queue) if e.seq >= self._hand), 0)
        i = start
        while queue[i].visited:
            queue[i].visited = False
            i = (i + 1) % len(queue)
        victim = queue[i]
        self._hand = victim.seq + 1
        self._remove(victim, graveyard)
        self._evictions += 1

    # -- the public API ---------------------------------------------------

    def put(self, key, value, ttl=3600):
        """Store ``value`` under ``key`` for ``ttl`` seconds and return True.

        The entry is live while ``now < put_time + ttl``: ``ttl <= 0`` stores
        nothing and removes any older value of the key; ``math.inf`` never
        expires. Overwriting a key never evicts. When the cache is full, expired
        entries go first, then one SIEVE victim. Unhashable key or non-real ttl:
        TypeError; NaN ttl: ValueError; the cache is then unchanged.
        """
        seconds = ttl_seconds(ttl)
        hash(key)
        graveyard = []
        with self._lock:
            now = self._now()
            self._put(key, value, seconds, now, graveyard)
        del graveyard[:]
        return True

    def _put(self, key, value, seconds, now, graveyard):
        entry = self._find(key, now, graveyard)
        self._puts += 1
        if seconds <= 0:
            if entry is not None:
                self._remove(entry, graveyard)
            return
        if entry is not None:
            graveyard.append(entry.value)
            entry.value = value
            entry.put_time = now
            entry.ttl = seconds
            entry.hits = 0
            entry.visited = True
            self._schedule(entry)
            return
        if self._maxsize is not None and len(self._entries) >= self._maxsize:
            self._purge_expired(now, graveyard)
            if len(self._entries) >= self._maxsize:
                self._evict_one(graveyard)
        entry = _Entry(key, value, now, seconds, self._next_seq)
        self._next_seq += 1
        self._entries[key] = entry
        self._schedule(entry)

    def get(self, key, default=None):
        """The live value of ``key``, else ``default``. Counts a hit or a miss; an
        expired entry met here is removed (an expiration and a miss)."""
        hash(key)
        graveyard = []
        with self._lock:
            now = self._now()
            entry = self._find(key, now, graveyard)
            if entry is None:
                self._misses += 1
                return default
            self._hits += 1
            entry.hits += 1
            entry.visited = True
            if self._log_size:
                self._log.append((entry.key, now + self._wall_offset))
            return entry.value

    def __getitem__(self, key):
        value = self.get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def __setitem__(self, key, value):
        self.put(key, value)

    def delete(self, key):
        """Remove ``key``. True if a live entry was removed; False if it was absent
        or already expired (an expired one is removed and counted as expired)."""
        return self._pop(key) is not _MISSING

    def __delitem__(self, key):
        if self._pop(key) is _MISSING:
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
        hash(key)
        graveyard = []
        with self._lock:
            now = self._now()
            entry = self._find(key, now, graveyard)
            if entry is None:
                return _MISSING
            value = entry.value
            self._remove(entry, graveyard)
            self._deletes += 1
            return value

    def __contains__(self, key):
        hash(key)
        graveyard = []
        with self._lock:
            return self._find(key, self._now(), graveyard) is not None

    def ttl(self, key):
        """Seconds left for a live ``key`` (``math.inf`` if it never expires), else None."""
        hash(key)
        graveyard = []
        with self._lock:
            now = self._now()
            entry = self._find(key, now, graveyard)
            if entry is None:
                return None
            return entry.expires_at - now

    def touch(self, key, ttl):
        """Restart a live key's TTL at ``ttl`` seconds from now. False if it is
        absent or expired. ``ttl <= 0`` expires the entry at once (still True)."""
        seconds = ttl_seconds(ttl)
        hash(key)
        graveyard = []
        with self._lock:
            now = self._now()
            entry = self._find(key, now, graveyard)
            if entry is None:
                return False
            entry.put_time = now
            entry.ttl = seconds
            if seconds <= 0:
                self._remove(entry, graveyard)
                self._expirations += 1
            else:
                self._schedule(entry)
            return True

    def cleanup_expired(self):
        """Remove every expired entry; return how many were removed."""
        graveyard = []
        with self._lock:
            return self._purge_expired(self._now(), graveyard)

    def clear(self):
        """Remove every entry. Counters and the access log are kept."""
        with self._lock:
            graveyard = []
            entries = list(self._entries.values())
            self._entries.clear()
            for entry in entries:
                entry.removed = True
                graveyard.append((entry.key, entry.value))
                entry.key = entry.value = None
            self._heap.clear()
            self._hand = 0
        del graveyard[:]

    def __len__(self):
        """The number of live entries (expired ones are removed first)."""
        graveyard = []
        with self._lock:
            self._purge_expired(self._now(), graveyard)
            return len(self._entries)

    def _live_entries(self):
        graveyard = []
        with self._lock:
            self._purge_expired(self._now(), graveyard)
            return list(self._entries.values())

    def keys(self):
        """A list of the live keys, oldest first."""
        return [e.key for e in self._live_entries()]

    def values(self):
        """A list of the live values, in key order."""
        return [e.value for e in self._live_entries()]

    def items(self):
        """A list of the live ``(key, value)`` pairs, in key order."""
        return [(e.key, e.value) for e in self._live_entries()]

    def __iter__(self):
        return iter(self.keys())

    def get_many(self, keys):
        """``{key: value}`` for the live ones among ``keys``; each counts a hit or a miss."""
        keys = list(keys)
        for key in keys:
            hash(key)
        found = {}
        for key in keys:
            value = self.get(key, _MISSING)
            if value is not _MISSING:
                found[key] = value
        return found

    def put_many(self, items, ttl=3600):
        """Store every ``(key, value)`` of a mapping or iterable of pairs with one
        ``ttl``; return how many were stored (0 when ``ttl <= 0``). A bad ttl, a
        malformed pair or an unhashable key raises before anything is stored."""
        seconds = ttl_seconds(ttl)
        pairs = list(items.items()) if hasattr(items, "keys") else [_as_pair(p) for p in items]
        for key, _ in pairs:
            hash(key)
        for key, value in pairs:
            self.put(key, value, seconds)
        return len(pairs) if seconds > 0 else 0

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
        return self._maxsize

    def _entry_info(self, key):
        hash(key)
        graveyard = []
        with self._lock:
            entry = self._find(key, self._now(), graveyard)
            if entry is None:
                return None
            return {
                "value": entry.value,
                "created_at": entry.put_time + self._wall_offset,
                "ttl": entry.ttl,
                "access_count": entry.hits,
            }

    def _access_log_snapshot(self):
        with self._lock:
            return list(self._log)

    def get_stats(self):
        """Counters and sizes; expired entries are removed first.

        ``memory_usage`` is the sum of ``sys.getsizeof`` of the live keys and
        values, measured now (O(n)).
        """
        entries = self._live_entries()
        memory = sum(sys.getsizeof(e.key) + sys.getsizeof(e.value) for e in entries)
        with self._lock:
            lookups = self._hits + self._misses
            return {
                "total_objects": len(self._entries),
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
            }

    def __repr__(self):
        return f"{type(self).__name__}(maxsize={self._maxsize!r}, entries={len(self._entries)})"


def _as_pair(item):
    pair = tuple(item)
    if len(pair) != 2:
        raise ValueError(f"put_many needs (key, value) pairs, got an item of length {len(pair)}")
    return pair
