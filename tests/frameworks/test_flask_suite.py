"""Flask-Caching's own backend contract, ``GenericCacheTests`` from its
``tests/test_backend_cache.py``, bound to ``MooncakeCache`` and to
``SharedMooncakeCache`` on a standalone Valkey server and on a 3-master Cluster,
the way Flask-Caching binds its ``SimpleCache`` and ``RedisCache``. The suite is
the installed release's own, fetched from its sdist (see fetch_suites.py).
Nothing is skipped.
"""

import pytest

from mooncake.flask import MooncakeCache, SharedMooncakeCache

from .fetch_suites import flask_caching_suite, on_path

on_path(flask_caching_suite())
from flask_caching_suite import test_backend_cache as suite  # noqa: E402


class TestMooncakeCache(suite.GenericCacheTests):
    # The suite's ``sleep`` advances the ``clock`` fixture: the engine reads that clock.
    _can_use_fast_sleep = True

    @pytest.fixture
    def make_cache(self, clock):
        return lambda **kwargs: MooncakeCache(clock=clock, **kwargs)


class TestMooncakeCacheUnisolated(TestMooncakeCache):
    @pytest.fixture
    def make_cache(self, clock):
        return lambda **kwargs: MooncakeCache(clock=clock, isolate=False, **kwargs)


class TestSharedMooncakeCache(suite.GenericCacheTests):
    # The server expires keys by its own clock: the suite's timeout test sleeps.
    _can_use_fast_sleep = False

    @pytest.fixture
    def make_cache(self, server, namespace):
        made = []

        def make(**kwargs):
            cache = SharedMooncakeCache(server.url, namespace=namespace, **kwargs)
            made.append(cache)
            return cache

        yield make
        for cache in made:
            cache.clear()
            cache.shared.close()


class TestNearSharedMooncakeCache(TestSharedMooncakeCache):
    @pytest.fixture
    def make_cache(self, server, namespace):
        cache = SharedMooncakeCache(server.url, namespace=namespace, near=1000)
        yield lambda **kwargs: cache
        cache.clear()
        cache.shared.close()
