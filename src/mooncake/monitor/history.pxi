# The history (a part of _engine.pyx): a bounded ring of plain C records,
# oldest dropped first. It starts empty and doubles towards max_metrics as
# records arrive; the readers copy records out under the lock and build the
# PerformanceMetrics objects afterwards, outside it.


cdef inline Py_ssize_t _position(SimpleMonitor self, Py_ssize_t i) noexcept nogil:
    """Where the ``i``-th oldest retained record sits in the ring."""
    cdef Py_ssize_t pos = self._head - self._size + i
    if pos < 0:
        pos += self._ring_alloc
    return pos


cdef inline void _push_record(SimpleMonitor self, double ts, double d, uint64_t size,
                              Py_ssize_t op_id, bint ok) noexcept:
    """Append to the ring (grown by the caller when it could), dropping the oldest when full."""
    cdef Record *r = &self._ring[self._head]
    r.timestamp = ts
    r.duration = d
    r.data_size = size
    r.op_id = <uint32_t>op_id
    r.success = ok
    self._head += 1
    if self._head == self._ring_alloc:
        self._head = 0
    if self._size < self._ring_alloc:
        self._size += 1


cdef int _grow_ring(SimpleMonitor self) except -1:
    """The history ring is full but below max_metrics: double it (from 16),
    oldest record first."""
    cdef Py_ssize_t grown = 16 if self._ring_alloc < 8 else 2 * self._ring_alloc
    cdef Record *fresh
    cdef Py_ssize_t i
    if grown > self._capacity:
        grown = self._capacity
    fresh = <Record *>PyMem_Malloc(<size_t>grown * sizeof(Record))
    if fresh == NULL:
        raise MemoryError()
    for i in range(self._size):
        fresh[i] = self._ring[_position(self, i)]
    PyMem_Free(self._ring)
    self._ring = fresh
    self._ring_alloc = grown
    self._head = self._size
    return 0


cdef void _clear_history(SimpleMonitor self) noexcept:
    """Drop every record and give the ring's memory back."""
    PyMem_Free(self._ring)
    self._ring = NULL
    self._ring_alloc = 0
    self._head = 0
    self._size = 0


cdef Record *_copy_since(SimpleMonitor self, double cutoff, Py_ssize_t *n) noexcept:
    """Copy the records stamped at or after ``cutoff``, oldest first, into a
    new buffer (the caller frees it); ``n[0]`` is set to their number, or to
    -1 if the buffer could not be allocated."""
    cdef Record *buf = NULL
    cdef Py_ssize_t i, pos
    n[0] = 0
    if self._size:
        buf = <Record *>PyMem_Malloc(<size_t>self._size * sizeof(Record))
        if buf != NULL:
            # A linear scan: the wall clock can step back, so stamps are not sorted.
            for i in range(self._size):
                pos = _position(self, i)
                if self._ring[pos].timestamp >= cutoff:
                    buf[n[0]] = self._ring[pos]
                    n[0] += 1
        else:
            n[0] = -1
    return buf


cdef Record *_copy_slice(SimpleMonitor self, Py_ssize_t start, Py_ssize_t step, Py_ssize_t *n) noexcept:
    """Copy the ``n[0]`` records at ``start``, ``start + step``, ... (0 is the
    oldest; the slice already adjusted to the history's length) into a new
    buffer (the caller frees it); ``n[0]`` becomes -1 if it could not be allocated."""
    cdef Record *buf = NULL
    cdef Py_ssize_t i
    if n[0] > 0:
        buf = <Record *>PyMem_Malloc(<size_t>n[0] * sizeof(Record))
        if buf != NULL:
            for i in range(n[0]):
                buf[i] = self._ring[_position(self, start + i * step)]
        else:
            n[0] = -1
    return buf


cdef list _build_copied(Record *buf, Py_ssize_t n, list names):
    """Metrics from records copied out under the lock into ``buf``, which is
    then freed; ``n < 0`` means the copy could not be allocated."""
    if n < 0:
        raise MemoryError()
    try:
        return _build(buf, n, names)
    finally:
        PyMem_Free(buf)


cdef list _build(const Record *buf, Py_ssize_t n, list names):
    cdef Py_ssize_t i
    cdef list out = []
    for i in range(n):
        out.append(PerformanceMetrics(
            buf[i].timestamp, names[buf[i].op_id], buf[i].duration,
            True if buf[i].success else False, buf[i].data_size,
        ))
    return out
