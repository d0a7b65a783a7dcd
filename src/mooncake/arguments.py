"""Alias of the original path of the cache's argument checks; they live in
``mooncake.cache.arguments`` (and the common ones in ``mooncake.checks``)."""

from .cache.arguments import *  # noqa: F403
from .cache.arguments import MAX_ACCESS_LOG_SIZE, MAX_SIZE, POLICIES  # noqa: F401
