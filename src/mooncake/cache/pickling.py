"""Pickling and copying a cache; both twins share these rules and this format.

A cache reduces like a ``dict`` subclass does: to ``copyreg.__newobj__(cls)``
(an empty, uninitialised object) plus a state that ``__setstate__`` loads.
Pickle memoises the empty object before it loads the state, so a value that
refers back to its cache, or a cache that contains itself, comes back
pointing at the restored cache, exactly once. Nothing overridable runs on
the way back: not a subclass's ``__init__`` (whatever its signature), not its
``put``; the base class's own initialisation and store path do the work, and
the instance attributes (``__dict__`` and ``__slots__`` of a subclass) are
restored as they were.

The state: the settings, the live entries as ``(key, value, seconds left)``
in queue order, the counters, and the subclass's attributes. Expired entries
are left behind, and so are the access log and per-entry hit counts. A
clock, callback or monitor that cannot be pickled makes ``pickle.dumps``
fail with pickle's own error, naming the object; ``copy.copy`` and
``copy.deepcopy`` do not need to pickle.
"""

import copyreg


def subclass_attributes(cache, base_cls, own=frozenset()):
    """The instance attributes a subclass of ``base_cls`` added: a dict of
    ``__dict__`` entries (minus ``own``, the base's own names) and slots."""
    found = {}
    for name, value in getattr(cache, "__dict__", {}).items():
        if name not in own:
            found[name] = value
    for name in copyreg._slotnames(type(cache)):
        if name in ("__dict__", "__weakref__"):
            continue
        try:
            found[name] = getattr(cache, name)
        except AttributeError:
            pass  # an empty slot stays empty
    return found


def restore_attributes(cache, attributes):
    for name, value in attributes.items():
        object.__setattr__(cache, name, value)

