"""What only the async shell has: connecting, loops, near hits without a yield,
async memoize with the cross-process lease, and cancellation at any await.

The contract itself (every operation's answers) runs through both shells in
test_api, test_add_incr, test_keys, test_codec, test_failures and test_model."""

import asyncio
import multiprocessing
import random
import socket

import pytest
import redis.asyncio

from mooncake import SimpleMooncake
from mooncake.shared import AsyncSharedMooncake, SharedCacheError, SharedMooncake

from .async_procs import stampede


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_construction_does_no_io_and_needs_no_loop():
    port = _free_port()  # nothing listens there
    cache = AsyncSharedMooncake(f"redis://127.0.0.1:{port}/0", near=10)
    assert repr(cache).startswith("<AsyncSharedMooncake")

    async def main():
        with pytest.raises(SharedCacheError):
            await cache.connect()
        with pytest.raises(SharedCacheError):
            await cache.get("k")
        await cache.aclose()

    asyncio.run(main())


def test_fail_open_starts_without_a_server_and_answers_as_an_empty_cache():
    cache = AsyncSharedMooncake(f"redis://127.0.0.1:{_free_port()}/0", fail_open=True)

    async def main():
        await cache.connect()  # no error: it connects on a later call
        assert await cache.put("k", 1) is False
        assert await cache.get("k", "default") == "default"
        assert await cache.get_many(["k"]) == {}
        assert (await cache.get_stats())["errors"] == 4  # connect is not an operation

    asyncio.run(main())


@pytest.mark.parametrize("fail_open", [False, True])
def test_wrong_credentials_raise_on_connect_and_on_first_use_even_with_fail_open(protected, fail_open):
    url = protected.url.replace("right-password", "wrong-password")
    assert url != protected.url

    async def main():
        cache = AsyncSharedMooncake(url, fail_open=fail_open)
        with pytest.raises(SharedCacheError):
            await cache.connect()
        with pytest.raises(SharedCacheError):
            await cache.get("k")

    asyncio.run(main())


def test_async_with_connects_and_aclose_leaves_it_usable(standalone, namespace):
    async def main():
        cache = AsyncSharedMooncake(standalone.url, namespace=namespace)
        async with cache as entered:
            assert entered is cache
            assert cache.client is not None  # connected on enter
            await cache.put("k", 1)
        assert cache.client is None  # closed on exit
        assert await cache.get("k") == 1  # connects again
        await cache.clear()
        await cache.aclose()

    asyncio.run(main())


@pytest.mark.parametrize("options", [{}, {"serializer": "json"},
                                     {"signing_key": b"0123456789abcdef0123"}])
def test_values_cross_between_the_shells_both_ways(server, namespace, options):
    sync = SharedMooncake(server.url, namespace=namespace, **options)
    sync.put("from sync", {"n": [1, 2]})

    async def main():
        async with AsyncSharedMooncake(server.url, namespace=namespace, **options) as cache:
            assert await cache.get("from sync") == {"n": [1, 2]}
            await cache.put("from async", ["x", 3])
            await cache.put_many({("t", 1): "tuple key", 7: "int key"})

    asyncio.run(main())
    assert sync.get("from async") == ["x", 3]
    assert sync.get_many([("t", 1), 7]) == {("t", 1): "tuple key", 7: "int key"}
    sync.clear()
    sync.close()


def test_a_different_signing_key_rejects_the_other_shells_values(standalone, namespace):
    sync = SharedMooncake(standalone.url, namespace=namespace, signing_key=b"k" * 16)
    sync.put("k", 1)

    async def main():
        async with AsyncSharedMooncake(standalone.url, namespace=namespace,
                                       signing_key=b"x" * 16) as cache:
            assert await cache.get("k", "refused") == "refused"
            assert (await cache.get_stats())["rejected"] == 1

    asyncio.run(main())
    sync.clear()
    sync.close()


def test_a_url_cache_serves_every_loop_with_a_client_of_its_own(standalone, namespace):
    cache = AsyncSharedMooncake(standalone.url, namespace=namespace)

    async def step(value):
        await cache.put("k", value)
        return await cache.get("k"), cache.client

    first, client_1 = asyncio.run(step(1))
    second, client_2 = asyncio.run(step(2))  # a second loop
    assert (first, second) == (1, 2)
    assert client_1 is not client_2
    asyncio.run(cache.clear())


