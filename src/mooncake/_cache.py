"""Alias of the compiled cache's original path (``mooncake._cache``, in 0.1.0);
the engine is ``mooncake.cache._engine``. Kept so imports and pickles of 0.1.0 work."""

from .cache._engine import CLOCK_RESOLUTION, MAX_USER_CODE_DEPTH, SimpleMooncake

__all__ = ["CLOCK_RESOLUTION", "MAX_USER_CODE_DEPTH", "SimpleMooncake"]
