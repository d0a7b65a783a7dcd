"""Fixtures shared by every test: each API test runs on both twins.

The ``impl`` fixture is parametrized over the Cython engine (``c``) and the
pure-Python twin (``py``); every other fixture is built on it, so no test
imports an implementation directly and the two cannot drift.
"""

import importlib
import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "dev", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "big", max_examples=3000, deadline=None, stateful_step_count=80,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

PURE_ONLY = os.environ.get("MOONCAKE_PURE_PYTHON") == "1"

if not PURE_ONLY:
    # Import the compiled modules up front: a broken build must fail the run,
    # not quietly test the pure twin twice.
    importlib.import_module("mooncake.cache._engine")
    importlib.import_module("mooncake.monitor._engine")
    importlib.import_module("mooncake.shared._near_front")

#: Every implementation this run can import.
TWINS = ["py"] if PURE_ONLY else ["c", "py"]

# Under the sanitizers (.ci/sanitize) the API tests run on the engine only: the
# pure twin has no C code for ASan or UBSan to check, and the main CI run has
# already tested it. Tests that hold the engine to the twin (TWINS) still run.
SANITIZED = bool(os.environ.get("MOONCAKE_SANITIZED"))

#: The implementations the ``impl`` fixture runs each API test on.
IMPLS = ["c"] if SANITIZED and not PURE_ONLY else TWINS

_MODULES = {
    ("cache", "c"): "mooncake.cache._engine",
    ("cache", "py"): "mooncake.cache.twin",
    ("monitor", "c"): "mooncake.monitor._engine",
    ("monitor", "py"): "mooncake.monitor.twin",
}


def implementation(concern, impl):
    """The module implementing ``concern`` ("cache" or "monitor") for ``impl``."""
    return importlib.import_module(_MODULES[concern, impl])


class FakeClock:
    """A clock the test moves by hand: ``clock()`` returns the current time."""

    def __init__(self, start=1000.0):
        self.now = float(start)

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture(params=IMPLS, scope="session")
def impl(request):
    return request.param


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def cache_cls(impl):
    return implementation("cache", impl).SimpleMooncake


@pytest.fixture
def make_cache(cache_cls, clock):
    """Build a cache of the current twin on the test's fake clock."""

    def make(*args, **kwargs):
        kwargs.setdefault("clock", clock)
        return cache_cls(*args, **kwargs)

    return make


@pytest.fixture
def monitor_mod(impl):
    return implementation("monitor", impl)
