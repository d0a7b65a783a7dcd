"""The near cache of SharedMooncake, in one run on one throwaway Valkey (loopback).

Rows:

* near hit: ``SharedMooncake(near=...).get(k)`` of a key held locally, against
  ``SimpleMooncake.get(k)`` (the engine it wraps) and a remote ``get`` (no near
  cache): the targets are near ≤ 2× SimpleMooncake and ≥ 200× faster than remote;
* strict: the same near hit with ``strict=True`` (one non-blocking poll of the
  listener sockets before each hit): target ≤ 300 ns more than a near hit;
* invalidation delivery: process A writes a key its near cache does not hold;
  process B (spawned, idle, with the key in its near cache) notes when its
  listener applied the invalidation; delivery = that moment minus the moment
  A's ``put`` returned (both CLOCK_MONOTONIC, one machine); p50 and p99;
* stampede: 16 spawned processes call one memoized function on a cold key at
  once: how many computed it (target 1).

Timings are medians over rounds of many calls each (``time.perf_counter``).
"""

import json
import multiprocessing
import os
import statistics
import time

from . import harness

SIZES = {
    "full": dict(keys=1_000, rounds=15, loops=20, deliveries=500, stampede=16),
    "quick": dict(keys=200, rounds=3, loops=5, deliveries=50, stampede=4),
}
VALUE = {"id": 12345, "name": "mooncake", "tags": ["a", "b", "c"], "score": 0.875}


