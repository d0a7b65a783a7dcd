"""Processes of the single-flight tests: each builds its own cache and memoized function,
so the function's name (hence its result keys) is the same in all of them."""

import os
import time

from mooncake.shared import SharedMooncake


def build(url, namespace, lease, hold):
    cache = SharedMooncake(url, namespace=namespace, near=10)
    counter = "computations:" + namespace

    @cache.memoize(ttl=600, lease=lease)
    def slow(x):
        cache.client.incr(counter)
        time.sleep(hold)
        return f"{x} computed by {os.getpid()}"

    return cache, slow


def call_once(url, namespace, lease, hold, start, conn):
    """Build, wait for the start signal, call slow(1) and send (result, seconds it took)."""
    cache, slow = build(url, namespace, lease, hold)
    conn.send("ready")
    start.wait()
    started = time.monotonic()
    result = slow(1)
    conn.send((result, time.monotonic() - started))
    cache.close()
