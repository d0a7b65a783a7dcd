"""Calls from the cache into user code (on_remove, the monitor, the clock), counted.

A callback that re-enters the cache, whose operation calls the callback again,
and so on, would otherwise recurse until the C stack runs out when the
recursion limit is set high: each level costs C stack in the interpreter
(and in the Cython engine) but only a few units of the limit. Both twins
therefore allow at most ``MAX_USER_CODE_DEPTH`` nested calls into user code
per thread and raise ``RecursionError`` beyond (the engine, which can see its
C stack, also raises when the stack is nearly exhausted).
"""

import sys
import threading
import types

#: The deepest nesting of the cache's calls into user code, per thread.
MAX_USER_CODE_DEPTH = 1000

_depth = threading.local()


class calling_user_code:
    """``with calling_user_code(" in on_remove"):`` around one call into user code."""

    __slots__ = ("_where",)

    def __init__(self, where):
        self._where = where

    def __enter__(self):
        depth = getattr(_depth, "value", 0)
        if depth >= MAX_USER_CODE_DEPTH:
            raise RecursionError(
                f"maximum re-entry depth exceeded{self._where} "
                f"({MAX_USER_CODE_DEPTH} nested calls into user code)")
        _depth.value = depth + 1

    def __exit__(self, *exc):
        _depth.value -= 1
        return False


def report_unraisable(source):
    """Hand the exception being handled to ``sys.unraisablehook``, naming
    ``source`` (the callback or monitor that raised), as CPython does for an
    exception in ``__del__``: a callback's error never breaks the cache."""
    exc_type, exc_value, exc_traceback = sys.exc_info()
    sys.unraisablehook(types.SimpleNamespace(
        exc_type=exc_type, exc_value=exc_value, exc_traceback=exc_traceback,
        err_msg=None, object=source,
    ))
