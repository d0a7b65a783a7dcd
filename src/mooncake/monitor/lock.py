"""``monitor.lock`` of the pure-Python monitor: a reentrant lock that knows whether it is held.

The Cython engine has its own (``mooncake.monitor._engine.MonitorLock``) with the
same behaviour; this one is what the pure twin's methods take on every call.
"""

import threading

__all__ = ["MonitorLock"]


class MonitorLock:
    """A monitor's ``lock``: reentrant; while one thread holds it, every method
    of the monitor called from another thread waits for its release.

    ``with monitor.lock:`` therefore makes several calls (reads, a read and a
    reset) one consistent step; the holder may call the monitor's methods.
    ``acquire(blocking=True, timeout=-1)``, ``release()`` and ``locked()``
    behave like ``threading.RLock``'s.
    """

    __slots__ = ("_rlock", "_owner", "_depth")

    def __init_subclass__(cls, **kwargs):
        # The engine's MonitorLock is a final type; so is this one.
        raise TypeError("type 'MonitorLock' is not an acceptable base type")

    def __init__(self):
        self._rlock = threading.RLock()
        self._owner = None
        self._depth = 0

    def acquire(self, blocking=True, timeout=-1):
        """Take the lock (again, if this thread holds it); False if it timed out."""
        if not self._rlock.acquire(blocking, timeout):
            return False
        self._owner = threading.get_ident()
        self._depth += 1
        return True

    def release(self):
        """Release one level; RuntimeError if this thread does not hold it."""
        if self._depth == 0 or self._owner != threading.get_ident():
            raise RuntimeError("cannot release a monitor lock this thread does not hold")
        self._depth -= 1
        if self._depth == 0:
            self._owner = None
        self._rlock.release()

    def locked(self):
        """True while some thread holds the lock."""
        return self._depth > 0

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()
        return False

    def __reduce__(self):
        # As the engine's: a copy would share the RLock but not its holder.
        raise TypeError(f"cannot pickle or copy {type(self).__name__!r} object")

    def __repr__(self):
        return f"<MonitorLock {'locked' if self._depth else 'unlocked'}>"
