"""A lost server: a clear error (or fail-open answers), never a hang, and
recovery with no action from the user once it is back."""

import time

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from mooncake.shared import DEFAULT_SOCKET_TIMEOUT, SharedCacheError, SharedMooncake
from mooncake.shared.local_server import LocalValkey


SHELLS = ("sync", "async")  # every test runs through both shells (see conftest)


@pytest.fixture
def own_server(binary):
    """A server of this test's own, to stop, pause and restart."""
    server = LocalValkey(binary=binary).start()
    yield server
    server.cleanup()


def _every_operation(cache):
    """Each public operation, with what fail_open must answer for it."""
    return [
        ("put", lambda: cache.put("k", 1), False),
        ("get", lambda: cache.get("k", "default"), "default"),
        ("delete", lambda: cache.delete("k"), False),
        ("pop", lambda: cache.pop("k", "default"), "default"),
        ("in", lambda: "k" in cache, False),
        ("ttl", lambda: cache.ttl("k"), None),
        ("touch", lambda: cache.touch("k", 10), False),
        ("get_many", lambda: cache.get_many(["k", "j"]), {}),
        ("put_many", lambda: cache.put_many({"k": 1, "j": 2}), 0),
        ("len", lambda: len(cache), 0),
        ("clear", lambda: cache.clear(), None),
    ]


def test_a_stopped_server_raises_shared_cache_error_with_the_cause(own_server, shell_class):
    cache = shell_class(own_server.url)
    cache.put("k", 1)
    own_server.stop()
    operations = _every_operation(cache)
    for name, call, _ in operations:
        with pytest.raises(SharedCacheError) as caught:
            call()
        assert isinstance(caught.value, ConnectionError), name
        assert isinstance(caught.value.__cause__, redis.exceptions.ConnectionError), name
    stats = cache.get_stats()  # never raises
    assert stats["total_objects"] is None
    assert stats["errors"] == len(operations) + 1


def test_fail_open_answers_as_an_empty_cache_that_refuses_writes(own_server, shell_class):
    cache = shell_class(own_server.url, fail_open=True)
    cache.put("k", 1)
    own_server.stop()
    operations = _every_operation(cache)
    for name, call, expected in operations:
        assert call() == expected, name
    assert cache.get_stats()["errors"] == len(operations) + 1  # get_stats' own scan counts too


def test_the_next_call_after_a_restart_works(own_server, shell_class):
    cache = shell_class(own_server.url)
    cache.put("k", 1)
    own_server.stop()
    with pytest.raises(SharedCacheError):
        cache.get("k")
    own_server.start()  # same port, empty (no persistence)
    assert cache.put("k", 2) is True  # the pooled socket is stale: one retry on a new one
    assert cache.get("k") == 2


def test_a_hung_server_times_out_instead_of_hanging(own_server, shell_class):
    cache = shell_class(own_server.url + "?socket_timeout=0.2")
    cache.put("k", 1)
    own_server.pause()
    try:
        started = time.monotonic()
        with pytest.raises(SharedCacheError) as caught:
            cache.get("k")
        assert isinstance(caught.value.__cause__, redis.exceptions.TimeoutError)
        assert time.monotonic() - started < DEFAULT_SOCKET_TIMEOUT  # the URL's timeout, not a hang
    finally:
        own_server.resume()
    assert cache.get("k") == 1


@pytest.mark.sync_only
def test_a_url_client_gets_the_default_socket_timeout(standalone, shell):
    with SharedMooncake(standalone.url) as cache:
        options = cache.client.connection_pool.connection_kwargs
        assert options["socket_timeout"] == DEFAULT_SOCKET_TIMEOUT
        assert options["socket_connect_timeout"] == DEFAULT_SOCKET_TIMEOUT


def test_an_unreachable_server_at_construction_raises(own_server, shell_class):
    own_server.stop()
    with pytest.raises(SharedCacheError):
        shell_class(own_server.url)


def test_fail_open_starts_without_a_server_and_connects_when_it_comes(own_server, shell_class):
    own_server.stop()
    cache = shell_class(own_server.url, fail_open=True)
    assert cache.client is None
    assert cache.get("k", "default") == "default"
    own_server.start()
    assert cache.put("k", 1) is True and cache.get("k") == 1


@pytest.mark.parametrize("fail_open", [False, True])
@pytest.mark.parametrize("password", [None, "wrong-password"])
def test_wrong_credentials_raise_at_construction(protected, fail_open, password, shell_class):
    url = f"redis://{':' + password + '@' if password else ''}127.0.0.1:{protected.port}/0"
    with pytest.raises(SharedCacheError) as caught:
        shell_class(url, fail_open=fail_open)
    assert isinstance(caught.value.__cause__, redis.exceptions.AuthenticationError)


def test_the_right_password_in_the_url_works(protected, shell_class):
    with shell_class(protected.url, namespace="auth:") as cache:
        cache.put("k", 1)
        assert cache.get("k") == 1
        cache.clear()


@pytest.mark.sync_only
def test_a_given_client_with_wrong_credentials_raises_at_construction(protected, shell):
    # No retries: redis-py's default would retry the refused handshake ten times.
    client = redis.Redis(port=protected.port, password="wrong-password", retry=Retry(NoBackoff(), 0))
    with pytest.raises(SharedCacheError):
        SharedMooncake(client=client)
    client.close()


def test_a_cluster_with_a_dead_master_raises_and_recovers_when_it_restarts(binary, shell_class):
    from mooncake.shared.local_server import LocalCluster

    with LocalCluster(binary=binary) as cluster:
        cache = shell_class(cluster.url, namespace="dead-master:")
        cache.put_many({i: i for i in range(30)})  # spread over every master
        victim = cluster.nodes[1]
        victim.stop()
        with pytest.raises(SharedCacheError) as caught:
            cache.get_many(range(30))
        assert isinstance(caught.value.__cause__, redis.exceptions.ConnectionError)
        assert cache.get_stats()["total_objects"] is None
        victim.start()  # same ports, same nodes.conf: it rejoins with its slots
        cluster.wait_ready(20)  # the servers' readiness, not the cache's
        assert cache.put_many({i: -i for i in range(30)}) == 30  # no step by the user
        assert cache.get_many(range(30)) == {i: -i for i in range(30)}
        cache.close()
