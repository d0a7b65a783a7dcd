"""``cleanup_expired`` with k expired entries among n: the cost of one bulk expiry.

Each round builds a fresh cache of ``n`` entries in which ``k`` (spread at
random through the insertion order) have a short TTL and the rest an hour,
lets the short ones expire, and times one call that removes them. mooncake
and cachetools read an injected clock, moved by hand; cachebox cannot take a
clock, so its short TTL is real (50 ms, the short keys put last because its
insert drops expired entries) and we sleep past it. Keys are held by
the harness, so the call frees no key objects. Only peers with an expiry sweep
take part: ``dict`` and ``lru-dict`` have none.
"""

import gc
import random
import time

from . import harness, keyspace


class FakeClock:
    """A clock the benchmark moves by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def _mooncake(cls):
    def build(keys, short):
        clock = FakeClock()
        c = cls(clock=clock)
        put = c.put
        for key in keys:
            put(key, 1, ttl=1.0 if key in short else 3600.0)
        clock.now += 2.0
        return c, c.cleanup_expired, None  # len() expires first; the call returns the count

    return build


def _cachetools(keys, short):
    # One TTL per cache: the short-lived keys are the ones put first.
    from cachetools import Cache, TTLCache

    clock = FakeClock()
    c = TTLCache(maxsize=len(keys) + 1, ttl=10.0, timer=clock)
    for key in keys:
        if key in short:
            c[key] = 1
    clock.now += 5.0
    for key in keys:
        if key not in short:
            c[key] = 1
    clock.now += 6.0
    return c, c.expire, lambda: Cache.__len__(c)  # its own len() expires first


def _cachebox(keys, short):
    from cachebox import VTTLCache

    # Its insert first drops expired entries, so the short-lived keys go in last.
    c = VTTLCache(0)
    insert = c.insert
    for key in keys:
        if key not in short:
            insert(key, 1, ttl=3600.0)
    for key in sorted(short):
        insert(key, 1, ttl=0.05)
    time.sleep(0.06)
    return c, c.expire, c.__len__


def builders():
    """``{peer name: build(keys, short) -> (cache, cleanup, stored count or None)}`` for the peers with a sweep."""
    import mooncake.cache._engine
    import mooncake.cache.twin

    return {
        "cachetools.TTLCache": _cachetools,
        "cachebox.VTTLCache": _cachebox,
        "mooncake pure": _mooncake(mooncake.cache.twin.SimpleMooncake),
        "mooncake": _mooncake(mooncake.cache._engine.SimpleMooncake),
    }


def cleanup(n, k, rounds, peer_names=None, progress=None):
    """Seconds per cleanup call, ``{peer name: [one per round]}``; checks the count removed."""
    keys = keyspace.str_keys(n)
    short = frozenset(random.Random(keyspace.SEED).sample(keys, k))
    table = builders()
    names = [name for name in table if peer_names is None or name in peer_names]
    samples = {name: [] for name in names}
    for r in range(rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            c, sweep, size = table[name](keys, short)
            before = size() if size else None
            gc.collect()
            gc.disable()
            try:
                t0 = harness.TIMER()
                result = sweep()
                elapsed = harness.TIMER() - t0
            finally:
                gc.enable()
            removed = before - size() if size else result
            if removed != k:
                raise RuntimeError(f"{name}: cleanup removed {removed} entries, expected {k}")
            samples[name].append(elapsed)
            del c, sweep, size, result
        if progress:
            progress(r + 1, rounds)
    return samples
