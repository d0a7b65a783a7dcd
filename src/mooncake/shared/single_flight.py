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
the result, or take the lock themselves if the leader failed, was cancelled or
died. A dead leader's lock expires with its lease; a lock that does not (set by
another client without an expiry, made persistent, or not a string at all) is
taken over with a compare-and-set by a waiter that saw the same holder for a
whole lease. So no holder keeps a waiter longer than the lease (plus one poll).

The algorithm (``lease_flight``) is written once, without I/O: a generator
yielding steps by name (``"acquire"``, ``"read"``, ``"wait"``, ...) that a
shell's ``LeaseSteps`` performs, by calling (sync) or awaiting (async).
"""

import asyncio
import os
import threading
import time

#: Polling fallback: the first wait, and the longest (seconds).
POLL_FIRST, POLL_MOST = 0.005, 0.1
MISSING = object()


class Waiters:
    """Who waits for a server key to change, woken by the listener's pushes.
    A waiter is any callable ``wake()`` (setting a threading or asyncio event)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._wakers = {}

    def add(self, names, wake):
        with self._lock:
            for name in names:
                self._wakers.setdefault(name, []).append(wake)

    def remove(self, names, wake):
        with self._lock:
            for name in names:
                wakers = self._wakers.get(name)
                if wakers is not None:
                    wakers.remove(wake)
                    if not wakers:
                        del self._wakers[name]

    def wake(self, names):
        """The near cache's ``on_invalidate`` hook: every batch of invalidated names."""
        if not self._wakers:
            return
        with self._lock:
            wakers = [wake for name in names for wake in self._wakers.get(name, ())]
        for wake in wakers:
            wake()


def lease_flight(lease):
    """The result for one memo key: a generator of steps (see the module's
    docstring); it returns the result, read or computed here."""
    seen, since = None, 0.0  # the holder we wait for, and when we first saw it
    while True:
        # Watch before trying the lock, so a release right after our failed
        # SET NX still wakes us.
        yield ("watch",)
        try:
            holder = yield ("acquire",)
            if holder is not None:
                if holder != seen:
                    seen, since = holder, time.monotonic()
                value = yield ("read",)
                if value is not MISSING:
                    return value
                stuck = yield from _wait(holder, since, lease)
                value = yield ("read",)
                if value is not MISSING:
                    return value
                # The holder failed or died (try to lead), or kept the lock a
                # whole lease: one with no expiry, forged or made persistent.
                if not stuck or not (yield ("take_over", holder)):
                    continue
        finally:
            yield ("unwatch",)
        try:
            value = yield ("read",)  # finished while we were getting here?
            if value is not MISSING:
                return value
            result = yield ("compute",)
            yield ("store", result)
            return result
        finally:
            yield ("release",)


def _wait(holder, since, lease):
    """Until the lock no longer holds ``holder`` (released, expired, taken by
    another) or a push woke us: False; or until ``holder``, first seen at
    ``since``, kept it for the lease (plus one poll): True. Polls the lock
    with a growing interval as the fallback."""
    deadline = since + lease + POLL_MOST
    delay = POLL_FIRST
    while True:
        if (yield ("woken",)):
            return False
        if (yield ("holder",)) != holder:
            return False
        now = time.monotonic()
        if now >= deadline:
            return True
        yield ("wait", min(delay, deadline - now))
        delay = min(delay * 2, POLL_MOST)


def new_token():
    return os.urandom(16).hex().encode()


def drive(flight, steps):
    """Run ``lease_flight`` with sync ``steps`` (an object with a method per step)."""
    reply, error = None, None
    while True:
        try:
            step = flight.send(reply) if error is None else flight.throw(error)
        except StopIteration as stop:
            return stop.value
        reply, error = None, None
        try:
            reply = getattr(steps, step[0])(*step[1:])
        except BaseException as exc:  # the flight's finally blocks release, then re-raise
            error = exc


async def drive_async(flight, steps):
    """Run ``lease_flight`` with async ``steps`` (each method a coroutine function)."""
    reply, error = None, None
    while True:
        try:
            step = flight.send(reply) if error is None else flight.throw(error)
        except StopIteration as stop:
            return stop.value
        reply, error = None, None
        try:
            reply = await getattr(steps, step[0])(*step[1:])
        except BaseException as exc:  # a cancel too: the lock is released, then it goes on
            error = exc


