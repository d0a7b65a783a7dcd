"""A memoized function importable by the test process and by a child process."""

import os

from mooncake.shared import SharedMooncake

CALLS = []


def build(url, namespace):
    cache = SharedMooncake(url, namespace=namespace)

    @cache.memoize(ttl=600)
    def shape(name, tags, options=None):
        CALLS.append((name, tags, options))
        return f"{name}:{sorted(tags)}:{options}"

    return cache, shape


def child(url, namespace):
    """In a child process: compute once, print how many calls it made and the hash seed."""
    cache, shape = build(url, namespace)
    shape("box", frozenset({"red", "big", "tall"}), options={"b": 2, "a": [1, None]})
    print(len(CALLS), os.environ.get("PYTHONHASHSEED"))
