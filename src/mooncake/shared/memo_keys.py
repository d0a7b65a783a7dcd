"""Keys of memoized results that every process computes alike.

An in-process memoize names a function by a token object; processes share no
objects, so here a result's key is the function's module and qualified name
plus a SHA-256 digest of a canonical encoding of its arguments. The encoding
never uses ``hash()`` (randomized per process for str and bytes) and sorts
sets and dict items by their encoding, so equal arguments give the same key in
every process. Arguments equal in Python get one key, as in-process:
``f(1)``, ``f(True)`` and ``f(1.0)`` share a result.
"""

import hashlib
import math

from .keys import escape, int_digits


def canonical(value):
    """Deterministic bytes for an argument: None, bool, int, float, str, bytes,
    and tuples, lists, dicts, sets and frozensets of these. TypeError otherwise."""
    kind = type(value)
    if value is None:
        return b"n"
    if isinstance(value, (int, bool)):
        return b"i:" + int_digits(int.__index__(value))
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return b"i:" + int.__repr__(int(value)).encode()  # 1.0 == 1
        return b"f:" + float.hex(value).encode()
    if isinstance(value, str):
        return b"s:" + escape(str.encode(value, "utf-8", "surrogatepass"))
    if isinstance(value, bytes):
        return b"b:" + escape(bytes(memoryview(value)))
    if isinstance(value, tuple):
        return b"t(" + b",".join([canonical(item) for item in tuple.__iter__(value)]) + b")"
    if isinstance(value, list):
        return b"l(" + b",".join([canonical(item) for item in list.__iter__(value)]) + b")"
    if isinstance(value, (set, frozenset)):
        return b"f(" + b",".join(sorted(canonical(item) for item in value)) + b")"
    if isinstance(value, dict):
        items = sorted(canonical(k) + b"=" + canonical(v) for k, v in dict.items(value))
        return b"d(" + b",".join(items) + b")"
    raise TypeError(
        f"a shared memoize needs arguments it can encode alike in every process "
        f"(None, bool, int, float, str, bytes and tuples, lists, dicts, sets of these), "
        f"not {kind.__name__}: pass key=... returning such a value")


def function_label(func):
    """``module.qualname`` of a function: the readable part of its result keys."""
    module = getattr(func, "__module__", None) or "?"
    qualname = getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or repr(func)
    return f"{module}.{qualname}"


class SharedMemoKeys:
    """The key scheme ``memoize`` uses on a shared cache (see mooncake.memoize).

    ``namespace``: the cache's keys.Namespace. ``count(pattern)`` and
    ``clear(pattern)``: the shell's scans of one function's results (coroutine
    functions on an async shell). ``flight``: a SingleFlight running the
    in-process leader under the cross-process lease lock."""

    def __init__(self, cache, func, key, per_instance, *, namespace, count, clear, flight=None):
        if per_instance:
            raise TypeError("memoize_method is not available on a shared cache: instances "
                            "are not shared between processes (use memoize with key=...)")
        self._namespace = namespace
        self._count = count
        self._clear = clear
        self._key = key
        #: runs the in-process leader's computation under a cross-process lock
        self.run_leader = None if flight is None else flight.run
        self._label = function_label(func).encode("utf-8", "surrogatepass")
        # The digest covers the label too, so the escaped label in the key is only for humans.
        self._seed = canonical(function_label(func)) + b"|"

    def make(self, args, kwargs):
        if self._key is not None:
            material = canonical(self._key(*args, **kwargs))
        else:
            material = canonical(args) + b"|" + canonical(kwargs)
        digest = hashlib.sha256(self._seed + material).hexdigest()[:32].encode()
        return self._namespace.memo_key(self._label, digest)

    def size(self):
        return self._count(self._namespace.memo_pattern(self._label))

    def clear(self):
        return self._clear(self._namespace.memo_pattern(self._label))
