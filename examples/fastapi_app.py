"""A FastAPI service that reads through a memoized coroutine and a shared cache.

Every worker process (``uvicorn --workers 4``) builds the same
AsyncSharedMooncake: results computed by one worker are read by the others,
a cold key is computed once across all of them (the memoize lease), and
repeated reads are near hits that never leave the process.

    pip install '.[examples]'
    MOONCAKE_URL=redis://127.0.0.1:6379/0 uvicorn examples.fastapi_app:app --workers 4

tests/shared/test_fastapi_example.py drives this app through httpx.ASGITransport.
"""

import asyncio
import os
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException

from mooncake.shared import AsyncSharedMooncake

URL = os.environ.get("MOONCAKE_URL", "redis://127.0.0.1:6379/0")

# fail_open: if the cache server is down, the service still answers (slower),
# computing every result itself instead of failing the request.
cache = AsyncSharedMooncake(URL, namespace="fastapi-demo:", near=10_000, fail_open=True)

#: How many times the slow lookup really ran in this process (for the demo's /stats).
lookups = {"count": 0}


@cache.memoize(ttl=60)
async def load_profile(user_id: int) -> dict:
    """Stands in for a slow query: runs once per user per minute across all workers."""
    lookups["count"] += 1
    await asyncio.sleep(0.05)
    return {"id": user_id, "name": f"user {user_id}"}


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with cache:  # connects at start-up, closes at shutdown
        yield


app = FastAPI(lifespan=lifespan)


@app.get("/users/{user_id}")
async def read_user(user_id: int) -> dict:
    if user_id < 0:
        raise HTTPException(status_code=404, detail="no such user")
    return await load_profile(user_id)


@app.post("/visits/{page}")
async def count_visit(page: str) -> dict:
    """An atomic counter shared by every worker."""
    key = ("visits", page)
    if await cache.add(key, 0, ttl=86_400):
        pass  # first visit today: the counter starts at 0
    return {"page": page, "visits": await cache.incr(key)}


@app.get("/stats")
async def stats() -> dict:
    return {"lookups": lookups["count"], "cache": await cache.get_stats()}
