"""Alias of the original path of the removal reasons (``mooncake.cache.removal``),
kept so pickles of 0.1.0 load."""

from .cache.removal import RemovalReason

__all__ = ["RemovalReason"]
