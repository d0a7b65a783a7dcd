# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# cython: freethreading_compatible=True
"""The Cython cache engine behind ``mooncake.SimpleMooncake``.

Layout (all buffers from PyMem_*, so tracemalloc sees them):

``indices``  open-addressing slots of 3 bytes (4 in tables over 2**23 slots,
             csrc/mc_slots.h): EMPTY, DUMMY or an index into ``entries``.
``entries``  52-byte records in insertion order. That order is also the SIEVE
             queue, oldest first, so eviction needs no linked list: the hand is
             an index that moves towards newer entries and wraps around.
             A removal leaves a hole (key NULL); holes are squeezed out when
             the array is rebuilt, which also shrinks a table that emptied.
``admission`` W-TinyLFU-SIEVE's sketch and ghosts (bench/POLICY.md), for a
             bounded cache with ``policy="tinylfu"``; NULL otherwise. The
             records below ``boundary`` are then main, a SIEVE queue with the
             hand; the newer ones the window, a FIFO.
``heap``     a binary min-heap of entry indices ordered by ``heap_key``; each
             entry knows its heap position, so removal is O(log n). Entries
             that never expire stay out of it.

Implementation note on lazy heap keys: an entry's heap key is a lower bound of
its expiry, not always the expiry itself. A put that overwrites a key (or a
touch) usually pushes its expiry later; sifting it down then would cost a
cache miss per level on the hottest path, so we only record the new expiry.
When such an entry reaches the top of the heap before it has really expired,
cleanup raises its key to the true expiry and sifts it down then: one sift per
overwrite at most, paid by cleanup, not by put. An earlier expiry is sifted up
at once, so the heap top is always the earliest possible expiry.

Implementation note on re-entrancy: Python code runs inside this engine only
where it cannot hurt. A key's ``__hash__`` runs before anything is touched; a
key's ``__eq__`` runs during lookup, after which we check the table's version
and restart the lookup if it changed (as CPython's dict does); references to
removed keys and values go to a graveyard that is emptied only once the table
is consistent again, because their ``__del__`` may call back into the cache.
A user clock is read before the lookup, never in the middle of a change.

Implementation note on threads: with the GIL each method runs as one step
because no Python code runs while the table changes. On a free-threaded build
every method that touches the table holds the object's critical section.
"""

cimport cython
from cpython.bytes cimport PyBytes_CheckExact
from cpython.exc cimport PyErr_Clear, PyErr_WriteUnraisable
from cpython.float cimport PyFloat_AS_DOUBLE
from cpython.long cimport PyLong_AsDouble, PyLong_CheckExact
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.object cimport Py_EQ, PyObject, PyObject_RichCompareBool
from cpython.ref cimport Py_DECREF, Py_INCREF
from cpython.unicode cimport PyUnicode_CheckExact
from libc.math cimport INFINITY, NAN, isnan, rint
from libc.stdint cimport int32_t, uint32_t, uint64_t
from libc.string cimport memset

from mooncake._csupport cimport (
    mc_clock_init,
    mc_counter,
    mc_counter_add,
    mc_counter_load,
    MC_MAX_USER_CODE_DEPTH,
    mc_enter_user_code,
    mc_leave_user_code,
    mc_monotonic,
    mc_precise_monotonic,
    mc_prefetch_write,
    mc_slot_get,
    mc_slot_set,
    mc_slot_width,
    mc_slots_bytes,
)

cdef extern from "Python.h":
    ctypedef int (*mc_visitproc "visitproc")(PyObject *, void *) noexcept
    ctypedef int (*mc_traverseproc "traverseproc")(PyObject *, mc_visitproc, void *) noexcept
    ctypedef int (*mc_inquiry "inquiry")(PyObject *) noexcept
    ctypedef struct GCSlots "PyTypeObject":
        mc_traverseproc tp_traverse
        mc_inquiry tp_clear

import sys

from mooncake.checks import as_pair
from mooncake.cache.arguments import (
    check_access_log_size,
    check_clock,
    check_maxmemory,
    check_maxsize,
    check_monitor,
    check_optional_callable,
    check_policy,
    clock_seconds,
    entry_size,
    measured_bytes,
    ttl_seconds,
)
from mooncake.cache.arguments import wall_offset as _wall_offset
import copyreg

from mooncake.cache.pickling import restore_attributes, subclass_attributes
from mooncake.cache.views import AccessLogView, StorageView
from mooncake.memoize import memoize as _memoize
from mooncake.user_code import report_unraisable
from mooncake.cache.removal import RemovalReason

#: The deepest nesting of the cache's calls into user code per thread
#: (on_remove, monitor, clock); deeper raises RecursionError. See mooncake.user_code.
MAX_USER_CODE_DEPTH = MC_MAX_USER_CODE_DEPTH

#: Resolution of the built-in monotonic clock, in seconds.
CLOCK_RESOLUTION = mc_clock_init()

cdef enum:
    EMPTY = -1
    DUMMY = -2
    MIN_SLOTS = 8
    MAX_RESTARTS = 64          # lookups restarted by a mutating __eq__ before we give up
    GRAVE_INLINE = 8

cdef enum:
    REASON_NONE = 0            # a reference dropped that is not a removal
    REASON_EXPIRED = 1
    REASON_EVICTED = 2
    REASON_DELETED = 3
    REASON_REPLACED = 4
    REASON_CLEARED = 5

cdef tuple _REASONS = (
    None,
    RemovalReason.EXPIRED,
    RemovalReason.EVICTED,
    RemovalReason.DELETED,
    RemovalReason.REPLACED,
    RemovalReason.CLEARED,
)

cdef enum:
    LOOKUP_ABSENT = -1
    LOOKUP_ERROR = -2
    LOOKUP_RESTART = -3

cdef extern from *:
    """
    #define MC_NOT_IN_HEAP 0xFFFFFFFFu
    #define MC_VISITED 1u
    #define MC_HITS_MAX 0xFFFFFFFDu  /* access_count saturates at 2**31 - 2 */
    #define MC_MAX_SLOTS ((Py_ssize_t)1 << 30)
    #define MC_SLOT_MIX 0x9E3779B97F4A7C15ULL
    #define MC_FINGERPRINT_MIX 0xD6E8FEB86659FD93ULL
    #define MC_FOLD_MIX 0x9E3779B1u
    #define MC_HALF_MASK 0x7777777777777777ULL
    #define MC_EAGER_MAXSIZE ((Py_ssize_t)1 << 20)
    """
    const uint32_t NOT_IN_HEAP "MC_NOT_IN_HEAP"
    const uint32_t VISITED "MC_VISITED"
    const uint32_t HITS_MAX "MC_HITS_MAX"
    const Py_ssize_t MAX_SLOTS "MC_MAX_SLOTS"
    const uint64_t SLOT_MIX "MC_SLOT_MIX"
    const uint64_t FINGERPRINT_MIX "MC_FINGERPRINT_MIX"
    const uint32_t FOLD_MIX "MC_FOLD_MIX"
    const uint64_t HALF_MASK "MC_HALF_MASK"
    # Up to this maxsize the admission state is built with the cache; above
    # it, when the cache first fills (as mooncake.cache.twin_admission.EAGER_MAXSIZE).
    const Py_ssize_t EAGER_MAXSIZE "MC_EAGER_MAXSIZE"

cdef object _MISSING = object()


