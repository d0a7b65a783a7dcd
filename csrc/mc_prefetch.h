/* A hint that a line of memory will be written soon.
 *
 * Implementation note: a get hit on a bounded cache bumps four counters of the
 * frequency sketch, one per row, each in a different cache line. Their
 * addresses depend only on the key's hash, so we ask for those lines right
 * after hashing, before the table probe: the four misses then overlap with the
 * probe's own instead of following it. Likewise a get hit on a full access
 * log drops its oldest key, whose reference count sits in a line no recent
 * operation touched: that line is asked for before the probe too. A hint
 * changes no result.
 */
#ifndef MC_PREFETCH_H
#define MC_PREFETCH_H

#if defined(__GNUC__) || defined(__clang__)
#  define mc_prefetch_write(p) __builtin_prefetch((const void *)(p), 1, 3)
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#  include <xmmintrin.h>
#  define mc_prefetch_write(p) _mm_prefetch((const char *)(p), _MM_HINT_T0)
#else
#  define mc_prefetch_write(p) ((void)(p))
#endif

#endif /* MC_PREFETCH_H */
