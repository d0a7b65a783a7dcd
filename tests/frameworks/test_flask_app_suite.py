"""Flask-Caching's own app-level tests (``@cache.cached`` views, ``@cache.memoize``
and the ``Cache`` API: its ``tests/test_view.py``, ``test_memoize.py`` and
``test_cache.py``) run with ``CACHE_TYPE`` set to each mooncake backend.

The suite's test functions are taken into this module as they are, so they run
with the fixtures below in place of the suite's own conftest: ``app`` is
parametrized over ``mooncake.flask.MooncakeCache`` and
``mooncake.flask.SharedMooncakeCache`` (standalone and Cluster), and ``clock`` is
the fake clock the in-process engine reads. Skipped, each with its reason:

- on SharedMooncakeCache, the tests that move the fake ``clock`` to expire
  entries: a server expires keys by its own clock (the shared backend's
  expiry is tested by Flask-Caching's generic backend test, which sleeps);
- ``test_cache_unlink``, ``test_cache_unlink_if_not``,
  ``test_cache_delete_many_ignored``: they configure Flask-Caching's own
  RedisCache or SimpleCache, whatever ``app`` says, so they test those.
"""

import inspect
import uuid

import flask
import flask_caching
import pytest

from . import servers
from .fetch_suites import flask_caching_suite, on_path

SUITE = on_path(flask_caching_suite())

from flask_caching_suite import test_cache, test_memoize, test_view  # noqa: E402

_OTHER_BACKENDS = {"test_cache_unlink", "test_cache_unlink_if_not", "test_cache_delete_many_ignored"}

for _module in (test_view, test_memoize, test_cache):
    for _name, _test in vars(_module).items():
        if _name.startswith("test_") and callable(_test):
            if _name in _OTHER_BACKENDS:
                _test = pytest.mark.skip(reason="configures Flask-Caching's own RedisCache or "
                                                "SimpleCache, not the backend under test")(_test)
            globals()[_name] = _test
del _module, _name, _test

_CLOCK_REASON = ("moves a fake clock to expire entries; a server expires keys by its own clock "
                 "(Flask-Caching's generic timeout test covers the shared backend)")


@pytest.fixture(params=["mooncake", "shared-standalone", "shared-cluster"])
def app(request):
    app = flask.Flask(request.module.__name__, template_folder=f"{SUITE}/flask_caching_suite")
    app.testing = True
    if request.param == "mooncake":
        app.config["CACHE_TYPE"] = "mooncake.flask.MooncakeCache"
        app.config["CACHE_OPTIONS"] = {"clock": request.getfixturevalue("clock")}
        yield app
        return
    if "clock" in inspect.signature(request.function).parameters:
        pytest.skip(_CLOCK_REASON)
    server = servers.standalone() if request.param == "shared-standalone" else servers.cluster()
    app.config["CACHE_TYPE"] = "mooncake.flask.SharedMooncakeCache"
    app.config["CACHE_REDIS_URL"] = server.url
    app.config["CACHE_KEY_PREFIX"] = f"flaskapp:{uuid.uuid4().hex[:12]}:"
    yield app
    for cache in list(app.extensions.get("cache", {}).values()):
        if isinstance(cache, flask_caching.backends.base.BaseCache) and hasattr(cache, "shared"):
            cache.clear()
            cache.shared.close()


@pytest.fixture
def cache(app):
    return flask_caching.Cache(app)


@pytest.fixture(params=flask_caching.SUPPORTED_HASH_FUNCTIONS,
                ids=[method.__name__ for method in flask_caching.SUPPORTED_HASH_FUNCTIONS])
def hash_method(request):
    return request.param


@pytest.fixture
def redis_server():
    pytest.skip("Flask-Caching's own RedisCache on its fixed port: another backend's test")
