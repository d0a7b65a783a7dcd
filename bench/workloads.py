"""The single-threaded workloads: the four micro-operations and the Zipf read-mostly mix.

Micro-operations (one op = one call, or one put plus one delete), on ``n``
keys held by an unbounded cache that was filled with them beforehand:

* ``get hit``: ``get`` of every held key;
* ``get miss``: ``get`` of ``n`` other keys, never stored;
* ``put overwrite``: ``put`` of every held key again;
* ``put new + delete``: ``put`` of a key not held, then ``delete`` of it;
* ``bounded get hit``: ``get`` of every held key, on a cache bounded to exactly
  ``n`` (each peer's default policy: W-TinyLFU-SIEVE for mooncake, so a hit
  also pays for its frequency sketch). ``dict`` has no bound and is the same
  plain ``get`` as above: the baseline the bounded caches are held to.

The mix replays one seeded sequence of Zipf(0.99) keys, 90% ``get`` and 10%
``put``, on a cache bounded to a tenth of the key space; the hit ratio is
counted over a second pass of the sequence on a fresh cache (the first pass
warms it). ``dict`` has no bound: its hit ratio is the ceiling.
"""

from . import harness, keyspace

MICRO_OPS = ("get hit", "get miss", "put overwrite", "put new + delete", "bounded get hit")


def _filled(peer, keys, v, maxsize=None):
    c = peer.make(maxsize)
    fill = harness.compile_loop(peer.put)
    fill(c, keys, v, 1)
    return c


def _body(peer, op):
    if op in ("get hit", "get miss", "bounded get hit"):
        return peer.get
    if op == "put overwrite":
        return peer.put
    return peer.put + "\n" + peer.delete


def micro(peers, op, held, absent, rounds, target, progress=None):
    """Time ``op`` for every peer; returns ``{peer name: harness.Result}``."""
    v = keyspace.VALUE
    keys = absent if op in ("get miss", "put new + delete") else held
    cases = []
    maxsize = len(held) if op == "bounded get hit" else None
    for peer in peers:
        c = _filled(peer, held, v, maxsize)
        loop = harness.compile_loop(_body(peer, op))
        bind = (lambda loop, c: lambda items: lambda loops: loop(c, items, v, loops))(loop, c)
        cases.append(harness.Case(peer.name, bind, keys))
    return harness.measure(cases, rounds, target, progress)


def mix_body(peer):
    """The mix loop body for ``peer``: over ``(is_put, k)``."""
    put = "\n".join("    " + line for line in peer.put.splitlines())
    get = "\n".join("    " + line for line in peer.get.splitlines())
    return f"if is_put:\n{put}\nelse:\n{get}"


def hit_ratio(peer, sequence, maxsize):
    """Hits / gets over the second pass of ``sequence`` on a fresh bounded ``peer``."""
    c = peer.make(maxsize)
    v = keyspace.VALUE
    harness.compile_loop(mix_body(peer), target="is_put, k")(c, sequence, v, 1)
    source = (
        "def _count(c, seq, v):\n"
        "    gets = hits = 0\n"
        "    for is_put, k in seq:\n"
        "        if is_put:\n"
        + "".join(f"            {line}\n" for line in peer.put.splitlines())
        + "        else:\n"
        "            gets += 1\n"
        f"            if {peer.get} is not None:\n"
        "                hits += 1\n"
        "    return hits / gets if gets else 0.0\n"
    )
    namespace = {}
    exec(source, namespace)
    return namespace["_count"](c, sequence, v)


def mix(peers, sequence, maxsize, rounds, target, progress=None):
    """Time the mix for every peer; returns ``({name: Result}, {name: hit ratio})``."""
    v = keyspace.VALUE
    cases = []
    for peer in peers:
        c = peer.make(maxsize)
        loop = harness.compile_loop(mix_body(peer), target="is_put, k")
        bind = (lambda loop, c: lambda items: lambda loops: loop(c, items, v, loops))(loop, c)
        cases.append(harness.Case(peer.name, bind, sequence))
    results = harness.measure(cases, rounds, target, progress)
    ratios = {peer.name: hit_ratio(peer, sequence, maxsize) for peer in peers}
    return results, ratios
