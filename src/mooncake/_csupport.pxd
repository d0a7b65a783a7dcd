# Declarations of every C helper in csrc/ (clocks, counters, user-code depth, prefetch,
# slot arrays): the one place the engines cimport them from.
from libc.stdint cimport int32_t, uint64_t

cdef extern from "mc_clock.h" nogil:
    double mc_clock_init()
    double mc_monotonic()
    double mc_precise_monotonic()

cdef extern from "mc_atomic.h" nogil:
    ctypedef uint64_t mc_counter
    void mc_counter_add(mc_counter *c, uint64_t n)
    uint64_t mc_counter_load(const mc_counter *c)
    void mc_counter_store(mc_counter *c, uint64_t v)

cdef extern from "mc_stack.h":
    const int MC_MAX_USER_CODE_DEPTH
    int mc_enter_user_code(const char *where) except -1
    void mc_leave_user_code()

cdef extern from "mc_prefetch.h" nogil:
    void mc_prefetch_write(const void *p)

cdef extern from "mc_wallclock.h" nogil:
    double mc_wallclock()

cdef extern from "mc_slots.h" nogil:
    Py_ssize_t mc_slot_width(Py_ssize_t nslots)
    Py_ssize_t mc_slots_bytes(Py_ssize_t nslots)
    int32_t mc_slot_get(const unsigned char *slots, Py_ssize_t width, size_t i)
    void mc_slot_set(unsigned char *slots, Py_ssize_t width, size_t i, int32_t ix)

cdef extern from "mc_instance.h":
    bint mc_has_instance_attributes(object o)
