/* How much C stack the current thread has left.
 *
 * Implementation note: Py_EnterRecursiveCall counts re-entry against the
 * recursion limit, but a user may raise that limit far beyond what the C
 * stack can hold (each re-entry through the cache costs a kilobyte or more of
 * C stack, a pure-Python call none). So before calling into user code the
 * engine also asks whether the stack still has a safety margin left, and
 * raises RecursionError when it has not. The thread's stack bounds are read
 * once per thread (pthread_getattr_np); where they cannot be read that check
 * always answers "enough".
 *
 * On top of both, calls into user code made by the cache nest at most
 * MC_MAX_USER_CODE_DEPTH deep per thread (mooncake.user_code holds the same
 * bound for the pure-Python twin, which cannot see the C stack), so the two
 * twins end deep re-entry alike, whatever the recursion limit.
 */
#ifndef MC_STACK_H
#define MC_STACK_H

#include <Python.h>
#include <stdint.h>

#if defined(__linux__) && defined(__GLIBC__)
#include <pthread.h>
#define MC_HAVE_STACK_CHECK 1

/* The lowest address a frame may use before we refuse to go deeper (0: unknown). */
static __thread uintptr_t mc_stack_floor = 0;
static __thread int mc_stack_known = 0;

static void mc_stack_measure(void)
{
    pthread_attr_t attr;
    void *base = NULL;
    size_t size = 0, margin;
    mc_stack_known = 1;
    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return;
    if (pthread_attr_getstack(&attr, &base, &size) == 0 && base != NULL && size > 0) {
        /* A quarter of the stack, at most 1 MiB, is kept for whatever runs
         * after the RecursionError: unwinding, sys.unraisablehook, tracebacks. */
        margin = size / 4;
        if (margin > ((size_t)1 << 20))
            margin = (size_t)1 << 20;
        mc_stack_floor = (uintptr_t)base + margin;
    }
    pthread_attr_destroy(&attr);
}

/* 1 when the stack is nearly exhausted (stacks grow down on every glibc target we build for). */
static inline int mc_stack_low(void)
{
    char here;
    if (!mc_stack_known)
        mc_stack_measure();
    return (uintptr_t)&here < mc_stack_floor;
}

#else
#define MC_HAVE_STACK_CHECK 0
static inline int mc_stack_low(void) { return 0; }
#endif

#define MC_MAX_USER_CODE_DEPTH 1000

/* Calls into user code now running on this thread, made by the cache. */
static __thread int mc_user_code_depth = 0;

/* Before calling into user code: 0, or -1 with RecursionError set. Pair a 0
 * with mc_leave_user_code(). */
static inline int mc_enter_user_code(const char *where)
{
    if (mc_user_code_depth >= MC_MAX_USER_CODE_DEPTH) {
        PyErr_Format(PyExc_RecursionError,
                     "maximum re-entry depth exceeded%s (%d nested calls into user code)",
                     where, MC_MAX_USER_CODE_DEPTH);
        return -1;
    }
    if (mc_stack_low()) {
        PyErr_Format(PyExc_RecursionError,
                     "maximum recursion depth exceeded%s (the C stack is nearly exhausted)", where);
        return -1;
    }
    if (Py_EnterRecursiveCall(where))
        return -1;
    mc_user_code_depth++;
    return 0;
}

static inline void mc_leave_user_code(void)
{
    mc_user_code_depth--;
    Py_LeaveRecursiveCall();
}

#endif
