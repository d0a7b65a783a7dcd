"""Alias: the cache's pure-Python twin is ``mooncake.cache.twin``."""

from ..cache.twin import SimpleMooncake

__all__ = ["SimpleMooncake"]
