"""examples/fastapi_app.py, driven in-process through httpx.ASGITransport."""

import asyncio
import importlib.util
import pathlib

import httpx

EXAMPLE = pathlib.Path(__file__).parents[2] / "examples" / "fastapi_app.py"


def _load_app(url, monkeypatch):
    monkeypatch.setenv("MOONCAKE_URL", url)
    spec = importlib.util.spec_from_file_location("fastapi_app_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_fastapi_example_reads_through_the_memoized_coroutine(server, monkeypatch):
    example = _load_app(server.url, monkeypatch)

    async def main():
        async with example.app.router.lifespan_context(example.app):
            await example.cache.clear()
            transport = httpx.ASGITransport(app=example.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
                answers = await asyncio.gather(*[client.get("/users/7") for _ in range(20)])
                assert {r.status_code for r in answers} == {200}
                assert {r.json()["name"] for r in answers} == {"user 7"}
                assert example.lookups["count"] == 1  # 20 concurrent requests, one lookup
                assert (await client.get("/users/-1")).status_code == 404
                visits = [(await client.post("/visits/home")).json()["visits"] for _ in range(3)]
                assert visits == [1, 2, 3]
                stats = (await client.get("/stats")).json()
                assert stats["lookups"] == 1 and stats["cache"]["errors"] == 0
            await example.cache.clear()

    asyncio.run(main())
