"""Bodies of the processes the near-cache tests spawn (importable in a child)."""

import time

from mooncake.shared import SharedMooncake


def wait_trusted(cache, timeout=10.0):
    """Block until the cache's near cache trusts its listeners (tracking confirmed)."""
    deadline = time.monotonic() + timeout
    while not cache._near.trusted:
        if time.monotonic() > deadline:
            raise AssertionError("tracking was not confirmed in time")
        time.sleep(0.005)


def watching_reader(url, namespace, conn, rounds):
    """Read "k" through a near cache in a tight loop; report each new value with its arrival time."""
    cache = SharedMooncake(url, namespace=namespace, near=100)
    wait_trusted(cache)
    last = cache.get("k")  # the writer wrote 0 before it started us
    conn.send("ready")
    seen = 0
    while seen < rounds:
        value = cache.get("k")
        if value != last:
            conn.send((value, time.monotonic()))
            last = value
            seen += 1
    # With no write in flight, every read now is a near hit.
    before = cache.get_stats()
    quiet_reads = [cache.get("k") for _ in range(100)]
    conn.send((before, cache.get_stats(), quiet_reads.count(last)))
    cache.close()


def strict_reader(url, namespace, conn):
    """For each number the writer says it has written (its put returned), read "k"
    through a strict near cache at once and send back what was read."""
    cache = SharedMooncake(url, namespace=namespace, near=100, strict=True)
    wait_trusted(cache)
    conn.send("ready")
    while True:
        written = conn.recv()
        if written is None:
            break
        conn.send(cache.get("k"))
        cache.get("k")  # a near hit now, kept until the next write invalidates it
    conn.send(cache.get_stats())
    cache.close()


def paused_strict_reader(url, namespace, conn):
    """Hold "k" as a strict near hit, say "ready", and on "read" read it once more
    and send back the value. The parent stops this process in between."""
    cache = SharedMooncake(url, namespace=namespace, near=100, strict=True)
    wait_trusted(cache)
    cache.get("k")
    cache.get("k")  # a near hit: "k" is held locally now
    conn.send(("ready", cache.get_stats()["near_hits"]))
    assert conn.recv() == "read"
    value = cache.get("k")
    conn.send((value, cache.get_stats()))
    cache.close()


def read_until_near_hit(cache, key, expected, timeout=10.0):
    """Read ``key`` (asserting each read is ``expected``) until one read is a
    near hit. A put's own invalidation may reach the near cache after the first
    read filled it and drop that fill, so "the second read is local" is racy."""
    start = cache.get_stats()["near_hits"]
    deadline = time.monotonic() + timeout
    while cache.get_stats()["near_hits"] == start:
        assert time.monotonic() < deadline, "no read was served by the near cache"
        assert cache.get(key) == expected
