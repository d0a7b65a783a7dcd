# The table: hashing a key, the open-addressing slots and how they are
# probed, lookup, and the record array (allocation, rebuild, insert, remove).
#
# The lookup and store paths are module-level inline functions: a cdef method
# of a class that may be subclassed is called through its vtable, which the C
# compiler cannot inline; these calls run on every get and put.


cdef inline Py_ssize_t usable(Py_ssize_t nslots) noexcept nogil:
    # At most two thirds of the slots are ever used (live entries plus dummies).
    return (nslots << 1) // 3


cdef inline Probe probe_start(Py_hash_t h, Py_ssize_t mask) noexcept nogil:
    """The first slot for a folded hash in a table of ``mask + 1`` slots."""
    cdef Probe p
    p.perturb = <size_t>h
    p.mask = <size_t>mask
    p.slot = <size_t>h & p.mask
    return p


cdef inline void probe_next(Probe *p) noexcept nogil:
    """The next slot to try: CPython's dict recurrence, in which ``perturb``
    brings the hash's higher bits in, so keys that share a first slot soon
    part ways. Every walk of the slots (lookup, insert, rebuild, finding a
    record's own slot) takes this same sequence."""
    p.perturb >>= 5
    p.slot = (p.slot * 5 + p.perturb + 1) & p.mask


cdef inline bint _plain_key(PyObject *o) noexcept:
    """A str, int or bytes exactly: comparing it runs no user code."""
    return PyUnicode_CheckExact(<object>o) or PyLong_CheckExact(<object>o) or PyBytes_CheckExact(<object>o)


cdef inline Py_hash_t _fold(Py_hash_t h) noexcept nogil:
    # Implementation note: a record keeps 32 bits of its key's hash, and every
    # decision (slot, probe sequence, the equality pre-check, sketch counters,
    # ghost fingerprints) is made on them: a table holds at most 2**30 slots,
    # so 32 bits lose nothing there, and the record is 4 bytes smaller. The
    # high half is multiplied by an odd constant before it is xor-ed onto the
    # low half: a plain xor would send structured keys such as (x << 32) | y,
    # or -5 and 4, to a few folds. A non-negative int below 2**32 keeps its own
    # value, as in dict's slots. Keys whose folds match get __eq__ called, as
    # keys with equal hashes do in a dict; the pure twin folds alike.
    cdef uint64_t u = <uint64_t>h
    return <Py_hash_t>(<uint32_t>u ^ (<uint32_t>(u >> 32) * FOLD_MIX))


cdef inline Py_hash_t _hash(object key) except -1:
    """The key's folded hash (0 .. 2**32 - 1, see _fold)."""
    if _plain_key(<PyObject *>key):
        return _fold(hash(key))
    return _user_hash(key)


cdef Py_hash_t _user_hash(object key) except -1:
    """``_hash`` of a key whose __hash__ is user code: it may re-enter the
    cache, so it is counted. Out of line, so that ``_hash`` stays small
    enough to be inlined into every get and put."""
    cdef Py_hash_t h
    mc_enter_user_code(" in a key's __hash__")
    try:
        h = hash(key)
    finally:
        mc_leave_user_code()
    return _fold(h)


cdef inline Py_ssize_t _probe(SimpleMooncake self, PyObject *key, Py_hash_t h) except LOOKUP_ERROR:
    """Index of the record holding ``key``, LOOKUP_ABSENT, or LOOKUP_RESTART
    when a key's __eq__ changed the table under us."""
    cdef Probe p = probe_start(h, self.mask)
    cdef Py_ssize_t ix
    cdef Entry *e
    cdef PyObject *stored
    cdef uint64_t version
    cdef int equal
    while True:
        ix = mc_slot_get(self.indices, self.slot_width, p.slot)
        if ix == EMPTY:
            return LOOKUP_ABSENT
        if ix >= 0:
            e = &self.entries[ix]
            if e.key == key:
                return ix
            if e.hash == h:
                stored = e.key
                version = self.version
                Py_INCREF(<object>stored)
                try:
                    if _plain_key(stored) and _plain_key(key):
                        equal = PyObject_RichCompareBool(<object>stored, <object>key, Py_EQ)
                    else:  # a user __eq__ may re-enter the cache: count it
                        mc_enter_user_code(" in a key's __eq__")
                        try:
                            equal = PyObject_RichCompareBool(<object>stored, <object>key, Py_EQ)
                        finally:
                            mc_leave_user_code()
                finally:
                    Py_DECREF(<object>stored)
                if self.version != version:
                    return LOOKUP_RESTART
                if equal:
                    return ix
        probe_next(&p)


