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

The structs and the class's attributes are declared in ``_engine.pxd``; the
code is in the ``.pxi`` parts included below, one concern each, compiled as
this one module: ``graveyard`` (references dropped once the table is
consistent), ``admission`` (W-TinyLFU's sketch and ghosts), ``table`` (hashing,
slots, probing, records), ``heap`` (expiry), ``sieve`` (eviction), ``access_log``,
``clock``, ``operations`` (the lookup and store paths the public methods share),
``simple_mooncake`` (the class: the public API), ``invariants`` (a consistency
check compiled in by ``MOONCAKE_DEBUG=1`` builds), ``gc`` (the type's garbage
collector hooks) and ``fastcall`` (get and put parsed by hand).

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
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from libc.string cimport memset

from mooncake._csupport cimport (
    mc_clock_init,
    mc_counter,
    mc_counter_add,
    mc_counter_load,
    MC_MAX_USER_CODE_DEPTH,
    mc_enter_user_code,
    mc_has_instance_attributes,
    mc_leave_user_code,
    mc_monotonic,
    mc_precise_monotonic,
    mc_prefetch_write,
    mc_slot_get,
    mc_slot_set,
    mc_slot_width,
    mc_slots_bytes,
)

import copyreg
import sys
from types import GenericAlias

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
from mooncake.cache.pickling import restore_attributes, subclass_attributes
from mooncake.cache.removal import RemovalReason
from mooncake.cache.views import AccessLogView, StorageView
from mooncake.memoize import memoize as _memoize
from mooncake.user_code import report_unraisable

#: The deepest nesting of the cache's calls into user code per thread
#: (on_remove, monitor, clock); deeper raises RecursionError. See mooncake.user_code.
MAX_USER_CODE_DEPTH = MC_MAX_USER_CODE_DEPTH

#: Resolution of the built-in monotonic clock, in seconds.
CLOCK_RESOLUTION = mc_clock_init()

cdef extern from *:
    """
    #ifndef MC_DEBUG
    #define MC_DEBUG 0
    #endif
    """
    # 1 in a build made with MOONCAKE_DEBUG=1 (setup.py defines it): the
    # invariant checker is compiled in. The C compiler drops code under
    # ``if MC_DEBUG:`` from other builds.
    const bint MC_DEBUG

#: True if this engine was built with MOONCAKE_DEBUG=1, so that
#: ``SimpleMooncake._check_invariants()`` works (elsewhere it raises RuntimeError).
DEBUG_BUILD = bool(MC_DEBUG)

cdef enum:
    EMPTY = -1
    DUMMY = -2
    MIN_SLOTS = 8
    MAX_RESTARTS = 64          # lookups restarted by a mutating __eq__ before we give up

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

# The parts, in the order their module-level statements must run: the class
# is created before gc.pxi and fastcall.pxi patch its type.
include "graveyard.pxi"
include "admission.pxi"
include "table.pxi"
include "heap.pxi"
include "sieve.pxi"
include "access_log.pxi"
include "clock.pxi"
include "operations.pxi"
include "simple_mooncake.pxi"
include "invariants.pxi"
include "gc.pxi"
include "fastcall.pxi"
