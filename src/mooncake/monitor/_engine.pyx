# cython: language_level=3, boundscheck=False, wraparound=False, freethreading_compatible=True
"""The monitor engine: per-operation aggregates, log-linear histograms, a ring buffer of records.

Same contract, docstrings and results as the pure-Python twin
``mooncake.monitor.twin`` (the reference model); the histogram layout and the
percentile definition are documented in ``mooncake.histogram``.

Implementation notes:

- ``record_operation`` validates every argument and reads the clock before it
  takes the lock, so an error leaves the monitor unchanged and no Python code
  (a ``__bool__``, a user clock) runs while the tables are half-updated.
- The history is a ring of plain C records (two doubles, the size, the
  operation's id and the success flag): recording copies 32 bytes and never
  touches a Python object. ``PerformanceMetrics`` objects are built only when
  read, from records first copied out under the lock.
- No ``PyObject*`` is stored in C memory: operation names live in ``_names``
  (a list, id -> name) and ``_ids`` (a dict, name -> id), so ownership is the
  list's and the dict's. ``reset_metrics`` replaces both with new objects, so
  a reader that took the old list under the lock can still use it afterwards.
- A histogram's counters for one power of two (64 of them) are allocated the
  first time a duration lands there, before anything else changes, so a
  ``MemoryError`` leaves the monitor as it was.
- Every method touching the tables runs inside ``cython.critical_section(self)``:
  a no-op with the GIL (no Python code runs inside), a per-object lock on a
  free-threaded build.
"""

cimport cython
from cpython.dict cimport PyDict_GetItem
from cpython.float cimport PyFloat_AS_DOUBLE
from cpython.long cimport PyLong_AsDouble, PyLong_AsSsize_t, PyLong_AsUnsignedLongLong
from cpython.number cimport PyNumber_AsSsize_t
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.object cimport PyObject, PyObject_IsTrue
from cpython.slice cimport PySlice_AdjustIndices, PySlice_Unpack
from cpython.pythread cimport PyThread_get_thread_ident
from cpython.unicode cimport PyUnicode_FromObject
from libc.float cimport DBL_MAX
from libc.math cimport INFINITY, ldexp
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from libc.string cimport memcpy, memset

import copyreg
import threading

from mooncake.monitor import histogram as _layout
from mooncake.checks import clock_seconds
from mooncake.monitor.arguments import OTHER_OPERATION, check_max_metrics, check_max_operations
from mooncake.monitor.tracking import Track
from mooncake.monitor.views import MetricsView, OperationStatsView
from mooncake.monitor.metrics import PerformanceMetrics
from mooncake.monitor.prometheus import render_text

__all__ = ["MonitorLock", "PerformanceMetrics", "SimpleMonitor"]

from mooncake._csupport cimport mc_enter_user_code, mc_leave_user_code, mc_wallclock

cdef enum:
    SUB_BITS = 6
    SUB_BUCKETS = 64
    MIN_EXP = -40
    MAX_EXP = 23
    N_EXP = 64                  # MAX_EXP - MIN_EXP + 1
    N_BUCKETS = 4096            # N_EXP * SUB_BUCKETS
    MAX_EXPORT = 64             # most Prometheus le bounds we accept

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
        raise ImportError("too many Prometheus bounds in mooncake.histogram.EXPORT_BOUNDS")
    for j in range(_n_export):
        _export_bounds[j] = _layout.EXPORT_BOUNDS[j]
    for k in range(-1, N_BUCKETS + 1):
        edge = 0.0 if k < 0 else (ldexp(1.0, MAX_EXP + 1) if k == N_BUCKETS else _lower_edge(k))
        j = 0
        while j < _n_export and _export_bounds[j] <= edge:
            j += 1
        _export_start[k + 1] = <unsigned char>j


_init_export_table()


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


cdef object _size_object(uint64_t lo, uint64_t hi):
    if hi == 0:
        return lo
    return (<object>hi << 64) | <object>lo


cdef str _exact_str(object operation):
    if not isinstance(operation, str):
        raise TypeError(f"operation must be a str, not {type(operation).__name__}")
    return PyUnicode_FromObject(operation)  # a plain str, without running subclass code


