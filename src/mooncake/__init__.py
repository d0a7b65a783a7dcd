"""mooncake: a C-accelerated in-process TTL cache, and an operation monitor.

The Cython engines are used unless the environment variable
``MOONCAKE_PURE_PYTHON=1`` selects the pure-Python twins; ``mooncake.engines``
is where that is decided.
"""

__version__ = "0.1.0"

from .cache.removal import RemovalReason
from .engines import ACCELERATED, PerformanceMetrics, SimpleMonitor, SimpleMooncake

__all__ = ["ACCELERATED", "PerformanceMetrics", "RemovalReason", "SimpleMonitor", "SimpleMooncake"]