def _wait_trusted(cache, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not cache._near.trusted:
        if time.monotonic() > deadline:
            raise RuntimeError("the near cache's tracking was not confirmed")
        time.sleep(0.005)


def _per_call_ns(get, keys, rounds, loops):
    """Median and spread of ns per get(k), each round ``loops`` passes over ``keys``."""
    figures = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(loops):
            for k in keys:
                get(k)
        figures.append((time.perf_counter() - started) / (loops * len(keys)) * 1e9)
    return {"median_ns": statistics.median(figures), "min_ns": min(figures), "max_ns": max(figures)}


def _hits(url, size):
    from mooncake import SimpleMooncake
    from mooncake.shared import SharedMooncake

    keys = [f"k{i}" for i in range(size["keys"])]
    writer = SharedMooncake(url, namespace="bench:near:")
    writer.put_many({k: VALUE for k in keys}, ttl=600)
    near = SharedMooncake(url, namespace="bench:near:", near=size["keys"] * 2)
    strict = SharedMooncake(url, namespace="bench:near:", near=size["keys"] * 2, strict=True)
    remote = SharedMooncake(url, namespace="bench:near:")
    engine = SimpleMooncake(size["keys"] * 2)
    for k in keys:
        engine.put(k, VALUE, 600)
    for cache in (near, strict):
        _wait_trusted(cache)
        time.sleep(0.05)  # the put_many's invalidations have arrived
        for k in keys:
            cache.get(k)
    rounds, loops = size["rounds"], size["loops"]
    out = {}
    # Interleave the peers round by round, so a burst of load hits them alike.
    series = {"SimpleMooncake.get": [], "near hit": [], "strict near hit": []}
    remote_series = []
    for _ in range(rounds):
        series["SimpleMooncake.get"].append(_per_call_ns(engine.get, keys, 1, loops)["median_ns"])
        series["near hit"].append(_per_call_ns(near.get, keys, 1, loops)["median_ns"])
        series["strict near hit"].append(_per_call_ns(strict.get, keys, 1, loops)["median_ns"])
        remote_series.append(_per_call_ns(remote.get, keys[:100], 1, 1)["median_ns"])
    series["remote get"] = remote_series
    for name, figures in series.items():
        out[name] = {"median_ns": statistics.median(figures), "min_ns": min(figures),
                     "max_ns": max(figures)}
    out["_near_stats"] = {k: v for k, v in near.get_stats().items() if k != "total_objects"}
    writer.clear()
    for cache in (near, strict, remote, writer):
        cache.close()
    return out


def _delivery_listener(url, namespace, conn):
    """Process B: hold "k" in the near cache; report when each invalidation of it is applied."""
    from mooncake.shared import SharedMooncake

    cache = SharedMooncake(url, namespace=namespace, near=10)
    _wait_trusted(cache)
    name = cache._namespace.key("k")

    def applied(names):
        if name in names:
            conn.send(time.monotonic())

    cache._near.on_invalidate.append(applied)
    conn.send("ready")
    while conn.recv() is not None:  # A asks: fill "k" again before its next write
        cache._near.drain()
        time.sleep(0.002)  # let the writer's own push for the last round pass
        cache.get("k")
        cache.get("k")
        conn.send("filled")
    cache.close()


def _delivery(url, size):
    from mooncake.shared import SharedMooncake

    namespace = "bench:delivery:"
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    writer = SharedMooncake(url, namespace=namespace)
    writer.put("k", 0)
    child = context.Process(target=_delivery_listener, args=(url, namespace, theirs))
    child.start()
    delays = []
    try:
        assert ours.poll(60) and ours.recv() == "ready"
        for i in range(size["deliveries"]):
            ours.send(i)
            assert ours.poll(10) and ours.recv() == "filled"
            writer.put("k", i)
            returned = time.monotonic()
            assert ours.poll(10), "an invalidation never arrived"
            delays.append((ours.recv() - returned) * 1e6)
        ours.send(None)
        child.join(10)
    finally:
        if child.is_alive():
            child.kill()
        writer.clear()
        writer.close()
    delays.sort()
    return {"p50_us": delays[len(delays) // 2], "p99_us": delays[int(len(delays) * 0.99) - 1],
            "max_us": delays[-1], "min_us": delays[0], "count": len(delays)}


def _stampede_child(url, namespace, start, conn):
    from mooncake.shared import SharedMooncake

    cache = SharedMooncake(url, namespace=namespace, near=10)
    counter = "bench:stampede-computations"

    @cache.memoize(ttl=60, lease=30)
    def expensive(x):
        cache.client.incr(counter)
        time.sleep(0.2)
        return x * 2

    conn.send("ready")
    start.wait()
    conn.send(expensive(21))
    cache.close()


def _stampede(url, size):
    import redis

    namespace = "bench:stampede:"
    raw = redis.Redis.from_url(url)
    raw.delete("bench:stampede-computations")
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    children = []
    for _ in range(size["stampede"]):
        ours, theirs = context.Pipe()
        child = context.Process(target=_stampede_child, args=(url, namespace, start, theirs))
        child.start()
        children.append((child, ours))
    try:
        for _, ours in children:
            assert ours.poll(120) and ours.recv() == "ready"
        start.set()
        results = [ours.recv() for _, ours in children if ours.poll(60)]
    finally:
        for child, _ in children:
            child.join(10)
            if child.is_alive():
                child.kill()
    computations = int(raw.get("bench:stampede-computations") or 0)
    for key in raw.scan_iter(match=namespace + "*"):
        raw.delete(key)
    raw.delete("bench:stampede-computations")
    raw.close()
    return {"processes": size["stampede"], "computations": computations,
            "answered": len(results), "all_equal": len(set(results)) == 1}


def run(mode):
    from mooncake.shared.local_server import LocalValkey

    size = SIZES[mode]
    with LocalValkey() as server:
        harness.log("near: hit paths")
        hits = _hits(server.url, size)
        harness.log("near: invalidation delivery between two processes")
        delivery = _delivery(server.url, size)
        harness.log(f"near: stampede of {size['stampede']} processes")
        stampede = _stampede(server.url, size)
    return {"mode": mode, "hits": hits, "delivery": delivery, "stampede": stampede,
            "load_average": os.getloadavg()}


def markdown(near):
    hits = near["hits"]
    simple, nearhit = hits["SimpleMooncake.get"]["median_ns"], hits["near hit"]["median_ns"]
    strict, remote = hits["strict near hit"]["median_ns"], hits["remote get"]["median_ns"]
    lines = ["| ns per call (median, min-max over rounds) | figure |", "|---|---|"]
    for name in ("SimpleMooncake.get", "near hit", "strict near hit", "remote get"):
        row = hits[name]
        lines.append(f"| {name} | {row['median_ns']:,.0f} ({row['min_ns']:,.0f}-{row['max_ns']:,.0f}) |")
    d, s = near["delivery"], near["stampede"]
    lines += [
        "",
        f"- near hit / SimpleMooncake.get: **{nearhit / simple:.2f}×** (target ≤ 2)",
        f"- remote get / near hit: **{remote / nearhit:,.0f}×** (target ≥ 200)",
        f"- strict adds **{strict - nearhit:,.0f} ns** to a near hit (target ≤ 300)",
        f"- invalidation delivery over {d['count']} writes: p50 **{d['p50_us']:.0f} µs**, "
        f"p99 **{d['p99_us']:.0f} µs**, max {d['max_us']:.0f} µs (target p99 ≤ 1000)",
        f"- stampede: {s['processes']} processes, **{s['computations']}** computation(s), "
        f"{s['answered']} answered, all equal: {s['all_equal']} (target 1)",
        f"- load average during the run: {', '.join(f'{x:.1f}' for x in near['load_average'])}",
    ]
    return "\n".join(lines) + "\n"


def write(data, out_dir):
    near = data["near"]
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "near.json"), "w") as f:
        json.dump(near, f, indent=1)
    with open(os.path.join(out_dir, "near.md"), "w") as f:
        f.write(f"# Near cache ({data.get('command', 'python -m bench --only near')})\n\n")
        f.write(markdown(near))