cdef double _number_value(object value, str what) except? -1.0:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be a number, not {type(value).__name__}")
    if isinstance(value, int):
        try:
            return PyLong_AsDouble(value)
        except OverflowError:
            return INFINITY
    return PyFloat_AS_DOUBLE(value)


cdef uint64_t _size_value(object value) except? 0xFFFFFFFFFFFFFFFF:
    if type(value) is not int and (isinstance(value, bool) or not isinstance(value, int)):
        raise TypeError(f"data_size must be an int, not {type(value).__name__}")
    try:
        return PyLong_AsUnsignedLongLong(value)
    except OverflowError:
        raise ValueError(f"data_size must be in 0 .. 2**64 - 1, got {int(value)}") from None


@cython.final
cdef class MonitorLock:
    """A monitor's ``lock``: reentrant; while one thread holds it, every method
    of the monitor called from another thread waits for its release.

    ``with monitor.lock:`` therefore makes several calls (reads, a read and a
    reset) one consistent step; the holder may call the monitor's methods.
    ``acquire(blocking=True, timeout=-1)``, ``release()`` and ``locked()``
    behave like ``threading.RLock``'s.
    """

    cdef object _rlock
    cdef unsigned long _owner   # ident of the holding thread; 0 when free
    cdef Py_ssize_t _depth

    def __cinit__(self):
        self._rlock = threading.RLock()

    def acquire(self, blocking=True, timeout=-1):
        """Take the lock (again, if this thread holds it); False if it timed out."""
        if not self._rlock.acquire(blocking, timeout):
            return False
        self._owner = PyThread_get_thread_ident()
        self._depth += 1
        return True

    def release(self):
        """Release one level; RuntimeError if this thread does not hold it."""
        if self._depth == 0 or self._owner != PyThread_get_thread_ident():
            raise RuntimeError("cannot release a monitor lock this thread does not hold")
        self._depth -= 1
        if self._depth == 0:
            self._owner = 0
        self._rlock.release()

    def locked(self):
        """True while some thread holds the lock."""
        return self._depth > 0

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()
        return False

    def __repr__(self):
        return f"<MonitorLock {'locked' if self._depth else 'unlocked'}>"

    cdef inline int wait_turn(self) except -1:
        """Wait while another thread holds the lock. With the GIL, no Python
        code runs between this and the caller's update, so the holder cannot
        take the lock back in between."""
        if self._owner != 0 and self._owner != PyThread_get_thread_ident():
            self._rlock.acquire()
            self._rlock.release()
        return 0


