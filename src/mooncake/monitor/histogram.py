"""The layout of the per-operation duration histogram, shared by both monitor twins.

Implementation note: the histogram is log-linear, cut along the bits of the
IEEE 754 double. A positive duration ``x`` has a 64-bit pattern whose high
bits are its binary exponent and then its mantissa; keeping the exponent and
the top ``SUB_BUCKET_BITS`` (6) mantissa bits splits every power of two
``(2**e, 2**(e+1)]`` into 64 equal buckets. We index ``bits(x) - 1`` rather
than ``bits(x)`` so a bucket is closed on the right, ``(L, H]``: a duration
that is exactly a power of two then falls in the bucket below, which is what
Prometheus ``le`` ("less or equal") boundaries need.

A bucket's width is at most ``L/64``; reporting its midpoint is off by at most
``L/128``, a relative error below 0.79% (the monitor promises 1%).
Exponents from ``MIN_EXPONENT`` to ``MAX_EXPONENT`` are kept (durations from
2**-40 s, about a picosecond, to 2**24 s, about 194 days); anything at or
below 2**-40 s (zero included) is counted in one underflow bucket and anything
above 2**24 s in one overflow bucket. Each twin allocates the 64 counters of
an exponent only when a duration first lands there, so an operation costs at
most 64 * 64 counters, and usually a few dozen.

Percentile definition (nearest rank): the ``p``-th percentile of ``n``
durations is the one at rank ``ceil(p * n / 100)`` (1-based) in sorted order.
The histogram finds the bucket holding that rank and reports its midpoint,
clamped into the exact ``[min, max]`` of the operation; the underflow bucket
reports the minimum and the overflow bucket the maximum. So a percentile is
within 0.79% of the exact one for durations in the kept range, and within
2**-40 s of it below.
"""

import bisect
import math
import struct

__all__ = [
    "EXPORT_BOUNDS",
    "MAX_EXPONENT",
    "MIN_EXPONENT",
    "OVERFLOW",
    "SUB_BUCKET_BITS",
    "UNDERFLOW",
    "bucket_index",
    "bucket_value",
    "export_index",
    "percentile_rank",
]

SUB_BUCKET_BITS = 6
MIN_EXPONENT = -40
MAX_EXPONENT = 23
SUB_BUCKETS = 1 << SUB_BUCKET_BITS
EXPONENTS = MAX_EXPONENT - MIN_EXPONENT + 1

#: Index of the bucket for durations <= 2**MIN_EXPONENT (zero included).
UNDERFLOW = -1
#: Index of the bucket for durations > 2**(MAX_EXPONENT + 1).
OVERFLOW = EXPONENTS * SUB_BUCKETS

_MANTISSA_BITS = 52
_EXPONENT_BIAS = 1023
_FIRST_INDEX = (_EXPONENT_BIAS + MIN_EXPONENT) << SUB_BUCKET_BITS

#: The ``le`` boundaries (seconds) of the exported Prometheus histogram:
#: 1, 2.5 and 5 per decade from 100 ns to 10 s. Counts per boundary are exact
#: (each twin keeps one counter per boundary), not derived from the
#: log-linear buckets.
EXPORT_BOUNDS = tuple(
    float(f"{m}e{e}") for e in range(-7, 1) for m in ("1", "2.5", "5")
) + (10.0,)


def _bits(x: float) -> int:
    bits: int = struct.unpack("<Q", struct.pack("<d", x))[0]
    return bits


def bucket_index(x: float) -> int:
    """Bucket of the duration ``x`` (a finite float >= 0).

    ``UNDERFLOW`` for ``x <= 2**MIN_EXPONENT``, ``OVERFLOW`` for
    ``x > 2**(MAX_EXPONENT + 1)``, else ``0 .. OVERFLOW - 1`` in increasing
    order of duration.
    """
    if x <= math.ldexp(1.0, MIN_EXPONENT):
        return UNDERFLOW
    if x > math.ldexp(1.0, MAX_EXPONENT + 1):
        return OVERFLOW
    return ((_bits(x) - 1) >> (_MANTISSA_BITS - SUB_BUCKET_BITS)) - _FIRST_INDEX


def bucket_value(index: int, minimum: float, maximum: float) -> float:
    """The duration a percentile falling in bucket ``index`` reports.

    The bucket's midpoint ``2**e * (1 + (2*sub + 1) / 128)`` (exact in binary
    floating point), clamped into ``[minimum, maximum]``; the underflow bucket
    gives ``minimum`` and the overflow bucket ``maximum``.
    """
    if index == UNDERFLOW:
        return minimum
    if index == OVERFLOW:
        return maximum
    exponent = MIN_EXPONENT + (index >> SUB_BUCKET_BITS)
    sub = index & (SUB_BUCKETS - 1)
    mid = math.ldexp(float(2 * SUB_BUCKETS + 2 * sub + 1), exponent - SUB_BUCKET_BITS - 1)
    return min(max(mid, minimum), maximum)


def percentile_rank(p: int, n: int) -> int:
    """Nearest rank of the ``p``-th percentile (``p`` an int 1..100) among ``n >= 1`` values."""
    return max(1, (p * n + 99) // 100)


def export_index(x: float) -> int:
    """Index of the first ``EXPORT_BOUNDS`` boundary ``>= x`` (``len(EXPORT_BOUNDS)`` for +Inf)."""
    return bisect.bisect_left(EXPORT_BOUNDS, x)
