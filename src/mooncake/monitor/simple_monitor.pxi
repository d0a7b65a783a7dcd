# SimpleMonitor (a part of _engine.pyx): the public API. The tables it keeps
# are in operations.pxi (per-operation totals), histogram.pxi (durations) and
# history.pxi (the ring of records); its lock is in lock.pxi.


cdef inline int _ready(SimpleMonitor self) except -1:
    if self._ids is None:
        raise RuntimeError("this SimpleMonitor is not initialised: its __init__ has not run, or failed")
    _wait_turn(self._lock)
    return 0


cdef inline double _now(SimpleMonitor self) except? -1.0:
    cdef object reading
    if self._clock is None:
        return mc_wallclock()
    mc_enter_user_code(" in the monitor's clock")
    try:
        reading = self._clock()
    finally:
        mc_leave_user_code()
    return clock_seconds(reading)


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
        self._max_operations = None if max_operations is None else int(max_operations)
        self._capacity = max_metrics  # the ring itself grows as records arrive
        self._clock = clock
        self._lock = MonitorLock()
        self._ids = {}
        self._names = []

    @property
    def lock(self):
        """The monitor's ``MonitorLock``: hold it (``with monitor.lock:``) to make
        several calls one consistent step; other threads' calls wait meanwhile."""
        _ready(self)
        return self._lock

    @property
    def max_operations(self):
        """The most distinct operation names kept (None: no bound)."""
        return self._max_operations

    def __dealloc__(self):
        _clear_operations(self)
        _clear_history(self)

    @property
    def max_metrics(self):
        """The most records the history keeps."""
        return self._capacity

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
            _ready(self)
        ts = _now(self)
        _wait_turn(self._lock)
        with cython.critical_section(self):
            _add(self, <str>operation, d, ok, size, ts)

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
        0.79% of the exact value (see ``mooncake.monitor.histogram``).
        """
        cdef OpSummary *rows = NULL
        cdef Py_ssize_t i, n
        cdef list names
        cdef dict out = {}
        _ready(self)
        with cython.critical_section(self):
            n = self._n_ops
            names = self._names
            if n:
                rows = <OpSummary *>PyMem_Malloc(<size_t>n * sizeof(OpSummary))
                if rows != NULL:
                    for i in range(n):
                        _summarise(&self._ops[i], &rows[i])
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

    def get_recent_metrics(self, minutes=5):
        """Retained records with ``timestamp >= now - minutes * 60``, oldest first.

        ``minutes`` an int or float >= 0 (``math.inf`` for all); a wrong type
        raises TypeError, a negative or NaN value ValueError.
        """
        cdef double m = _number_value(minutes, "minutes")
        cdef double cutoff
        cdef Record *buf
        cdef Py_ssize_t n
        cdef list names
        if not m >= 0.0:
            raise ValueError(f"minutes must be >= 0, got {minutes!r}")
        _ready(self)
        cutoff = _now(self) - m * 60.0
        _wait_turn(self._lock)
        with cython.critical_section(self):
            names = self._names
            buf = _copy_since(self, cutoff, &n)
        return _build_copied(buf, n, names)

    def reset_metrics(self):
        """Forget everything: history, totals and histograms; their memory is
        given back (the history grows again as records arrive)."""
        cdef dict old_ids
        cdef list old_names
        _ready(self)
        with cython.critical_section(self):
            _clear_operations(self)
            _clear_history(self)
            old_ids, old_names = self._ids, self._names
            self._ids = {}
            self._names = []
            self._last_name = None
        # old_ids and old_names are released on return, after the monitor is consistent again.

    def get_operation_count(self, operation):
        """Operations recorded under ``operation`` since creation or reset; 0 if never seen."""
        cdef OpSummary row
        if not _lookup(self, operation, &row):
            return 0
        return row.count

    def get_operation_success_rate(self, operation):
        """Fraction of ``operation`` records that succeeded; 0.0 if never seen."""
        cdef OpSummary row
        if not _lookup(self, operation, &row):
            return 0.0
        return row.success_count / row.count

    def get_average_duration(self, operation):
        """Mean duration of ``operation`` in seconds; 0.0 if never seen."""
        cdef OpSummary row
        if not _lookup(self, operation, &row):
            return 0.0
        return row.total_time / row.count

    def get_total_data_size(self, operation):
        """Sum of ``data_size`` over ``operation`` records; 0 if never seen."""
        cdef OpSummary row
        if not _lookup(self, operation, &row):
            return 0
        return _size_object(row.size_lo, row.size_hi)

    def get_metrics_count(self):
        """Number of retained records (at most ``max_metrics``)."""
        _ready(self)
        return self._size

    def get_supported_operations(self):
        """Operation names recorded since creation or reset, in first-recorded order; [] if none."""
        _ready(self)
        with cython.critical_section(self):
            return self._names[:]

    def to_prometheus(self, prefix="mooncake"):
        """The metrics in the Prometheus text exposition format (see ``mooncake.monitor.prometheus``)."""
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
        cdef Py_ssize_t i, n, chunks = 0, c = 0
        cdef list names, operations = []
        _ready(self)
        history = [(m.timestamp, m.operation, m.duration, m.success, m.data_size)
                   for m in self._metrics_slice(slice(None))]
        with cython.critical_section(self):
            n = self._n_ops
            names = self._names
            for i in range(n):
                chunks += self._ops[i].n_chunks
            rows = <OpStats *>PyMem_Malloc(<size_t>(n + 1) * sizeof(OpStats))
            counters = <uint64_t *>PyMem_Malloc(<size_t>(chunks + 1) * SUB_BUCKETS * sizeof(uint64_t))
            if rows != NULL and counters != NULL and n:  # a new monitor's table is NULL
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
                operations.append((
                    names[i], rows[i].count, rows[i].success_count,
                    _size_object(rows[i].size_lo, rows[i].size_hi), rows[i].total_time,
                    rows[i].min_duration, rows[i].max_duration,
                    _bucket_counts(&rows[i], &counters[c * SUB_BUCKETS]), _export_counts(&rows[i]),
                ))
                c += rows[i].n_chunks
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
        cdef Py_ssize_t op_id
        cdef OpStats *st
        if self._init_started:
            raise TypeError("__setstate__ restores only a new, uninitialised SimpleMonitor")
        SimpleMonitor.__init__(self, **state["settings"])
        for (name, count, success_count, total_size, total_time, low, high,
             buckets, exports) in state["operations"]:
            if type(name) is not str or name in self._ids or len(exports) != _n_export + 1:
                raise ValueError("corrupt SimpleMonitor state")
            op_id = _register(self, name)
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
            _restore_buckets(st, buckets)
        for timestamp, name, duration, success, data_size in state["history"]:
            if self._capacity == 0:
                break
            op_id = self._ids[name]
            if self._size == self._ring_alloc and self._ring_alloc < self._capacity:
                _grow_ring(self)
            _push_record(self, timestamp, duration, data_size, op_id, success)

    # -- the private protocol of mooncake.monitor.views and mooncake.monitor.prometheus --

    def _metrics_len(self):
        _ready(self)
        return self._size

    def _metrics_item(self, index):
        cdef Py_ssize_t i = PyNumber_AsSsize_t(index, IndexError)
        cdef Record rec
        cdef list names
        cdef bint found = False
        _ready(self)
        with cython.critical_section(self):
            names = self._names
            if i < 0:
                i += self._size
            if 0 <= i < self._size:
                rec = self._ring[_position(self, i)]
                found = True
        if not found:
            raise IndexError("metrics index out of range")
        return _build(&rec, 1, names)[0]

    def _metrics_slice(self, where):
        cdef Py_ssize_t start, stop, step, n
        cdef Record *buf
        cdef list names
        PySlice_Unpack(where, &start, &stop, &step)  # runs any __index__ before the lock
        _ready(self)
        with cython.critical_section(self):
            names = self._names
            n = PySlice_AdjustIndices(self._size, &start, &stop, step)
            buf = _copy_slice(self, start, step, &n)
        return _build_copied(buf, n, names)

    def _operation_row(self, operation):
        cdef OpSummary row
        if not isinstance(operation, str):
            return None
        if not _lookup(self, operation, &row):
            return None
        return {
            "count": row.count,
            "total_time": row.total_time,
            "success_count": row.success_count,
            "total_size": _size_object(row.size_lo, row.size_hi),
        }

    def _export_rows(self):
        cdef OpStats *rows
        cdef Py_ssize_t i, n
        cdef list names
        cdef list out = []
        _ready(self)
        with cython.critical_section(self):
            n = self._n_ops
            names = self._names
            rows = _copy_table(self)
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
                    _export_counts(&rows[i]),
                ))
        finally:
            PyMem_Free(rows)  # a shallow copy: the chunk pointers in it are not ours
        return out
