"""The shared tier: SharedMooncake (and AsyncSharedMooncake), SimpleMooncake's API over Valkey/Redis.

Needs redis-py: ``pip install 'mooncake[shared]'``. ``import mooncake`` alone
does not import this package.
"""

try:
    import redis as _redis  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
    raise ImportError(
        "mooncake.shared needs redis-py: pip install 'mooncake[shared]'") from exc

from .async_cache import AsyncSharedMooncake
from .cache import SharedMooncake
from .connection import DEFAULT_SOCKET_TIMEOUT
from .errors import SharedCacheError

__all__ = ["AsyncSharedMooncake", "DEFAULT_SOCKET_TIMEOUT", "SharedCacheError", "SharedMooncake"]
