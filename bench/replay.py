"""The hit-ratio peers: each replays a trace as get, and put on a miss.

Every peer is a ``Replayer``: ``misses(keys, capacity)`` builds an empty cache
bounded to ``capacity`` entries, feeds it the trace through the calls a user
writes, and counts the misses. Which policy each peer implements:

======================  =================================================
peer                    policy
======================  =================================================
mooncake                the engine as installed (``SimpleMooncake(maxsize=C)``)
cachetools LRU/LFU/FIFO ``LRUCache``, ``LFUCache``, ``FIFOCache`` (pure Python)
cachebox LRU/LFU        ``LRUCache``, ``LFUCache`` (Rust)
lru-dict                ``lru.LRU`` (C)
theine (W-TinyLFU)      theine_core's ``TlfuCore`` driven directly (Rust; the
                        policy under ``theine.Cache`` without its read buffers)
SIEVE (paper)           ``bench.policies.Sieve`` (simulated)
W-TinyLFU-SIEVE         ``bench.policies.WTinyLfuSieve`` (simulated; proposed)
Belady MIN              ``bench.belady`` (offline, the lower bound)
======================  =================================================
"""

import importlib.metadata
import math

from . import belady, policies


class Replayer:
    """A named way to count a policy's misses on a trace (``package``: the
    distribution whose version the report records, None for our own code)."""

    def __init__(self, name, misses, package=None, simulated=False):
        self.name = name
        self.misses = misses
        self.package = package
        self.simulated = simulated

    def version(self):
        if self.package is None:
            return None
        try:
            return importlib.metadata.version(self.package)
        except importlib.metadata.PackageNotFoundError:
            return "?"


def _mapping(make):
    """A peer used as a mapping: ``c.get(k)``, then ``c[k] = v`` on a miss."""
    def misses(keys, capacity):
        c = make(capacity)
        get = c.get
        missed = 0
        for k in keys:
            if get(k) is None:
                missed += 1
                c[k] = True
        return missed
    return misses


def _mooncake(keys, capacity):
    from mooncake import SimpleMooncake

    c = SimpleMooncake(maxsize=capacity)
    get, put, forever = c.get, c.put, math.inf   # no expiry: only the bound evicts
    missed = 0
    for k in keys:
        if get(k) is None:
            missed += 1
            put(k, True, forever)
    return missed


def _theine(keys, capacity):
    from theine_core import TlfuCore, spread

    core = TlfuCore(capacity)
    access, store = core.access, core.set
    resident = set()
    missed = 0
    for k in keys:
        h = spread(k)
        if h in resident:
            access([h])
            continue
        missed += 1
        resident.add(h)
        for gone in store([(h, 0)]):
            resident.discard(gone)
    return missed


def _cachetools(name):
    def make(capacity):
        import cachetools

        return getattr(cachetools, name)(maxsize=capacity)
    return make


def _cachebox(name):
    def make(capacity):
        import cachebox

        return getattr(cachebox, name)(maxsize=capacity)
    return make


def _lru_dict(capacity):
    from lru import LRU

    return LRU(capacity)


def _simulated(cls, **params):
    def misses(keys, capacity):
        return policies.misses(cls(capacity, **params), keys)
    return misses


MOONCAKE = Replayer("mooncake", _mooncake, "mooncake")
BELADY = Replayer("Belady MIN", belady.misses)
PROPOSED = Replayer("W-TinyLFU-SIEVE (proposed)", _simulated(policies.WTinyLfuSieve),
                    simulated=True)

#: The library peers, in the order tables list them.
PEERS = [
    Replayer("cachetools LRU", _mapping(_cachetools("LRUCache")), "cachetools"),
    Replayer("cachetools LFU", _mapping(_cachetools("LFUCache")), "cachetools"),
    Replayer("cachetools FIFO", _mapping(_cachetools("FIFOCache")), "cachetools"),
    Replayer("cachebox LRU", _mapping(_cachebox("LRUCache")), "cachebox"),
    Replayer("cachebox LFU", _mapping(_cachebox("LFUCache")), "cachebox"),
    Replayer("lru-dict", _mapping(_lru_dict), "lru-dict"),
    Replayer("theine (W-TinyLFU)", _theine, "theine-core"),
]

#: Every column of the table: mooncake, the peers, the simulated policies, the bound.
ALL = [MOONCAKE, *PEERS, Replayer("SIEVE (paper)", _simulated(policies.Sieve), simulated=True),
       PROPOSED, BELADY]
