"""Alias of the compiled monitor's original path (``mooncake._monitor``, in 0.1.0);
the engine is ``mooncake.monitor._engine``. Kept so imports and pickles of 0.1.0 work."""

from .monitor._engine import MonitorLock, PerformanceMetrics, SimpleMonitor

__all__ = ["MonitorLock", "PerformanceMetrics", "SimpleMonitor"]