# Packed: 52 bytes, not 56 with the padding a double after three uint32s
# would get. Every field stays 4-byte aligned (the array is, and 52 is a
# multiple of 4); x86-64 and AArch64 load such doubles at full speed. The
# fields a lookup and a hit touch come first.
ctypedef packed struct Entry:
    PyObject *key            # NULL marks a hole left by a removal
    PyObject *value
    double expires           # cache-clock seconds: put time + ttl (INFINITY: never)
    uint32_t hash            # the key's folded hash (see _fold)
    uint32_t hits_visited    # get hits since put << 1 | SIEVE visited bit
    uint32_t heap_pos        # NOT_IN_HEAP when ttl is infinite
    double ttl               # seconds, as given to the last put or touch
    double heap_key          # see "lazy heap keys" below; the put time if never expiring


ctypedef struct LogItem:
    PyObject *key
    double timestamp         # wall-clock seconds


cdef inline double _seconds_left(Entry *e, double now) noexcept nogil:
    # put time + ttl - now can round to a hair above ttl: never report more
    # than the ttl given.
    cdef double left = e.expires - now
    return e.ttl if left > e.ttl else left


cdef inline double put_time(Entry *e) noexcept nogil:
    return e.heap_key if e.ttl == INFINITY else e.expires - e.ttl


ctypedef struct Removal:
    PyObject *key            # owned; NULL when only a value is dropped
    PyObject *value          # owned; NULL when only a key is dropped
    int reason               # an index into _REASONS; REASON_NONE: no callback


ctypedef struct Graveyard:
    # What an operation took out of the table: references to drop, and
    # on_remove calls to make, once the table is consistent again.
    Removal *items
    Py_ssize_t length
    Py_ssize_t capacity
    Removal inline_items[GRAVE_INLINE]


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


cdef double _read_clock(object clock) except? -1.0:
    """One reading of a user clock, checked (a finite real number)."""
    cdef object reading
    mc_enter_user_code(" in the cache's clock")
    try:
        reading = clock()
    finally:
        mc_leave_user_code()
    return clock_seconds(reading)


cdef int _refuse_uninitialised(object cache) except -1:
    raise RuntimeError(
        f"this {type(cache).__name__} is not initialised: its __init__ has not run, or failed; "
        "a subclass must call super().__init__() before using the cache")


cdef inline Py_ssize_t usable(Py_ssize_t nslots) noexcept nogil:
    # At most two thirds of the slots are ever used (live entries plus dummies).
    return (nslots << 1) // 3


cdef class SimpleMooncake


# ----------------------------------------------------------------------
# W-TinyLFU-SIEVE's admission state: a 4-bit count-min sketch and two ghosts
# of fingerprints (specification and reference model: bench/POLICY.md and
# bench/policies.py; the pure twin's mooncake/pure/tinylfu.py). Every slot and
# fingerprint comes from the key's hash, so the twins decide alike.

ctypedef struct Ghost:
    # Two generations of fingerprints in open-addressing tables (0: empty).
    uint32_t *young
    uint32_t *old
    Py_ssize_t young_len


ctypedef struct Admission:
    uint64_t *sketch          # 4 rows of row_words words, 16 4-bit counters a word
    Py_ssize_t width          # counters per row
    Py_ssize_t row_words
    Py_ssize_t additions      # increments since the last halving
    Py_ssize_t sample         # halve every counter after this many increments
    Py_ssize_t maxsize
    Py_ssize_t window_max     # the window's share (clamped to 1 .. maxsize - 1 when used)
    Py_ssize_t window_step
    Py_ssize_t ghost_per_gen  # fingerprints a generation holds before it ages
    Py_ssize_t ghost_slots    # slots per generation's table (> ghost_per_gen)
    uint32_t *ghost_block     # the four tables, one allocation
    Ghost rejected            # candidates the sketch turned away lately
    Ghost evicted             # main's victims lately


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
    a.sample = max(<Py_ssize_t>16, 10 * maxsize)
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


cdef inline void sketch_increment(Admission *a, Py_hash_t key_hash) noexcept nogil:
    """Add one to the key's four counters (saturating at 15); every
    ``sample`` increments, halve them all (TinyLFU's reset)."""
    cdef uint64_t h = <uint64_t>key_hash * SLOT_MIX
    cdef uint32_t slot_hash, step
    cdef uint64_t *row = a.sketch
    cdef uint64_t *word
    cdef uint64_t slot
    cdef unsigned int shift
    cdef int i
    h ^= h >> 32
    slot_hash = <uint32_t>h
    step = <uint32_t>(h >> 32) | 1
    for i in range(4):
        slot = (<uint64_t>slot_hash * <uint64_t>a.width) >> 32
        word = &row[slot >> 4]
        shift = <unsigned int>(slot & 15) << 2
        if ((word[0] >> shift) & 15) != 15:
            word[0] += <uint64_t>1 << shift
        row += a.row_words
        slot_hash += step  # wraps mod 2**32, as the model's double hash
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
    """A new key arrives: grow the window if the filter turned it away lately,
    shrink it if main evicted it lately (ARC's rule for W-TinyLFU's window)."""
    cdef uint32_t f = fingerprint(key_hash)
    if ghost_has(a, &a.rejected, f):
        a.window_max = min(a.maxsize - 1, a.window_max + a.window_step)
    elif ghost_has(a, &a.evicted, f):
        a.window_max = max(<Py_ssize_t>1, a.window_max - a.window_step)


# ----------------------------------------------------------------------
# The lookup and store paths, as module-level inline functions: a cdef method
# of a class that may be subclassed is called through its vtable, which the C
# compiler cannot inline; these calls run on every get and put.

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
    """The key's folded hash (0 .. 2**32 - 1, see _fold); a user __hash__ may
    re-enter the cache, so it is counted."""
    cdef Py_hash_t h
    if _plain_key(<PyObject *>key):
        return _fold(hash(key))
    mc_enter_user_code(" in a key's __hash__")
    try:
        h = hash(key)
    finally:
        mc_leave_user_code()
    return _fold(h)


cdef inline Py_ssize_t _probe(SimpleMooncake self, PyObject *key, Py_hash_t h) except LOOKUP_ERROR:
    """Index of the record holding ``key``, LOOKUP_ABSENT, or LOOKUP_RESTART
    when a key's __eq__ changed the table under us."""
    cdef size_t perturb = <size_t>h
    cdef size_t mask = <size_t>self.mask
    cdef size_t slot = <size_t>h & mask
    cdef Py_ssize_t ix
    cdef Entry *e
    cdef PyObject *stored
    cdef uint64_t version
    cdef int equal
    while True:
        ix = mc_slot_get(self.indices, self.slot_width, slot)
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
        perturb >>= 5
        slot = (slot * 5 + perturb + 1) & mask


cdef inline Py_ssize_t _lookup(SimpleMooncake self, object key, Py_hash_t h) except LOOKUP_ERROR:
    """Index of the record holding ``key``, or LOOKUP_ABSENT."""
    cdef Py_ssize_t ix
    cdef int restarts
    for restarts in range(MAX_RESTARTS):
        ix = _probe(self, <PyObject *>key, h)
        if ix != LOOKUP_RESTART:
            return ix
    raise RuntimeError("the cache kept changing while a key's __eq__ ran; lookup abandoned")


