# Eviction: SIEVE over the record array (its insertion order is the queue,
# oldest first, and the hand an index into it), and W-TinyLFU-SIEVE, in which
# the records below ``boundary`` are main, a SIEVE queue with the hand, and the
# newer ones the window, a FIFO (bench/POLICY.md).


cdef Py_ssize_t sieve_victim(SimpleMooncake self, Py_ssize_t spared, Py_ssize_t end) noexcept nogil:
    """Walk the hand from older to newer records below ``end``, wrapping
    around, clearing visited bits, and return the first record not visited
    (never ``spared``, the record a put is writing; one must exist). The
    hand is left on the victim, so that removing it moves the hand on as
    the paper's does (see ``remove_record`` in table.pxi)."""
    cdef Py_ssize_t i = self.hand
    cdef Entry *e
    while True:
        if i >= end:
            i = 0
        e = &self.entries[i]
        if e.key != NULL and i != spared:
            if e.hits_visited & VISITED:
                e.hits_visited &= ~VISITED
            else:
                self.hand = i
                return i
        i += 1


cdef inline Py_ssize_t next_live_or_oldest(SimpleMooncake self, Py_ssize_t i, Py_ssize_t end) noexcept nogil:
    """The first live record at ``i`` or newer, below ``end``; 0 (the oldest end) if none."""
    while i < end:
        if self.entries[i].key != NULL:
            return i
        i += 1
    return 0


cdef inline bint over_budget(SimpleMooncake self, Py_ssize_t extra_entries, Py_ssize_t extra_bytes) noexcept nogil:
    # memory <= maxmemory_ always holds (every weight is at most the budget
    # and a put evicts until it fits), so the subtraction cannot wrap.
    return ((self.maxsize_ > 0 and self.live + extra_entries > self.maxsize_)
            or (self.maxmemory_ > 0 and extra_bytes > self.maxmemory_ - self.memory))


cdef int make_room(SimpleMooncake self, Py_ssize_t extra_entries, Py_ssize_t extra_bytes, Py_ssize_t spared,
                   double now, Graveyard *grave) except -1:
    """Free room for what a put adds: expired entries first, then the policy's victims."""
    if not over_budget(self, extra_entries, extra_bytes):
        return 0
    purge_expired(self, now, grave)
    if self.tinylfu:
        # Only a new key can be over a count-only budget: one removal.
        if over_budget(self, extra_entries, extra_bytes):
            if self.admission == NULL:
                # live >= maxsize_ here, so maxsize_ < MAX_SLOTS: the sizes cannot overflow.
                self.admission = admission_new(self.maxsize_)
            grave_reserve(grave, 1)
            evict_tinylfu(self, grave)
        return 0
    while over_budget(self, extra_entries, extra_bytes) and self.live > (spared >= 0):
        grave_reserve(grave, 1)
        remove_record(self, sieve_victim(self, spared, self.nentries), grave, REASON_EVICTED)
        mc_counter_add(&self.evictions, 1)
    return 0


cdef inline Py_ssize_t oldest_window(SimpleMooncake self) noexcept nogil:
    """The first live record at or after the boundary (the window holds one)."""
    cdef Py_ssize_t i = self.boundary
    while self.entries[i].key == NULL:
        i += 1
    return i


cdef void evict_tinylfu(SimpleMooncake self, Graveyard *grave) noexcept:
    """One removal for a new key (bench/POLICY.md, make_room): the window's
    overflow joins main while main has room; then the window's oldest
    record (the candidate) displaces main's SIEVE victim if the sketch
    says it is more frequent (or as frequent, and it was hit in the window),
    else is evicted itself; or, with the window
    within its share, main gives up its victim. Moving the boundary moves
    no record. The graveyard has room for one removal."""
    cdef Admission *a = self.admission
    cdef Py_ssize_t window_max = max(<Py_ssize_t>1, min(self.maxsize_ - 1, a.window_max))
    cdef Py_ssize_t main_max = self.maxsize_ - window_max
    cdef Py_ssize_t w = self.n_window + 1  # the incoming key counts as a window record
    cdef Py_ssize_t c, v
    cdef unsigned int ec, ev
    while w > window_max and self.n_main < main_max:
        self.boundary = oldest_window(self) + 1
        self.n_window -= 1
        self.n_main += 1
        w -= 1
    if self.n_main == 0:  # maxsize 1: the window is everything
        reject(self, oldest_window(self), grave)
    elif w > window_max:
        c = oldest_window(self)
        v = sieve_victim(self, -1, self.boundary)
        ec = sketch_estimate(a, self.entries[c].hash)
        ev = sketch_estimate(a, self.entries[v].hash)
        # Ties go to a candidate hit while in the window, else to the old record.
        if ec > ev or (ec == ev and self.entries[c].hits_visited & VISITED):
            ghost_add(a, &a.evicted, fingerprint(self.entries[v].hash))
            remove_record(self, v, grave, REASON_EVICTED)
            mc_counter_add(&self.evictions, 1)
            self.boundary = c + 1  # the candidate is now main's newest record
            self.n_window -= 1
            self.n_main += 1
        else:
            reject(self, c, grave)
    else:
        v = sieve_victim(self, -1, self.boundary)
        ghost_add(a, &a.evicted, fingerprint(self.entries[v].hash))
        remove_record(self, v, grave, REASON_EVICTED)
        mc_counter_add(&self.evictions, 1)


cdef void reject(SimpleMooncake self, Py_ssize_t c, Graveyard *grave) noexcept:
    """Evict the window's oldest record ``c``; the window starts after it."""
    ghost_add(self.admission, &self.admission.rejected, fingerprint(self.entries[c].hash))
    remove_record(self, c, grave, REASON_EVICTED)
    mc_counter_add(&self.evictions, 1)
    self.boundary = c + 1
