# The garbage collector's view of the cache: the keys, values and access-log
# keys held in C buffers, and how they are let go (for the collector, breaking
# cycles through cached values, and for deallocation).

cdef extern from "Python.h":
    ctypedef int (*mc_visitproc "visitproc")(PyObject *, void *) noexcept
    ctypedef int (*mc_traverseproc "traverseproc")(PyObject *, mc_visitproc, void *) noexcept
    ctypedef int (*mc_inquiry "inquiry")(PyObject *) noexcept
    ctypedef struct GCSlots "PyTypeObject":
        mc_traverseproc tp_traverse
        mc_inquiry tp_clear


cdef void drop_references(SimpleMooncake self) noexcept:
    """Empty the table and the access log, then drop what they held.

    For the garbage collector (breaking cycles through cached values) and
    for deallocation; the table is empty before the first __del__ runs.
    """
    cdef Graveyard grave
    cdef Py_ssize_t i
    grave_init(&grave)
    if grave_try_reserve(&grave, self.live + self.log_len) < 0:
        return  # out of memory: keep everything rather than corrupt anything
    for i in range(self.nentries):
        if self.entries[i].key != NULL:
            grave_push(&grave, self.entries[i].key, self.entries[i].value, REASON_NONE)
            self.entries[i].key = NULL
    for i in range(self.log_len):
        grave_push(&grave, self.log[i].key, NULL, REASON_NONE)
    self.log_len = 0
    self.log_next = 0
    self.nentries = 0
    self.live = 0
    self.heap_len = 0
    self.hand = 0
    self.boundary = self.n_main = self.n_window = 0
    self.memory = 0
    if self.indices != NULL:
        memset(self.indices, 0xFF, mc_slots_bytes(self.mask + 1))
    self.version += 1
    grave_release(&grave, None)


cdef int traverse_references(SimpleMooncake self, mc_visitproc visit, void *arg) noexcept:
    cdef Py_ssize_t i
    cdef int r
    for i in range(self.nentries):
        if self.entries[i].key != NULL:
            r = visit(self.entries[i].key, arg)
            if r:
                return r
            r = visit(self.entries[i].value, arg)
            if r:
                return r
    for i in range(self.log_len):
        r = visit(self.log[i].key, arg)
        if r:
            return r
    return 0


# The type's garbage-collector hooks: Cython generates them for the object
# attributes; ours add the keys, values and access-log keys held in C buffers,
# so a value that refers back to its cache can still be collected.
cdef mc_traverseproc _generated_traverse = (<GCSlots *>SimpleMooncake).tp_traverse
cdef mc_inquiry _generated_clear = (<GCSlots *>SimpleMooncake).tp_clear


cdef int _traverse(PyObject *o, mc_visitproc visit, void *arg) noexcept:
    cdef int r = _generated_traverse(o, visit, arg)
    if r:
        return r
    return traverse_references(<SimpleMooncake>o, visit, arg)


cdef int _clear(PyObject *o) noexcept:
    drop_references(<SimpleMooncake>o)
    return _generated_clear(o)


(<GCSlots *>SimpleMooncake).tp_traverse = _traverse
(<GCSlots *>SimpleMooncake).tp_clear = _clear
