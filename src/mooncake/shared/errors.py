"""SharedCacheError: the shared cache could not do its work on the server."""

from redis.exceptions import RedisClusterException, RedisError

#: What a redis-py call raises when the server cannot be reached, times out,
#: refuses authentication or answers with an error. Our own bad-input errors
#: (TypeError, ValueError) are raised before any of this can happen.
SERVER_ERRORS = (RedisError, RedisClusterException, OSError)


class SharedCacheError(ConnectionError):
    """A server that cannot be reached, timed out, refused the credentials or
    failed the command. The redis-py exception is chained as ``__cause__``."""
