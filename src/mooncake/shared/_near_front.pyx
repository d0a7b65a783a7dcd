# cython: language_level=3
"""The near cache's hit path (mooncake.shared.near_front is its pure twin).

``SharedMooncake.get`` of a cache with a near cache is ``NearFront.get``: for a
key of an exact type the near cache stores as is (str, int, bytes, a memoized
result's key) it asks the engine straight away, and only on a miss, a key of
another type, or while the near cache is not trusted does it fall back to the
Python path (which encodes the key, reads the server and fills).
"""

cdef extern from "<poll.h>":
    struct pollfd:
        int fd
        short events
        short revents
    int poll(pollfd *fds, unsigned long nfds, int timeout) nogil
    enum:
        POLLIN

DEF MAX_LISTENERS = 64


cdef class NearFront:
    """``get(key, default=None)`` served from the near cache when it may be."""

    cdef public bint trusted
    cdef public bint strict
    cdef public long long near_hits
    cdef object _engine_get
    cdef object _drain
    cdef object _slow_get
    cdef object _missing
    cdef object _memo_key_type
    # Strict reads: the listeners' descriptors, polled without blocking, and a
    # flag the listener thread holds up from before it takes bytes off a socket
    # until it has applied them (so an empty socket is not taken for "nothing
    # pending" while a batch is still being applied).
    cdef pollfd _fds[MAX_LISTENERS]
    cdef int _nfds
    cdef public bint busy

    def __init__(self, engine_get, drain, slow_get, missing, memo_key_type, bint strict):
        self._engine_get = engine_get
        self._drain = drain
        self._slow_get = slow_get
        self._missing = missing
        self._memo_key_type = memo_key_type
        self.strict = strict
        self.trusted = False
        self.near_hits = 0
        self._nfds = -1
        self.busy = False

    def set_listeners(self, fds):
        """The listeners' file descriptors (an empty list: none)."""
        cdef int i
        if len(fds) > MAX_LISTENERS:
            self._nfds = -1  # too many to poll here: every strict read drains the slow way
            return
        for i in range(len(fds)):
            self._fds[i].fd = fds[i]
            self._fds[i].events = POLLIN
            self._fds[i].revents = 0
        self._nfds = len(fds)

    cdef bint _pending(self):
        """True if an invalidation may be waiting: bytes (or an error) on a
        listener, or the thread applying a batch."""
        if self.busy or self._nfds < 0:
            return True
        return poll(self._fds, <unsigned long>self._nfds, 0) != 0

    def get(self, key, default=None):
        """The value of ``key``, or ``default`` if it is absent, expired or rejected
        (the contract of SharedMooncake.get; near hits are served locally)."""
        cdef object kind = type(key)
        cdef object value
        if self.trusted and (kind is str or kind is int or kind is bytes
                             or kind is self._memo_key_type):
            if self.strict and self._pending():
                self._drain()
            value = self._engine_get(key, self._missing)
            if value is not self._missing and self.trusted:
                self.near_hits += 1
                return value
        return self._slow_get(key, default)

    def count_near_hit(self, n=1):
        """Count ``n`` near hits served by the Python path."""
        self.near_hits += n
