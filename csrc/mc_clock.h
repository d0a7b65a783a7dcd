/* Monotonic clock for expiry decisions.
 *
 * Implementation note: a get hit reads the clock, so the read must cost a few
 * nanoseconds. On Linux CLOCK_MONOTONIC_COARSE is served from the vDSO without
 * reading the TSC (about 5 ns) and ticks every jiffy (1-4 ms). Expiry needs
 * 10 ms resolution or finer, so if the coarse clock is coarser than that on
 * some kernel we fall back to CLOCK_MONOTONIC (about 20 ns). Elsewhere we use
 * QueryPerformanceCounter (Windows) or
 * CLOCK_MONOTONIC (other POSIX systems). The wall clock is never used: it jumps.
 */
#ifndef MC_CLOCK_H
#define MC_CLOCK_H

#include <Python.h>

#if defined(_WIN32)
#include <windows.h>

static double mc_tick_seconds = 0.0;

static inline double mc_clock_init(void)
{
    LARGE_INTEGER freq;
    QueryPerformanceFrequency(&freq);
    mc_tick_seconds = 1.0 / (double)freq.QuadPart;
    return mc_tick_seconds;
}

static inline double mc_monotonic(void)
{
    LARGE_INTEGER now;
    QueryPerformanceCounter(&now);
    return (double)now.QuadPart * mc_tick_seconds;
}

static inline double mc_precise_monotonic(void)
{
    return mc_monotonic();
}

#else
#include <time.h>

static clockid_t mc_clock_id = CLOCK_MONOTONIC;

/* Pick the clock once, at module import. Returns its resolution in seconds.
 * inline (on both platforms) because every engine that cimports _csupport
 * includes this header, and one that never calls it (the monitor) would
 * otherwise fail a -Werror build with "defined but not used". */
static inline double mc_clock_init(void)
{
    struct timespec res;
#ifdef CLOCK_MONOTONIC_COARSE
    if (clock_getres(CLOCK_MONOTONIC_COARSE, &res) == 0
        && res.tv_sec == 0 && res.tv_nsec <= 10000000L) {
        mc_clock_id = CLOCK_MONOTONIC_COARSE;
        return (double)res.tv_nsec * 1e-9;
    }
#endif
    mc_clock_id = CLOCK_MONOTONIC;
    if (clock_getres(CLOCK_MONOTONIC, &res) != 0)
        return 1e-9;
    return (double)res.tv_sec + (double)res.tv_nsec * 1e-9;
}

static inline double mc_monotonic(void)
{
    struct timespec ts;
    clock_gettime(mc_clock_id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Nanosecond resolution, for timing operations (the instrumented cache). */
static inline double mc_precise_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#endif

#endif /* MC_CLOCK_H */
