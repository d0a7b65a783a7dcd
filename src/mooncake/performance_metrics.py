"""Alias of the original path of the metrics record (``mooncake.monitor.metrics``),
kept so pickles of 0.1.0 load."""

from .monitor.metrics import PerformanceMetrics

__all__ = ["PerformanceMetrics"]
