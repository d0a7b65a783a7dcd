/* Counters shared between threads.
 *
 * Implementation note: with the GIL every cache method already runs alone, so
 * a plain add is exact and costs nothing. On a free-threaded build
 * (Py_GIL_DISABLED) two threads may bump the same counter at once; there the
 * add is a relaxed atomic: exact, and without the fences a lock would need.
 * Readers use mc_counter_load so a torn 64-bit read cannot happen either.
 */
#ifndef MC_ATOMIC_H
#define MC_ATOMIC_H

#include <Python.h>
#include <stdint.h>

typedef uint64_t mc_counter;

#if defined(Py_GIL_DISABLED)
#  if defined(_MSC_VER)
#    include <intrin.h>
static inline void mc_counter_add(mc_counter *c, uint64_t n)
{
    _InterlockedExchangeAdd64((volatile __int64 *)c, (__int64)n);
}
static inline uint64_t mc_counter_load(const mc_counter *c)
{
    return (uint64_t)_InterlockedOr64((volatile __int64 *)c, 0);
}
#  else
static inline void mc_counter_add(mc_counter *c, uint64_t n)
{
    __atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}
static inline uint64_t mc_counter_load(const mc_counter *c)
{
    return __atomic_load_n(c, __ATOMIC_RELAXED);
}
#  endif
#else
static inline void mc_counter_add(mc_counter *c, uint64_t n)
{
    *c += n;
}
static inline uint64_t mc_counter_load(const mc_counter *c)
{
    return *c;
}
#endif

static inline void mc_counter_store(mc_counter *c, uint64_t v)
{
#if defined(Py_GIL_DISABLED) && !defined(_MSC_VER)
    __atomic_store_n(c, v, __ATOMIC_RELAXED);
#else
    *c = v;
#endif
}

#endif /* MC_ATOMIC_H */
