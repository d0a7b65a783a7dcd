# The class: the public API. Its attributes are declared in _engine.pxd, its
# helpers are the module-level functions of the other parts.


cdef inline bint _plain(SimpleMooncake self):
    """The exact class, unmonitored, with no instance attributes: nothing can
    have overridden a named method, so the item syntax may take the short cut."""
    return type(self) is SimpleMooncake and self.monitor is None and not mc_has_instance_attributes(self)


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

    def __cinit__(self, *args, **kwargs):
        self.indices = NULL
        self.entries = NULL
        self.sizes = NULL
        self.heap = NULL
        self.log = NULL
        self.admission = NULL
        self.maxsize_ = -1
        self.maxmemory_ = -1
        if allocate(self, MIN_SLOTS) < 0:
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
        drop_references(self)
        PyMem_Free(self.indices)
        PyMem_Free(self.entries)
        PyMem_Free(self.sizes)
        PyMem_Free(self.heap)
        PyMem_Free(self.log)
        admission_free(self.admission)

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
            monitor_record(self, "put", started, False, None)
            raise
        monitor_record(self, "put", started, stored, value if stored else None)
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
            monitor_record(self, "get", started, False, None)
            raise
        if result is _MISSING:
            monitor_record(self, "get", started, False, None)
            return default
        monitor_record(self, "get", started, True, result)
        return result


    # The item syntax is sugar for the named methods, always: a subclass that
    # overrides get, put or delete sees cache[key], cache[key] = value and
    # del cache[key] too, and so does an instance attribute that shadows one
    # (mock.patch.object). Only the exact class, unmonitored and with no
    # instance attributes, takes the short cut.

    def __getitem__(self, key):
        """``cache[key]``: ``self.get(key)``, but KeyError if absent or expired.
        The item syntax always goes through the named methods, so a subclass
        overriding get, put or delete sees it too."""
        cdef object value
        if _plain(self):
            value = _get_one(self, key)
        else:
            value = self.get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def __setitem__(self, key, value):
        """``cache[key] = value``: ``self.put(key, value)``, the default ttl of 3600 seconds."""
        if _plain(self):
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
            return pop_live(self, key) is not _MISSING
        started = mc_precise_monotonic()
        try:
            value = pop_live(self, key)
        except BaseException:
            monitor_record(self, "delete", started, False, None)
            raise
        monitor_record(self, "delete", started, value is not _MISSING, None)
        return value is not _MISSING

    def __delitem__(self, key):
        """``del cache[key]``: ``self.delete(key)``, but KeyError if absent or expired."""
        if _plain(self):
            if pop_live(self, key) is _MISSING:
                raise KeyError(key)
        elif not self.delete(key):
            raise KeyError(key)

    @cython.binding(False)  # a plain method descriptor: CPython's fast call path
    def pop(self, key, default=_MISSING):
        """Remove ``key`` and return its live value; ``default`` (or KeyError when
        no default is given) if it was absent or expired. Not a hit or a miss."""
        cdef object value = pop_live(self, key)
        if value is _MISSING:
            if default is _MISSING:
                raise KeyError(key)
            return default
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
                now = cache_now_for_lookup(self)
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
                now = cache_now_for_lookup(self)
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
                now = cache_now_for_lookup(self)
                ix = _find(self, key, h, &now, &grave)
                if ix >= 0:
                    if seconds <= 0:
                        grave_reserve(&grave, 1)
                        remove_record(self, ix, &grave, REASON_EXPIRED)
                        mc_counter_add(&self.expirations, 1)
                    else:
                        self.entries[ix].expires = now + seconds
                        self.entries[ix].ttl = seconds
                        schedule(self, ix, now)
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
                k = purge_expired(self, cache_now(self), &grave)
                maybe_shrink(self)
        finally:
            grave_release(&grave, self.on_remove)
        if self.monitor is not None:
            monitor_record(self, "cleanup_expired", started, True, None)
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
                if allocate(self, MIN_SLOTS) < 0:
                    # Keep the big buffers, now empty.
                    memset(self.indices, 0xFF, mc_slots_bytes(self.mask + 1))
                    self.nentries = self.live = self.heap_len = self.hand = self.memory = 0
                    self.boundary = self.n_main = self.n_window = 0
                    self.version += 1
                if self.admission != NULL:
                    admission_reset(self.admission)
        finally:
            grave_release(&grave, self.on_remove)

    def __class_getitem__(cls, params):
        """``SimpleMooncake[str, bytes]``: the key and value types, for annotations
        (a ``types.GenericAlias``; the cache itself checks no types)."""
        return GenericAlias(cls, params)

    def __len__(self):
        """The number of live entries (expired ones are removed first)."""
        cdef Graveyard grave
        cdef Py_ssize_t n
        grave_init(&grave)
        try:
            with cython.critical_section(self):
                purge_expired(self, cache_now(self), &grave)
                maybe_shrink(self)
                n = self.live
        finally:
            grave_release(&grave, self.on_remove)
        return n

    def keys(self):
        """A list of the live keys, oldest first."""
        return collect(self, 0, True)

    def values(self):
        """A list of the live values, in key order."""
        return collect(self, 1, True)

    def items(self):
        """A list of the live ``(key, value)`` pairs, in key order."""
        return collect(self, 2, True)

    def __iter__(self):
        """Iterate over a snapshot of the live keys."""
        return iter(collect(self, 0, True))

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
            monitor_record(self, "get_many", started, len(found) == len(todo), None)
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
            monitor_record(self, "put_many", started, True, None)
        return stored

    def memoize(self, ttl=3600, key=None):
        """Decorate a function or coroutine function to cache its results here.
        See ``mooncake.memoize`` for the rules."""
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
                now = cache_now_for_lookup(self)
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
                item = &self.log[log_position(self, index)]
                key = <object>item.key
                stamp = item.timestamp
            else:
                index = -1
        if index < 0:
            raise IndexError("access_log index out of range")
        return (key, stamp)

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
                    item = &self.log[log_position(self, i)]
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
        cdef list pairs = collect(self, 2, True)
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
        subclass's attributes (see ``mooncake.cache.pickling``); expired entries
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
            "entries": collect(self, 3, False),
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

    def _check_invariants(self):
        """Raise AssertionError naming the first broken invariant of the
        engine's internal state, if any; else return None. For tests: works
        only in a build made with MOONCAKE_DEBUG=1 (``DEBUG_BUILD``), and
        raises RuntimeError in any other."""
        if not MC_DEBUG:
            raise RuntimeError("_check_invariants needs an engine built with MOONCAKE_DEBUG=1 "
                               "(mooncake.cache._engine.DEBUG_BUILD is False)")
        with cython.critical_section(self):
            check_invariants(self)