class LeaseLocks:
    """The lock backend a SingleFlight is handed: the lease-lock commands of
    ``core``, run by a shell's ``run(operation, plan, fallback)``. Fallbacks,
    for fail_open with the server down, all say "compute it yourself"."""

    def __init__(self, run, core):
        self._run, self._core = run, core

    def acquire(self, lock, token, ms):
        """None if taken (or it already held ``token``), else the holder's token."""
        holder = self._run("lock", self._core.lock_acquire(lock, token, ms), None)
        return None if holder == token else holder

    def release(self, lock, token):
        self._run("unlock", self._core.lock_release(lock, token), None)

    def holder(self, lock):
        """The lock's token, None if free (or unknown)."""
        return self._run("lock", self._core.lock_holder(lock), None)

    def take_over(self, lock, holder, token, ms):
        """True if ``token`` now holds the lock."""
        return self._run("lock", self._core.lock_take_over(lock, holder, token, ms), True)


class AsyncLeaseLocks(LeaseLocks):
    """LeaseLocks for an async shell: ``run`` is a coroutine function."""

    async def acquire(self, lock, token, ms):
        holder = await self._run("lock", self._core.lock_acquire(lock, token, ms), None)
        return None if holder == token else holder

    async def release(self, lock, token):
        await self._run("unlock", self._core.lock_release(lock, token), None)

    async def holder(self, lock):
        return await self._run("lock", self._core.lock_holder(lock), None)

    async def take_over(self, lock, holder, token, ms):
        return await self._run("lock", self._core.lock_take_over(lock, holder, token, ms), True)


class _Steps:
    """What every shell's steps share: one flight's names and collaborators."""

    def __init__(self, flight, key, compute, seconds):
        self.cache, self.locks, self.waiters = flight.cache, flight.locks, flight.waiters
        self.key, self.compute_result, self.seconds = key, compute, seconds
        self.name = flight.core.namespace.key(key)
        self.lock = flight.core.lock_name(self.name)
        self.watched = (self.lock, self.name)
        self.token = new_token()
        self.lease_ms = flight.lease_ms


class LeaseSteps(_Steps):
    """The steps on a SharedMooncake, in the calling thread."""

    def watch(self):
        self.event = threading.Event()
        self.waiters.add(self.watched, self.event.set)

    def unwatch(self):
        self.waiters.remove(self.watched, self.event.set)

    def acquire(self):
        return self.locks.acquire(self.lock, self.token, self.lease_ms)

    def read(self):
        return self.cache.get(self.key, MISSING)

    def woken(self):
        return self.event.is_set()

    def holder(self):
        return self.locks.holder(self.lock)

    def wait(self, seconds):
        self.event.wait(seconds)

    def take_over(self, holder):
        return self.locks.take_over(self.lock, holder, self.token, self.lease_ms)

    def compute(self):
        return self.compute_result()

    def store(self, result):
        self.cache.put(self.key, result, self.seconds)

    def release(self):
        self.locks.release(self.lock, self.token)


class AsyncLeaseSteps(_Steps):
    """The steps on an AsyncSharedMooncake, in the calling task; the listener
    thread wakes it through its loop."""

    async def watch(self):
        self.event = asyncio.Event()
        loop, event = asyncio.get_running_loop(), self.event

        def wake():  # from the listener thread
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # the loop is closed: nobody waits any more
                pass
        self.wake = wake
        self.waiters.add(self.watched, self.wake)

    async def unwatch(self):
        self.waiters.remove(self.watched, self.wake)

    async def acquire(self):
        return await self.locks.acquire(self.lock, self.token, self.lease_ms)

    async def read(self):
        return await self.cache.get(self.key, MISSING)

    async def woken(self):
        return self.event.is_set()

    async def holder(self):
        return await self.locks.holder(self.lock)

    async def wait(self, seconds):
        try:
            await asyncio.wait_for(self.event.wait(), seconds)
        except asyncio.TimeoutError:
            pass

    async def take_over(self, holder):
        return await self.locks.take_over(self.lock, holder, self.token, self.lease_ms)

    async def compute(self):
        return await self.compute_result()

    async def store(self, result):
        await self.cache.put(self.key, result, self.seconds)

    async def release(self):
        await self.locks.release(self.lock, self.token)


class SingleFlight:
    """Runs a memoized function in one process at a time per result key.

    ``cache``: the shell (its public get and put read and store results);
    ``core``: its SharedCore (names of results and locks); ``locks``: a
    LeaseLocks; ``waiters``: the Waiters its near cache wakes."""

    def __init__(self, cache, core, locks, waiters, lease):
        self.cache, self.core, self.locks, self.waiters = cache, core, locks, waiters
        self.lease = lease
        self.lease_ms = max(1, int(lease * 1000))

    def run(self, key, compute, seconds):
        """The result for memo ``key``: computed here (and stored for ``seconds``)
        if this process wins the lock, else read once the holder stored it."""
        return drive(lease_flight(self.lease), LeaseSteps(self, key, compute, seconds))


class AsyncSingleFlight(SingleFlight):
    """SingleFlight for coroutine functions on an AsyncSharedMooncake."""

    async def run(self, key, compute, seconds):
        return await drive_async(lease_flight(self.lease), AsyncLeaseSteps(self, key, compute, seconds))