cdef inline Py_ssize_t _lookup(SimpleMooncake self, object key, Py_hash_t h) except LOOKUP_ERROR:
    """Index of the record holding ``key``, or LOOKUP_ABSENT."""
    cdef Py_ssize_t ix
    cdef int restarts
    for restarts in range(MAX_RESTARTS):
        ix = _probe(self, <PyObject *>key, h)
        if ix != LOOKUP_RESTART:
            return ix
    raise RuntimeError("the cache kept changing while a key's __eq__ ran; lookup abandoned")


cdef Py_ssize_t slot_of(SimpleMooncake self, Py_ssize_t ix) noexcept nogil:
    """The slot pointing at record ``ix`` (found by hash, no __eq__ needed)."""
    cdef Probe p = probe_start(self.entries[ix].hash, self.mask)
    while mc_slot_get(self.indices, self.slot_width, p.slot) != ix:
        probe_next(&p)
    return <Py_ssize_t>p.slot


cdef Py_ssize_t free_slot(SimpleMooncake self, Py_hash_t h) noexcept nogil:
    """The first slot of ``h``'s sequence that is EMPTY or DUMMY."""
    cdef Probe p = probe_start(h, self.mask)
    while mc_slot_get(self.indices, self.slot_width, p.slot) >= 0:
        probe_next(&p)
    return <Py_ssize_t>p.slot


# ----------------------------------------------------------------------
# Memory layout

cdef int allocate(SimpleMooncake self, Py_ssize_t nslots) noexcept:
    """Fresh empty buffers for ``nslots`` slots; -1 on failure (nothing changed)."""
    cdef Py_ssize_t cap = usable(nslots)
    cdef unsigned char *indices = <unsigned char *>PyMem_Malloc(mc_slots_bytes(nslots))
    cdef Entry *entries = <Entry *>PyMem_Malloc(cap * sizeof(Entry))
    cdef uint32_t *heap = <uint32_t *>PyMem_Malloc(cap * sizeof(uint32_t))
    cdef Py_ssize_t *sizes = NULL
    if self.sizes != NULL:
        sizes = <Py_ssize_t *>PyMem_Malloc(cap * sizeof(Py_ssize_t))
    if indices == NULL or entries == NULL or heap == NULL or (self.sizes != NULL and sizes == NULL):
        PyMem_Free(indices)
        PyMem_Free(entries)
        PyMem_Free(heap)
        PyMem_Free(sizes)
        return -1
    memset(indices, 0xFF, mc_slots_bytes(nslots))  # every slot EMPTY (-1)
    PyMem_Free(self.indices)
    PyMem_Free(self.entries)
    PyMem_Free(self.heap)
    PyMem_Free(self.sizes)
    self.indices = indices
    self.slot_width = mc_slot_width(nslots)
    self.entries = entries
    self.heap = heap
    self.sizes = sizes
    self.mask = nslots - 1
    self.capacity = cap
    self.nentries = 0
    self.live = 0
    self.heap_len = 0
    self.hand = 0
    self.boundary = self.n_main = self.n_window = 0
    self.memory = 0
    self.version += 1
    return 0


cdef int rebuild(SimpleMooncake self, Py_ssize_t needed) except -1:
    """Squeeze out holes, in place, and resize for ``needed`` live entries.

    Keeps the records' order (the SIEVE queue), remaps heap positions, the
    hand and the window's boundary (each to the new place of the first
    live record at or after it, or to the end). Runs no Python code; MemoryError leaves the table as it was.

    Implementation note: the record array is compacted in place and
    resized with realloc, never copied into a second buffer. Large blocks
    are mmapped, so realloc can move their pages (mremap) instead of
    copying, and no freed half-size array lingers in the process's heap:
    resident memory stays close to the records actually held.
    """
    cdef Py_ssize_t nslots = MIN_SLOTS
    cdef Py_ssize_t cap, i, j, old_hand, old_boundary
    cdef Probe p
    cdef unsigned char *indices
    cdef Py_ssize_t width
    cdef Entry *e
    while usable(nslots) < needed + (needed >> 1) + 1 and nslots < MAX_SLOTS:
        nslots <<= 1
    if usable(nslots) < needed:
        raise MemoryError("SimpleMooncake cannot hold that many entries")
    cap = usable(nslots)
    width = mc_slot_width(nslots)
    indices = <unsigned char *>PyMem_Malloc(mc_slots_bytes(nslots))
    if indices == NULL:
        raise MemoryError()
    # Grow first: a failed realloc leaves the old block as it was, and a
    # block that did grow is only larger than the capacity we record.
    if cap > self.capacity and resize_records(self, cap) < 0:
        PyMem_Free(indices)
        raise MemoryError()
    memset(indices, 0xFF, mc_slots_bytes(nslots))
    old_hand = self.hand
    old_boundary = self.boundary
    self.hand = 0
    self.boundary = 0
    j = 0
    for i in range(self.nentries):
        e = &self.entries[i]
        if e.key == NULL:
            continue
        if i < old_hand:
            self.hand = j + 1
        if i < old_boundary:
            self.boundary = j + 1
        if j != i:  # j <= i: moving records down never overwrites one unread
            self.entries[j] = e[0]
            if self.sizes != NULL:
                self.sizes[j] = self.sizes[i]
            e = &self.entries[j]
        if e.heap_pos != NOT_IN_HEAP:
            self.heap[e.heap_pos] = <uint32_t>j
        p = probe_start(e.hash, nslots - 1)
        while mc_slot_get(indices, width, p.slot) != EMPTY:
            probe_next(&p)
        mc_slot_set(indices, width, p.slot, <int32_t>j)
        j += 1
    PyMem_Free(self.indices)
    self.indices = indices
    self.slot_width = width
    if cap < self.capacity:
        # Shrinking cannot lose records (cap >= needed >= j); if realloc
        # declines, the larger blocks simply stay.
        resize_records(self, cap)
    self.mask = nslots - 1
    self.capacity = cap
    self.nentries = j
    self.version += 1
    return 0


