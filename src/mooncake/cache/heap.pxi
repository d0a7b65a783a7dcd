# The expiry heap: a binary min-heap of record indices ordered by each
# record's heap_key (see "lazy heap keys" in _engine.pyx). It compares C
# doubles only: no user code ever runs here.


cdef inline void heap_place(SimpleMooncake self, Py_ssize_t pos, uint32_t ix) noexcept nogil:
    self.heap[pos] = ix
    self.entries[ix].heap_pos = <uint32_t>pos


cdef void sift_up(SimpleMooncake self, Py_ssize_t pos) noexcept nogil:
    cdef uint32_t ix = self.heap[pos]
    cdef double key = self.entries[ix].heap_key
    cdef Py_ssize_t parent
    while pos > 0:
        parent = (pos - 1) >> 1
        if self.entries[self.heap[parent]].heap_key <= key:
            break
        heap_place(self, pos, self.heap[parent])
        pos = parent
    heap_place(self, pos, ix)


cdef void sift_down(SimpleMooncake self, Py_ssize_t pos) noexcept nogil:
    cdef uint32_t ix = self.heap[pos]
    cdef double key = self.entries[ix].heap_key
    cdef Py_ssize_t child
    cdef Py_ssize_t n = self.heap_len
    while True:
        child = 2 * pos + 1
        if child >= n:
            break
        if child + 1 < n and (self.entries[self.heap[child + 1]].heap_key
                              < self.entries[self.heap[child]].heap_key):
            child += 1
        if key <= self.entries[self.heap[child]].heap_key:
            break
        heap_place(self, pos, self.heap[child])
        pos = child
    heap_place(self, pos, ix)


cdef void heap_remove(SimpleMooncake self, Py_ssize_t ix) noexcept nogil:
    cdef Py_ssize_t pos = self.entries[ix].heap_pos
    cdef uint32_t last
    self.entries[ix].heap_pos = NOT_IN_HEAP
    self.heap_len -= 1
    if pos == self.heap_len:
        return
    last = self.heap[self.heap_len]
    heap_place(self, pos, last)
    sift_down(self, pos)
    sift_up(self, self.entries[last].heap_pos)


cdef inline void schedule(SimpleMooncake self, Py_ssize_t ix, double now) noexcept nogil:
    """File record ``ix`` after a put or touch set its ``expires``."""
    cdef Entry *e = &self.entries[ix]
    if e.heap_pos != NOT_IN_HEAP and e.ttl != INFINITY and not (e.expires < e.heap_key):
        return  # a later expiry (an overwrite, usually): the old key stays a valid lower bound
    refile(self, ix, now)


cdef void refile(SimpleMooncake self, Py_ssize_t ix, double now) noexcept nogil:
    """The cases of ``schedule`` that change the heap. Kept out of line, so
    that the common overwrite inlines only the test above."""
    cdef Entry *e = &self.entries[ix]
    if e.ttl == INFINITY:
        if e.heap_pos != NOT_IN_HEAP:
            heap_remove(self, ix)
        e.heap_key = now
    elif e.heap_pos == NOT_IN_HEAP:
        e.heap_key = e.expires
        heap_place(self, self.heap_len, <uint32_t>ix)
        self.heap_len += 1
        sift_up(self, self.heap_len - 1)
    else:  # an earlier expiry
        e.heap_key = e.expires
        sift_up(self, e.heap_pos)


cdef Py_ssize_t purge_expired(SimpleMooncake self, double now, Graveyard *grave) except -1:
    """Remove every expired record: O(k log n) for k of them, plus one sift
    for each entry whose lazy heap key is raised on the way."""
    cdef Py_ssize_t k = 0
    cdef Py_ssize_t ix
    cdef Entry *e
    while self.heap_len and self.entries[self.heap[0]].heap_key <= now:
        ix = self.heap[0]
        e = &self.entries[ix]
        if e.expires > now:
            e.heap_key = e.expires
            sift_down(self, 0)
            continue
        if grave_try_reserve(grave, 1) < 0:
            mc_counter_add(&self.expirations, <uint64_t>k)
            raise MemoryError()
        remove_record(self, ix, grave, REASON_EXPIRED)
        k += 1
    mc_counter_add(&self.expirations, <uint64_t>k)
    return k
