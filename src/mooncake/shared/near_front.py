"""The near cache's hit path, in Python: the twin of ``mooncake.shared._near_front.NearFront``
(used when MOONCAKE_PURE_PYTHON=1); read that module's docstring."""


class NearFront:
    """``get(key, default=None)`` served from the near cache when it may be."""

    # The engine's attributes, and no others (it has no __dict__ either).
    __slots__ = ("_engine_get", "_drain", "_slow_get", "_missing", "_memo_key_type",
                 "_fast_types", "strict", "trusted", "near_hits", "busy")

    def __init__(self, engine_get, drain, slow_get, missing, memo_key_type, strict):
        self._engine_get = engine_get
        self._drain = drain
        self._slow_get = slow_get
        self._missing = missing
        self._memo_key_type = memo_key_type
        self.strict = bool(strict)
        self.trusted = False
        self.near_hits = 0
        self._fast_types = (str, int, bytes, memo_key_type)
        self.busy = False

    def set_listeners(self, fds):
        """The listeners' file descriptors (an empty list: none)."""
        # The engine polls them before a strict read; here drain always runs.

    def get(self, key, default=None):
        """The value of ``key``, or ``default`` if it is absent, expired or rejected
        (the contract of SharedMooncake.get; near hits are served locally)."""
        if self.trusted and type(key) in self._fast_types:
            if self.strict:
                self._drain()
            value = self._engine_get(key, self._missing)
            if value is not self._missing and self.trusted:
                self.near_hits += 1
                return value
        return self._slow_get(key, default)

    def count_near_hit(self, n=1):
        """Count ``n`` near hits served by the Python path."""
        self.near_hits += n