cdef inline Py_ssize_t _find(SimpleMooncake self, object key, Py_hash_t h, double *now, Graveyard *grave) except LOOKUP_ERROR:
    """Index of the live record for ``key``, or LOOKUP_ABSENT. An expired
    record met here is removed and counted. ``now`` comes from
    ``_now_for_lookup``; the built-in clock is read here, once a record is
    found, so a miss costs no clock read."""
    cdef Py_ssize_t ix = _lookup(self, key, h)
    if ix < 0:
        return ix
    if isnan(now[0]):
        now[0] = mc_monotonic()
    if not (now[0] < self.entries[ix].expires):
        self._remove(ix, grave, REASON_EXPIRED)
        mc_counter_add(&self.expirations, 1)
        return LOOKUP_ABSENT
    return ix


cdef inline object _get(SimpleMooncake self, object key, Py_hash_t h, double now, Graveyard *grave):
    cdef Py_ssize_t ix
    cdef Entry *e
    cdef LogItem *slot
    cdef PyObject *dropped = NULL
    cdef object value
    if self.admission != NULL:
        sketch_prefetch(self.admission, h)
    if self.log_len == self.log_ring and self.log_len:
        # A hit will drop the oldest logged key: its reference count is in a
        # line no recent operation touched (see csrc/mc_prefetch.h).
        mc_prefetch_write(self.log[self.log_next].key)
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
    if self.log_capacity and (self.log_len < self.log_ring or self.log_ring == self.log_capacity
                              or _grow_log(self)):
        slot = &self.log[self.log_next]
        if self.log_len == self.log_ring:
            dropped = slot.key
        else:
            self.log_len += 1
        Py_INCREF(<object>e.key)
        slot.key = e.key
        slot.timestamp = now + self.wall_offset
        self.log_next += 1
        if self.log_next == self.log_ring:
            self.log_next = 0
    value = <object>e.value
    if dropped != NULL:
        # The table is consistent and we hold the value: a __del__ of the
        # key leaving the log may now run, even re-enter the cache.
        Py_DECREF(<object>dropped)
    return value


cdef bint _grow_log(SimpleMooncake self) noexcept:
    """The access-log ring is full: grow it towards ``log_capacity``, doubling,
    oldest record first. True if there is a slot to write (a ring that cannot
    grow, for want of memory or because it reached its bound, wraps)."""
    cdef Py_ssize_t ring = self.log_ring
    cdef Py_ssize_t grown, i
    cdef LogItem *fresh
    if ring < self.log_capacity:
        grown = 16 if ring < 8 else 2 * ring
        if grown > self.log_capacity:
            grown = self.log_capacity
        fresh = <LogItem *>PyMem_Malloc(<size_t>grown * sizeof(LogItem))
        if fresh != NULL:
            for i in range(self.log_len):
                fresh[i] = self.log[(self.log_next + i) % ring]
            PyMem_Free(self.log)
            self.log = fresh
            self.log_ring = grown
            self.log_next = self.log_len
    return ring > 0 or self.log_ring > 0


cdef inline object _get_one(SimpleMooncake self, object key):
    """The live value of ``key`` or _MISSING, counting a hit or a miss."""
    cdef Py_hash_t h = _hash(key)
    cdef Graveyard grave
    cdef object result
    grave_init(&grave)
    try:
        with cython.critical_section(self):
            result = _get(self, key, h, self._now_for_lookup(), &grave)
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
            self._remove(ix, grave, REASON_REPLACED)
            self._maybe_shrink()
        return 0
    if ix < 0:
        if self.admission != NULL:
            adapt_window(self.admission, h)
            sketch_increment(self.admission, h)
        self._make_room(1, size, -1, now, grave)
        self._insert(key, h, value, now, seconds, size)
        return 0
    if self.sizes != NULL:
        self._make_room(0, size - self.sizes[ix], ix, now, grave)
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
    self._schedule(ix, now)
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
            _put(self, key, h, value, seconds, size, self._now_for_lookup(), &grave)
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


