"""What the mooncake Django backends promise beyond Django's own suite: one cache
per process shared by the per-thread backend objects, close() that keeps it,
atomic add and incr, value isolation, the MAX_ENTRIES bound, OPTIONS checks,
Django's timeout rules as mooncake ttls, and a lost server."""

import asyncio
import math
import multiprocessing
import threading
import uuid

import pytest
from django.core.cache import CacheKeyWarning

from mooncake.django import MooncakeCache, SharedMooncakeCache
from mooncake.shared import SharedCacheError
from mooncake.shared.local_server import LocalValkey

from . import django_setup  # noqa: F401 (configures Django)
from .threads import run_in_threads


def local(location=None, **options):
    return MooncakeCache(location or f"t-{uuid.uuid4().hex}", {"OPTIONS": options})


@pytest.fixture
def make_shared(server, namespace):
    made = []

    def make(params=None, **options):
        options.setdefault("namespace", namespace)
        backend = SharedMooncakeCache(server.url, {**(params or {}), "OPTIONS": options})
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.clear()


# -- MooncakeCache --------------------------------------------------------

def test_backends_of_one_location_share_one_engine_across_threads():
    location = f"t-{uuid.uuid4().hex}"
    main = local(location)
    other = []
    thread = threading.Thread(target=lambda: other.append(local(location)))
    thread.start()
    thread.join()
    main.set("k", "v")
    assert other[0].engine is main.engine
    assert other[0].get("k") == "v"
    assert local().get("k") is None  # another LOCATION is another cache


def test_close_keeps_the_entries():
    cache = local()
    cache.set("k", "v")
    cache.close()
    assert cache.get("k") == "v"


def test_values_are_isolated_from_the_callers_objects():
    cache = local()
    value = {"items": [1]}
    cache.set("k", value)
    value["items"].append(2)
    first = cache.get("k")
    assert first == {"items": [1]}
    first["items"].append(3)
    assert cache.get("k") == {"items": [1]}
    assert cache.get("k") is not cache.get("k")


def test_isolate_false_stores_the_object_itself():
    cache = local(isolate=False)
    value = {"items": [1]}
    cache.set("k", value)
    assert cache.get("k") is value


def test_max_entries_bounds_the_entries():
    cache = local(MAX_ENTRIES=30)
    for i in range(100):
        cache.set(f"k{i}", i)
    assert len(cache.engine) == 30
    assert sum(cache.has_key(f"k{i}") for i in range(100)) == 30


def test_unknown_options_are_refused():
    with pytest.raises(ValueError, match="maxsize"):
        local(maxsize=10)


def test_max_entries_must_be_positive():
    with pytest.raises(ValueError, match="MAX_ENTRIES"):
        local(MAX_ENTRIES=0)


def test_timeouts_follow_djangos_rules():
    cache = MooncakeCache(f"t-{uuid.uuid4().hex}", {"TIMEOUT": 60})
    cache.set("default", 1)
    cache.set("forever", 1, timeout=None)
    cache.set("now", 1, timeout=0)
    cache.set("past", 1, timeout=-5)
    engine = cache.engine
    assert 59 < engine.ttl(cache.make_key("default")) <= 60
    assert engine.ttl(cache.make_key("forever")) == math.inf
    assert not cache.has_key("now") and not cache.has_key("past")


def test_incr_keeps_the_remaining_timeout():
    cache = local()
    cache.set("n", 1, timeout=100)
    assert cache.incr("n", 5) == 6
    assert 99 < cache.engine.ttl(cache.make_key("n")) <= 100


def test_incr_of_a_non_number_changes_nothing():
    cache = local()
    cache.set("s", "text")
    with pytest.raises(TypeError):
        cache.incr("s")
    assert cache.get("s") == "text"


def test_incr_is_atomic_across_threads():
    cache = local()
    cache.set("n", 0, timeout=None)

    def work(_):
        for _ in range(500):
            cache.incr("n")

    run_in_threads(work, 8)
    assert cache.get("n") == 4000


def test_add_is_atomic_across_threads():
    cache = local()
    barrier = threading.Barrier(8)
    won = []

    def work(i):
        barrier.wait()
        won.append(cache.add("k", i))

    run_in_threads(work, 8)
    assert won.count(True) == 1


async def _exercise_async_methods(cache):
    """Every ``a*`` method once, each answer checked; leaves "y" = 2 and "z" at version 2."""
    assert await cache.aadd("a", 1) is True
    assert await cache.aadd("a", 2) is False
    await cache.aset("b", [1])
    assert await cache.aget_many(["a", "b", "c"]) == {"a": 1, "b": [1]}
    assert await cache.aincr("a", 4) == 5
    assert await cache.adecr("a") == 4
    with pytest.raises(ValueError):
        await cache.aincr("absent")
    assert await cache.ahas_key("a")
    assert await cache.atouch("a", None)
    assert await cache.adelete("a")
    await cache.aset_many({"x": 1, "y": 2})
    await cache.adelete_many(["x"])
    assert await cache.aget_or_set("z", 9) == 9
    assert await cache.aincr_version("z") == 2


