"""The connection: clients the cache cannot use are refused at construction."""

import pytest
import redis
from redis.cluster import RedisCluster

from mooncake.shared import SharedMooncake


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
