/* Wall-clock seconds since the Unix epoch: the scale of time.time().
 *
 * Implementation note: the monitor stamps every record with the wall clock
 * (records are read back by age, "the last 5 minutes"), so the read must be
 * cheap. clock_gettime(CLOCK_REALTIME) is served from the vDSO in about
 * 20 ns; calling time.time() through Python would cost several times that.
 * The wall clock can jump, so nothing may assume the stamps are ordered.
 */
#ifndef MC_WALLCLOCK_H
#define MC_WALLCLOCK_H

#include <Python.h>

#if defined(_WIN32)
#include <windows.h>

static inline double mc_wallclock(void)
{
    FILETIME ft;
    ULARGE_INTEGER ticks;
    GetSystemTimePreciseAsFileTime(&ft);
    ticks.LowPart = ft.dwLowDateTime;
    ticks.HighPart = ft.dwHighDateTime;
    /* 100 ns ticks since 1601-01-01; the Unix epoch is 11644473600 s later. */
    return (double)(ticks.QuadPart - 116444736000000000ULL) * 1e-7;
}

#else
#include <time.h>

static inline double mc_wallclock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#endif

#endif /* MC_WALLCLOCK_H */