cdef class SimpleMooncake:
    """A key/value cache with a TTL per key and an optional size bound.

    ``SimpleMooncake(maxsize=None, *, clock=None, access_log_size=10000,
    on_remove=None, maxmemory=None, getsizeof=None, monitor=None, policy=None)``

    ``maxsize``: None (unbounded) or an int >= 1; when a new key would exceed
    it, expired entries go first, then one victim chosen by ``policy``.
    ``policy``: ``"tinylfu"`` (W-TinyLFU-SIEVE, the default), ``"sieve"``, or
    None for the default (``"sieve"`` when ``maxmemory`` is set). Not a str:
    TypeError; an unknown name, or ``"tinylfu"`` with ``maxmemory``: ValueError.
    ``clock``: None for the built-in monotonic clock, or a zero-argument
    callable returning seconds; every expiry decision uses its readings.
    ``access_log_size``: how many recent get hits ``access_log`` keeps (0: none).
    ``on_remove``: None, or ``on_remove(key, value, reason)`` called after each
    removal (reason: a ``RemovalReason``), once the table is consistent.
    ``maxmemory``: None, or a budget in bytes for the sum of entry weights:
    ``getsizeof(value)`` if given, else ``sys.getsizeof(key) + sys.getsizeof(value)``.
    ``monitor``: None, or a ``SimpleMonitor`` that records each operation.

    ``__init__`` runs once: calling it again (even after it failed) raises
    TypeError. Until it has completed, every operation raises RuntimeError (a
    subclass must call ``super().__init__()`` before using the cache).
    """

    cdef unsigned char *indices    # mask + 1 slots of slot_width bytes (csrc/mc_slots.h)
    cdef Py_ssize_t slot_width
    cdef Py_ssize_t mask
    cdef Entry *entries
    cdef Py_ssize_t *sizes         # per-record weight; allocated only with maxmemory
    cdef Py_ssize_t nentries       # used records, holes included
    cdef Py_ssize_t capacity       # records allocated: usable(mask + 1)
    cdef Py_ssize_t live
    cdef uint32_t *heap
    cdef Py_ssize_t heap_len
    cdef Py_ssize_t hand           # SIEVE hand: 0 or a live record, the next to consider
    cdef bint tinylfu              # W-TinyLFU-SIEVE evicts (a bounded cache, policy "tinylfu")
    cdef Py_ssize_t boundary       # with tinylfu: records below it are main, the others the window
    cdef Py_ssize_t n_main         # live records below boundary
    cdef Py_ssize_t n_window       # live records from boundary on
    cdef Admission *admission      # sketch and ghosts; NULL until built (see EAGER_MAXSIZE)
    cdef uint64_t version          # bumped by every change of the table's layout

    cdef LogItem *log
    cdef Py_ssize_t log_capacity   # the bound given as access_log_size
    cdef Py_ssize_t log_ring       # records allocated: grows towards log_capacity as hits come
    cdef Py_ssize_t log_next
    cdef Py_ssize_t log_len

    cdef mc_counter hits
    cdef mc_counter misses
    cdef mc_counter puts
    cdef mc_counter deletes
    cdef mc_counter expirations
    cdef mc_counter evictions

    cdef Py_ssize_t maxsize_
    cdef Py_ssize_t maxmemory_     # -1: no byte budget
    cdef Py_ssize_t memory         # sum of sizes, kept only with a budget
    cdef bint init_started         # __init__ runs at most once
    cdef bint initialized          # __init__ completed: the cache may be used
    cdef double wall_offset
    cdef readonly object maxsize
    cdef readonly object maxmemory
    cdef readonly str policy
    cdef object clock
    cdef object on_remove
    cdef object getsizeof
    cdef object monitor
    cdef object __weakref__

    def __cinit__(self, *args, **kwargs):
        self.indices = NULL
        self.entries = NULL
        self.sizes = NULL
        self.heap = NULL
        self.log = NULL
        self.admission = NULL
        self.maxsize_ = -1
        self.maxmemory_ = -1
        if self._allocate(MIN_SLOTS) < 0:
            raise MemoryError()

    def __init__(self, maxsize=None, *, clock=None, access_log_size=10000,
                 on_remove=None, maxmemory=None, getsizeof=None, monitor=None, policy=None):
        cdef Py_ssize_t log_size
        if self.init_started:
            raise TypeError(f"{type(self).__name__}.__init__ may run only once; create a new cache instead")
        self.init_started = True
        self.maxsize = check_maxsize(maxsize)
        self.maxmemory = check_maxmemory(maxmemory)
        self.policy = check_policy(policy, self.maxmemory)
        self.clock = check_clock(clock)
        log_size = check_access_log_size(access_log_size)
        self.on_remove = check_optional_callable("on_remove", on_remove)
        self.getsizeof = check_optional_callable("getsizeof", getsizeof)
        self.monitor = check_monitor(monitor)
        if self.maxmemory is not None:
            self.maxmemory_ = self.maxmemory
            self.sizes = <Py_ssize_t *>PyMem_Malloc(self.capacity * sizeof(Py_ssize_t))
            if self.sizes == NULL:
                raise MemoryError()
        self.log_capacity = log_size  # the ring itself grows as hits come
        if self.maxsize is not None:
            self.maxsize_ = self.maxsize
            self.tinylfu = self.policy == "tinylfu"
            if self.tinylfu and self.maxsize_ <= EAGER_MAXSIZE:
                self.admission = admission_new(self.maxsize_)
        self.wall_offset = _wall_offset(mc_monotonic() if self.clock is None else _read_clock(self.clock))
        self.initialized = True

    def __dealloc__(self):
        # No callbacks here: the cache itself is going away.
        self._drop_references()
        PyMem_Free(self.indices)
        PyMem_Free(self.entries)
        PyMem_Free(self.sizes)
        PyMem_Free(self.heap)
        PyMem_Free(self.log)
        admission_free(self.admission)

    cdef void _drop_references(self) noexcept:
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

    cdef int _traverse_references(self, mc_visitproc visit, void *arg) noexcept:
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

    # ------------------------------------------------------------------
    # Memory layout

    cdef int _allocate(self, Py_ssize_t nslots) noexcept:
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

    cdef int _rebuild(self, Py_ssize_t needed) except -1:
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
        cdef Py_ssize_t cap, i, j, slot, old_hand, old_boundary
        cdef size_t perturb
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
        if cap > self.capacity and self._resize_records(cap) < 0:
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
            perturb = <size_t>e.hash
            slot = <Py_ssize_t>(<size_t>e.hash & <size_t>(nslots - 1))
            while mc_slot_get(indices, width, slot) != EMPTY:
                perturb >>= 5
                slot = <Py_ssize_t>((<size_t>slot * 5 + perturb + 1) & <size_t>(nslots - 1))
            mc_slot_set(indices, width, slot, <int32_t>j)
            j += 1
        PyMem_Free(self.indices)
        self.indices = indices
        self.slot_width = width
        if cap < self.capacity:
            # Shrinking cannot lose records (cap >= needed >= j); if realloc
            # declines, the larger blocks simply stay.
            self._resize_records(cap)
        self.mask = nslots - 1
        self.capacity = cap
        self.nentries = j
        self.version += 1
        return 0

    cdef int _resize_records(self, Py_ssize_t cap) noexcept:
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

    cdef inline void _maybe_shrink(self) noexcept:
        """After removals: give memory back once the table is mostly holes."""
        if self.mask + 1 > MIN_SLOTS and self.live * 8 < self.capacity:
            if self._rebuild(self.live) < 0:
                # Shrinking is only an optimisation; a table that stays large is fine.
                PyErr_Clear()

    # ------------------------------------------------------------------
    # Lookup


    cdef Py_ssize_t _slot_of(self, Py_ssize_t ix) noexcept nogil:
        """The slot pointing at record ``ix`` (found by hash, no __eq__ needed)."""
        cdef Py_hash_t h = self.entries[ix].hash
        cdef size_t perturb = <size_t>h
        cdef size_t mask = <size_t>self.mask
        cdef size_t slot = <size_t>h & mask
        while mc_slot_get(self.indices, self.slot_width, slot) != ix:
            perturb >>= 5
            slot = (slot * 5 + perturb + 1) & mask
        return <Py_ssize_t>slot

    cdef Py_ssize_t _free_slot(self, Py_hash_t h) noexcept nogil:
        cdef size_t perturb = <size_t>h
        cdef size_t mask = <size_t>self.mask
        cdef size_t slot = <size_t>h & mask
        while mc_slot_get(self.indices, self.slot_width, slot) >= 0:
            perturb >>= 5
            slot = (slot * 5 + perturb + 1) & mask
        return <Py_ssize_t>slot

    # ------------------------------------------------------------------
    # Expiry heap (compares C doubles only: no user code ever runs here)

    cdef inline void _heap_place(self, Py_ssize_t pos, uint32_t ix) noexcept nogil:
        self.heap[pos] = ix
        self.entries[ix].heap_pos = <uint32_t>pos

    cdef void _sift_up(self, Py_ssize_t pos) noexcept nogil:
        cdef uint32_t ix = self.heap[pos]
        cdef double key = self.entries[ix].heap_key
        cdef Py_ssize_t parent
        while pos > 0:
            parent = (pos - 1) >> 1
            if self.entries[self.heap[parent]].heap_key <= key:
                break
            self._heap_place(pos, self.heap[parent])
            pos = parent
        self._heap_place(pos, ix)

    cdef void _sift_down(self, Py_ssize_t pos) noexcept nogil:
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
            self._heap_place(pos, self.heap[child])
            pos = child
        self._heap_place(pos, ix)

    cdef void _heap_remove(self, Py_ssize_t ix) noexcept nogil:
        cdef Py_ssize_t pos = self.entries[ix].heap_pos
        cdef uint32_t last
        self.entries[ix].heap_pos = NOT_IN_HEAP
        self.heap_len -= 1
        if pos == self.heap_len:
            return
        last = self.heap[self.heap_len]
        self._heap_place(pos, last)
        self._sift_down(pos)
        self._sift_up(self.entries[last].heap_pos)

    cdef void _schedule(self, Py_ssize_t ix, double now) noexcept nogil:
        """File record ``ix`` after a put or touch set its ``expires``."""
        cdef Entry *e = &self.entries[ix]
        if e.ttl == INFINITY:
            if e.heap_pos != NOT_IN_HEAP:
                self._heap_remove(ix)
            e.heap_key = now
        elif e.heap_pos == NOT_IN_HEAP:
            e.heap_key = e.expires
            self._heap_place(self.heap_len, <uint32_t>ix)
            self.heap_len += 1
            self._sift_up(self.heap_len - 1)
        elif e.expires < e.heap_key:
            e.heap_key = e.expires
            self._sift_up(e.heap_pos)
        # else: a later expiry; the old key stays a valid lower bound.

    # ------------------------------------------------------------------
    # ------------------------------------------------------------------
    # Changes to the table (no Python code runs in any of these)

    cdef void _remove(self, Py_ssize_t ix, Graveyard *grave, int reason) noexcept:
        """Take record ``ix`` out; its key and value go to the graveyard (which
        must have room for one more removal)."""
        cdef Entry *e = &self.entries[ix]
        mc_slot_set(self.indices, self.slot_width, self._slot_of(ix), DUMMY)
        if e.heap_pos != NOT_IN_HEAP:
            self._heap_remove(ix)
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
            self.hand = self._next_live_or_oldest(ix + 1, self.boundary if self.tinylfu else self.nentries)

    cdef int _insert(self, object key, Py_hash_t h, object value, double now, double ttl,
                     Py_ssize_t size) except -1:
        """Append a new record for a key known to be absent."""
        cdef Py_ssize_t ix
        cdef Entry *e
        if self.nentries >= self.capacity:
            self._rebuild(self.live + 1)
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
        mc_slot_set(self.indices, self.slot_width, self._free_slot(h), <int32_t>ix)
        self.nentries += 1
        self.live += 1
        if self.tinylfu:
            self.n_window += 1  # every new record joins the window
        self.version += 1
        self._schedule(ix, now)
        return 0

    cdef Py_ssize_t _purge_expired(self, double now, Graveyard *grave) except -1:
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
                self._sift_down(0)
                continue
            if grave_try_reserve(grave, 1) < 0:
                mc_counter_add(&self.expirations, <uint64_t>k)
                raise MemoryError()
            self._remove(ix, grave, REASON_EXPIRED)
            k += 1
        mc_counter_add(&self.expirations, <uint64_t>k)
        return k

    cdef Py_ssize_t _sieve_victim(self, Py_ssize_t spared, Py_ssize_t end) noexcept nogil:
        """Walk the hand from older to newer records below ``end``, wrapping
        around, clearing visited bits, and return the first record not visited
        (never ``spared``, the record a put is writing; one must exist). The
        hand is left on the victim, so that removing it moves the hand on as
        the paper's does (see ``_remove``)."""
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

    cdef inline Py_ssize_t _next_live_or_oldest(self, Py_ssize_t i, Py_ssize_t end) noexcept nogil:
        """The first live record at ``i`` or newer, below ``end``; 0 (the oldest end) if none."""
        while i < end:
            if self.entries[i].key != NULL:
                return i
            i += 1
        return 0

    cdef inline bint _over_budget(self, Py_ssize_t extra_entries, Py_ssize_t extra_bytes) noexcept nogil:
        # memory <= maxmemory_ always holds (every weight is at most the budget
        # and a put evicts until it fits), so the subtraction cannot wrap.
        return ((self.maxsize_ > 0 and self.live + extra_entries > self.maxsize_)
                or (self.maxmemory_ > 0 and extra_bytes > self.maxmemory_ - self.memory))

    cdef int _make_room(self, Py_ssize_t extra_entries, Py_ssize_t extra_bytes, Py_ssize_t spared,
                        double now, Graveyard *grave) except -1:
        """Free room for what a put adds: expired entries first, then the policy's victims."""
        if not self._over_budget(extra_entries, extra_bytes):
            return 0
        self._purge_expired(now, grave)
        if self.tinylfu:
            # Only a new key can be over a count-only budget: one removal.
            if self._over_budget(extra_entries, extra_bytes):
                if self.admission == NULL:
                    # live >= maxsize_ here, so maxsize_ < MAX_SLOTS: the sizes cannot overflow.
                    self.admission = admission_new(self.maxsize_)
                grave_reserve(grave, 1)
                self._evict_tinylfu(grave)
            return 0
        while self._over_budget(extra_entries, extra_bytes) and self.live > (spared >= 0):
            grave_reserve(grave, 1)
            self._remove(self._sieve_victim(spared, self.nentries), grave, REASON_EVICTED)
            mc_counter_add(&self.evictions, 1)
        return 0

    cdef inline Py_ssize_t _oldest_window(self) noexcept nogil:
        """The first live record at or after the boundary (the window holds one)."""
        cdef Py_ssize_t i = self.boundary
        while self.entries[i].key == NULL:
            i += 1
        return i

    cdef void _evict_tinylfu(self, Graveyard *grave) noexcept:
        """One removal for a new key (bench/POLICY.md, make_room): the window's
        overflow joins main while main has room; then the window's oldest
        record (the candidate) displaces main's SIEVE victim if the sketch
        says it is more frequent, else is evicted itself; or, with the window
        within its share, main gives up its victim. Moving the boundary moves
        no record. The graveyard has room for one removal."""
        cdef Admission *a = self.admission
        cdef Py_ssize_t window_max = max(<Py_ssize_t>1, min(self.maxsize_ - 1, a.window_max))
        cdef Py_ssize_t main_max = self.maxsize_ - window_max
        cdef Py_ssize_t w = self.n_window + 1  # the incoming key counts as a window record
        cdef Py_ssize_t c, v
        while w > window_max and self.n_main < main_max:
            self.boundary = self._oldest_window() + 1
            self.n_window -= 1
            self.n_main += 1
            w -= 1
        if self.n_main == 0:  # maxsize 1: the window is everything
            self._reject(self._oldest_window(), grave)
        elif w > window_max:
            c = self._oldest_window()
            v = self._sieve_victim(-1, self.boundary)
            if sketch_estimate(a, self.entries[c].hash) > sketch_estimate(a, self.entries[v].hash):
                ghost_add(a, &a.evicted, fingerprint(self.entries[v].hash))
                self._remove(v, grave, REASON_EVICTED)
                mc_counter_add(&self.evictions, 1)
                self.boundary = c + 1  # the candidate is now main's newest record
                self.n_window -= 1
                self.n_main += 1
            else:
                self._reject(c, grave)
        else:
            v = self._sieve_victim(-1, self.boundary)
            ghost_add(a, &a.evicted, fingerprint(self.entries[v].hash))
            self._remove(v, grave, REASON_EVICTED)
            mc_counter_add(&self.evictions, 1)

    cdef void _reject(self, Py_ssize_t c, Graveyard *grave) noexcept:
        """Evict the window's oldest record ``c``; the window starts after it."""
        ghost_add(self.admission, &self.admission.rejected, fingerprint(self.entries[c].hash))
        self._remove(c, grave, REASON_EVICTED)
        mc_counter_add(&self.evictions, 1)
        self.boundary = c + 1


    # ------------------------------------------------------------------
    # Time

    # Every operation that may change the table reads the time first, through
    # one of these two, so they are also where a cache whose __init__ has not
    # (successfully) run refuses to work.

    cdef inline double _now(self) except? -1.0:
        if self.clock is None and self.initialized:
            return mc_monotonic()
        return self._user_now()

    cdef inline double _now_for_lookup(self) except? -1.0:
        """A user clock is Python code, so it is read before a lookup; the
        built-in clock is left for ``_find`` to read (NaN: not read yet)."""
        if self.clock is None and self.initialized:
            return NAN
        return self._user_now()

    cdef double _user_now(self) except? -1.0:
        if not self.initialized:
            _refuse_uninitialised(self)
        return _read_clock(self.clock)

    # ------------------------------------------------------------------
    # The instrumented cache: with a monitor, each public call is timed.

    cdef void _record(self, str operation, double started, bint success, object value) noexcept:
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

    # ------------------------------------------------------------------
    # The public API

    @cython.binding(False)  # a plain method descriptor: CPython's fast call path
    def put(self, key, value, ttl=3600):
        """Store ``value`` under ``key`` for ``ttl`` seconds; return True.

        The entry is live while ``now < put_time + ttl``: ``ttl <= 0`` stores
        nothing and removes any older value of the key; ``math.inf`` never
        expires. Overwriting a key never evicts for ``maxsize``. When the cache
        is full, expired entries go first, then the policy's victims. With
        ``maxmemory``, a value weighing more than the whole budget is refused:
        put returns False and changes nothing. Unhashable key or non-real ttl:
        TypeError; NaN ttl: ValueError; the cache is then unchanged.
        """
        cdef double seconds = _put_seconds(ttl)
        cdef double started
        cdef bint stored
        if self.monitor is None:
            return _put_one(self, key, value, seconds)
        started = mc_precise_monotonic()
        try:
            stored = _put_one(self, key, value, seconds)
        except BaseException:
            self._record("put", started, False, None)
            raise
        self._record("put", started, stored, value if stored else None)
        return stored


    @cython.binding(False)  # a plain method descriptor: CPython's fast call path
    def get(self, key, default=None):
        """The live value of ``key``, else ``default``. Counts a hit or a miss; an
        expired entry met here is removed (an expiration and a miss)."""
        cdef object result
        cdef double started
        if self.monitor is None:
            result = _get_one(self, key)
            return default if result is _MISSING else result
        started = mc_precise_monotonic()
        try:
            result = _get_one(self, key)
        except BaseException:
            self._record("get", started, False, None)
            raise
        if result is _MISSING:
            self._record("get", started, False, None)
            return default
        self._record("get", started, True, result)
        return result


    # The item syntax is sugar for the named methods, always: a subclass that
    # overrides get, put or delete sees cache[key], cache[key] = value and
    # del cache[key] too. Only the exact class, unmonitored, takes the short cut.

    def __getitem__(self, key):
        """``cache[key]``: ``self.get(key)``, but KeyError if absent or expired."""
        cdef object value
        if type(self) is SimpleMooncake and self.monitor is None:
            value = _get_one(self, key)
        else:
            value = self.get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def __setitem__(self, key, value):
        """``cache[key] = value``: ``self.put(key, value)``, the default ttl of 3600 seconds."""
        if type(self) is SimpleMooncake and self.monitor is None:
            _put_one(self, key, value, 3600.0)
        else:
            self.put(key, value)

    @cython.binding(False)  # a plain method descriptor: CPython's fast call path
    def delete(self, key):
        """Remove ``key``. True if a live entry was removed; False if it was absent
        or already expired (an expired one is removed and counted as expired)."""
        cdef double started
        cdef object value
        if self.monitor is None:
            return self._pop(key) is not _MISSING
        started = mc_precise_monotonic()
        try:
            value = self._pop(key)
        except BaseException:
            self._record("delete", started, False, None)
            raise
        self._record("delete", started, value is not _MISSING, None)
        return value is not _MISSING

    def __delitem__(self, key):
        """``del cache[key]``: ``self.delete(key)``, but KeyError if absent or expired."""
        if type(self) is SimpleMooncake and self.monitor is None:
            if self._pop(key) is _MISSING:
                raise KeyError(key)
        elif not self.delete(key):
            raise KeyError(key)

    @cython.binding(False)  # a plain method descriptor: CPython's fast call path
    def pop(self, key, default=_MISSING):
        """Remove ``key`` and return its live value; ``default`` (or KeyError when
        no default is given) if it was absent or expired. Not a hit or a miss."""
        cdef object value = self._pop(key)
        if value is _MISSING:
            if default is _MISSING:
                raise KeyError(key)
            return default
        return value

    cdef object _pop(self, object key):
        cdef Py_hash_t h = _hash(key)
        cdef Graveyard grave
        cdef Py_ssize_t ix
        cdef double now
        cdef object value = _MISSING
        grave_init(&grave)
        try:
            with cython.critical_section(self):
                now = self._now_for_lookup()
                ix = _find(self, key, h, &now, &grave)
                if ix >= 0:
                    value = <object>self.entries[ix].value
                    self._remove(ix, &grave, REASON_DELETED)
                    mc_counter_add(&self.deletes, 1)
                self._maybe_shrink()
        finally:
            grave_release(&grave, self.on_remove)
        return value

    def __contains__(self, key):
        """True if ``key`` is live. Not a hit or a miss; an expired entry met here
        is removed."""
        cdef Py_hash_t h = _hash(key)
        cdef Graveyard grave
        cdef Py_ssize_t ix
        cdef double now
        grave_init(&grave)
        try:
            with cython.critical_section(self):
                now = self._now_for_lookup()
                ix = _find(self, key, h, &now, &grave)
        finally:
            grave_release(&grave, self.on_remove)
        return ix >= 0

    def ttl(self, key):
        """Seconds left for a live ``key`` (``math.inf`` if it never expires), else None.
        Never more than the ttl given to its last put or touch."""
        cdef Py_hash_t h = _hash(key)
        cdef Graveyard grave
        cdef Py_ssize_t ix
        cdef double now
        cdef object left = None
        grave_init(&grave)
        try:
            with cython.critical_section(self):
                now = self._now_for_lookup()
                ix = _find(self, key, h, &now, &grave)
                if ix >= 0:
                    left = _seconds_left(&self.entries[ix], now)
        finally:
            grave_release(&grave, self.on_remove)
        return left

    def touch(self, key, ttl):
        """Restart a live key's TTL at ``ttl`` seconds from now. False if it is
        absent or expired. ``ttl <= 0`` expires the entry at once (still True)."""
        cdef double seconds = ttl_seconds(ttl)
        cdef Py_hash_t h = _hash(key)
        cdef Graveyard grave
        cdef Py_ssize_t ix
        cdef double now
        grave_init(&grave)
        try:
            with cython.critical_section(self):
                now = self._now_for_lookup()
                ix = _find(self, key, h, &now, &grave)
                if ix >= 0:
                    if seconds <= 0:
                        grave_reserve(&grave, 1)
                        self._remove(ix, &grave, REASON_EXPIRED)
                        mc_counter_add(&self.expirations, 1)
                    else:
                        self.entries[ix].expires = now + seconds
                        self.entries[ix].ttl = seconds
                        self._schedule(ix, now)
        finally:
            grave_release(&grave, self.on_remove)
        return ix >= 0

    def cleanup_expired(self):
        """Remove every expired entry and return how many were removed:
        O(k log n) for k expired among n, never a scan of the table."""
        cdef Graveyard grave
        cdef Py_ssize_t k = 0
        cdef double started = mc_precise_monotonic() if self.monitor is not None else 0.0
        grave_init(&grave)
        try:
            with cython.critical_section(self):
                k = self._purge_expired(self._now(), &grave)
                self._maybe_shrink()
        finally:
            grave_release(&grave, self.on_remove)
        if self.monitor is not None:
            self._record("cleanup_expired", started, True, None)
        return k

    def clear(self):
        """Remove every entry (on_remove gets reason "cleared" for each).
        Counters and the access log are kept."""
        cdef Graveyard grave
        cdef Py_ssize_t i
        cdef Entry *e
        if not self.initialized:
            _refuse_uninitialised(self)
        grave_init(&grave)
        try:
            with cython.critical_section(self):
                grave_reserve(&grave, self.live)
                for i in range(self.nentries):
                    e = &self.entries[i]
                    if e.key != NULL:
                        grave_push(&grave, e.key, e.value, REASON_CLEARED)
                        e.key = NULL
                if self._allocate(MIN_SLOTS) < 0:
                    # Keep the big buffers, now empty.
                    memset(self.indices, 0xFF, mc_slots_bytes(self.mask + 1))
                    self.nentries = self.live = self.heap_len = self.hand = self.memory = 0
                    self.boundary = self.n_main = self.n_window = 0
                    self.version += 1
                if self.admission != NULL:
                    admission_reset(self.admission)
        finally:
            grave_release(&grave, self.on_remove)

    def __len__(self):
        """The number of live entries (expired ones are removed first)."""
        cdef Graveyard grave
        cdef Py_ssize_t n
        grave_init(&grave)
        try:
            with cython.critical_section(self):
                self._purge_expired(self._now(), &grave)
                self._maybe_shrink()
                n = self.live
        finally:
            grave_release(&grave, self.on_remove)
        return n

    cdef list _collect(self, int what, bint purge):
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
                now = self._now()
                if purge:
                    self._purge_expired(now, &grave)
                    self._maybe_shrink()
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

    def keys(self):
        """A list of the live keys, oldest first."""
        return self._collect(0, True)

    def values(self):
        """A list of the live values, in key order."""
        return self._collect(1, True)

    def items(self):
        """A list of the live ``(key, value)`` pairs, in key order."""
        return self._collect(2, True)

    def __iter__(self):
        """Iterate over a snapshot of the live keys."""
        return iter(self._collect(0, True))

    def get_many(self, keys):
        """``{key: value}`` for the live ones among ``keys``; each counts a hit or a miss."""
        cdef list todo = list(keys)
        cdef dict found = {}
        cdef object key, value
        cdef double started = mc_precise_monotonic() if self.monitor is not None else 0.0
        for key in todo:
            _hash(key)  # an unhashable key fails before anything is counted
        for key in todo:
            value = _get_one(self, key)
            if value is not _MISSING:
                found[key] = value
        if self.monitor is not None:
            self._record("get_many", started, len(found) == len(todo), None)
        return found

    def put_many(self, items, ttl=3600):
        """Store every ``(key, value)`` of a mapping or iterable of pairs with one
        ``ttl``; return how many were stored (0 when ``ttl <= 0``; values refused
        by ``maxmemory`` are not counted). A bad ttl, a malformed pair or an
        unhashable key raises before anything is stored."""
        cdef double seconds = ttl_seconds(ttl)
        cdef list pairs = list(items.items()) if hasattr(items, "keys") else [as_pair(p) for p in items]
        cdef object key, value
        cdef Py_ssize_t stored = 0
        cdef double started = mc_precise_monotonic() if self.monitor is not None else 0.0
        for key, value in pairs:
            _hash(key)  # an unhashable key fails before anything is stored
        for key, value in pairs:
            stored += _put_one(self, key, value, seconds)
        if seconds <= 0:
            stored = 0
        if self.monitor is not None:
            self._record("put_many", started, True, None)
        return stored

    def memoize(self, ttl=3600, key=None):
        """Decorate a function or coroutine function to cache its results here.
        See ``mooncake.memoize.memoize`` for the rules."""
        return _memoize(self, ttl=ttl, key=key)

    def memoize_method(self, ttl=3600, key=None):
        """Like ``memoize``, for methods: results are cached per instance, and
        the cache holds no reference to the instance."""
        return _memoize(self, ttl=ttl, key=key, per_instance=True)

    @property
    def storage(self):
        """A read-only mapping view ``key -> {'value', 'created_at', 'ttl', 'access_count'}``."""
        return StorageView(self)

    @property
    def access_log(self):
        """A read-only sequence of the most recent get hits, oldest first."""
        return AccessLogView(self)

    def _entry_info(self, key):
        cdef Py_hash_t h = _hash(key)
        cdef Graveyard grave
        cdef Py_ssize_t ix
        cdef Entry *e
        cdef object value = None
        cdef double created = 0.0, ttl = 0.0, now
        cdef uint32_t hits = 0
        grave_init(&grave)
        try:
            with cython.critical_section(self):
                now = self._now_for_lookup()
                ix = _find(self, key, h, &now, &grave)
                if ix >= 0:
                    e = &self.entries[ix]
                    value = <object>e.value
                    created = put_time(e)
                    ttl = e.ttl
                    hits = e.hits_visited >> 1
        finally:
            grave_release(&grave, self.on_remove)
        if ix < 0:
            return None
        return {
            "value": value,
            "created_at": created + self.wall_offset,
            "ttl": ttl,
            "access_count": hits,
        }

    def _access_log_len(self):
        if not self.initialized:
            _refuse_uninitialised(self)
        return self.log_len

    def _access_log_item(self, Py_ssize_t index):
        """The ``(key, wall_timestamp)`` of hit number ``index`` (0: the oldest
        retained; negative counts from the newest); IndexError out of range."""
        cdef object key = None
        cdef double stamp = 0.0
        cdef LogItem *item
        if not self.initialized:
            _refuse_uninitialised(self)
        with cython.critical_section(self):
            if index < 0:
                index += self.log_len
            if 0 <= index < self.log_len:
                item = &self.log[self._log_position(index)]
                key = <object>item.key
                stamp = item.timestamp
            else:
                index = -1
        if index < 0:
            raise IndexError("access_log index out of range")
        return (key, stamp)

    cdef inline Py_ssize_t _log_position(self, Py_ssize_t i) noexcept nogil:
        """Where the ``i``-th oldest retained hit sits in the ring."""
        cdef Py_ssize_t pos = self.log_next - self.log_len + i
        if pos < 0:
            pos += self.log_ring
        return pos

    def _access_log_snapshot(self):
        cdef Graveyard held
        cdef list out
        cdef double *stamps = NULL
        cdef Py_ssize_t i
        cdef LogItem *item
        if not self.initialized:
            _refuse_uninitialised(self)
        grave_init(&held)
        try:
            with cython.critical_section(self):
                grave_reserve(&held, self.log_len)
                stamps = <double *>PyMem_Malloc((self.log_len + 1) * sizeof(double))
                if stamps == NULL:
                    raise MemoryError()
                for i in range(self.log_len):
                    item = &self.log[self._log_position(i)]
                    Py_INCREF(<object>item.key)
                    stamps[i] = item.timestamp
                    grave_push(&held, item.key, NULL, REASON_NONE)
            out = [(<object>held.items[i].key, stamps[i]) for i in range(held.length)]
        finally:
            PyMem_Free(stamps)
            grave_release(&held, None)
        return out

    def get_stats(self):
        """Counters and sizes; expired entries are removed first.

        ``memory_usage`` is the sum of the live entries' sizes: with
        ``maxmemory``, the weights taken at put (the budget's own accounting);
        without, ``sys.getsizeof`` of each live key and value, measured now (O(n));
        an object whose ``__sizeof__`` raises counts as its base size, so the
        stats stay readable.
        """
        cdef list pairs = self._collect(2, True)
        cdef object memory
        cdef uint64_t hits, misses
        if self.maxmemory_ > 0:
            memory = self.memory
        else:
            memory = measured_bytes([x for pair in pairs for x in pair])
        with cython.critical_section(self):
            hits = mc_counter_load(&self.hits)
            misses = mc_counter_load(&self.misses)
            return {
                "total_objects": self.live,
                "total_accesses": hits,
                "memory_usage": memory,
                "hits": hits,
                "misses": misses,
                "hit_rate": hits / <double>(hits + misses) if hits + misses else 0.0,
                "puts": mc_counter_load(&self.puts),
                "deletes": mc_counter_load(&self.deletes),
                "expirations": mc_counter_load(&self.expirations),
                "evictions": mc_counter_load(&self.evictions),
                "maxsize": self.maxsize,
                "maxmemory": self.maxmemory,
            }

    # ------------------------------------------------------------------
    # Pickling and copying

    def __reduce__(self):
        """Live entries with their remaining TTLs, settings, counters and a
        subclass's attributes (see ``mooncake.cache_pickle``); expired entries
        are left behind, and so are the access log and hit counts per entry."""
        return (copyreg.__newobj__, (type(self),), self._state())

    def __setstate__(self, state):
        """Load a state from ``__reduce__`` into a new, uninitialised cache,
        without calling overridable methods; TypeError on one already initialised."""
        if self.init_started:
            raise TypeError("__setstate__ restores only a new, uninitialised cache")
        SimpleMooncake.__init__(self, **state["settings"])
        for key, value, seconds_left in state["entries"]:
            _put_one(self, key, value, ttl_seconds(seconds_left))
        self._finish_restore(state["counters"], state["monitor"])
        restore_attributes(self, state["attributes"])

    def _state(self):
        cdef dict state = {
            "settings": {
                "maxsize": self.maxsize,
                "clock": self.clock,
                "access_log_size": self.log_capacity,
                "on_remove": self.on_remove,
                "maxmemory": self.maxmemory,
                "getsizeof": self.getsizeof,
                "policy": self.policy,
            },
            "monitor": self.monitor,  # attached last: the reload is not user traffic
            "entries": self._collect(3, False),
            "attributes": subclass_attributes(self, SimpleMooncake),
        }
        with cython.critical_section(self):
            state["counters"] = (
                mc_counter_load(&self.hits), mc_counter_load(&self.misses),
                mc_counter_load(&self.puts), mc_counter_load(&self.deletes),
                mc_counter_load(&self.expirations), mc_counter_load(&self.evictions),
            )
        return state

    def _finish_restore(self, counters, monitor):
        with cython.critical_section(self):
            (self.hits, self.misses, self.puts, self.deletes,
             self.expirations, self.evictions) = counters
            self.monitor = check_monitor(monitor)

    def __repr__(self):
        if not self.initialized:
            return f"<{type(self).__name__}, not initialised>"
        return f"{type(self).__name__}(maxsize={self.maxsize!r}, entries={self.live})"




