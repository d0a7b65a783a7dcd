"""What the mooncake Flask-Caching backends promise beyond Flask-Caching's own
suite: its timeout rules as mooncake ttls, the factory's reading of the config,
atomic inc, value isolation, serializer errors, and a lost server."""

import datetime
import math
import pickle

import flask
import pytest
from flask_caching import Cache

from mooncake.flask import MooncakeCache, SharedMooncakeCache
from mooncake.shared import SharedCacheError
from mooncake.shared.local_server import LocalValkey

from . import servers
from .threads import run_in_threads


class Unpicklable:
    def __reduce__(self):
        raise pickle.PicklingError("not this one")


@pytest.fixture
def shared(server, namespace):
    cache = SharedMooncakeCache(server.url, namespace=namespace, default_timeout=60)
    yield cache
    cache.clear()
    cache.shared.close()


def test_timeouts_follow_flask_cachings_rules(clock):
    cache = MooncakeCache(default_timeout=60, clock=clock)
    cache.set("default", 1)
    cache.set("forever", 1, timeout=0)
    cache.set("delta", 1, timeout=datetime.timedelta(seconds=5))
    assert cache.engine.ttl("default") == 60
    assert cache.engine.ttl("forever") == math.inf
    assert cache.engine.ttl("delta") == 5


def test_shared_timeouts_follow_flask_cachings_rules(shared):
    shared.set("default", 1)
    shared.set("forever", 1, timeout=0)
    assert 59 < shared.shared.ttl("default") <= 60
    assert shared.shared.ttl("forever") == math.inf


@pytest.fixture(params=["local", "standalone", "cluster"])
def any_cache(request, namespace):
    """Each backend: in-process, then shared on a standalone server and on a Cluster."""
    if request.param == "local":
        yield MooncakeCache()
        return
    cache = SharedMooncakeCache(getattr(servers, request.param)().url, namespace=namespace)
    yield cache
    cache.clear()
    cache.shared.close()


def test_a_negative_timeout_is_refused_and_stores_nothing(any_cache):
    cache = any_cache
    with pytest.raises(ValueError, match="timeout"):
        cache.set("k", 1, timeout=-1)
    assert not cache.has("k")


def test_an_unpicklable_value_raises_picklings_error(any_cache):
    cache = any_cache
    with pytest.raises(pickle.PicklingError):
        cache.set("k", Unpicklable())
    assert not cache.has("k")


def test_factory_reads_the_threshold_as_maxsize():
    app = flask.Flask(__name__)
    app.config.update(CACHE_TYPE="mooncake.flask.MooncakeCache", CACHE_THRESHOLD=7)
    cache = Cache(app)
    with app.app_context():
        backend = cache.cache
        for i in range(20):
            cache.set(f"k{i}", i)
    assert backend.engine.maxsize == 7
    assert len(backend.engine) == 7


def test_factory_reads_the_url_and_the_key_prefix(server, namespace):
    app = flask.Flask(__name__)
    app.config.update(CACHE_TYPE="mooncake.flask.SharedMooncakeCache", CACHE_REDIS_URL=server.url,
                      CACHE_KEY_PREFIX=namespace, CACHE_OPTIONS={"near": 10})
    cache = Cache(app)
    with app.app_context():
        backend = cache.cache
        cache.set("k", "v")
        assert cache.get("k") == "v"
    try:
        assert backend.shared.namespace == namespace
        assert "near_hits" in backend.shared.get_stats()
    finally:
        backend.clear()
        backend.shared.close()


def test_values_are_isolated_unless_asked_not_to():
    isolated, shared_objects = MooncakeCache(), MooncakeCache(isolate=False)
    value = {"items": [1]}
    isolated.set("k", value)
    shared_objects.set("k", value)
    value["items"].append(2)
    assert isolated.get("k") == {"items": [1]}
    assert shared_objects.get("k") is value


def test_inc_starts_an_absent_key_at_delta_with_the_default_timeout(clock):
    cache = MooncakeCache(default_timeout=30, clock=clock)
    assert cache.inc("n", 3) == 3
    assert cache.dec("n") == 2
    assert cache.engine.ttl("n") == 30


def test_inc_is_atomic_across_threads():
    cache = MooncakeCache()

    def work(_):
        for _ in range(500):
            cache.inc("n")

    run_in_threads(work, 8)
    assert cache.get("n") == 4000


def test_shared_inc_starts_an_absent_key_at_delta(shared):
    assert shared.inc("n", 3) == 3
    assert shared.dec("n") == 2
    assert shared.get("n") == 2


def test_shared_inc_is_atomic_across_threads(shared):
    def work(_):
        for _ in range(100):
            shared.inc("n")

    run_in_threads(work, 4)
    assert shared.get("n") == 400


@pytest.fixture
def own_server():
    """A server of this test's own, to stop and start again."""
    server = LocalValkey().start()
    yield server
    server.cleanup()


def test_a_lost_server_raises_then_recovers(own_server):
    cache = SharedMooncakeCache(own_server.url, namespace="lost:")
    cache.set("k", 1)
    own_server.stop()
    with pytest.raises(SharedCacheError):
        cache.get("k")
    own_server.start()
    assert cache.set("k", 2)
    assert cache.get("k") == 2


def test_a_lost_server_fails_open_when_asked(own_server):
    cache = SharedMooncakeCache(own_server.url, namespace="open:", fail_open=True)
    cache.set("k", 1)
    own_server.stop()
    assert cache.get("k") is None
    assert cache.set("k", 2) is False
    assert cache.get_many("k", "j") == [None, None]
    assert cache.add("new", 1) is False
    assert cache.inc("n") is None  # not written
    own_server.start()
    assert cache.set("k", 3)
    assert cache.get("k") == 3
