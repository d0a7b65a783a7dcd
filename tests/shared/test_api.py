"""The SimpleMooncake contract over a real server: each test runs on a
standalone server and on a Cluster."""

import math
import time

import pytest

from mooncake.shared import SharedMooncake
from mooncake.shared.core import ttl_ms as _ttl_ms

SHELLS = ("sync", "async")  # every test runs through both shells (see conftest)


def test_put_then_get_returns_the_value(shared):
    assert shared.put("k", {"a": [1, 2]}) is True
    assert shared.get("k") == {"a": [1, 2]}


def test_get_of_an_absent_key_returns_the_default(shared):
    assert shared.get("absent") is None
    assert shared.get("absent", "d") == "d"


def test_none_is_a_value_not_a_miss(shared):
    shared.put("k", None)
    assert shared.get("k", "d") is None
    assert shared.get_stats()["hits"] == 1


@pytest.mark.parametrize("seconds, ms", [(2.0001, 2001), (2.0, 2000), (1e-9, 1), (0.0015, 2),
                                         (1e15, None), (math.inf, None)])
def test_ttl_is_sent_in_milliseconds_rounded_up(seconds, ms):
    assert _ttl_ms(seconds) == ms


def test_ttl_reads_back_in_seconds(shared, raw, namespace):
    started = time.monotonic()
    shared.put("k", 1, ttl=2.0001)  # sent as 2001 ms
    left = shared.ttl("k")
    pttl = raw.pttl(f"{namespace}s:k".encode())
    elapsed = time.monotonic() - started  # the server's clock moved no more than ours
    assert 2.001 - elapsed - 0.001 <= left <= 2.001
    assert 2001 - (elapsed * 1000 + 1) <= pttl <= 2001


def test_infinite_ttl_never_expires(shared):
    shared.put("k", 1, ttl=math.inf)
    assert shared.ttl("k") == math.inf


def test_tiny_positive_ttl_is_at_least_one_millisecond(shared, raw, namespace):
    shared.put("k", 1, ttl=1e-9)
    assert raw.pttl(f"{namespace}s:k".encode()) in (-2, 0, 1)  # stored with PX 1, not refused


@pytest.mark.parametrize("ttl", [0, -1, -math.inf])
def test_put_with_ttl_at_most_zero_stores_nothing_and_removes_the_old_value(shared, ttl):
    shared.put("k", "old")
    assert shared.put("k", "new", ttl=ttl) is True
    assert "k" not in shared
    assert shared.get("k") is None


def test_ttl_of_an_absent_key_is_none(shared):
    assert shared.ttl("absent") is None


def test_delete_reports_whether_the_key_was_there(shared):
    shared.put("k", 1)
    assert shared.delete("k") is True
    assert shared.delete("k") is False
    assert shared.get_stats()["deletes"] == 1


def test_pop_returns_the_value_and_removes_it(shared):
    shared.put("k", "v")
    assert shared.pop("k") == "v"
    assert "k" not in shared
    assert shared.pop("k", "d") == "d"
    with pytest.raises(KeyError):
        shared.pop("k")


def test_mapping_syntax(shared):
    shared["k"] = 5
    assert shared["k"] == 5
    del shared["k"]
    with pytest.raises(KeyError):
        shared["k"]
    with pytest.raises(KeyError):
        del shared["k"]


def test_touch_restarts_a_live_keys_ttl(shared):
    shared.put("k", 1, ttl=10)
    assert shared.touch("k", 100) is True
    assert 99 < shared.ttl("k") <= 100
    assert shared.touch("k", math.inf) is True
    assert shared.ttl("k") == math.inf
    assert shared.touch("k", math.inf) is True  # already without expiry: still there
    assert shared.touch("absent", 10) is False
    assert shared.touch("absent", math.inf) is False


def test_touch_with_ttl_at_most_zero_removes_the_key(shared):
    shared.put("k", 1)
    assert shared.touch("k", 0) is True
    assert "k" not in shared
    assert shared.touch("k", 0) is False


