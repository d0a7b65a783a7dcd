"""Argument checks of the cache, shared by its two twins so they reject bad input alike.

The checks every part of mooncake shares (counts, seconds, callables) live in
``mooncake.checks``; they are re-exported here for the engine's convenience.
"""

import numbers
import sys
import time

from ..checks import check_clock, check_count, check_monitor, check_optional_callable, clock_seconds, ttl_seconds

__all__ = [
    "MAX_ACCESS_LOG_SIZE", "MAX_SIZE", "POLICIES", "check_access_log_size", "check_clock", "check_maxmemory",
    "check_maxsize", "check_monitor", "check_optional_callable", "check_policy", "clock_seconds", "entry_size",
    "measured_bytes", "ttl_seconds", "wall_offset",
]

#: The largest ``maxsize`` and ``maxmemory`` accepted (larger: ValueError).
MAX_SIZE = sys.maxsize
#: The largest ``access_log_size`` accepted (larger: ValueError). The ring
#: grows as hits arrive, so a large bound costs nothing until it is used.
MAX_ACCESS_LOG_SIZE = min(1 << 30, sys.maxsize // 64)


def check_maxsize(maxsize):
    """None, or an int >= 1."""
    return None if maxsize is None else check_count("maxsize", maxsize, 1)


def check_maxmemory(maxmemory):
    """None, or a byte budget as an int >= 1."""
    return None if maxmemory is None else check_count("maxmemory", maxmemory, 1)


def check_access_log_size(size):
    """An int in 0 .. MAX_ACCESS_LOG_SIZE; 0 turns the access log off."""
    return check_count("access_log_size", size, 0, MAX_ACCESS_LOG_SIZE)


def measured_bytes(objects):
    """``sys.getsizeof`` summed over ``objects``, as a Python int (never wraps).
    An object whose ``__sizeof__`` raises or returns nonsense counts as its
    base size, so one odd value cannot make the cache's stats unreadable."""
    total = 0
    for obj in objects:
        try:
            total += sys.getsizeof(obj)
        except Exception:
            total += object.__sizeof__(obj)
    return total


def wall_offset(now):
    """What to add to a cache-clock reading to get wall-clock seconds."""
    return time.time() - now


def entry_size(getsizeof, key, value):
    """What an entry weighs against ``maxmemory``: ``getsizeof(value)`` when the
    cache was given one (checked to be an int >= 0), else the ``sys.getsizeof``
    of key and value."""
    if getsizeof is None:
        return sys.getsizeof(key) + sys.getsizeof(value)
    size = getsizeof(value)
    if isinstance(size, bool) or not isinstance(size, numbers.Integral):
        raise TypeError(f"getsizeof must return an int, not {type(size).__name__}")
    if size < 0:
        raise ValueError(f"getsizeof must return a size >= 0, got {size}")
    return int(size)


#: The eviction policies a bounded cache can use (see README, "Eviction").
POLICIES = ("tinylfu", "sieve")


def check_policy(policy, maxmemory):
    """The policy's name: ``"tinylfu"`` (W-TinyLFU-SIEVE), ``"sieve"``, or None
    for the default, which is ``"tinylfu"`` unless a byte budget is set
    (``maxmemory``: SIEVE, as the admission rule counts entries, not bytes).
    Not a str: TypeError; another name, or ``"tinylfu"`` with ``maxmemory``: ValueError."""
    if policy is None:
        return "sieve" if maxmemory is not None else "tinylfu"
    if not isinstance(policy, str):
        raise TypeError(f"policy must be None or a str, not {type(policy).__name__}")
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {', '.join(map(repr, POLICIES))}, got {policy!r}")
    if policy == "tinylfu" and maxmemory is not None:
        raise ValueError("policy 'tinylfu' counts entries and cannot serve a maxmemory budget; use 'sieve'")
    return policy