# The type's garbage-collector hooks: Cython generates them for the object
# attributes; ours add the keys, values and access-log keys held in C buffers,
# so a value that refers back to its cache can still be collected.
cdef mc_traverseproc _generated_traverse = (<GCSlots *>SimpleMooncake).tp_traverse
cdef mc_inquiry _generated_clear = (<GCSlots *>SimpleMooncake).tp_clear


cdef int _traverse(PyObject *o, mc_visitproc visit, void *arg) noexcept:
    cdef int r = _generated_traverse(o, visit, arg)
    if r:
        return r
    return (<SimpleMooncake>o)._traverse_references(visit, arg)


cdef int _clear(PyObject *o) noexcept:
    (<SimpleMooncake>o)._drop_references()
    return _generated_clear(o)


(<GCSlots *>SimpleMooncake).tp_traverse = _traverse
(<GCSlots *>SimpleMooncake).tp_clear = _clear


# ----------------------------------------------------------------------
# get and put, parsed by hand for their common call shapes.
#
# Implementation note: Cython's generic argument parsing takes a new
# reference to every argument and hands keyword names to a general routine:
# in callgrind, about 45 instructions of a get's 460 and 100 of a
# put(k, v, ttl=...)'s 865. These two calls are the cache, so get(k),
# get(k, default), put(k, v), put(k, v, ttl) and put(k, v, ttl=...) on an
# unmonitored cache are parsed here, with borrowed references. Every other
# call (other keywords, wrong counts, a monitor) goes to the function Cython
# generated for the method, unchanged: it stays the reference for behaviour and
# error messages. The descriptors keep the generated names and docstrings;
# a subclass that overrides get or put overrides these as it would the others.

