"""Argument checks and bounds shared by both monitor twins, so they reject bad input alike."""

#: The largest ``max_metrics`` accepted (larger: ValueError). The history
#: grows as records arrive, so a large bound costs nothing until it is used.
MAX_METRICS = 1 << 30

#: The name under which records of operations beyond ``max_operations`` are counted.
OTHER_OPERATION = "__other__"

#: ``max_operations=None`` still stops here (operation ids are 32-bit).
_MAX_OPERATIONS = (1 << 32) - 2


def check_max_metrics(max_metrics):
    """An int in 0 .. MAX_METRICS."""
    if isinstance(max_metrics, bool) or not isinstance(max_metrics, int):
        raise TypeError(f"max_metrics must be an int, not {type(max_metrics).__name__}")
    if max_metrics < 0:
        raise ValueError(f"max_metrics must be >= 0, got {max_metrics}")
    if max_metrics > MAX_METRICS:
        raise ValueError(f"max_metrics must be <= {MAX_METRICS}, got {max_metrics}")
    return int(max_metrics)


def check_max_operations(max_operations):
    """None (no bound of our own) or an int >= 1; returns the bound as an int."""
    if max_operations is None:
        return _MAX_OPERATIONS
    if isinstance(max_operations, bool) or not isinstance(max_operations, int):
        raise TypeError(f"max_operations must be None or an int, not {type(max_operations).__name__}")
    if max_operations < 1:
        raise ValueError(f"max_operations must be >= 1, got {max_operations}")
    return min(int(max_operations), _MAX_OPERATIONS)