@cython.final
cdef class SimpleMonitor:
    """Records operation timings: bounded history, per-operation totals and percentiles.

    ``SimpleMonitor(max_metrics=10000, *, clock=None, max_operations=1000)``.
    ``max_metrics`` (an int in 0 .. MAX_METRICS, 2**30) bounds the retained
    history; 0 keeps none (totals and percentiles still cover every record);
    the history's memory grows as records arrive. ``clock`` is a callable
    returning wall-clock seconds (a finite real number), used for timestamps
    and by ``get_recent_metrics``; ``None`` means the system wall clock
    (``time.time``). Each call reads the clock once. ``max_operations`` (an
    int >= 1, or None for no bound) bounds the distinct operation names kept:
    records of further names are counted under ``"__other__"``, so names made
    from URLs cannot exhaust memory. Safe to use from several threads; see
    ``lock``.

    ``__init__`` runs once (again: TypeError); before it, methods raise RuntimeError.
    """

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

    def __cinit__(self, *args, **kwargs):
        self._ring = NULL
        self._ops = NULL
        self._last_id = -1

    def __init__(self, max_metrics=10000, *, clock=None, max_operations=1000):
        if self._init_started:
            raise TypeError("SimpleMonitor.__init__ may run only once; create a new monitor instead")
        self._init_started = True
        max_metrics = check_max_metrics(max_metrics)
        if clock is not None and not callable(clock):
            raise TypeError("clock must be callable or None")
        self._max_ops = check_max_operations(max_operations)
        self._max_operations = max_operations
        self._capacity = max_metrics  # the ring itself grows as records arrive
        self._clock = clock
        self._lock = MonitorLock()
        self._ids = {}
        self._names = []

    @property
    def lock(self):
        """The monitor's ``MonitorLock``: hold it (``with monitor.lock:``) to make
        several calls one consistent step; other threads' calls wait meanwhile."""
        self._ready()
        return self._lock

    @property
    def max_operations(self):
        """The most distinct operation names kept (None: no bound)."""
        return self._max_operations

    cdef inline int _ready(self) except -1:
        if self._ids is None:
            raise RuntimeError("this SimpleMonitor is not initialised: its __init__ has not run, or failed")
        self._lock.wait_turn()
        return 0

    def __dealloc__(self):
        self._free_histograms()
        PyMem_Free(self._ops)
        PyMem_Free(self._ring)

    cdef void _free_histograms(self) noexcept:
        cdef Py_ssize_t i
        for i in range(self._n_ops):
            PyMem_Free(self._ops[i].counts)
            self._ops[i].counts = NULL
            self._ops[i].n_chunks = 0

    @property
    def max_metrics(self):
        """The most records the history keeps."""
        return self._capacity

    cdef inline double _now(self) except? -1.0:
        cdef object reading
        if self._clock is None:
            return mc_wallclock()
        mc_enter_user_code(" in the monitor's clock")
        try:
            reading = self._clock()
        finally:
            mc_leave_user_code()
        return clock_seconds(reading)

    def record_operation(self, operation, duration, success, data_size=0):
        """Record one operation.

        ``operation`` a str; ``duration`` seconds, an int or float, finite and
        >= 0; ``success`` any truthy/falsy value; ``data_size`` an int in
        0 .. 2**64 - 1. A wrong type raises TypeError, a negative, NaN,
        infinite or too large value raises ValueError, and then nothing is
        recorded. When the history is full the oldest record is dropped.
        """
        cdef double d, ts
        cdef uint64_t size = 0
        cdef bint ok
        if type(operation) is not str:
            operation = _exact_str(operation)
        if type(duration) is float:
            d = PyFloat_AS_DOUBLE(duration)
        else:
            d = _number_value(duration, "duration")
        if not (d >= 0.0 and d <= DBL_MAX):
            raise ValueError(f"duration must be a finite number >= 0, got {duration!r}")
        if d == 0.0:
            d = 0.0  # -0.0 has the sign bit set: it would land in the overflow bucket
        if success is True:
            ok = True
        elif success is False:
            ok = False
        else:
            ok = PyObject_IsTrue(success)
        if data_size is not 0:
            size = _size_value(data_size)
        if self._ids is None:
            self._ready()
        ts = self._now()
        self._lock.wait_turn()
        with cython.critical_section(self):
            self._add(<str>operation, d, ok, size, ts)

    cdef int _add(self, str operation, double d, bint ok, uint64_t size, double ts) except -1:
        cdef Py_ssize_t k = _bucket_of(d)
        cdef Py_ssize_t e = (k >> SUB_BITS) if 0 <= k < N_BUCKETS else -1
        cdef Py_ssize_t op_id
        cdef PyObject *found
        cdef uint64_t *fresh = NULL
        cdef OpStats *st
        cdef Record *r
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
            self._grow_ring()  # before any change: a MemoryError leaves the monitor as it was
        if op_id < 0:
            # Allocate first, change nothing until every allocation succeeded.
            if e >= 0:
                fresh = <uint64_t *>PyMem_Malloc(SUB_BUCKETS * sizeof(uint64_t))
                if fresh == NULL:
                    raise MemoryError()
                memset(fresh, 0, SUB_BUCKETS * sizeof(uint64_t))
            try:
                op_id = self._register(name)
            except BaseException:
                PyMem_Free(fresh)
                raise
            if fresh != NULL:
                st = &self._ops[op_id]
                st.counts = fresh
                st.n_chunks = 1
                st.chunk_of[e] = 1
        elif e >= 0 and self._ops[op_id].chunk_of[e] == 0:
            self._add_row(&self._ops[op_id], e)
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
        if e >= 0:
            st.counts[(st.chunk_of[e] - 1) * SUB_BUCKETS + (k & (SUB_BUCKETS - 1))] += 1
        elif k < 0:
            st.underflow += 1
        else:
            st.overflow += 1
        st.export_counts[_export_of(d, k)] += 1

        if self._capacity:
            self._push_record(ts, d, size, op_id, ok)
        return 0

    cdef inline void _push_record(self, double ts, double d, uint64_t size, Py_ssize_t op_id, bint ok) noexcept:
        """Append to the ring (grown by the caller when it could), dropping the oldest when full."""
        cdef Record *r = &self._ring[self._head]
        r.timestamp = ts
        r.duration = d
        r.data_size = size
        r.op_id = <uint32_t>op_id
        r.success = ok
        self._head += 1
        if self._head == self._ring_alloc:
            self._head = 0
        if self._size < self._ring_alloc:
            self._size += 1

    cdef int _grow_ring(self) except -1:
        """The history ring is full but below max_metrics: double it (from 16),
        oldest record first."""
        cdef Py_ssize_t grown = 16 if self._ring_alloc < 8 else 2 * self._ring_alloc
        cdef Record *fresh
        cdef Py_ssize_t i
        if grown > self._capacity:
            grown = self._capacity
        fresh = <Record *>PyMem_Malloc(<size_t>grown * sizeof(Record))
        if fresh == NULL:
            raise MemoryError()
        for i in range(self._size):
            fresh[i] = self._ring[self._position(i)]
        PyMem_Free(self._ring)
        self._ring = fresh
        self._ring_alloc = grown
        self._head = self._size
        return 0

    cdef inline Py_ssize_t _position(self, Py_ssize_t i) noexcept nogil:
        """Where the ``i``-th oldest retained record sits in the ring."""
        cdef Py_ssize_t pos = self._head - self._size + i
        if pos < 0:
            pos += self._ring_alloc
        return pos

    cdef int _add_row(self, OpStats *st, Py_ssize_t e) except -1:
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

    cdef Py_ssize_t _register(self, str operation) except -1:
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

    def track(self, operation, data_size=0):
        """A context manager and decorator timing a block with ``time.perf_counter``.

        Records ``success=False`` when an exception escapes (and re-raises it).
        Bad ``operation`` or ``data_size`` raise at once, as in record_operation.
        """
        return Track(self, operation, data_size)

    @property
    def metrics(self):
        """The retained ``PerformanceMetrics``, oldest first: a read-only live sequence."""
        return MetricsView(self)

    @property
    def operation_stats(self):
        """A read-only live mapping ``operation -> {'count', 'total_time', 'success_count', 'total_size'}``."""
        return OperationStatsView(self)

    def get_performance_summary(self):
        """``operation -> {'count', 'avg_duration', 'success_rate', 'avg_data_size',
        'min_duration', 'max_duration', 'p50', 'p90', 'p99'}`` over every record
        since creation or reset; ``{}`` when nothing was recorded.

        Percentiles are nearest-rank, from the log-linear histogram: within
        0.79% of the exact value (see ``mooncake.histogram``).
        """
        cdef OpSummary *rows = NULL
        cdef Py_ssize_t i, n
        cdef list names
        cdef dict out = {}
        self._ready()
        with cython.critical_section(self):
            n = self._n_ops
            names = self._names
            if n:
                rows = <OpSummary *>PyMem_Malloc(<size_t>n * sizeof(OpSummary))
                if rows != NULL:
                    for i in range(n):
                        self._summarise(&self._ops[i], &rows[i])
        if n and rows == NULL:
            raise MemoryError()
        try:
            for i in range(n):
                count = rows[i].count
                out[names[i]] = {
                    "count": count,
                    "avg_duration": rows[i].total_time / count,
                    "success_rate": rows[i].success_count / count,
                    "avg_data_size": _size_object(rows[i].size_lo, rows[i].size_hi) / count,
                    "min_duration": rows[i].min_duration,
                    "max_duration": rows[i].max_duration,
                    "p50": rows[i].p50,
                    "p90": rows[i].p90,
                    "p99": rows[i].p99,
                }
        finally:
            PyMem_Free(rows)
        return out

    cdef void _summarise(self, const OpStats *st, OpSummary *row) noexcept:
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

    def get_recent_metrics(self, minutes=5):
        """Retained records with ``timestamp >= now - minutes * 60``, oldest first.

        ``minutes`` an int or float >= 0 (``math.inf`` for all); a wrong type
        raises TypeError, a negative or NaN value ValueError.
        """
        cdef double m = _number_value(minutes, "minutes")
        cdef double cutoff
        cdef Record *buf = NULL
        cdef Py_ssize_t i, n = 0, pos
        cdef list names
        if not m >= 0.0:
            raise ValueError(f"minutes must be >= 0, got {minutes!r}")
        self._ready()
        cutoff = self._now() - m * 60.0
        self._lock.wait_turn()
        with cython.critical_section(self):
            names = self._names
            if self._size:
                buf = <Record *>PyMem_Malloc(<size_t>self._size * sizeof(Record))
                if buf != NULL:
                    # A linear scan: the wall clock can step back, so stamps are not sorted.
                    for i in range(self._size):
                        pos = self._position(i)
                        if self._ring[pos].timestamp >= cutoff:
                            buf[n] = self._ring[pos]
                            n += 1
                else:
                    n = -1
        return _build_copied(buf, n, names)

    def reset_metrics(self):
        """Forget everything: history, totals and histograms; their memory is
        given back (the history grows again as records arrive)."""
        cdef dict old_ids
        cdef list old_names
        self._ready()
        with cython.critical_section(self):
            self._free_histograms()
            PyMem_Free(self._ops)
            self._ops = NULL
            self._ops_alloc = 0
            PyMem_Free(self._ring)
            self._ring = NULL
            self._ring_alloc = 0
            self._n_ops = 0
            self._head = 0
            self._size = 0
            self._last_id = -1
            old_ids, old_names = self._ids, self._names
            self._ids = {}
            self._names = []
            self._last_name = None
        # old_ids and old_names are released on return, after the monitor is consistent again.

    cdef OpStats *_find(self, str operation) noexcept:
        cdef PyObject *found = PyDict_GetItem(self._ids, operation)
        if found == NULL:
            return NULL
        return &self._ops[PyLong_AsSsize_t(<object>found)]

    cdef bint _lookup(self, object operation, OpSummary *row) except -1:
        """Copy ``operation``'s totals into ``row``; False if never seen. TypeError if not a str."""
        cdef str name = operation if type(operation) is str else _exact_str(operation)
        cdef OpStats *st
        cdef bint seen = False
        self._ready()
        with cython.critical_section(self):
            st = self._find(name)
            if st != NULL:
                seen = True
                row.count = st.count
                row.success_count = st.success_count
                row.size_lo = st.size_lo
                row.size_hi = st.size_hi
                row.total_time = st.total_time
        return seen

    def get_operation_count(self, operation):
        """Operations recorded under ``operation`` since creation or reset; 0 if never seen."""
        cdef OpSummary row
        if not self._lookup(operation, &row):
            return 0
        return row.count

    def get_operation_success_rate(self, operation):
        """Fraction of ``operation`` records that succeeded; 0.0 if never seen."""
        cdef OpSummary row
        if not self._lookup(operation, &row):
            return 0.0
        return row.success_count / row.count

    def get_average_duration(self, operation):
        """Mean duration of ``operation`` in seconds; 0.0 if never seen."""
        cdef OpSummary row
        if not self._lookup(operation, &row):
            return 0.0
        return row.total_time / row.count

    def get_total_data_size(self, operation):
        """Sum of ``data_size`` over ``operation`` records; 0 if never seen."""
        cdef OpSummary row
        if not self._lookup(operation, &row):
            return 0
        return _size_object(row.size_lo, row.size_hi)

    def get_metrics_count(self):
        """Number of retained records (at most ``max_metrics``)."""
        self._ready()
        return self._size

    def get_supported_operations(self):
        """Operation names recorded since creation or reset, in first-recorded order; [] if none."""
        self._ready()
        with cython.critical_section(self):
            return self._names[:]

    def to_prometheus(self, prefix="mooncake"):
        """The metrics in the Prometheus text exposition format (see ``mooncake.prometheus``)."""
        return render_text(self, prefix)

    def __repr__(self):
        if self._ids is None:
            return "<SimpleMonitor, not initialised>"
        return (
            f"<SimpleMonitor: {len(self._names)} operations, "
            f"{self._size}/{self._capacity} records retained>"
        )

    # -- pickling and copying ---------------------------------------------------

    def __reduce__(self):
        """Settings, per-operation totals and histograms, and the retained
        history; restored without calling ``__init__`` of a subclass. The
        format is shared with the pure twin (see ``mooncake.monitor.twin``)."""
        return (copyreg.__newobj__, (type(self),), self._getstate())

    def _getstate(self):
        cdef OpStats *rows = NULL
        cdef uint64_t *counters = NULL
        cdef Py_ssize_t i, e, j, n, row, chunks = 0, c = 0
        cdef list names, operations = []
        cdef dict buckets
        self._ready()
        history = [(m.timestamp, m.operation, m.duration, m.success, m.data_size)
                   for m in self._metrics_slice(slice(None))]
        with cython.critical_section(self):
            n = self._n_ops
            names = self._names
            for i in range(n):
                chunks += self._ops[i].n_chunks
            rows = <OpStats *>PyMem_Malloc(<size_t>(n + 1) * sizeof(OpStats))
            counters = <uint64_t *>PyMem_Malloc(<size_t>(chunks + 1) * SUB_BUCKETS * sizeof(uint64_t))
            if rows != NULL and counters != NULL:
                memcpy(rows, self._ops, <size_t>n * sizeof(OpStats))
                for i in range(n):
                    if rows[i].n_chunks:
                        memcpy(&counters[c * SUB_BUCKETS], rows[i].counts,
                               <size_t>rows[i].n_chunks * SUB_BUCKETS * sizeof(uint64_t))
                        c += rows[i].n_chunks
        try:
            if rows == NULL or counters == NULL:
                raise MemoryError()
            c = 0
            for i in range(n):
                buckets = {}
                if rows[i].underflow:
                    buckets[_layout.UNDERFLOW] = rows[i].underflow
                for e in range(N_EXP):
                    if rows[i].chunk_of[e]:
                        row = c + rows[i].chunk_of[e] - 1
                        for j in range(SUB_BUCKETS):
                            if counters[row * SUB_BUCKETS + j]:
                                buckets[e * SUB_BUCKETS + j] = counters[row * SUB_BUCKETS + j]
                c += rows[i].n_chunks
                if rows[i].overflow:
                    buckets[N_BUCKETS] = rows[i].overflow
                operations.append((
                    names[i], rows[i].count, rows[i].success_count,
                    _size_object(rows[i].size_lo, rows[i].size_hi), rows[i].total_time,
                    rows[i].min_duration, rows[i].max_duration, buckets,
                    tuple([rows[i].export_counts[j] for j in range(_n_export + 1)]),
                ))
        finally:
            PyMem_Free(rows)
            PyMem_Free(counters)
        return {
            "settings": {"max_metrics": self._capacity, "clock": self._clock,
                         "max_operations": self._max_operations},
            "operations": operations,
            "history": history,
        }

    def __setstate__(self, state):
        """Restore a pickled or copied monitor into a fresh, uninitialised one;
        TypeError on a monitor that was already initialised."""
        cdef Py_ssize_t op_id, k, e
        cdef OpStats *st
        if self._init_started:
            raise TypeError("__setstate__ restores only a new, uninitialised SimpleMonitor")
        SimpleMonitor.__init__(self, **state["settings"])
        for (name, count, success_count, total_size, total_time, low, high,
             buckets, exports) in state["operations"]:
            if type(name) is not str or name in self._ids or len(exports) != _n_export + 1:
                raise ValueError("corrupt SimpleMonitor state")
            op_id = self._register(name)
            st = &self._ops[op_id]
            st.count = count
            st.success_count = success_count
            st.size_lo = total_size & 0xFFFFFFFFFFFFFFFF
            st.size_hi = total_size >> 64
            st.total_time = total_time
            st.min_duration = low
            st.max_duration = high
            for j in range(_n_export + 1):
                st.export_counts[j] = exports[j]
            for k, value in buckets.items():
                if k == -1:
                    st.underflow = value
                elif k == N_BUCKETS:
                    st.overflow = value
                elif 0 <= k < N_BUCKETS:
                    e = k >> SUB_BITS
                    if st.chunk_of[e] == 0:
                        self._add_row(st, e)
                    st.counts[(st.chunk_of[e] - 1) * SUB_BUCKETS + (k & (SUB_BUCKETS - 1))] = value
                else:
                    raise ValueError("corrupt SimpleMonitor state")
        for timestamp, name, duration, success, data_size in state["history"]:
            if self._capacity == 0:
                break
            op_id = self._ids[name]
            if self._size == self._ring_alloc and self._ring_alloc < self._capacity:
                self._grow_ring()
            self._push_record(timestamp, duration, data_size, op_id, success)

    # -- the private protocol of mooncake.monitor_views and mooncake.prometheus --

    def _metrics_len(self):
        self._ready()
        return self._size

    def _metrics_item(self, index):
        cdef Py_ssize_t i = PyNumber_AsSsize_t(index, IndexError)
        cdef Record rec
        cdef list names
        cdef bint found = False
        self._ready()
        with cython.critical_section(self):
            names = self._names
            if i < 0:
                i += self._size
            if 0 <= i < self._size:
                rec = self._ring[self._position(i)]
                found = True
        if not found:
            raise IndexError("metrics index out of range")
        return _build(&rec, 1, names)[0]

    def _metrics_slice(self, where):
        cdef Py_ssize_t start, stop, step, n, i, pos
        cdef Record *buf = NULL
        cdef list names
        PySlice_Unpack(where, &start, &stop, &step)  # runs any __index__ before the lock
        self._ready()
        with cython.critical_section(self):
            names = self._names
            n = PySlice_AdjustIndices(self._size, &start, &stop, step)
            if n > 0:
                buf = <Record *>PyMem_Malloc(<size_t>n * sizeof(Record))
                if buf != NULL:
                    for i in range(n):
                        buf[i] = self._ring[self._position(start + i * step)]
                else:
                    n = -1
        return _build_copied(buf, n, names)

    def _operation_row(self, operation):
        cdef OpSummary row
        if not isinstance(operation, str):
            return None
        if not self._lookup(operation, &row):
            return None
        return {
            "count": row.count,
            "total_time": row.total_time,
            "success_count": row.success_count,
            "total_size": _size_object(row.size_lo, row.size_hi),
        }

    def _export_rows(self):
        cdef OpStats *rows = NULL
        cdef Py_ssize_t i, j, n
        cdef list names
        cdef list out = []
        self._ready()
        with cython.critical_section(self):
            n = self._n_ops
            names = self._names
            if n:
                rows = <OpStats *>PyMem_Malloc(<size_t>n * sizeof(OpStats))
                if rows != NULL:
                    memcpy(rows, self._ops, <size_t>n * sizeof(OpStats))
        if n and rows == NULL:
            raise MemoryError()
        try:
            for i in range(n):
                out.append((
                    names[i],
                    rows[i].count,
                    rows[i].success_count,
                    _size_object(rows[i].size_lo, rows[i].size_hi),
                    rows[i].total_time,
                    tuple([rows[i].export_counts[j] for j in range(_n_export + 1)]),
                ))
        finally:
            PyMem_Free(rows)  # a shallow copy: the chunk pointers in it are not ours
        return out


cdef list _build_copied(Record *buf, Py_ssize_t n, list names):
    """Metrics from records copied out under the lock into ``buf``, which is
    then freed; ``n < 0`` means the copy could not be allocated."""
    if n < 0:
        raise MemoryError()
    try:
        return _build(buf, n, names)
    finally:
        PyMem_Free(buf)


cdef list _build(const Record *buf, Py_ssize_t n, list names):
    cdef Py_ssize_t i
    cdef list out = []
    for i in range(n):
        out.append(PerformanceMetrics(
            buf[i].timestamp, names[buf[i].op_id], buf[i].duration,
            True if buf[i].success else False, buf[i].data_size,
        ))
    return out
