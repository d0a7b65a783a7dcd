"""Single flight across processes for a shared memoize: a lease lock per result.

When a process's in-process leader misses a memoized result, it tries to take
the result's lock key (``SET lock token NX PX lease GET``, a helper key inside
the namespace; GET answers the holder's token, so a call whose reply was lost
and resent knows the lock it took as its own). The one that gets it reads the
result once more (another process may have just finished), computes, stores
the result and releases the lock with a compare-and-delete (a Lua script: only
its own token is deleted, never a later holder's after its lease ran out). The
others wait: woken when the lock or the result key changes (the near cache's
tracking push, when there is one) or by a bounded polling fallback, then read
the result, or take the lock themselves if the leader failed or died. A dead
leader's lock expires with its lease; a lock that does not (set by another
client without an expiry, made persistent, or not a string at all) is taken
over with a compare-and-set by a waiter that saw the same holder for a whole
lease. So no holder keeps a waiter longer than the lease (plus one poll).
"""

import os
import threading
import time

from .keys import HELPER_MARK

#: Polling fallback: the first wait, and the longest (seconds).
_POLL_FIRST, _POLL_MOST = 0.005, 0.1
_MISSING = object()


class Waiters:
    """Events of the threads waiting for a name to change, woken by the listener's pushes."""

    def __init__(self):
        self._lock = threading.Lock()
        self._events = {}

    def add(self, names):
        """One event, set when any of ``names`` is invalidated."""
        event = threading.Event()
        with self._lock:
            for name in names:
                self._events.setdefault(name, []).append(event)
        return event

    def remove(self, names, event):
        with self._lock:
            for name in names:
                events = self._events.get(name)
                if events is not None:
                    events.remove(event)
                    if not events:
                        del self._events[name]

    def wake(self, names):
        """Called with every batch of invalidated names."""
        if not self._events:
            return
        with self._lock:
            for name in names:
                for event in self._events.get(name, ()):
                    event.set()


class SingleFlight:
    """Runs a memoized function in one process at a time per result key."""

    def __init__(self, cache, lease):
        self._cache = cache
        self._lease_ms = max(1, int(lease * 1000))
        self._lease = lease

    def lock_name(self, name):
        prefix = self._cache._namespace.prefix
        return prefix + HELPER_MARK + b"lock:" + name[len(prefix):]

    def run(self, key, compute, seconds):
        """The result for memo ``key``: computed here (and stored for ``seconds``)
        if this process wins the lock, else read once the holder stored it."""
        cache = self._cache
        name = cache._namespace.key(key)
        lock = self.lock_name(name)
        token = os.urandom(16).hex().encode()
        waiters = cache._waiters
        seen, since = None, 0.0  # the holder we wait for, and when we first saw it
        while True:
            # Register before trying the lock, so a release right after our failed
            # SET NX still wakes us.
            watched = (lock, name)
            event = waiters.add(watched)
            try:
                holder = cache._acquire(lock, token, self._lease_ms)
                if holder is not None:
                    if holder != seen:
                        seen, since = holder, time.monotonic()
                    value = cache.get(key, _MISSING)
                    if value is not _MISSING:
                        return value
                    stuck = self._wait(cache, lock, holder, since, event)
                    value = cache.get(key, _MISSING)
                    if value is not _MISSING:
                        return value
                    # The holder failed or died (try to lead), or kept the lock a
                    # whole lease: one with no expiry, forged or made persistent.
                    if not stuck or not cache._take_over(lock, holder, token, self._lease_ms):
                        continue
            finally:
                waiters.remove(watched, event)
            try:
                value = cache.get(key, _MISSING)  # finished while we were getting here?
                if value is not _MISSING:
                    return value
                result = compute()
                cache.put(key, result, seconds)
                return result
            finally:
                cache._release(lock, token)

    def _wait(self, cache, lock, holder, since, event):
        """Until the lock no longer holds ``holder`` (released, expired, taken by
        another) or a push woke us: False; or until ``holder``, first seen at
        ``since``, kept it for the lease (plus one poll): True. Polls the lock
        with a growing interval as the fallback."""
        deadline = since + self._lease + _POLL_MOST
        delay = _POLL_FIRST
        while True:
            if event.is_set():
                return False
            if cache._lock_holder(lock) != holder:
                return False
            now = time.monotonic()
            if now >= deadline:
                return True
            event.wait(min(delay, deadline - now))
            delay = min(delay * 2, _POLL_MOST)
