# The operations the public methods share: find a live record, get, put,
# pop, collect the live records, and report a call to the monitor. Each takes
# the time first (clock.pxi), makes its change, and leaves the references it
# removed in a graveyard for its caller to release.


cdef inline Py_ssize_t _find(SimpleMooncake self, object key, Py_hash_t h, double *now, Graveyard *grave) except LOOKUP_ERROR:
    """Index of the live record for ``key``, or LOOKUP_ABSENT. An expired
    record met here is removed and counted. ``now`` comes from
    ``cache_now_for_lookup`` (clock.pxi); the built-in clock is read here,
    once a record is found, so a miss costs no clock read."""
    cdef Py_ssize_t ix = _lookup(self, key, h)
    if ix < 0:
        return ix
    if isnan(now[0]):
        now[0] = mc_monotonic()
    if not (now[0] < self.entries[ix].expires):
        remove_record(self, ix, grave, REASON_EXPIRED)
        mc_counter_add(&self.expirations, 1)
        return LOOKUP_ABSENT
    return ix


cdef inline object _get(SimpleMooncake self, object key, Py_hash_t h, double now, Graveyard *grave):
    cdef Py_ssize_t ix
    cdef Entry *e
    cdef PyObject *dropped
    cdef object value
    if self.admission != NULL:
        sketch_prefetch(self.admission, h)
    log_prefetch(self)
    ix = _find(self, key, h, &now, grave)
    if ix < 0:
        mc_counter_add(&self.misses, 1)
        return _MISSING
    e = &self.entries[ix]
    mc_counter_add(&self.hits, 1)
    if e.hits_visited < HITS_MAX:
        e.hits_visited += 2
    e.hits_visited |= VISITED
    if self.admission != NULL:
        sketch_increment(self.admission, e.hash)
    dropped = log_hit(self, e.key, now)
    value = <object>e.value
    if dropped != NULL:
        # The table is consistent and we hold the value: a __del__ of the
        # key leaving the log may now run, even re-enter the cache.
        Py_DECREF(<object>dropped)
    return value


cdef inline object _get_one(SimpleMooncake self, object key):
    """The live value of ``key`` or _MISSING, counting a hit or a miss."""
    cdef Py_hash_t h = _hash(key)
    cdef Graveyard grave
    cdef object result
    grave_init(&grave)
    try:
        with cython.critical_section(self):
            result = _get(self, key, h, cache_now_for_lookup(self), &grave)
    finally:
        grave_release(&grave, self.on_remove)
    return result


cdef inline int _put(SimpleMooncake self, object key, Py_hash_t h, object value, double seconds, Py_ssize_t size,
                     double now, Graveyard *grave) except -1:
    cdef Py_ssize_t ix = _find(self, key, h, &now, grave)
    cdef Entry *e
    if isnan(now):
        now = mc_monotonic()
    mc_counter_add(&self.puts, 1)
    grave_reserve(grave, 1)
    if seconds <= 0:
        if ix >= 0:
            remove_record(self, ix, grave, REASON_REPLACED)
            maybe_shrink(self)
        return 0
    if ix < 0:
        if self.admission != NULL:
            adapt_window(self.admission, h)
            sketch_increment(self.admission, h)
        make_room(self, 1, size, -1, now, grave)
        insert_record(self, key, h, value, now, seconds, size)
        return 0
    if self.sizes != NULL:
        make_room(self, 0, size - self.sizes[ix], ix, now, grave)
        self.memory += size - self.sizes[ix]
        self.sizes[ix] = size
        grave_reserve(grave, 1)
    e = &self.entries[ix]
    Py_INCREF(value)
    if self.on_remove is None:
        grave_push(grave, NULL, e.value, REASON_NONE)
    else:
        Py_INCREF(<object>e.key)
        grave_push(grave, e.key, e.value, REASON_REPLACED)
    e.value = <PyObject *>value
    e.expires = now + seconds
    e.ttl = seconds
    e.hits_visited = VISITED
    if self.admission != NULL:
        sketch_increment(self.admission, h)
    schedule(self, ix, now)
    return 0


