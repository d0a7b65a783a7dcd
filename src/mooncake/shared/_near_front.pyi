"""Typing of the near cache's hit path (the pure twin is ``mooncake.shared.near_front``)."""

from collections.abc import Callable, Sequence
from typing import Any

from typing_extensions import disjoint_base

@disjoint_base  # a C type: no class can have it and another such type as bases
class NearFront:
    trusted: bool
    strict: bool
    busy: bool
    near_hits: int
    def __init__(
        self,
        engine_get: Callable[[Any, Any], Any],
        drain: Callable[[], None],
        slow_get: Callable[[Any, Any], Any],
        missing: object,
        memo_key_type: type,
        strict: bool,
    ) -> None: ...
    def set_listeners(self, fds: Sequence[int]) -> None: ...
    def get(self, key: Any, default: Any = None) -> Any: ...
    def count_near_hit(self, n: int = 1) -> None: ...
