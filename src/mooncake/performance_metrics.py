"""One recorded operation: the record both monitor twins hand out."""

__all__ = ["PerformanceMetrics"]

_FIELDS = ("timestamp", "operation", "duration", "success", "data_size")


class PerformanceMetrics:
    """An immutable record of one operation.

    ``PerformanceMetrics(timestamp, operation, duration, success, data_size=0)``,
    fields given by position or keyword. ``timestamp`` is wall-clock seconds
    (``time.time()`` scale, or the monitor's injected clock), ``duration`` is
    seconds. Two records are equal when all five fields are equal; a record is
    hashable. The fields are stored as given: the monitor validates its inputs,
    this record does not.
    """

    __slots__ = _FIELDS
    __match_args__ = _FIELDS

    def __init__(self, timestamp, operation, duration, success, data_size=0):
        # object.__setattr__ because our own __setattr__ refuses: the record is frozen.
        setattr_ = object.__setattr__
        setattr_(self, "timestamp", timestamp)
        setattr_(self, "operation", operation)
        setattr_(self, "duration", duration)
        setattr_(self, "success", success)
        setattr_(self, "data_size", data_size)

    def _astuple(self):
        return (self.timestamp, self.operation, self.duration, self.success, self.data_size)

    def __setattr__(self, name, value):
        raise AttributeError(f"PerformanceMetrics is immutable; cannot set {name!r}")

    def __delattr__(self, name):
        raise AttributeError(f"PerformanceMetrics is immutable; cannot delete {name!r}")

    def __eq__(self, other):
        if type(other) is not PerformanceMetrics:
            return NotImplemented
        return self._astuple() == other._astuple()

    def __hash__(self):
        return hash(self._astuple())

    def __repr__(self):
        return (
            f"PerformanceMetrics(timestamp={self.timestamp!r}, operation={self.operation!r}, "
            f"duration={self.duration!r}, success={self.success!r}, data_size={self.data_size!r})"
        )

    def __reduce__(self):
        # __setattr__ is blocked, so pickle must rebuild through __init__.
        return (PerformanceMetrics, self._astuple())
