"""One recorded operation: the record both monitor twins hand out."""

import dataclasses
import sys
from typing import NoReturn

__all__ = ["PerformanceMetrics"]

# slots=True needs Python 3.10; before, the record simply has a __dict__.
_SLOTS = {"slots": True} if sys.version_info >= (3, 10) else {}


@dataclasses.dataclass(frozen=True, **_SLOTS)
class PerformanceMetrics:
    """An immutable record of one operation: a frozen dataclass.

    ``PerformanceMetrics(timestamp, operation, duration, success, data_size=0)``,
    fields given by position or keyword. ``timestamp`` is wall-clock seconds
    (``time.time()`` scale, or the monitor's injected clock), ``duration`` is
    seconds. Two records are equal when all five fields are equal; a record is
    hashable; ``dataclasses.asdict``, ``fields`` and ``replace`` work. Setting
    a field raises ``dataclasses.FrozenInstanceError`` (an AttributeError).
    The fields are stored as given: the monitor validates its inputs, this
    record does not.
    """

    timestamp: float
    operation: str
    duration: float
    success: bool
    data_size: int = 0


def _refuse_change(self: object, name: str, *value: object) -> NoReturn:
    raise dataclasses.FrozenInstanceError(f"PerformanceMetrics is immutable; cannot change {name!r}")


# With slots=True, Python 3.10 and 3.11 generate a __setattr__ that raises
# TypeError (not FrozenInstanceError) for a name that is not a field: replace
# both hooks with ones that refuse every change the same way.
PerformanceMetrics.__setattr__ = _refuse_change  # type: ignore[method-assign]
PerformanceMetrics.__delattr__ = _refuse_change  # type: ignore[method-assign]
