"""The original import path, ``mooncake.monitoring.simple_monitor``; no logic lives here."""

from mooncake import PerformanceMetrics, SimpleMonitor

__all__ = ["PerformanceMetrics", "SimpleMonitor"]