def test_async_methods_answer_as_the_sync_ones():
    cache = local()

    async def scenario():
        await _exercise_async_methods(cache)
        await cache.aclear()
        return await cache.aget("y", "gone")

    assert asyncio.run(scenario()) == "gone"


def test_keys_memcached_refuses_warn():
    cache = local()
    with pytest.warns(CacheKeyWarning):
        cache.set("a key with spaces", 1)


# -- SharedMooncakeCache --------------------------------------------------

def test_backends_with_one_location_and_options_share_one_shared_cache(make_shared, namespace):
    first, second = make_shared(), make_shared()
    assert first.shared is second.shared
    assert make_shared(namespace=namespace + "x:").shared is not first.shared


def test_close_keeps_the_connections_and_the_near_cache(make_shared):
    cache = make_shared(near=100)
    cache.set("k", "v")
    assert cache.get("k") == "v"  # a remote read fills the near cache
    cache.close()
    for _ in range(50):  # the fill may race the put's own invalidation: read until a near hit
        assert cache.get("k") == "v"
        if cache.shared.get_stats()["near_hits"]:
            break
    assert cache.shared.get_stats()["near_hits"] >= 1


def test_shared_timeouts_follow_djangos_rules(make_shared):
    cache = make_shared({"TIMEOUT": 60})
    cache.set("default", 1)
    cache.set("forever", 1, timeout=None)
    cache.set("now", 1, timeout=0)
    assert 59 < cache.shared.ttl(cache.make_key("default")) <= 60
    assert cache.shared.ttl(cache.make_key("forever")) == math.inf
    assert not cache.has_key("now")
    assert cache.add("zero", 1, timeout=0) is True and not cache.has_key("zero")


def test_signing_key_may_be_a_str(make_shared):
    cache = make_shared(signing_key="a signing key of more than 16 bytes")
    cache.set("k", {"v": 1})
    assert cache.get("k") == {"v": 1}


def test_unknown_shared_options_are_refused(server):
    with pytest.raises(ValueError, match="near"):
        SharedMooncakeCache(server.url, {"OPTIONS": {"nearr": 10}})


def test_a_location_that_is_not_one_url_is_refused(server):
    with pytest.raises(ValueError, match="one server's URL"):
        SharedMooncakeCache([server.url, server.url], {})


def _incr_many(url, namespace, times):
    cache = SharedMooncakeCache(url, {"OPTIONS": {"namespace": namespace}})
    for _ in range(times):
        cache.incr("n")


def test_incr_is_atomic_across_processes(make_shared, server, namespace):
    cache = make_shared()
    cache.set("n", 0, timeout=None)
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_incr_many, args=(server.url, namespace, 200)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [worker.exitcode for worker in workers] == [0, 0, 0]
    assert cache.get("n") == 600


def test_a_lost_server_raises_then_recovers(binary_server):
    cache = SharedMooncakeCache(binary_server.url, {"OPTIONS": {"namespace": "lost:"}})
    cache.set("k", 1)
    binary_server.stop()
    with pytest.raises(SharedCacheError):
        cache.get("k")
    binary_server.start()
    cache.set("k", 2)
    assert cache.get("k") == 2


def test_a_lost_server_fails_open_when_asked(binary_server):
    cache = SharedMooncakeCache(binary_server.url, {"OPTIONS": {"namespace": "open:", "fail_open": True}})
    cache.set("k", 1)
    binary_server.stop()
    assert cache.get("k", "default") == "default"
    cache.set("k", 2)  # refused quietly
    assert cache.get_many(["k"]) == {}
    assert cache.add("new", 1) is False
    assert cache.touch("k") is False
    assert cache.delete("k") is False
    assert cache.has_key("k") is False
    with pytest.raises(ValueError):  # an empty cache's answer: no such key
        cache.incr("k")
    assert cache.shared.get_stats()["errors"] >= 7
    binary_server.start()
    cache.set("k", 3)
    assert cache.get("k") == 3


@pytest.fixture
def binary_server():
    """A server of this test's own, to stop and start again."""
    server = LocalValkey().start()
    yield server
    server.cleanup()


def test_shared_async_methods_are_native():
    from django.core.cache.backends.base import BaseCache

    for name in ("aadd", "aget", "aset", "atouch", "adelete", "ahas_key", "aget_many", "aset_many",
                 "adelete_many", "aincr", "aclear"):
        assert getattr(SharedMooncakeCache, name) is not getattr(BaseCache, name), name


def test_shared_async_methods_answer_as_the_sync_ones_on_any_loop(make_shared):
    cache = make_shared(near=100)

    async def scenario():
        await _exercise_async_methods(cache)
        return await cache.aget("y", "gone")

    assert asyncio.run(scenario()) == 2
    assert cache.get("y") == 2            # the sync side reads what the async side wrote
    cache.set("y", 3)
    assert asyncio.run(cache.aget("y")) == 3  # and the other way round, on a second loop

    async def clear():
        await cache.aclear()
        return await cache.aget("y", "gone")

    assert asyncio.run(clear()) == "gone"
