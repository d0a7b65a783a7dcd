# The per-operation table (a part of _engine.pyx): one OpStats per distinct
# operation name, in first-recorded order. An operation's id indexes ``_ops``
# and ``_names``; ``_ids`` maps a name to its id. Past ``max_operations``
# names, records are counted under OTHER_OPERATION.


cdef object _size_object(uint64_t lo, uint64_t hi):
    if hi == 0:
        return lo
    return (<object>hi << 64) | <object>lo


cdef Py_ssize_t _register(SimpleMonitor self, str operation) except -1:
    cdef Py_ssize_t op_id = self._n_ops
    cdef Py_ssize_t grown
    cdef OpStats *ops
    if op_id >= 0xFFFFFFFF:
        raise OverflowError("too many distinct operation names")
    if op_id == self._ops_alloc:
        grown = 8 if self._ops_alloc == 0 else 2 * self._ops_alloc
        ops = <OpStats *>PyMem_Realloc(self._ops, <size_t>grown * sizeof(OpStats))
        if ops == NULL:
            raise MemoryError()
        self._ops = ops
        self._ops_alloc = grown
    self._ids[operation] = op_id
    try:
        self._names.append(operation)
    except BaseException:
        del self._ids[operation]
        raise
    memset(&self._ops[op_id], 0, sizeof(OpStats))
    self._ops[op_id].min_duration = INFINITY
    self._n_ops += 1
    return op_id


cdef int _add(SimpleMonitor self, str operation, double d, bint ok, uint64_t size, double ts) except -1:
    """Count one validated record: its operation's totals and histogram, and the history."""
    cdef Py_ssize_t k = _bucket_of(d)
    cdef Py_ssize_t e = (k >> SUB_BITS) if 0 <= k < N_BUCKETS else -1
    cdef Py_ssize_t op_id
    cdef PyObject *found
    cdef uint64_t *fresh = NULL
    cdef OpStats *st
    cdef object name = operation
    if operation is self._last_name:
        op_id = self._last_id
    else:
        found = PyDict_GetItem(self._ids, operation)
        op_id = -1 if found == NULL else PyLong_AsSsize_t(<object>found)
        if op_id < 0 and self._n_ops >= self._max_ops:
            # A name beyond the bound: counted under OTHER_OPERATION.
            name = OTHER_OPERATION
            found = PyDict_GetItem(self._ids, name)
            op_id = -1 if found == NULL else PyLong_AsSsize_t(<object>found)
    if self._capacity and self._size == self._ring_alloc and self._ring_alloc < self._capacity:
        _grow_ring(self)  # before any change: a MemoryError leaves the monitor as it was
    if op_id < 0:
        # Allocate first, change nothing until every allocation succeeded.
        if e >= 0:
            fresh = <uint64_t *>PyMem_Malloc(SUB_BUCKETS * sizeof(uint64_t))
            if fresh == NULL:
                raise MemoryError()
            memset(fresh, 0, SUB_BUCKETS * sizeof(uint64_t))
        try:
            op_id = _register(self, name)
        except BaseException:
            PyMem_Free(fresh)
            raise
        if fresh != NULL:
            st = &self._ops[op_id]
            st.counts = fresh
            st.n_chunks = 1
            st.chunk_of[e] = 1
    elif e >= 0 and self._ops[op_id].chunk_of[e] == 0:
        _add_row(&self._ops[op_id], e)
    if op_id != self._last_id:
        self._last_name = operation
        self._last_id = op_id

    st = &self._ops[op_id]
    st.count += 1
    st.success_count += ok
    st.total_time += d
    st.size_lo += size
    if st.size_lo < size:
        st.size_hi += 1
    if d < st.min_duration:
        st.min_duration = d
    if d > st.max_duration:
        st.max_duration = d
    _count_duration(st, d, k, e)

    if self._capacity:
        _push_record(self, ts, d, size, op_id, ok)
    return 0


cdef OpStats *_find(SimpleMonitor self, str operation) noexcept:
    cdef PyObject *found = PyDict_GetItem(self._ids, operation)
    if found == NULL:
        return NULL
    return &self._ops[PyLong_AsSsize_t(<object>found)]


cdef bint _lookup(SimpleMonitor self, object operation, OpSummary *row) except -1:
    """Copy ``operation``'s totals into ``row``; False if never seen. TypeError if not a str."""
    cdef str name = operation if type(operation) is str else _exact_str(operation)
    cdef OpStats *st
    cdef bint seen = False
    _ready(self)
    with cython.critical_section(self):
        st = _find(self, name)
        if st != NULL:
            seen = True
            row.count = st.count
            row.success_count = st.success_count
            row.size_lo = st.size_lo
            row.size_hi = st.size_hi
            row.total_time = st.total_time
    return seen


cdef void _summarise(const OpStats *st, OpSummary *row) noexcept:
    row.count = st.count
    row.success_count = st.success_count
    row.size_lo = st.size_lo
    row.size_hi = st.size_hi
    row.total_time = st.total_time
    row.min_duration = st.min_duration
    row.max_duration = st.max_duration
    row.p50 = _percentile(st, 50)
    row.p90 = _percentile(st, 90)
    row.p99 = _percentile(st, 99)


cdef OpStats *_copy_table(SimpleMonitor self) noexcept:
    """A shallow copy of the table (its rows' counter pointers stay the
    monitor's); NULL if there are no operations or it could not be allocated."""
    cdef OpStats *rows = NULL
    if self._n_ops:
        rows = <OpStats *>PyMem_Malloc(<size_t>self._n_ops * sizeof(OpStats))
        if rows != NULL:
            memcpy(rows, self._ops, <size_t>self._n_ops * sizeof(OpStats))
    return rows


cdef void _clear_operations(SimpleMonitor self) noexcept:
    """Drop every operation's totals and histogram and give their memory back;
    ``_ids`` and ``_names`` are the caller's to replace."""
    cdef Py_ssize_t i
    for i in range(self._n_ops):
        PyMem_Free(self._ops[i].counts)
        self._ops[i].counts = NULL
        self._ops[i].n_chunks = 0
    PyMem_Free(self._ops)
    self._ops = NULL
    self._ops_alloc = 0
    self._n_ops = 0
    self._last_id = -1
