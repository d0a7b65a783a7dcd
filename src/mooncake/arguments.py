"""Argument checks shared by both cache twins, so they reject bad input alike."""

import math
import numbers
import sys
import time


def check_maxsize(maxsize):
    """None, or an int >= 1 (bool is refused: ``maxsize=True`` is surely a mistake)."""
    if maxsize is None:
        return None
    if isinstance(maxsize, bool) or not isinstance(maxsize, numbers.Integral):
        raise TypeError(f"maxsize must be None or an int, not {type(maxsize).__name__}")
    if maxsize < 1:
        raise ValueError(f"maxsize must be >= 1, got {maxsize}")
    return int(maxsize)


def check_access_log_size(size):
    """An int >= 0; 0 turns the access log off."""
    if isinstance(size, bool) or not isinstance(size, numbers.Integral):
        raise TypeError(f"access_log_size must be an int, not {type(size).__name__}")
    if size < 0:
        raise ValueError(f"access_log_size must be >= 0, got {size}")
    return int(size)


def check_clock(clock):
    """None (the built-in monotonic clock) or a zero-argument callable."""
    if clock is not None and not callable(clock):
        raise TypeError(f"clock must be None or a callable, not {type(clock).__name__}")
    return clock


def ttl_seconds(ttl):
    """A TTL as a float: any real number but NaN; ``math.inf`` never expires."""
    if isinstance(ttl, (str, bytes, complex)) or not isinstance(ttl, numbers.Real):
        raise TypeError(f"ttl must be a real number of seconds, not {type(ttl).__name__}")
    seconds = float(ttl)
    if math.isnan(seconds):
        raise ValueError("ttl must not be NaN")
    return seconds


def clock_seconds(value):
    """Check what a user clock returned: a real number, not NaN."""
    if isinstance(value, (str, bytes, complex)) or not isinstance(value, numbers.Real):
        raise TypeError(f"clock() must return a real number, not {type(value).__name__}")
    seconds = float(value)
    if math.isnan(seconds):
        raise ValueError("clock() returned NaN")
    return seconds


def wall_offset(now):
    """What to add to a cache-clock reading to get wall-clock seconds."""
    return time.time() - now


def check_maxmemory(maxmemory):
    """None, or a byte budget as an int >= 1."""
    if maxmemory is None:
        return None
    if isinstance(maxmemory, bool) or not isinstance(maxmemory, numbers.Integral):
        raise TypeError(f"maxmemory must be None or an int, not {type(maxmemory).__name__}")
    if maxmemory < 1:
        raise ValueError(f"maxmemory must be >= 1, got {maxmemory}")
    return int(maxmemory)


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
