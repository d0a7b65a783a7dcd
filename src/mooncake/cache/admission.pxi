# W-TinyLFU-SIEVE's admission state: a 4-bit count-min sketch and two ghosts
# of fingerprints (specification and reference model: bench/POLICY.md and
# bench/policies.py; the pure twin's mooncake/cache/twin_admission.py). Every
# slot and fingerprint comes from the key's hash, so the twins decide alike.
# The structs, Admission and Ghost, are in _engine.pxd.

cdef enum:
    VOTE_DIVISOR = 20  # the votes on the window are weighed every maxsize // 20 new keys
    MAX_STEPS = 8      # a weighing moves the window by at most this many steps
    NOISE = 2          # a net vote moves it only if net**2 > NOISE x votes


cdef Admission *admission_new(Py_ssize_t maxsize) except NULL:
    """The state for a cache of ``maxsize`` entries (1 .. MAX_SLOTS, checked
    by the caller: no product below can overflow)."""
    cdef Admission *a = <Admission *>PyMem_Malloc(sizeof(Admission))
    cdef Py_ssize_t ghost_keys
    if a == NULL:
        raise MemoryError()
    a.maxsize = maxsize
    a.width = max(<Py_ssize_t>16, maxsize * 13 // 4)
    a.row_words = (a.width + 15) // 16
    a.vote_period = max(<Py_ssize_t>2, maxsize // VOTE_DIVISOR)
    ghost_keys = max(<Py_ssize_t>2, maxsize // 10)
    a.ghost_per_gen = max(<Py_ssize_t>1, ghost_keys // 2)
    a.ghost_slots = a.ghost_per_gen * 3 // 2 + 1
    a.sketch = <uint64_t *>PyMem_Malloc(4 * a.row_words * sizeof(uint64_t))
    a.ghost_block = <uint32_t *>PyMem_Malloc(4 * a.ghost_slots * sizeof(uint32_t))
    if a.sketch == NULL or a.ghost_block == NULL:
        admission_free(a)
        raise MemoryError()
    admission_reset(a)
    return a


cdef void admission_free(Admission *a) noexcept:
    if a != NULL:
        PyMem_Free(a.sketch)
        PyMem_Free(a.ghost_block)
        PyMem_Free(a)


cdef void admission_reset(Admission *a) noexcept nogil:
    """Counters, ghosts and the window's share back to their initial state."""
    memset(a.sketch, 0, 4 * a.row_words * sizeof(uint64_t))
    memset(a.ghost_block, 0, 4 * a.ghost_slots * sizeof(uint32_t))
    a.additions = 0
    a.rejected.young = a.ghost_block
    a.rejected.old = a.ghost_block + a.ghost_slots
    a.evicted.young = a.ghost_block + 2 * a.ghost_slots
    a.evicted.old = a.ghost_block + 3 * a.ghost_slots
    a.rejected.young_len = 0
    a.evicted.young_len = 0
    # rint rounds half to even, as Python's round() in the reference model.
    a.window_max = max(<Py_ssize_t>1, <Py_ssize_t>rint(0.01 * <double>a.maxsize))
    a.window_step = max(<Py_ssize_t>1, a.maxsize * 2 // 1000)
    a.sample = halving_period(a)
    a.new_keys = a.grow_votes = a.shrink_votes = 0


cdef inline Py_ssize_t halving_period(Admission *a) noexcept nogil:
    """Increments between two halvings: 10 x maxsize while the window is
    small, 34 fewer per window record up to a quarter of the cache (1.5 x
    maxsize there): a large window means recency wins, so counts age faster.
    maxsize <= MAX_SLOTS, so the product cannot overflow."""
    return max(<Py_ssize_t>16, 10 * a.maxsize - 34 * min(a.window_max, a.maxsize // 4))


cdef inline void sketch_increment(Admission *a, Py_hash_t key_hash) noexcept nogil:
    """Add one to those of the key's four counters that hold its estimate, the
    smallest (a conservative update; all saturate at 15); every ``sample``
    increments, halve them all (TinyLFU's reset)."""
    cdef uint64_t h = <uint64_t>key_hash * SLOT_MIX
    cdef uint32_t slot_hash, step
    cdef uint64_t *row = a.sketch
    cdef uint64_t *words[4]
    cdef unsigned int shifts[4]
    cdef unsigned int counts[4]
    cdef unsigned int low = 15
    cdef uint64_t slot
    cdef int i
    h ^= h >> 32
    slot_hash = <uint32_t>h
    step = <uint32_t>(h >> 32) | 1
    for i in range(4):
        slot = (<uint64_t>slot_hash * <uint64_t>a.width) >> 32
        words[i] = &row[slot >> 4]
        shifts[i] = <unsigned int>(slot & 15) << 2
        counts[i] = <unsigned int>((words[i][0] >> shifts[i]) & 15)
        if counts[i] < low:
            low = counts[i]
        row += a.row_words
        slot_hash += step  # wraps mod 2**32, as the model's double hash
    if low != 15:
        for i in range(4):
            if counts[i] == low:
                words[i][0] += <uint64_t>1 << shifts[i]
    a.additions += 1
    if a.additions >= a.sample:
        sketch_halve(a)


cdef inline void sketch_prefetch(Admission *a, Py_hash_t key_hash) noexcept nogil:
    """Hint that the key's four counters are about to be bumped (see
    csrc/mc_prefetch.h): the same slots as sketch_increment, no change."""
    cdef uint64_t h = <uint64_t>key_hash * SLOT_MIX
    cdef uint32_t slot_hash, step
    cdef uint64_t *row = a.sketch
    cdef int i
    h ^= h >> 32
    slot_hash = <uint32_t>h
    step = <uint32_t>(h >> 32) | 1
    for i in range(4):
        mc_prefetch_write(&row[((<uint64_t>slot_hash * <uint64_t>a.width) >> 32) >> 4])
        row += a.row_words
        slot_hash += step


cdef void sketch_halve(Admission *a) noexcept nogil:
    cdef Py_ssize_t i
    a.additions = 0
    a.sample = halving_period(a)
    for i in range(4 * a.row_words):
        a.sketch[i] = (a.sketch[i] >> 1) & HALF_MASK


cdef unsigned int sketch_estimate(Admission *a, Py_hash_t key_hash) noexcept nogil:
    """The smallest of the key's four counters."""
    cdef uint64_t h = <uint64_t>key_hash * SLOT_MIX
    cdef uint32_t slot_hash, step
    cdef uint64_t *row = a.sketch
    cdef uint64_t slot
    cdef unsigned int low = 15, c
    cdef int i
    h ^= h >> 32
    slot_hash = <uint32_t>h
    step = <uint32_t>(h >> 32) | 1
    for i in range(4):
        slot = (<uint64_t>slot_hash * <uint64_t>a.width) >> 32
        c = <unsigned int>((row[slot >> 4] >> ((slot & 15) << 2)) & 15)
        if c < low:
            low = c
        row += a.row_words
        slot_hash += step
    return low


cdef inline uint32_t fingerprint(Py_hash_t key_hash) noexcept nogil:
    """A ghost's 32-bit fingerprint of a key's hash; 0 (an empty slot) is stored as 1."""
    cdef uint64_t f = <uint64_t>key_hash * FINGERPRINT_MIX
    cdef uint32_t folded = <uint32_t>(f ^ (f >> 32))
    return folded if folded != 0 else 1


cdef bint table_has(uint32_t *table, Py_ssize_t slots, uint32_t f) noexcept nogil:
    cdef Py_ssize_t i = <Py_ssize_t>((<uint64_t>f * <uint64_t>slots) >> 32)
    while table[i] != 0:
        if table[i] == f:
            return True
        i += 1
        if i == slots:
            i = 0
    return False


cdef bint ghost_has(Admission *a, Ghost *g, uint32_t f) noexcept nogil:
    return table_has(g.young, a.ghost_slots, f) or table_has(g.old, a.ghost_slots, f)


cdef void ghost_add(Admission *a, Ghost *g, uint32_t f) noexcept nogil:
    """Remember ``f`` in the young generation; a full one becomes the old
    (the older is forgotten). A table never fills: ghost_per_gen < ghost_slots."""
    cdef Py_ssize_t i = <Py_ssize_t>((<uint64_t>f * <uint64_t>a.ghost_slots) >> 32)
    cdef uint32_t *aged
    while g.young[i] != 0:
        if g.young[i] == f:
            return
        i += 1
        if i == a.ghost_slots:
            i = 0
    g.young[i] = f
    g.young_len += 1
    if g.young_len >= a.ghost_per_gen:
        aged = g.old
        g.old = g.young
        g.young = aged
        memset(aged, 0, a.ghost_slots * sizeof(uint32_t))
        g.young_len = 0


cdef void adapt_window(Admission *a, Py_hash_t key_hash) noexcept nogil:
    """A new key arrives: it votes to grow the window if the filter turned it
    away lately, to shrink it if main evicted it lately. Every vote_period new
    keys the votes are weighed: the window moves by the net vote, at most
    MAX_STEPS steps, if it beats its noise (net**2 > NOISE x votes); else it
    stays (a vote at a time made the window a random walk)."""
    cdef uint32_t f = fingerprint(key_hash)
    cdef int64_t net, votes
    if ghost_has(a, &a.rejected, f):
        a.grow_votes += 1
    elif ghost_has(a, &a.evicted, f):
        a.shrink_votes += 1
    a.new_keys += 1
    if a.new_keys < a.vote_period:
        return
    net = a.grow_votes - a.shrink_votes
    votes = a.grow_votes + a.shrink_votes
    a.new_keys = a.grow_votes = a.shrink_votes = 0
    if net * net > NOISE * votes:  # |net| <= vote_period < 2**26: no overflow
        net = max(<int64_t>-MAX_STEPS, min(<int64_t>MAX_STEPS, net))
        a.window_max = max(<Py_ssize_t>1, min(a.maxsize - 1, a.window_max + <Py_ssize_t>net * a.window_step))
