"""A Cluster master with a replica dies and the replica takes over: the near
cache is flushed, reads stay correct, and tracking comes back on the new master."""

import time

import pytest
import redis

from mooncake.shared import SharedCacheError, SharedMooncake
from mooncake.shared.local_server import CLUSTER_SLOTS, LocalValkey

from .near_procs import wait_trusted


SHELLS = ("sync", "async")  # the tests using shell_class run through both shells


def wait_until(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            if condition():
                return
        except (SharedCacheError, redis.exceptions.RedisError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


@pytest.fixture
def cluster_with_replica(binary):
    """Three masters (slots split evenly) and a replica of the first."""
    nodes = [LocalValkey("--cluster-node-timeout", "1000", cluster=True, binary=binary)
             for _ in range(4)]
    try:
        for node in nodes:
            node.start()
        clients = [node.client(socket_timeout=5.0) for node in nodes]
        share = CLUSTER_SLOTS // 3
        for i, client in enumerate(clients[:3]):
            last = CLUSTER_SLOTS - 1 if i == 2 else (i + 1) * share - 1
            client.execute_command("CLUSTER", "ADDSLOTSRANGE", i * share, last)
        for node in nodes[1:]:
            clients[0].execute_command("CLUSTER", "MEET", "127.0.0.1", node.port, node.bus_port)
        first_id = clients[0].execute_command("CLUSTER", "MYID")
        first_id = first_id.decode() if isinstance(first_id, bytes) else first_id
        wait_until(lambda: all(int(c.execute_command("CLUSTER", "INFO")
                                   .decode().split("cluster_known_nodes:")[1].split()[0]) == 4
                               for c in clients))
        wait_until(lambda: clients[3].execute_command("CLUSTER", "REPLICATE", first_id))
        wait_until(lambda: clients[3].info("replication").get("master_link_status") == "up")
        wait_until(lambda: all(b"cluster_state:ok" in c.execute_command("CLUSTER", "INFO")
                               for c in clients))
        for client in clients:
            client.close()
        yield nodes
    finally:
        for node in nodes:
            node.cleanup()


def test_a_failover_flushes_the_near_cache_and_reads_stay_correct(cluster_with_replica, shell_class):
    master, _, _, replica = cluster_with_replica
    url = cluster_with_replica[1].url  # not the victim's
    reader = shell_class(url, namespace="failover:", near=100)
    writer = shell_class(url, namespace="failover:")
    wait_trusted(reader)
    keys = [f"k{i}" for i in range(30)]
    writer.put_many({k: 1 for k in keys})
    assert reader.get_many(keys) == {k: 1 for k in keys}

    def all_near():  # a late invalidation of the put_many may drop a fill: read again
        return all(reader.get(k) == 1 for k in keys) and len(reader._near.engine) == len(keys)

    wait_until(all_near, timeout=5)
    master.stop()  # the replica takes over
    wait_until(lambda: not reader._near.trusted, timeout=5)
    assert len(reader._near.engine) == 0
    promoted = replica.client(socket_timeout=5.0)
    promoted.execute_command("CLUSTER", "FAILOVER", "TAKEOVER")
    wait_until(lambda: promoted.info("replication")["role"] == "master")
    wait_until(lambda: writer.put_many({k: 2 for k in keys}) == len(keys))
    wait_until(lambda: reader.get_many(keys) == {k: 2 for k in keys})
    wait_trusted(reader, timeout=20)

    def served_near():  # the near cache is back: a second read of each key is a near hit
        filled = all(reader.get(k) == 2 for k in keys)  # fills, from every master
        hits_before = reader.get_stats()["near_hits"]
        again = all(reader.get(k) == 2 for k in keys)
        return filled and again and reader.get_stats()["near_hits"] - hits_before == len(keys)

    wait_until(served_near, timeout=10)
    writer.put_many({k: 3 for k in keys})  # invalidated by the new master too
    wait_until(lambda: all(reader.get(k) == 3 for k in keys), timeout=5)
    stats = reader.get_stats()
    assert stats["flushes"] >= 1 and stats["reconnects"] >= 1
    promoted.close()
    reader.close()
    writer.close()


def test_a_graceful_failover_moves_the_listener_and_strict_reads_stay_correct(cluster_with_replica, shell_class):
    """CLUSTER FAILOVER on the replica: the old master lives on as a replica.
    The near cache must notice (its listener's ROLE heartbeat), flush, and
    listen to the new master; then, with the demoted node stopped, a write
    acknowledged by the new master is never read stale in strict mode."""
    master, _, _, replica = cluster_with_replica
    url = cluster_with_replica[1].url  # not a node that changes role
    reader = shell_class(url, namespace="graceful:", near=100, strict=True)
    writer = shell_class(url, namespace="graceful:")
    wait_trusted(reader)
    keys = [f"k{i}" for i in range(30)]
    writer.put_many({k: 1 for k in keys})
    promoted = replica.client(socket_timeout=5.0)
    try:
        wait_until(lambda: all(reader.get(k) == 1 for k in keys) and len(reader._near.engine) == len(keys))
        flushes = reader.get_stats()["flushes"]
        promoted.execute_command("CLUSTER", "FAILOVER")  # graceful: both nodes stay up
        wait_until(lambda: promoted.info("replication")["role"] == "master")
        # The reader flushes and listens to the new master.
        wait_until(lambda: reader.get_stats()["flushes"] > flushes, timeout=10)
        new_master = ("127.0.0.1", replica.port)
        wait_until(lambda: reader._near.trusted and new_master in reader._near._addresses, timeout=20)
        wait_until(lambda: writer.put_many({k: 2 for k in keys}) == len(keys))  # the writer learns the map
        wait_until(lambda: all(reader.get(k) == 2 for k in keys))  # near entries again
        master.pause()  # the demoted node hears nothing more
        try:
            writer.put_many({k: 3 for k in keys})  # acknowledged by the new master
            assert [reader.get(k) for k in keys] == [3] * len(keys)
        finally:
            master.resume()
    finally:
        promoted.close()
        reader.close()
        writer.close()
