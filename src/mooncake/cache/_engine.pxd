# The C layout of the cache engine: its records, the access log's items, the
# graveyard, the admission state, and the attributes of SimpleMooncake.
# _engine.pyx and the .pxi parts it includes work on these; the module
# docstring in _engine.pyx says how they fit together.

from cpython.object cimport PyObject
from libc.stdint cimport uint32_t, uint64_t

from mooncake._csupport cimport mc_counter

cdef enum:
    GRAVE_INLINE = 8           # removals a graveyard holds before it allocates


# Packed: 52 bytes, not 56 with the padding a double after three uint32s
# would get. Every field stays 4-byte aligned (the array is, and 52 is a
# multiple of 4); x86-64 and AArch64 load such doubles at full speed. The
# fields a lookup and a hit touch come first.
ctypedef packed struct Entry:
    PyObject *key            # NULL marks a hole left by a removal
    PyObject *value
    double expires           # cache-clock seconds: put time + ttl (INFINITY: never)
    uint32_t hash            # the key's folded hash (see _fold in table.pxi)
    uint32_t hits_visited    # get hits since put << 1 | SIEVE visited bit
    uint32_t heap_pos        # NOT_IN_HEAP when ttl is infinite
    double ttl               # seconds, as given to the last put or touch
    double heap_key          # see "lazy heap keys" in _engine.pyx; the put time if never expiring


ctypedef struct LogItem:
    PyObject *key
    double timestamp         # wall-clock seconds


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
    Py_ssize_t vote_period    # new keys between two weighings of the votes
    Py_ssize_t new_keys       # new keys since the last weighing
    Py_ssize_t grow_votes     # of those, keys the filter turned away lately
    Py_ssize_t shrink_votes   # and keys main evicted lately
    Py_ssize_t ghost_per_gen  # fingerprints a generation holds before it ages
    Py_ssize_t ghost_slots    # slots per generation's table (> ghost_per_gen)
    uint32_t *ghost_block     # the four tables, one allocation
    Ghost rejected            # candidates the sketch turned away lately
    Ghost evicted             # main's victims lately


ctypedef struct Probe:
    # Where a walk of the open-addressing slots stands (see probe_next in table.pxi).
    size_t slot
    size_t perturb
    size_t mask


cdef class SimpleMooncake:
    # The class has no cdef methods: its helpers are module-level functions
    # (a cdef method of a class that may be subclassed is called through its
    # vtable, which the C compiler cannot inline).

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
    """The bound on the number of live entries (None: unbounded)."""
    cdef readonly object maxmemory
    """The budget in bytes for the sum of entry weights (None: no budget)."""
    cdef readonly str policy
    """The eviction policy's name: ``"tinylfu"`` or ``"sieve"``."""
    cdef object clock
    cdef object on_remove
    cdef object getsizeof
    cdef object monitor
    cdef object __weakref__
    # Instance attributes, as the pure twin (and the original pure-Python class)
    # allow: `cache.name = ...`, `mock.patch.object(cache, "get", ...)`. The
    # methods are non-data descriptors, so an instance attribute shadows one.
    cdef dict __dict__
