"""Why an entry left the cache, as passed to an ``on_remove`` callback."""

import enum


class RemovalReason(str, enum.Enum):
    """The reason given to ``on_remove(key, value, reason)``.

    It is a ``str`` enum, so ``reason == "expired"`` holds as well as
    ``reason is RemovalReason.EXPIRED``.
    """

    EXPIRED = "expired"    #: its TTL ran out (seen by a lookup or by cleanup_expired)
    EVICTED = "evicted"    #: chosen by SIEVE to make room under maxsize or maxmemory
    DELETED = "deleted"    #: removed by delete, pop or ``del cache[key]``
    REPLACED = "replaced"  #: a put overwrote it
    CLEARED = "cleared"    #: removed by clear()

    def __str__(self) -> str:
        return self.value
