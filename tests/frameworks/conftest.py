"""Fixtures for the Django and Flask-Caching backends' tests.

The frameworks' own suites are fetched (``fetch_suites``) into ``_suites/``,
which pytest must not collect by itself: our test modules import from it.
"""

import uuid

import pytest

from . import servers

collect_ignore = ["_suites"]


def pytest_sessionfinish(session):
    servers.stop_all()


@pytest.fixture(scope="session", params=["standalone", "cluster"])
def server(request):
    """A standalone Valkey server, then a 3-master Cluster."""
    return getattr(servers, request.param)()


@pytest.fixture
def namespace():
    """A namespace no other test uses."""
    return f"fw:{uuid.uuid4().hex[:12]}:"
