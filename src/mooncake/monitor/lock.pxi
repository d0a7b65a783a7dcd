# MonitorLock (a part of _engine.pyx): the lock a monitor hands out as ``lock``.


@cython.final
cdef class MonitorLock:
    """A monitor's ``lock``: reentrant; while one thread holds it, every method
    of the monitor called from another thread waits for its release.

    ``with monitor.lock:`` therefore makes several calls (reads, a read and a
    reset) one consistent step; the holder may call the monitor's methods.
    ``acquire(blocking=True, timeout=-1)``, ``release()`` and ``locked()``
    behave like ``threading.RLock``'s.
    """

    def __cinit__(self):
        self._rlock = threading.RLock()

    def __init__(self):
        pass  # refuses arguments, as the twin's does (a bare __cinit__ would ignore them)

    def acquire(self, blocking=True, timeout=-1):
        """Take the lock (again, if this thread holds it); False if it timed out."""
        if not self._rlock.acquire(blocking, timeout):
            return False
        self._owner = PyThread_get_thread_ident()
        self._depth += 1
        return True

    def release(self):
        """Release one level; RuntimeError if this thread does not hold it."""
        if self._depth == 0 or self._owner != PyThread_get_thread_ident():
            raise RuntimeError("cannot release a monitor lock this thread does not hold")
        self._depth -= 1
        if self._depth == 0:
            self._owner = 0
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

    def __repr__(self):
        return f"<MonitorLock {'locked' if self._depth else 'unlocked'}>"


cdef inline int _wait_turn(MonitorLock lock) except -1:
    """Wait while another thread holds ``lock``. With the GIL, no Python
    code runs between this and the caller's update, so the holder cannot
    take the lock back in between."""
    if lock._owner != 0 and lock._owner != PyThread_get_thread_ident():
        lock._rlock.acquire()
        lock._rlock.release()
    return 0