def test_a_given_client_refuses_a_second_loop(standalone, namespace):
    client = redis.asyncio.Redis.from_url(standalone.url)
    cache = AsyncSharedMooncake(client=client, namespace=namespace)
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(cache.put("k", 1))
        other = asyncio.new_event_loop()
        try:
            with pytest.raises(RuntimeError, match="another event loop"):
                other.run_until_complete(cache.get("k"))
        finally:
            other.close()
        assert loop.run_until_complete(cache.get("k")) == 1  # still fine on its own loop
        loop.run_until_complete(cache.clear())
        loop.run_until_complete(client.aclose())
    finally:
        loop.close()


def test_a_sync_given_client_is_refused():
    client = redis.Redis()  # makes no connection
    with pytest.raises(TypeError, match="redis.asyncio"):
        AsyncSharedMooncake(client=client)


def test_a_client_that_decodes_responses_is_refused():
    with pytest.raises(ValueError, match="decode"):
        AsyncSharedMooncake(client=redis.asyncio.Redis(decode_responses=True))


async def _until_near_hit(cache, key):
    for _ in range(2000):
        before = (await cache.get_stats())["near_hits"]
        value = await cache.get(key)
        if (await cache.get_stats())["near_hits"] > before:
            return value
        await asyncio.sleep(0.005)
    raise AssertionError("no near hit")


def test_a_near_hit_completes_without_yielding_to_the_loop(server, namespace):
    async def main():
        async with AsyncSharedMooncake(server.url, namespace=namespace, near=100) as cache:
            await cache.put("k", "v")
            assert await _until_near_hit(cache, "k") == "v"
            coroutine = cache.get("k")
            with pytest.raises(StopIteration) as done:
                coroutine.send(None)  # one step, never suspended
            assert done.value.value == "v"
            await cache.clear()

    asyncio.run(main())


def test_as_async_shares_the_near_cache_and_stats_with_the_sync_cache(server, namespace):
    sync = SharedMooncake(server.url, namespace=namespace, near=100)

    async def main():
        cache = sync.as_async()
        await cache.put("k", "v1")
        assert sync.get("k") == "v1"
        sync.put("k", "v2")
        assert await cache.get("k") == "v2"  # dropped from the one near cache at once
        await cache.aclose()  # the near cache is the sync cache's: still running
        return await cache.get_stats()

    stats = asyncio.run(main())
    assert stats["puts"] == sync.get_stats()["puts"] == 2
    sync.clear()
    sync.close()


def test_as_async_of_a_cache_made_from_a_client_is_refused(standalone):
    client = standalone.client()
    sync = SharedMooncake(client=client)
    with pytest.raises(TypeError, match="URL"):
        sync.as_async()
    client.close()


def test_memoize_refuses_a_plain_function(standalone):
    cache = AsyncSharedMooncake(standalone.url)
    with pytest.raises(TypeError, match="coroutine"):
        @cache.memoize()
        def plain(x):
            return x


def test_memoize_runs_once_for_concurrent_tasks_and_does_not_cache_exceptions(server, namespace):
    async def main():
        async with AsyncSharedMooncake(server.url, namespace=namespace) as cache:
            calls = []

            @cache.memoize(ttl=60)
            async def work(x):
                calls.append(x)
                await asyncio.sleep(0.05)
                if x == "bad":
                    raise ValueError("no")
                return x * 2

            assert await asyncio.gather(*[work(3) for _ in range(20)]) == [6] * 20
            assert calls == [3]
            for _ in range(2):
                with pytest.raises(ValueError):
                    await work("bad")
            assert calls == [3, "bad", "bad"]
            info = await work.cache_info()
            assert (info.misses, info.size) == (3, 1)
            await work.cache_clear()
            assert (await work.cache_info()).size == 0
            await cache.clear()

    asyncio.run(main())


def test_a_cancelled_leader_lets_a_waiter_compute(server, namespace):
    async def main():
        async with AsyncSharedMooncake(server.url, namespace=namespace) as cache:
            started = asyncio.Event()
            calls = []

            @cache.memoize(ttl=60)
            async def work(x):
                calls.append(x)
                started.set()
                await asyncio.sleep(0 if len(calls) > 1 else 30)
                return x

            leader = asyncio.ensure_future(work(1))
            await started.wait()
            waiter = asyncio.ensure_future(work(1))
            await asyncio.sleep(0.01)
            leader.cancel()
            assert await asyncio.wait_for(waiter, 10) == 1
            assert calls == [1, 1]
            assert cache.client is not None
            locks = [k async for k in cache.client.scan_iter(match=f"{namespace}~:lock:*")]
            assert locks == []  # released on the cancel, not left to its lease
            await cache.clear()

    asyncio.run(main())


