"""Alias: the monitor's pure-Python twin is ``mooncake.monitor.twin``."""

from ..monitor.twin import MonitorLock, PerformanceMetrics, SimpleMonitor

__all__ = ["MonitorLock", "PerformanceMetrics", "SimpleMonitor"]
