"""Argument checks shared by both cache twins, so they reject bad input alike."""

import math
import numbers
import sys
import time

#: The largest ``maxsize`` and ``maxmemory`` accepted (larger: ValueError).
MAX_SIZE = sys.maxsize
#: The largest ``access_log_size`` accepted (larger: ValueError). The ring
#: grows as hits arrive, so a large bound costs nothing until it is used.
MAX_ACCESS_LOG_SIZE = min(1 << 30, sys.maxsize // 64)


def _check_count(name, value, minimum, maximum=MAX_SIZE):
    """An int in ``minimum .. maximum``; bool is refused (``maxsize=True`` is surely a mistake)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return int(value)


def check_maxsize(maxsize):
    """None, or an int >= 1."""
    return None if maxsize is None else _check_count("maxsize", maxsize, 1)


def check_maxmemory(maxmemory):
    """None, or a byte budget as an int >= 1."""
    return None if maxmemory is None else _check_count("maxmemory", maxmemory, 1)


def check_access_log_size(size):
    """An int in 0 .. MAX_ACCESS_LOG_SIZE; 0 turns the access log off."""
    return _check_count("access_log_size", size, 0, MAX_ACCESS_LOG_SIZE)


def check_clock(clock):
    """None (the built-in monotonic clock) or a zero-argument callable."""
    if clock is not None and not callable(clock):
        raise TypeError(f"clock must be None or a callable, not {type(clock).__name__}")
    return clock


def _real_seconds(value, wrong_type, is_nan, finite=False):
    if isinstance(value, (str, bytes, complex)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{wrong_type}, not {type(value).__name__}")
    try:
        seconds = float(value)
    except OverflowError:
        if not finite:
            raise
        seconds = math.inf
    if math.isnan(seconds) or (finite and math.isinf(seconds)):
        raise ValueError(f"{is_nan}, got {seconds!r}" if finite else is_nan)
    return seconds


def ttl_seconds(ttl):
    """A TTL as a float: any real number but NaN; ``math.inf`` never expires."""
    return _real_seconds(ttl, "ttl must be a real number of seconds", "ttl must not be NaN")


def clock_seconds(value):
    """Check what a user clock returned: a finite real number (NaN and
    infinities are refused: they would make entries immortal or unreachable)."""
    return _real_seconds(value, "clock() must return a real number",
                         "clock() must return a finite number", finite=True)


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


def check_optional_callable(name, fn):
    """None, or a callable."""
    if fn is not None and not callable(fn):
        raise TypeError(f"{name} must be None or a callable, not {type(fn).__name__}")
    return fn


def check_monitor(monitor):
    """None, or an object with a callable ``record_operation``."""
    if monitor is not None and not callable(getattr(monitor, "record_operation", None)):
        raise TypeError("monitor must have a record_operation(operation, duration, success, data_size) method")
    return monitor


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