cdef int resize_records(SimpleMooncake self, Py_ssize_t cap) noexcept:
    """Realloc the buffers indexed by record (records, heap, sizes) to
    ``cap``; -1 if one could not be resized (those done keep their size)."""
    cdef void *block = PyMem_Realloc(self.entries, cap * sizeof(Entry))
    if block == NULL:
        return -1
    self.entries = <Entry *>block
    block = PyMem_Realloc(self.heap, cap * sizeof(uint32_t))
    if block == NULL:
        return -1
    self.heap = <uint32_t *>block
    if self.sizes != NULL:
        block = PyMem_Realloc(self.sizes, cap * sizeof(Py_ssize_t))
        if block == NULL:
            return -1
        self.sizes = <Py_ssize_t *>block
    return 0


cdef inline void maybe_shrink(SimpleMooncake self) noexcept:
    """After removals: give memory back once the table is mostly holes."""
    if self.mask + 1 > MIN_SLOTS and self.live * 8 < self.capacity:
        if rebuild(self, self.live) < 0:
            # Shrinking is only an optimisation; a table that stays large is fine.
            PyErr_Clear()


# ----------------------------------------------------------------------
# Changes to the table (no Python code runs in any of these)

cdef void remove_record(SimpleMooncake self, Py_ssize_t ix, Graveyard *grave, int reason) noexcept:
    """Take record ``ix`` out; its key and value go to the graveyard (which
    must have room for one more removal)."""
    cdef Entry *e = &self.entries[ix]
    mc_slot_set(self.indices, self.slot_width, slot_of(self, ix), DUMMY)
    if e.heap_pos != NOT_IN_HEAP:
        heap_remove(self, ix)
    if self.sizes != NULL:
        self.memory -= self.sizes[ix]
    grave_push(grave, e.key, e.value, reason)
    e.key = NULL
    e.value = NULL
    self.live -= 1
    self.version += 1
    if self.tinylfu:
        if ix < self.boundary:
            self.n_main -= 1
        else:
            self.n_window -= 1
    if ix == self.hand:
        # Implementation note: as in the SIEVE paper, the hand moves to
        # the next newer entry (of main, with tinylfu), or back to the
        # oldest when there is none. Left on the hole, it would reach
        # entries appended later before the older ones, and evict the
        # newest entry first.
        self.hand = next_live_or_oldest(self, ix + 1, self.boundary if self.tinylfu else self.nentries)


cdef int insert_record(SimpleMooncake self, object key, Py_hash_t h, object value, double now, double ttl,
                       Py_ssize_t size) except -1:
    """Append a new record for a key known to be absent."""
    cdef Py_ssize_t ix
    cdef Entry *e
    if self.nentries >= self.capacity:
        rebuild(self, self.live + 1)
    ix = self.nentries
    e = &self.entries[ix]
    Py_INCREF(key)
    Py_INCREF(value)
    e.key = <PyObject *>key
    e.value = <PyObject *>value
    e.hash = h
    e.expires = now + ttl
    e.ttl = ttl
    e.heap_pos = NOT_IN_HEAP
    e.hits_visited = 0
    if self.sizes != NULL:
        self.sizes[ix] = size
        self.memory += size
    mc_slot_set(self.indices, self.slot_width, free_slot(self, h), <int32_t>ix)
    self.nentries += 1
    self.live += 1
    if self.tinylfu:
        self.n_window += 1  # every new record joins the window
    self.version += 1
    schedule(self, ix, now)
    return 0
