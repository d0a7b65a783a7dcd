"""Argument checks and bounds of the monitor, shared by its two twins so they reject bad input alike."""

from ..checks import check_count

#: The largest ``max_metrics`` accepted (larger: ValueError). The history
#: grows as records arrive, so a large bound costs nothing until it is used.
MAX_METRICS = 1 << 30

#: The name under which records of operations beyond ``max_operations`` are counted.
OTHER_OPERATION = "__other__"

#: ``max_operations=None`` still stops here (operation ids are 32-bit).
_MAX_OPERATIONS = (1 << 32) - 2


def check_max_metrics(max_metrics):
    """An int (any ``numbers.Integral`` but bool) in 0 .. MAX_METRICS."""
    return check_count("max_metrics", max_metrics, 0, MAX_METRICS)


def check_max_operations(max_operations):
    """None (no bound of our own) or an int >= 1 (any ``numbers.Integral`` but
    bool); returns the bound as an int, at most 2**32 - 2."""
    if max_operations is None:
        return _MAX_OPERATIONS
    return min(check_count("max_operations", max_operations, 1), _MAX_OPERATIONS)
