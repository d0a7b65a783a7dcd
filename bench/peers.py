"""The peers: how each one is built and the exact expressions users write to call it.

Each peer is measured through its own idiomatic call, compiled into the timed
loop as source text (see ``harness``), so no adapter function adds a frame:

=====================  ===============  ===============================  ==============
peer                   get              put                              delete
=====================  ===============  ===============================  ==============
dict                   ``c.get(k)``     ``c[k] = v``                     ``del c[k]``
cachetools.TTLCache    ``c.get(k)``     ``c[k] = v`` (one TTL per cache) ``del c[k]``
cachebox.VTTLCache     ``c.get(k)``     ``c.insert(k, v, ttl=3600)``     ``del c[k]``
lru-dict LRU           ``c.get(k)``     ``c[k] = v`` (no TTL)            ``del c[k]``
mooncake (pure twin)   ``c.get(k)``     ``c.put(k, v, ttl=3600)``        ``c.delete(k)``
mooncake (engine)      ``c.get(k)``     ``c.put(k, v, ttl=3600)``        ``c.delete(k)``
=====================  ===============  ===============================  ==============
"""

import importlib.metadata
import sys

#: lru-dict and cachetools need a bound; this one is never reached.
_UNBOUNDED = 1 << 40


class Peer:
    """A cache implementation under test.

    ``make(maxsize)`` builds an empty instance (``maxsize=None``: unbounded);
    ``get``, ``put`` and ``delete`` are statements over ``c``, ``k`` and ``v``.
    ``needs_lock``: not safe to share between threads without a lock (its
    documentation says so), so the threaded workload wraps each call in one.
    """

    def __init__(self, name, make, get, put, delete, *, ttl=True, bounded=True,
                 needs_lock=False, package=None):
        self.name = name
        self.make = make
        self.get = get
        self.put = put
        self.delete = delete
        self.ttl = ttl
        self.bounded = bounded
        self.needs_lock = needs_lock
        self.package = package

    def version(self):
        if self.package is None:
            return sys.version.split()[0]
        try:
            return importlib.metadata.version(self.package)
        except importlib.metadata.PackageNotFoundError:
            if self.package == "mooncake":
                import mooncake

                return mooncake.__version__
            return "?"


def _dict(maxsize):
    return {}


def _cachetools(maxsize):
    from cachetools import TTLCache

    return TTLCache(maxsize=maxsize or _UNBOUNDED, ttl=3600)


def _cachebox(maxsize):
    from cachebox import VTTLCache

    return VTTLCache(maxsize or 0)  # 0: no bound


def _lru(maxsize):
    from lru import LRU

    return LRU(maxsize or _UNBOUNDED)


def _pure(maxsize):
    from mooncake.cache.twin import SimpleMooncake

    return SimpleMooncake(maxsize)


def _engine(maxsize):
    from mooncake.cache._engine import SimpleMooncake

    return SimpleMooncake(maxsize)


DICT = Peer("dict", _dict, "c.get(k)", "c[k] = v", "del c[k]", ttl=False, bounded=False)
CACHETOOLS = Peer("cachetools.TTLCache", _cachetools, "c.get(k)", "c[k] = v", "del c[k]",
                  needs_lock=True, package="cachetools")
CACHEBOX = Peer("cachebox.VTTLCache", _cachebox, "c.get(k)", "c.insert(k, v, ttl=3600)",
                "del c[k]", package="cachebox")
LRU_DICT = Peer("lru-dict", _lru, "c.get(k)", "c[k] = v", "del c[k]", ttl=False,
                package="lru-dict")
PURE = Peer("mooncake pure", _pure, "c.get(k)", "c.put(k, v, ttl=3600)", "c.delete(k)",
            package="mooncake")
ENGINE = Peer("mooncake", _engine, "c.get(k)", "c.put(k, v, ttl=3600)", "c.delete(k)",
              package="mooncake")

#: Every peer, in the order tables list them.
ALL = [DICT, CACHETOOLS, CACHEBOX, LRU_DICT, PURE, ENGINE]
