"""Argument checks shared by both cache twins, so they reject bad input alike."""

import math
import numbers
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