cdef inline bint _put_one(SimpleMooncake self, object key, object value, double seconds) except -1:
    cdef Py_hash_t h = _hash(key)
    cdef Py_ssize_t size = 0
    cdef Graveyard grave
    cdef bint stored
    cdef object weight
    if self.maxmemory_ > 0:
        weight = entry_size(self.getsizeof, key, value)
        if weight > self.maxmemory_:  # compared as Python ints: no size overflows
            return False
        size = weight
    grave_init(&grave)
    try:
        with cython.critical_section(self):
            _put(self, key, h, value, seconds, size, cache_now_for_lookup(self), &grave)
    finally:
        grave_release(&grave, self.on_remove)
    return True


cdef inline double _put_seconds(object ttl) except? -1.0:
    """A put's ttl in seconds; the common types converted without a temporary float."""
    cdef double seconds
    if type(ttl) is float:
        seconds = PyFloat_AS_DOUBLE(ttl)
        if isnan(seconds):
            raise ValueError("ttl must not be NaN")
        return seconds
    if type(ttl) is int:
        return PyLong_AsDouble(ttl)
    return ttl_seconds(ttl)


cdef object pop_live(SimpleMooncake self, object key):
    """Remove ``key``; its live value, or _MISSING. Not a hit or a miss."""
    cdef Py_hash_t h = _hash(key)
    cdef Graveyard grave
    cdef Py_ssize_t ix
    cdef double now
    cdef object value = _MISSING
    grave_init(&grave)
    try:
        with cython.critical_section(self):
            now = cache_now_for_lookup(self)
            ix = _find(self, key, h, &now, &grave)
            if ix >= 0:
                value = <object>self.entries[ix].value
                remove_record(self, ix, &grave, REASON_DELETED)
                mc_counter_add(&self.deletes, 1)
            maybe_shrink(self)
    finally:
        grave_release(&grave, self.on_remove)
    return value


cdef list collect(SimpleMooncake self, int what, bint purge):
    """The live records, oldest first: keys (0), values (1), (key, value)
    pairs (2), or (key, value, seconds left) triples (3). With ``purge``,
    expired records are removed first; without, they are skipped."""
    cdef Graveyard grave, held
    cdef Py_ssize_t i, n = 0
    cdef Entry *e
    cdef double now
    cdef double *left = NULL
    cdef list out
    grave_init(&grave)
    grave_init(&held)
    try:
        with cython.critical_section(self):
            now = cache_now(self)
            if purge:
                purge_expired(self, now, &grave)
                maybe_shrink(self)
            # Building Python objects allocates, and the GC may then run a
            # __del__ that changes the table: first take references of our
            # own (no allocation), then build the list from them.
            grave_reserve(&held, self.live)
            left = <double *>PyMem_Malloc((self.live + 1) * sizeof(double))
            if left == NULL:
                raise MemoryError()
            for i in range(self.nentries):
                e = &self.entries[i]
                if e.key != NULL and now < e.expires:
                    Py_INCREF(<object>e.key)
                    Py_INCREF(<object>e.value)
                    left[held.length] = _seconds_left(e, now)
                    grave_push(&held, e.key, e.value, REASON_NONE)
        out = []
        for i in range(held.length):
            if what == 0:
                out.append(<object>held.items[i].key)
            elif what == 1:
                out.append(<object>held.items[i].value)
            elif what == 2:
                out.append((<object>held.items[i].key, <object>held.items[i].value))
            else:
                out.append((<object>held.items[i].key, <object>held.items[i].value, left[i]))
    finally:
        PyMem_Free(left)
        grave_release(&held, None)
        grave_release(&grave, self.on_remove)
    return out


# The instrumented cache: with a monitor, each public call is timed.

cdef void monitor_record(SimpleMooncake self, str operation, double started, bint success, object value) noexcept:
    cdef double elapsed = mc_precise_monotonic() - started
    try:
        mc_enter_user_code(" in the cache's monitor")
        try:
            self.monitor.record_operation(operation, elapsed if elapsed > 0 else 0.0, success,
                                          sys.getsizeof(value) if value is not None else 0)
        finally:
            mc_leave_user_code()
    except BaseException:
        _report_unraisable(self.monitor)
