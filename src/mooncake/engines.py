"""Which engines are in use: the Cython ones, or their pure-Python twins.

This is the one place that decides. The compiled engines are used unless the
environment variable ``MOONCAKE_PURE_PYTHON=1`` selects the twins (read once,
at import). A missing extension is an ImportError, never a silent switch to
the slow twin.
"""

import os
from typing import TYPE_CHECKING, Any

#: True when the Cython engines are in use, False for the pure-Python twins.
ACCELERATED = os.environ.get("MOONCAKE_PURE_PYTHON") != "1"

# A type checker reads the engines' stubs: the twins have the same API.
if ACCELERATED or TYPE_CHECKING:
    try:
        from .cache._engine import SimpleMooncake
        from .monitor._engine import MonitorLock, PerformanceMetrics, SimpleMonitor
    except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
        raise ImportError(
            "mooncake's C extension is not built. Build it with `pip install .` "
            "(needs a C compiler), or set MOONCAKE_PURE_PYTHON=1 to use the "
            "pure-Python implementation."
        ) from exc
else:
    from .cache.twin import SimpleMooncake
    from .monitor.twin import MonitorLock, PerformanceMetrics, SimpleMonitor


def near_front() -> Any:
    """The class that serves the shared tier's near hits (imported on first
    use, so that ``import mooncake`` needs nothing of the shared tier)."""
    if ACCELERATED or TYPE_CHECKING:
        from .shared._near_front import NearFront
    else:
        from .shared.near_front import NearFront
    return NearFront


__all__ = ["ACCELERATED", "MonitorLock", "PerformanceMetrics", "SimpleMonitor", "SimpleMooncake", "near_front"]
