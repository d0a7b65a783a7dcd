"""Django's own cache contract, ``BaseCacheTests`` from its ``tests/cache/tests.py``,
bound to ``MooncakeCache`` and to ``SharedMooncakeCache`` on a standalone Valkey
server and on a 3-master Cluster, the way Django binds ``LocMemCacheTests`` and
``RedisCacheTests``. The suite is the installed Django release's own, fetched from
its sdist (see fetch_suites.py). Skipped, each with its reason:

- ``test_cull``, ``test_zero_cull`` on MooncakeCache: they count what Django's
  culling leaves (a third, or everything with CULL_FREQUENCY=0, removed at once);
  MooncakeCache's engine evicts one entry per new key instead (its bound is
  tested in test_django_backends.py).
- ``test_cull``, ``test_zero_cull``, ``test_cull_delete_when_store_empty`` on
  SharedMooncakeCache: skipped by Django's own code ("Culling isn't implemented."),
  since the server has no MAX_ENTRIES, exactly as for Django's RedisCache.
"""

import uuid

import pytest
from django.test import TestCase

from . import django_setup, servers
from django_cache_suite import tests as suite  # noqa: E402 (on sys.path once django_setup ran)

# The suite names one key function by its dotted path in Django's tree ("cache.tests...");
# fetched, the suite is the package django_cache_suite.
suite._caches_setting_base["custom_key2"]["KEY_FUNCTION"] = "django_cache_suite.tests.custom_key_func"

_CULL_REASON = ("counts what Django's culling leaves (a third of the entries, or all with "
                "CULL_FREQUENCY=0, removed at once); MooncakeCache evicts one entry per new key")


@pytest.fixture(scope="module", autouse=True)
def django_database():
    teardown = django_setup.test_database()
    yield
    # The database lives for the whole session: other modules use it too.
    del teardown


class MooncakeCacheTests(suite.BaseCacheTests, TestCase):
    @classmethod
    def setUpClass(cls):
        cls._overridden_settings = {"CACHES": suite.caches_setting_for_tests(
            BACKEND="mooncake.django.MooncakeCache", LOCATION=f"suite-{uuid.uuid4().hex}")}
        super().setUpClass()

    def test_cull(self):
        self.skipTest(_CULL_REASON)

    def test_zero_cull(self):
        self.skipTest(_CULL_REASON)


class _SharedTests(suite.BaseCacheTests):
    server = None  # servers.standalone or servers.cluster
    options = {}   # more OPTIONS

    @classmethod
    def setUpClass(cls):
        cls._overridden_settings = {"CACHES": suite.caches_setting_for_tests(
            BACKEND="mooncake.django.SharedMooncakeCache",
            LOCATION=cls.server().url,
            OPTIONS={"namespace": f"djsuite:{uuid.uuid4().hex[:12]}:", **cls.options},
            exclude=suite.redis_excluded_caches)}
        super().setUpClass()


class SharedMooncakeCacheStandaloneTests(_SharedTests, TestCase):
    server = staticmethod(servers.standalone)


class SharedMooncakeCacheClusterTests(_SharedTests, TestCase):
    server = staticmethod(servers.cluster)


class NearSharedMooncakeCacheTests(_SharedTests, TestCase):
    """The same contract with the near cache on (reads served in-process)."""
    server = staticmethod(servers.standalone)
    options = {"near": 1000}
