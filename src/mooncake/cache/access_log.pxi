# The access log: a ring of the most recent get hits (key and wall-clock
# time), allocated as hits come, growing towards ``log_capacity``.


cdef inline void log_prefetch(SimpleMooncake self) noexcept nogil:
    if self.log_len == self.log_ring and self.log_len:
        # A hit will drop the oldest logged key: its reference count is in a
        # line no recent operation touched (see csrc/mc_prefetch.h).
        mc_prefetch_write(self.log[self.log_next].key)


cdef inline PyObject *log_hit(SimpleMooncake self, PyObject *key, double now) noexcept:
    """Log a get hit on ``key`` at cache-clock time ``now`` (if the cache keeps
    a log). Returns the oldest key's reference when the full ring dropped it,
    else NULL: the caller releases it once the table is consistent, because
    its __del__ may re-enter the cache."""
    cdef LogItem *slot
    cdef PyObject *dropped = NULL
    if self.log_capacity and (self.log_len < self.log_ring or self.log_ring == self.log_capacity
                              or grow_log(self)):
        slot = &self.log[self.log_next]
        if self.log_len == self.log_ring:
            dropped = slot.key
        else:
            self.log_len += 1
        Py_INCREF(<object>key)
        slot.key = key
        slot.timestamp = now + self.wall_offset
        self.log_next += 1
        if self.log_next == self.log_ring:
            self.log_next = 0
    return dropped


cdef bint grow_log(SimpleMooncake self) noexcept:
    """The access-log ring is full: grow it towards ``log_capacity``, doubling,
    oldest record first. True if there is a slot to write (a ring that cannot
    grow, for want of memory or because it reached its bound, wraps)."""
    cdef Py_ssize_t ring = self.log_ring
    cdef Py_ssize_t grown, i
    cdef LogItem *fresh
    if ring < self.log_capacity:
        grown = 16 if ring < 8 else 2 * ring
        if grown > self.log_capacity:
            grown = self.log_capacity
        fresh = <LogItem *>PyMem_Malloc(<size_t>grown * sizeof(LogItem))
        if fresh != NULL:
            for i in range(self.log_len):
                fresh[i] = self.log[(self.log_next + i) % ring]
            PyMem_Free(self.log)
            self.log = fresh
            self.log_ring = grown
            self.log_next = self.log_len
    return ring > 0 or self.log_ring > 0


cdef inline Py_ssize_t log_position(SimpleMooncake self, Py_ssize_t i) noexcept nogil:
    """Where the ``i``-th oldest retained hit sits in the ring."""
    cdef Py_ssize_t pos = self.log_next - self.log_len + i
    if pos < 0:
        pos += self.log_ring
    return pos
