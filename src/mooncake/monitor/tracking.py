"""``monitor.track(operation, data_size)``: time a block or a function and record it."""

import functools
import inspect
import time
from types import TracebackType
from typing import Any, Callable, Literal, Optional, TypeVar, cast

_F = TypeVar("_F", bound=Callable[..., Any])

__all__ = ["Track"]


class Track:
    """Times a ``with`` block, or every call of a decorated function.

    The duration comes from ``time.perf_counter``. When an exception escapes
    the block (or the call), the operation is recorded with ``success=False``
    and the exception propagates; otherwise with ``success=True``. Coroutine
    functions are timed until their result is ready, not until the coroutine
    object is created.

    As a context manager one ``Track`` times one block at a time (entering it
    again before leaving raises ``RuntimeError``); as a decorator every call
    is timed on its own, so recursion and threads are fine.
    """

    __slots__ = ("_monitor", "_operation", "_data_size", "_start")

    def __init__(self, monitor: Any, operation: str, data_size: int = 0) -> None:
        # Check now, with the same rules as record_operation, so a typo fails
        # at the `with` line rather than after the block ran.
        if not isinstance(operation, str):
            raise TypeError(f"operation must be a str, not {type(operation).__name__}")
        if isinstance(data_size, bool) or not isinstance(data_size, int):
            raise TypeError(f"data_size must be an int, not {type(data_size).__name__}")
        if not 0 <= data_size < 1 << 64:
            raise ValueError(f"data_size must be in 0 .. 2**64 - 1, got {data_size}")
        self._monitor = monitor
        self._operation = operation
        self._data_size = data_size
        self._start: Optional[float] = None

    def __enter__(self) -> "Track":
        if self._start is not None:
            raise RuntimeError("this track() block is already running; use a new monitor.track()")
        self._start = time.perf_counter()
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> Literal[False]:
        duration = time.perf_counter() - cast(float, self._start)
        self._start = None
        self._monitor.record_operation(self._operation, duration, exc_type is None, self._data_size)
        return False

    def __call__(self, func: _F) -> _F:
        monitor, operation, data_size = self._monitor, self._operation, self._data_size

        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def timed_coroutine(*args: Any, **kwargs: Any) -> Any:
                with Track(monitor, operation, data_size):
                    return await func(*args, **kwargs)

            return timed_coroutine  # type: ignore[return-value]  # functools.wraps keeps the signature

        @functools.wraps(func)
        def timed(*args: Any, **kwargs: Any) -> Any:
            with Track(monitor, operation, data_size):
                return func(*args, **kwargs)

        return timed  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"<Track {self._operation!r} data_size={self._data_size}>"
