# The C histogram of one operation's durations (a part of _engine.pyx).
#
# The layout (log-linear buckets cut along the bits of the double, the
# underflow and overflow buckets, the Prometheus le bounds) and the percentile
# definition are mooncake.monitor.histogram's, the single source of their
# constants; the enum in _engine.pxd repeats the shape for C array sizes, and
# the import fails below if the two disagree. The counters themselves live in
# an OpStats (_engine.pxd): rows of SUB_BUCKETS counters, one per power of two
# in use, plus one counter per le bound.

# Bit patterns of 2**MIN_EXP and 2**(MAX_EXP + 1), and the index of the first kept bucket.
cdef uint64_t UNDER_BITS = (<uint64_t>(1023 + MIN_EXP)) << 52
cdef uint64_t OVER_BITS = (<uint64_t>(1023 + MAX_EXP + 1)) << 52
cdef uint64_t FIRST_INDEX = (<uint64_t>(1023 + MIN_EXP)) << SUB_BITS

if (_layout.SUB_BUCKET_BITS, _layout.MIN_EXPONENT, _layout.MAX_EXPONENT) != (SUB_BITS, MIN_EXP, MAX_EXP):
    raise ImportError("mooncake.monitor._engine was built for another histogram layout; rebuild it")

cdef double _export_bounds[MAX_EXPORT]
cdef Py_ssize_t _n_export = len(_layout.EXPORT_BOUNDS)
# _export_start[k]: first le bound above the lower edge of bucket k (the search starts there).
cdef unsigned char _export_start[N_BUCKETS + 2]


cdef inline Py_ssize_t _bucket_of(double d) noexcept nogil:
    cdef uint64_t bits
    memcpy(&bits, &d, sizeof(double))
    if bits <= UNDER_BITS:
        return -1
    if bits > OVER_BITS:
        return N_BUCKETS
    # bits - 1: buckets are closed on the right, (L, H], like Prometheus le.
    return <Py_ssize_t>(((bits - 1) >> (52 - SUB_BITS)) - FIRST_INDEX)


cdef inline Py_ssize_t _export_of(double d, Py_ssize_t k) noexcept nogil:
    cdef Py_ssize_t j = _export_start[k + 1]
    while j < _n_export and d > _export_bounds[j]:
        j += 1
    return j


cdef double _lower_edge(Py_ssize_t k) noexcept nogil:
    cdef uint64_t bits = (FIRST_INDEX + <uint64_t>k) << (52 - SUB_BITS)
    cdef double d
    memcpy(&d, &bits, sizeof(double))
    return d


cdef void _init_export_table() except *:
    cdef Py_ssize_t k, j
    cdef double edge
    if _n_export > MAX_EXPORT:
        raise ImportError("too many Prometheus bounds in mooncake.monitor.histogram.EXPORT_BOUNDS")
    for j in range(_n_export):
        _export_bounds[j] = _layout.EXPORT_BOUNDS[j]
    for k in range(-1, N_BUCKETS + 1):
        edge = 0.0 if k < 0 else (ldexp(1.0, MAX_EXP + 1) if k == N_BUCKETS else _lower_edge(k))
        j = 0
        while j < _n_export and _export_bounds[j] <= edge:
            j += 1
        _export_start[k + 1] = <unsigned char>j


_init_export_table()


cdef inline void _count_duration(OpStats *st, double d, Py_ssize_t k, Py_ssize_t e) noexcept nogil:
    """Count ``d`` (in bucket ``k``, power of two ``e``, whose row exists) in
    the histogram and in the le counters."""
    if e >= 0:
        st.counts[(st.chunk_of[e] - 1) * SUB_BUCKETS + (k & (SUB_BUCKETS - 1))] += 1
    elif k < 0:
        st.underflow += 1
    else:
        st.overflow += 1
    st.export_counts[_export_of(d, k)] += 1


cdef int _add_row(OpStats *st, Py_ssize_t e) except -1:
    """Give power of two ``e`` its row of zeroed counters; MemoryError changes nothing."""
    cdef Py_ssize_t n = st.n_chunks
    cdef uint64_t *grown = <uint64_t *>PyMem_Realloc(
        st.counts, <size_t>(n + 1) * SUB_BUCKETS * sizeof(uint64_t))
    if grown == NULL:
        raise MemoryError()
    memset(&grown[n * SUB_BUCKETS], 0, SUB_BUCKETS * sizeof(uint64_t))
    st.counts = grown
    st.n_chunks = <uint8_t>(n + 1)
    st.chunk_of[e] = <uint8_t>(n + 1)
    return 0


cdef double _percentile(const OpStats *st, uint64_t p) noexcept nogil:
    cdef uint64_t rank = (p * st.count + 99) // 100
    cdef uint64_t seen = st.underflow
    cdef Py_ssize_t e, s
    cdef const uint64_t *chunk
    cdef double mid
    if rank < 1:
        rank = 1
    if seen >= rank:
        return st.min_duration
    for e in range(N_EXP):
        if st.chunk_of[e] == 0:
            continue
        chunk = &st.counts[(st.chunk_of[e] - 1) * SUB_BUCKETS]
        for s in range(SUB_BUCKETS):
            seen += chunk[s]
            if seen >= rank:
                mid = ldexp(<double>(2 * SUB_BUCKETS + 2 * s + 1), MIN_EXP + <int>e - SUB_BITS - 1)
                if mid < st.min_duration:
                    return st.min_duration
                if mid > st.max_duration:
                    return st.max_duration
                return mid
    return st.max_duration


cdef tuple _export_counts(const OpStats *st):
    """The le counters, the last one for +Inf."""
    cdef Py_ssize_t j
    return tuple([st.export_counts[j] for j in range(_n_export + 1)])


cdef dict _bucket_counts(const OpStats *st, const uint64_t *rows):
    """``bucket index -> count`` of the non-zero buckets (the pickled form);
    ``rows`` holds a copy of ``st``'s rows of counters, in ``st.counts``'s order."""
    cdef dict buckets = {}
    cdef Py_ssize_t e, j, row
    if st.underflow:
        buckets[_layout.UNDERFLOW] = st.underflow
    for e in range(N_EXP):
        if st.chunk_of[e]:
            row = st.chunk_of[e] - 1
            for j in range(SUB_BUCKETS):
                if rows[row * SUB_BUCKETS + j]:
                    buckets[e * SUB_BUCKETS + j] = rows[row * SUB_BUCKETS + j]
    if st.overflow:
        buckets[N_BUCKETS] = st.overflow
    return buckets


cdef int _restore_buckets(OpStats *st, object buckets) except -1:
    """Set the counters from the pickled form (see _bucket_counts); ValueError on a bad index."""
    cdef Py_ssize_t k, e
    for k, value in buckets.items():
        if k == -1:
            st.underflow = value
        elif k == N_BUCKETS:
            st.overflow = value
        elif 0 <= k < N_BUCKETS:
            e = k >> SUB_BITS
            if st.chunk_of[e] == 0:
                _add_row(st, e)
            st.counts[(st.chunk_of[e] - 1) * SUB_BUCKETS + (k & (SUB_BUCKETS - 1))] = value
        else:
            raise ValueError("corrupt SimpleMonitor state")
    return 0
