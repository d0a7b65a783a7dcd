# The C layout of the monitor engine: the histogram's shape, the structs, and
# the attributes of its two classes. Declared here, not in _engine.pyx,
# because the module-level helpers in the .pxi parts take a SimpleMonitor and
# touch its C attributes, and _engine.pyx includes them before the class body.
cimport cython
from libc.stdint cimport uint8_t, uint32_t, uint64_t

# The histogram's shape; histogram.pxi checks it against mooncake.monitor.histogram
# (the single source of these numbers) at import.
cdef enum:
    SUB_BITS = 6
    SUB_BUCKETS = 64
    MIN_EXP = -40
    MAX_EXP = 23
    N_EXP = 64                  # MAX_EXP - MIN_EXP + 1
    N_BUCKETS = 4096            # N_EXP * SUB_BUCKETS
    MAX_EXPORT = 64             # most Prometheus le bounds we accept

cdef struct Record:
    double timestamp
    double duration
    uint64_t data_size
    uint32_t op_id
    uint8_t success

cdef struct OpStats:
    uint64_t count
    uint64_t success_count
    uint64_t size_lo            # total_size as a 128-bit number: it must never wrap
    uint64_t size_hi
    double total_time
    double min_duration
    double max_duration
    uint64_t underflow
    uint64_t overflow
    # The histogram: 64 counters (a row) per power of two of seconds, allocated
    # as a power is first used, all rows in one block, in the order first used;
    # chunk_of says where each power's row is (1 + its row; 0: none yet).
    # Kept this compact so an operation name costs under 1 KB plus 512 bytes
    # per power of two its durations touch.
    uint64_t *counts
    uint8_t chunk_of[N_EXP]
    uint8_t n_chunks
    uint64_t export_counts[MAX_EXPORT + 1]

# What the readers copy out under the lock.
cdef struct OpSummary:
    uint64_t count
    uint64_t success_count
    uint64_t size_lo
    uint64_t size_hi
    double total_time
    double min_duration
    double max_duration
    double p50
    double p90
    double p99


@cython.final
cdef class MonitorLock:
    cdef object _rlock
    cdef unsigned long _owner   # ident of the holding thread; 0 when free
    cdef Py_ssize_t _depth


@cython.final
cdef class SimpleMonitor:
    cdef Record *_ring
    cdef Py_ssize_t _capacity   # max_metrics
    cdef Py_ssize_t _ring_alloc # records allocated: grows towards _capacity
    cdef Py_ssize_t _max_ops    # distinct names kept before records go to OTHER_OPERATION
    cdef object _max_operations
    cdef MonitorLock _lock
    cdef bint _init_started
    cdef Py_ssize_t _head       # where the next record goes
    cdef Py_ssize_t _size       # records retained
    cdef OpStats *_ops
    cdef Py_ssize_t _n_ops
    cdef Py_ssize_t _ops_alloc
    cdef dict _ids              # operation name -> id (index into _ops and _names)
    cdef list _names            # id -> operation name
    cdef object _clock
    cdef object _last_name      # one-entry cache of the last name's id: loops repeat names
    cdef Py_ssize_t _last_id