def test_put_many_and_get_many(shared):
    items = {("user", i): {"n": i} for i in range(150)}
    assert shared.put_many(items, ttl=60) == 150
    wanted = list(items) + [("user", 999)]
    assert shared.get_many(wanted) == items
    stats = shared.get_stats()
    assert (stats["hits"], stats["misses"], stats["puts"]) == (150, 1, 150)
    assert 59 < shared.ttl(("user", 3)) <= 60


def test_put_many_accepts_pairs_and_the_last_duplicate_wins(shared):
    assert shared.put_many([("a", 1), ("b", 2), ("a", 3)]) == 3
    assert shared.get_many(["a", "b"]) == {"a": 3, "b": 2}


def test_put_many_with_ttl_at_most_zero_removes_the_keys(shared):
    shared.put_many({"a": 1, "b": 2})
    assert shared.put_many({"a": 9, "b": 9}, ttl=0) == 0
    assert shared.get_many(["a", "b"]) == {}


def test_empty_batches_send_nothing(shared, commands_sent):
    assert shared.get_many([]) == {}
    assert shared.put_many({}) == 0
    assert commands_sent() == 0


def test_clear_removes_only_this_namespace(make_shared, namespace):
    mine = make_shared()
    other = make_shared(namespace=namespace + "other:")
    prefixed = make_shared(namespace=namespace[:-1])  # a prefix of mine, without the colon
    mine.put_many({i: i for i in range(50)})
    other.put("x", 1)
    prefixed.put("y", 2)
    mine.clear()
    assert len(mine) == 0
    assert other.get("x") == 1 and prefixed.get("y") == 2


def test_len_and_total_objects_count_the_namespace(shared):
    shared.put_many({i: i for i in range(30)})
    assert len(shared) == 30
    assert shared.get_stats()["total_objects"] == 30


def test_stats_count_this_instances_operations(shared):
    shared.put("a", 1)
    shared.get("a")
    shared.get("b")
    shared.delete("a")
    assert shared.get_stats() == {
        "total_objects": 0, "hits": 1, "misses": 1, "hit_rate": 0.5, "puts": 1,
        "deletes": 1, "errors": 0, "rejected": 0,
    }


def test_cleanup_expired_is_left_to_the_server(shared):
    shared.put("k", 1)
    assert shared.cleanup_expired() == 0
    assert shared.get("k") == 1


def test_two_instances_share_one_namespace(make_shared):
    writer, reader = make_shared(), make_shared()
    writer.put("k", "shared")
    assert reader.get("k") == "shared"


def test_a_ready_client_can_be_passed(server, raw, namespace):
    cache = SharedMooncake(client=raw, namespace=namespace)
    cache.put("k", 1)
    assert cache.get("k") == 1
    assert cache.client is raw
    cache.clear()


def test_a_cluster_url_gets_a_cluster_client(server):
    from redis.cluster import RedisCluster

    with SharedMooncake(server.url) as cache:
        assert isinstance(cache.client, RedisCluster) == hasattr(server, "nodes")


@pytest.mark.parametrize("kwargs", [{}, {"url": "redis://x", "client": object()}])
def test_url_or_client_is_required(kwargs):
    with pytest.raises(TypeError):
        SharedMooncake(**kwargs)


def test_a_client_of_the_wrong_type_is_refused():
    with pytest.raises(TypeError):
        SharedMooncake(client=object())


def test_a_forked_child_uses_its_own_connections(shared):
    import os

    shared.put("parent", 1)  # the parent's pool now holds a connection
    pid = os.fork()
    if pid == 0:  # the child: must not read or write on the parent's sockets
        ok = False
        try:
            ok = shared.get("parent") == 1 and shared.put("child", 2)
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    assert shared.get("child") == 2 and shared.get("parent") == 1


@pytest.mark.sync_only
def test_threads_sharing_one_instance_lose_no_count(shared):
    import threading

    def work(t):
        for i in range(50):
            shared.put((t, i), i)
            assert shared.get((t, i)) == i
            shared.get((t, "absent"))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats = shared.get_stats()
    assert (stats["puts"], stats["hits"], stats["misses"], stats["total_objects"]) == (200, 200, 200, 200)


def test_a_shared_cache_cannot_be_pickled(shared):
    import pickle

    with pytest.raises(TypeError, match="per process"):
        pickle.dumps(shared)
