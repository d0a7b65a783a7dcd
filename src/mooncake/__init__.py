"""mooncake: a C-accelerated in-process TTL cache, and an operation monitor.

The Cython engines are used unless the environment variable
``MOONCAKE_PURE_PYTHON=1`` selects the pure-Python twins. A missing extension
is an ImportError, never a silent switch to the slow twin.
"""

import os as _os

__version__ = "0.1.0"

#: True when the Cython engines are in use, False for the pure-Python twins.
ACCELERATED = _os.environ.get("MOONCAKE_PURE_PYTHON") != "1"

if ACCELERATED:
    try:
        from ._cache import SimpleMooncake
        from ._monitor import PerformanceMetrics, SimpleMonitor
    except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
        raise ImportError(
            "mooncake's C extension is not built. Build it with `pip install .` "
            "(needs a C compiler), or set MOONCAKE_PURE_PYTHON=1 to use the "
            "pure-Python implementation."
        ) from exc
else:
    from .pure.cache import SimpleMooncake
    from .pure.monitor import PerformanceMetrics, SimpleMonitor

from .removal import RemovalReason  # noqa: E402

__all__ = ["ACCELERATED", "PerformanceMetrics", "RemovalReason", "SimpleMonitor", "SimpleMooncake"]
