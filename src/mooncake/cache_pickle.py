"""Rebuilding a pickled or copied cache; both twins reduce to ``restore_cache``.

A cache reduces to its settings, its live entries as ``(key, value, seconds
left)`` in queue order, and its counters. Expired entries are left behind, and
so are the access log and per-entry hit counts. A clock, callback or monitor
that cannot be pickled makes ``pickle.dumps`` fail with pickle's own error,
naming the object; ``copy.copy`` and ``copy.deepcopy`` do not need to pickle.
"""


def restore_cache(cls, state):
    settings = dict(state["settings"])
    monitor = settings.pop("monitor")  # attached last: the reload is not user traffic
    cache = cls(**settings)
    for key, value, seconds_left in state["entries"]:
        cache.put(key, value, seconds_left)
    cache._finish_restore(state["counters"], monitor)
    return cache
