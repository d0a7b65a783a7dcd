"""Processes of the async tests: each runs an event loop of its own."""

import asyncio

from mooncake.shared import AsyncSharedMooncake


def stampede(url, namespace, tasks, hold, start, conn):
    """Build a memoized coroutine, wait for the start signal, then call it from
    ``tasks`` tasks at once; send the distinct results seen."""

    async def main():
        cache = AsyncSharedMooncake(url, namespace=namespace, near=10)
        counter = "computations:" + namespace

        @cache.memoize(ttl=600, lease=30)
        async def slow(x):
            await cache.client.incr(counter)
            await asyncio.sleep(hold)
            return f"{x} computed"

        async with cache:
            conn.send("ready")
            await asyncio.get_running_loop().run_in_executor(None, start.wait)
            results = await asyncio.gather(*[slow(1) for _ in range(tasks)])
        conn.send(sorted(set(results)))

    asyncio.run(main())