def test_a_stampede_of_tasks_in_many_processes_computes_once(server, namespace, raw):
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    pipes, children = [], []
    for _ in range(4):
        parent, child = context.Pipe()
        proc = context.Process(target=stampede, args=(server.url, namespace, 50, 0.3, start, child))
        proc.start()
        pipes.append(parent)
        children.append(proc)
    for pipe in pipes:
        assert pipe.poll(60) and pipe.recv() == "ready"
    start.set()
    results = [pipe.recv() if pipe.poll(60) else None for pipe in pipes]
    for proc in children:
        proc.join(30)
        assert proc.exitcode == 0
    assert results == [["1 computed"]] * 4
    assert int(raw.get("computations:" + namespace)) == 1
    raw.delete("computations:" + namespace)
    SharedMooncake(server.url, namespace=namespace).clear()


# -- cancellation at any await ----------------------------------------------

KEYS = [f"key{i}" for i in range(40)]


async def _one_operation(cache, rng):
    """A random operation; every answer must belong to the key asked."""
    key = rng.choice(KEYS)
    kind = rng.randrange(8)
    if kind == 0:
        assert await cache.put(key, (key, rng.random()), ttl=600) is True
    elif kind == 1:
        value = await cache.get(key)
        assert value is None or value[0] == key, (key, value)
    elif kind == 2:
        keys = rng.sample(KEYS, 5)
        for k, value in (await cache.get_many(keys)).items():
            assert value[0] == k, (k, value)
    elif kind == 3:
        assert await cache.contains(key) in (True, False)
    elif kind == 4:
        left = await cache.ttl(key)
        assert left is None or 0 < left <= 600, (key, left)
    elif kind == 5:
        value = await cache.pop(key, None)
        assert value is None or value[0] == key, (key, value)
    elif kind == 6:
        assert await cache.put_many({k: (k, 0.5) for k in rng.sample(KEYS, 3)}, ttl=600) == 3
    else:
        assert await cache.delete(key) in (True, False)


async def _cancel_storm(cache, rng, rounds):
    cancelled = 0
    for _ in range(rounds):
        how = rng.randrange(3)
        if how == 0:  # a timeout somewhere inside the operation
            try:
                await asyncio.wait_for(_one_operation(cache, rng), rng.choice([0, 1e-5, 1e-4, 5e-4]))
            except asyncio.TimeoutError:
                cancelled += 1
        elif how == 1:  # cancelled after a random number of loop turns
            task = asyncio.ensure_future(_one_operation(cache, rng))
            for _ in range(rng.randrange(6)):
                await asyncio.sleep(0)
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                cancelled += 1
        else:
            await _one_operation(cache, rng)
    return cancelled


@pytest.mark.parametrize("near", [None, 50], ids=["remote", "near"])
def test_cancelling_thousands_of_operations_at_random_points_never_mixes_replies(
        server, namespace, near):
    rng = random.Random(1234)

    async def main():
        async with AsyncSharedMooncake(server.url, namespace=namespace, near=near) as cache:
            # The ttls stay within 600 s, so a stray reply of the wrong kind fails an assertion.
            await cache.put_many({k: (k, 0.0) for k in KEYS}, ttl=600)
            results = await asyncio.gather(*[_cancel_storm(cache, random.Random(rng.random()), 150)
                                             for _ in range(20)])
            assert sum(results) > 300  # most rounds really were cancelled somewhere
            # Afterwards every connection is in step: plain calls get their own answers.
            for k in KEYS:
                await cache.put(k, (k, "final"), ttl=600)
            for _ in range(3):
                assert await cache.get_many(KEYS) == {k: (k, "final") for k in KEYS}
                for k in KEYS:
                    assert await cache.get(k) == (k, "final")
                    assert 0 < await cache.ttl(k) <= 600
            assert (await cache.get_stats())["errors"] == 0
            await cache.clear()

    asyncio.run(main())
    # And the server holds what the cache says.
    sync = SharedMooncake(server.url, namespace=namespace)
    assert len(sync) == 0
    sync.close()


def test_a_near_cache_engine_cannot_serve_two_caches(standalone):
    engine = SimpleMooncake(10)
    first = AsyncSharedMooncake(standalone.url, namespace="a:", near=engine)
    with pytest.raises(ValueError, match="already the near cache"):
        AsyncSharedMooncake(standalone.url, namespace="b:", near=engine)
    asyncio.run(first.aclose())
