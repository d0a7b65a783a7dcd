# Time: the cache clock (the built-in monotonic one or a user's), and what an
# entry's times mean. Expiry decisions use cache-clock seconds; the access log
# and the storage view report wall-clock ones (cache time + wall_offset).


cdef inline double _seconds_left(Entry *e, double now) noexcept nogil:
    # put time + ttl - now can round to a hair above ttl: never report more
    # than the ttl given.
    cdef double left = e.expires - now
    return e.ttl if left > e.ttl else left


cdef inline double put_time(Entry *e) noexcept nogil:
    return e.heap_key if e.ttl == INFINITY else e.expires - e.ttl


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


# Every operation that may change the table reads the time first, through
# one of these two, so they are also where a cache whose __init__ has not
# (successfully) run refuses to work.

cdef inline double cache_now(SimpleMooncake self) except? -1.0:
    if self.clock is None and self.initialized:
        return mc_monotonic()
    return user_now(self)


cdef inline double cache_now_for_lookup(SimpleMooncake self) except? -1.0:
    """A user clock is Python code, so it is read before a lookup; the
    built-in clock is left for ``_find`` (operations.pxi) to read (NaN: not
    read yet)."""
    if self.clock is None and self.initialized:
        return NAN
    return user_now(self)


cdef double user_now(SimpleMooncake self) except? -1.0:
    if not self.initialized:
        _refuse_uninitialised(self)
    return _read_clock(self.clock)
