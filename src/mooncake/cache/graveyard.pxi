# The graveyard: what an operation took out of the table (references to
# drop, on_remove calls to make), released only once the table is consistent
# again, because a __del__ or an on_remove may call back into the cache.
# Each operation keeps its own on the C stack; the engine holds none between
# operations.


cdef inline void grave_init(Graveyard *g) noexcept:
    g.items = g.inline_items
    g.length = 0
    g.capacity = GRAVE_INLINE


cdef int grave_reserve(Graveyard *g, Py_ssize_t extra) except -1:
    """Make room for ``extra`` more removals; MemoryError before any change."""
    if grave_try_reserve(g, extra) < 0:
        raise MemoryError()
    return 0


cdef int grave_try_reserve(Graveyard *g, Py_ssize_t extra) noexcept:
    """Make room for ``extra`` more removals; -1 (no exception set) if out of memory."""
    cdef Py_ssize_t need = g.length + extra
    cdef Removal *grown
    cdef Py_ssize_t i
    if need <= g.capacity:
        return 0
    if need < 2 * g.capacity:
        need = 2 * g.capacity
    grown = <Removal *>PyMem_Malloc(need * sizeof(Removal))
    if grown == NULL:
        return -1
    for i in range(g.length):
        grown[i] = g.items[i]
    if g.items != g.inline_items:
        PyMem_Free(g.items)
    g.items = grown
    g.capacity = need
    return 0


cdef inline void grave_push(Graveyard *g, PyObject *key, PyObject *value, int reason) noexcept:
    cdef Removal *r = &g.items[g.length]
    r.key = key
    r.value = value
    r.reason = reason
    g.length += 1


cdef inline void grave_release(Graveyard *g, object on_remove) noexcept:
    """Make the on_remove calls, then drop the references. Both may run Python
    code that re-enters the cache, which is consistent by now."""
    cdef Removal r
    if g.length == 0:  # most operations remove nothing
        return
    if g.length == 1 and g.items == g.inline_items and g.items[0].reason == REASON_NONE:
        # the old value of an overwrite, with no callback to make
        r = g.items[0]
        g.length = 0
        if r.key != NULL:
            Py_DECREF(<object>r.key)
        if r.value != NULL:
            Py_DECREF(<object>r.value)
        return
    grave_empty(g, on_remove)


cdef void grave_empty(Graveyard *g, object on_remove) noexcept:
    cdef Removal *items = g.items
    cdef Py_ssize_t n = g.length
    cdef Py_ssize_t i
    g.items = g.inline_items
    g.length = 0
    g.capacity = GRAVE_INLINE
    for i in range(n):
        if on_remove is not None and items[i].reason != REASON_NONE:
            _notify(on_remove, <object>items[i].key, <object>items[i].value, items[i].reason)
        if items[i].key != NULL:
            Py_DECREF(<object>items[i].key)
        if items[i].value != NULL:
            Py_DECREF(<object>items[i].value)
    if items != g.inline_items:
        PyMem_Free(items)


cdef void _notify(object on_remove, object key, object value, int reason) noexcept:
    """Call on_remove; an exception from it (or a RecursionError instead of a
    call too deep to make) goes to sys.unraisablehook."""
    try:
        mc_enter_user_code(" in on_remove")
        try:
            on_remove(key, value, _REASONS[reason])
        finally:
            mc_leave_user_code()
    except BaseException:
        _report_unraisable(on_remove)


cdef void _report_unraisable(object source) noexcept:
    # Re-raise the exception being handled as the current error, then hand it
    # to PyErr_WriteUnraisable (and so to sys.unraisablehook).
    try:
        report_unraisable(source)
    except BaseException:
        PyErr_WriteUnraisable(source)  # the hook itself failed: CPython's last resort

