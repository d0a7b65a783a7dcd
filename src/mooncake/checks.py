"""Argument checks common to every part of mooncake (cache, monitor, memoize,
shared tier), written once so that all of them refuse bad input alike."""

import math
import numbers
import sys


def check_count(name, value, minimum, maximum=sys.maxsize):
    """``value`` as an int in ``minimum .. maximum``.

    Any ``numbers.Integral`` is accepted (``numpy.int64(5)`` too); ``bool`` is
    refused (``maxsize=True`` is surely a mistake): TypeError. Out of range:
    ValueError naming the bound.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return int(value)


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


def as_pair(item):
    """One item of ``put_many``'s iterable as a ``(key, value)`` tuple, by
    ``dict()``'s rules: an item that is not iterable raises TypeError, one of
    another length ValueError."""
    try:
        pair = tuple(item)
    except TypeError:
        raise TypeError(f"put_many needs (key, value) pairs, got {type(item).__name__}") from None
    if len(pair) != 2:
        raise ValueError(f"put_many needs (key, value) pairs, got an item of length {len(pair)}")
    return pair