cdef object _METHOD_DESCRIPTOR = type(str.join)

cdef extern from "Python.h":
    int METH_FASTCALL
    int METH_KEYWORDS
    ctypedef struct PyMethodDef:
        const char *ml_name
        void *ml_meth
        int ml_flags
        const char *ml_doc
    ctypedef struct PyMethodDescrObject:
        PyMethodDef *d_method
    ctypedef struct PyTypeObject:
        PyObject *tp_dict
    object PyDescr_NewMethod(PyTypeObject *type, PyMethodDef *meth)
    void PyType_Modified(PyTypeObject *type)
    Py_ssize_t PyTuple_GET_SIZE(PyObject *p)
    PyObject *PyTuple_GET_ITEM(PyObject *p, Py_ssize_t pos)

ctypedef PyObject *(*_fastcall)(PyObject *, PyObject **, Py_ssize_t, PyObject *) except NULL

cdef PyMethodDef _get_def
cdef PyMethodDef _put_def
cdef _fastcall _generated_get
cdef _fastcall _generated_put
cdef object _TTL_NAME = sys.intern("ttl")
cdef object _DEFAULT_TTL = 3600


cdef PyObject *_get_fastcall(PyObject *self, PyObject **args, Py_ssize_t nargs,
                             PyObject *kwnames) except NULL:
    cdef object result
    if kwnames != NULL or nargs < 1 or nargs > 2 or (<SimpleMooncake>self).monitor is not None:
        return _generated_get(self, args, nargs, kwnames)
    result = _get_one(<SimpleMooncake>self, <object>args[0])
    if result is _MISSING:
        result = <object>args[1] if nargs == 2 else None
    Py_INCREF(result)
    return <PyObject *>result


