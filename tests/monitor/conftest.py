"""Fixtures the monitor tests share; each is built on the ``monitor_mod``
fixture of tests/conftest.py, so every test runs on both twins."""

import pytest


@pytest.fixture
def monitor_cls(monitor_mod):
    return monitor_mod.SimpleMonitor


@pytest.fixture
def make_monitor(monitor_cls, clock):
    """Build a monitor of the current twin on the test's fake clock."""

    def make(*args, **kwargs):
        kwargs.setdefault("clock", clock)
        return monitor_cls(*args, **kwargs)

    return make
