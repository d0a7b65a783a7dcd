"""Alias of the original home of the pure-Python twins (``mooncake.cache.twin``,
``mooncake.monitor.twin``), kept so pickles of 0.1.0 load."""
