"""Alias of the original path of the Prometheus export; it lives in ``mooncake.monitor.prometheus``."""

from .monitor.prometheus import MonitorCollector, render_text

__all__ = ["MonitorCollector", "render_text"]
