"""The connection: clients the cache cannot use are refused at construction,
a wrong database is a configuration mistake, and close() leaves a cache that
works (every operation alike) on both topologies."""

import math
import time

import pytest
import redis
from redis.cluster import RedisCluster

from mooncake.shared import SharedCacheError, SharedMooncake


def _decoding_client(server):
    if hasattr(server, "nodes"):
        return RedisCluster(host="127.0.0.1", port=server.nodes[0].port, decode_responses=True)
    return redis.Redis(host="127.0.0.1", port=server.port, decode_responses=True)


def test_a_client_that_decodes_responses_is_refused_before_anything_is_sent(
        server, namespace, commands_sent):
    client = _decoding_client(server)
    try:
        before = commands_sent()  # a RedisCluster asked for the slots when it was made
        with pytest.raises(ValueError, match="decode_responses"):
            SharedMooncake(client=client, namespace=namespace)
        assert commands_sent() == before
    finally:
        client.close()


def test_a_url_that_asks_to_decode_responses_is_refused(server, namespace, commands_sent):
    with pytest.raises(ValueError, match="decode_responses"):
        SharedMooncake(server.url + "?decode_responses=True", namespace=namespace)
    assert commands_sent() == 0


@pytest.mark.parametrize("fail_open", [False, True])
def test_a_database_the_server_refuses_raises_at_construction(server, fail_open):
    url = server.url.rsplit("/", 1)[0] + "/99"
    with pytest.raises(SharedCacheError, match="DB index") as caught:
        SharedMooncake(url, fail_open=fail_open)
    assert isinstance(caught.value.__cause__, redis.exceptions.ResponseError)


@pytest.mark.parametrize("fail_open", [False, True])
def test_a_given_client_of_a_refused_database_raises_at_construction(standalone, fail_open):
    client = redis.Redis(host="127.0.0.1", port=standalone.port, db=99)
    try:
        with pytest.raises(SharedCacheError, match="DB index"):
            SharedMooncake(client=client, fail_open=fail_open)
    finally:
        client.close()


def test_a_busy_server_at_construction_is_not_a_configuration_mistake(binary):
    import threading

    from mooncake.shared.local_server import LocalValkey

    def spin(client):
        try:
            client.eval("while true do end", 0)  # until SCRIPT KILL
        except redis.exceptions.ResponseError:
            pass

    with LocalValkey("--busy-reply-threshold", "50", binary=binary) as server:
        busy, prober = server.client(), server.client()
        script = threading.Thread(target=spin, args=(busy,))
        script.start()
        try:
            deadline = time.monotonic() + 10  # a hang guard: BUSY comes after 50 ms
            while True:
                try:
                    prober.ping()
                except redis.exceptions.ResponseError as exc:
                    assert "BUSY" in str(exc)
                    break
                assert time.monotonic() < deadline, "the server never said BUSY"
            cache = SharedMooncake(server.url, fail_open=True)  # the server will come back
            assert cache.get("k", "default") == "default"
            with pytest.raises(SharedCacheError, match="BUSY"):
                SharedMooncake(server.url)
        finally:
            prober.script_kill()
            script.join(30)
            busy.close()
            prober.close()
        assert cache.put("k", 1) is True and cache.get("k") == 1


@pytest.mark.parametrize("fail_open", [False, True])
def test_a_cluster_url_naming_a_database_other_than_0_is_refused(binary, fail_open):
    from mooncake.shared.local_server import LocalValkey

    # A Cluster node that has database 3: redis-py's RedisCluster still uses only 0.
    with LocalValkey("--cluster-databases", "16", cluster=True, binary=binary) as node:
        with pytest.raises(ValueError, match="database 0"):
            SharedMooncake(node.url.rsplit("/", 1)[0] + "/3", fail_open=fail_open)


def _operations(cache):
    """Each public operation in a row that leaves the namespace empty, with its answer."""
    return [
        ("put", lambda: cache.put("k", 1), True),
        ("get", lambda: cache.get("k"), 1),
        ("in", lambda: "k" in cache, True),
        ("ttl", lambda: 3590 < cache.ttl("k") <= 3600, True),
        ("touch", lambda: cache.touch("k", math.inf), True),
        ("put_many", lambda: cache.put_many({"j": 2, "i": 3}), 2),
        ("get_many", lambda: cache.get_many(["k", "j", "x"]), {"k": 1, "j": 2}),
        ("len", lambda: len(cache), 3),
        ("pop", lambda: cache.pop("j"), 2),
        ("delete", lambda: cache.delete("i"), True),
        ("ping", lambda: cache.ping(), True),
        ("clear", lambda: cache.clear(), None),
        ("stats", lambda: cache.get_stats()["total_objects"], 0),
    ]


@pytest.mark.parametrize("near", [None, 10])
def test_every_operation_works_after_close(make_shared, near):
    cache = make_shared(near=near)
    for name, call, expected in _operations(cache):
        cache.close()  # as a web framework does at the end of each request
        assert call() == expected, name
    assert cache.get_stats()["errors"] == 0


def test_close_twice_then_use_the_cache(make_shared):
    cache = make_shared()
    cache.close()
    cache.close()
    assert cache.put("k", 1) is True and cache.get("k") == 1