cdef PyObject *_put_fastcall(PyObject *self, PyObject **args, Py_ssize_t nargs,
                             PyObject *kwnames) except NULL:
    cdef object ttl, result
    if (<SimpleMooncake>self).monitor is not None:
        return _generated_put(self, args, nargs, kwnames)
    if kwnames == NULL:
        if nargs == 2:
            ttl = _DEFAULT_TTL
        elif nargs == 3:
            ttl = <object>args[2]
        else:
            return _generated_put(self, args, nargs, kwnames)
    elif (nargs == 2 and PyTuple_GET_SIZE(kwnames) == 1
          and PyTuple_GET_ITEM(kwnames, 0) == <PyObject *>_TTL_NAME):
        ttl = <object>args[2]
    else:
        return _generated_put(self, args, nargs, kwnames)
    result = _put_one(<SimpleMooncake>self, <object>args[0], <object>args[1], _put_seconds(ttl))
    Py_INCREF(result)
    return <PyObject *>result


cdef _fastcall _install(str name, PyMethodDef *method, void *function):
    """Replace the type's method ``name`` by ``function`` (same flags, name and
    docstring); return the generated function it stands in front of. If
    Cython did not generate a METH_FASTCALL | METH_KEYWORDS method descriptor
    (another Cython, CYTHON_VECTORCALL=0), leave the method alone: NULL."""
    cdef PyTypeObject *t = <PyTypeObject *>SimpleMooncake
    cdef object generated = (<object>t.tp_dict)[name]
    cdef PyMethodDef *original
    if type(generated) is not _METHOD_DESCRIPTOR:
        return NULL
    original = (<PyMethodDescrObject *>generated).d_method
    if original.ml_flags != METH_FASTCALL | METH_KEYWORDS:
        return NULL
    method.ml_name = original.ml_name
    method.ml_meth = function
    method.ml_flags = original.ml_flags
    method.ml_doc = original.ml_doc
    (<object>t.tp_dict)[name] = PyDescr_NewMethod(t, method)
    PyType_Modified(t)
    return <_fastcall><void *>original.ml_meth


_generated_get = _install("get", &_get_def, <void *>_get_fastcall)
_generated_put = _install("put", &_put_def, <void *>_put_fastcall)
