# The invariant checker behind SimpleMooncake._check_invariants(): it walks
# the whole state and raises AssertionError naming the first invariant it
# finds broken. Tests call it between operations. It is compiled in only by a
# MOONCAKE_DEBUG=1 build (MC_DEBUG is 1): elsewhere the method raises
# RuntimeError and the C compiler drops this code as unreachable.
#
# The graveyard is not checked here because the engine keeps none between
# operations: each operation's lives on its C stack and is released before
# the operation returns. What stands for "the graveyard is empty" is that no
# hole in the record array still holds a key or value reference, checked below.


cdef int _broken(str invariant) except -1:
    raise AssertionError(f"SimpleMooncake invariant broken: {invariant}")


cdef int check_invariants(SimpleMooncake self) except -1:
    cdef Py_ssize_t nslots = self.mask + 1
    cdef Py_ssize_t i, pos, s, steps, live = 0, main = 0, empty = 0, ix
    cdef Py_ssize_t memory = 0
    cdef Entry *e
    cdef Probe p
    cdef unsigned char *seen
    if nslots < MIN_SLOTS or nslots & self.mask:
        _broken(f"the slot count {nslots} is a power of two >= {MIN_SLOTS}")
    if self.slot_width != mc_slot_width(nslots) or self.capacity != usable(nslots):
        _broken("slot width and record capacity match the slot count")
    if not 0 <= self.live <= self.nentries <= self.capacity:
        _broken(f"0 <= live ({self.live}) <= records ({self.nentries}) <= capacity ({self.capacity})")
    if self.maxsize_ > 0 and self.live > self.maxsize_:
        _broken(f"live ({self.live}) <= maxsize ({self.maxsize_})")

    # The records, the heap positions they record, and the byte budget.
    for i in range(self.nentries):
        e = &self.entries[i]
        if e.key == NULL:
            if e.value != NULL:
                _broken(f"hole {i} holds no value (a removed reference is released at once)")
            continue
        live += 1
        if e.value == NULL:
            _broken(f"live record {i} has a value")
        if _plain_key(e.key) and <uint32_t>_fold(hash(<object>e.key)) != e.hash:
            _broken(f"record {i} stores its key's folded hash")
        if e.ttl == INFINITY:
            if e.heap_pos != NOT_IN_HEAP:
                _broken(f"record {i} never expires, so it is not in the heap")
        elif (e.heap_pos == NOT_IN_HEAP or <Py_ssize_t>e.heap_pos >= self.heap_len
              or <Py_ssize_t>self.heap[e.heap_pos] != i):
            _broken(f"record {i} expires, so the heap holds it at its recorded position")
        elif not e.heap_key <= e.expires:
            _broken(f"record {i}'s heap key is a lower bound of its expiry")
        if i < self.boundary:
            main += 1
        if self.sizes != NULL:
            memory += self.sizes[i]
    if live != self.live:
        _broken(f"the live count ({self.live}) equals the live records ({live})")
    if self.maxmemory_ > 0:
        if self.sizes == NULL or memory != self.memory:
            _broken(f"memory ({self.memory}) is the sum of the live records' sizes ({memory})")
        if not 0 <= self.memory <= self.maxmemory_:
            _broken(f"0 <= memory ({self.memory}) <= maxmemory ({self.maxmemory_})")
    elif self.sizes != NULL or self.memory != 0:
        _broken("without maxmemory no sizes are kept")

    # The heap: every position holds a live record that knows the position, in heap order.
    if not 0 <= self.heap_len <= self.nentries:
        _broken(f"0 <= heap length ({self.heap_len}) <= records ({self.nentries})")
    for pos in range(self.heap_len):
        ix = self.heap[pos]
        if ix >= self.nentries or self.entries[ix].key == NULL or <Py_ssize_t>self.entries[ix].heap_pos != pos:
            _broken(f"heap position {pos} holds a live record whose heap position is {pos}")
        if pos and self.entries[self.heap[(pos - 1) >> 1]].heap_key > self.entries[ix].heap_key:
            _broken(f"heap order: the parent of position {pos} has no later heap key")

    # Slots <-> records: a live slot points at a live record, no two at one
    # record, and probing each live record's hash from its first slot reaches it.
    seen = <unsigned char *>PyMem_Malloc(<size_t>self.nentries + 1)
    if seen == NULL:
        raise MemoryError()
    try:
        memset(seen, 0, <size_t>self.nentries + 1)
        for s in range(nslots):
            ix = mc_slot_get(self.indices, self.slot_width, s)
            if ix == EMPTY:
                empty += 1
            elif ix == DUMMY:
                pass
            elif ix < 0 or ix >= self.nentries or self.entries[ix].key == NULL:
                _broken(f"slot {s} ({ix}) is EMPTY, DUMMY or a live record")
            elif seen[ix]:
                _broken(f"no two slots point at record {ix}")
            else:
                seen[ix] = 1
        if nslots - empty > self.nentries:
            _broken(f"used slots ({nslots - empty}) <= records ({self.nentries}): an EMPTY slot ends every probe")
        for i in range(self.nentries):
            if self.entries[i].key == NULL:
                continue
            if not seen[i]:
                _broken(f"a slot points at live record {i}")
            p = probe_start(self.entries[i].hash, self.mask)
            steps = 0
            while mc_slot_get(self.indices, self.slot_width, p.slot) != i:
                if mc_slot_get(self.indices, self.slot_width, p.slot) == EMPTY or steps > 2 * nslots + 64:
                    _broken(f"record {i} is reached by probing its hash")
                probe_next(&p)
                steps += 1
    finally:
        PyMem_Free(seen)

    # Eviction: the window/main split and the SIEVE hand.
    if self.tinylfu:
        if not 0 <= self.boundary <= self.nentries:
            _broken(f"0 <= boundary ({self.boundary}) <= records ({self.nentries})")
        if self.n_window + self.n_main != self.live:
            _broken(f"n_window ({self.n_window}) + n_main ({self.n_main}) == live ({self.live})")
        if self.n_main != main:
            _broken(f"n_main ({self.n_main}) counts the live records below the boundary ({main})")
    elif self.boundary or self.n_main or self.n_window:
        _broken("without tinylfu there is no window and no main")
    if self.admission != NULL and not self.tinylfu:
        _broken("only tinylfu keeps admission state")
    if self.admission != NULL and (self.admission.rejected.young_len >= self.admission.ghost_per_gen
                                   or self.admission.evicted.young_len >= self.admission.ghost_per_gen
                                   or self.admission.additions >= self.admission.sample):
        _broken("a ghost generation ages once full, and the sketch halves once sampled")
    if self.admission != NULL and not (
            0 <= self.admission.new_keys < self.admission.vote_period
            and self.admission.grow_votes >= 0 and self.admission.shrink_votes >= 0
            and self.admission.grow_votes + self.admission.shrink_votes <= self.admission.new_keys
            and 16 <= self.admission.sample <= max(<Py_ssize_t>16, 10 * self.admission.maxsize)
            and 1 <= self.admission.window_max <= max(<Py_ssize_t>1, self.admission.maxsize - 1)):
        _broken("the votes are weighed every vote_period new keys; sample and window in range")
    # After a rebuild the hand may stand just past the last record (the
    # sweep then wraps to the oldest); otherwise a removal moves it off a hole.
    if not (self.hand == 0 or self.hand == self.nentries
            or (0 < self.hand < self.nentries and self.entries[self.hand].key != NULL)):
        _broken(f"the SIEVE hand ({self.hand}) is 0, the end ({self.nentries}) or a live record")

    # The access log.
    if not 0 <= self.log_len <= self.log_ring <= self.log_capacity:
        _broken(f"0 <= log length ({self.log_len}) <= ring ({self.log_ring}) <= capacity ({self.log_capacity})")
    if (self.log == NULL) != (self.log_ring == 0) or not (
            0 <= self.log_next < self.log_ring or self.log_next == self.log_ring == 0):
        _broken("the log's next slot lies in its ring")
    for i in range(self.log_len):
        if self.log[log_position(self, i)].key == NULL:
            _broken(f"logged hit {i} holds its key")
    return 0
