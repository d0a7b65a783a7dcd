"""The near cache: a per-process SimpleMooncake in front of the server, kept
coherent by RESP3 client tracking (BCAST) and flushed whenever that is in doubt."""

import math
import multiprocessing
import os
import signal
import threading
import time

import pytest

import mooncake
from mooncake.shared import SharedCacheError, SharedMooncake
from mooncake.shared.local_server import LocalValkey

from .near_procs import paused_strict_reader, read_until_near_hit, strict_reader, wait_trusted, watching_reader


SHELLS = ("sync", "async")  # every test runs through both shells (see conftest)


def wait_until(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.002)


class Seen:
    """Names the near cache was told were invalidated (a fence for the tests)."""

    def __init__(self, cache):
        self.names = set()
        self.lock = threading.Lock()
        cache._near.on_invalidate.append(self.add)

    def add(self, names):
        with self.lock:
            self.names.update(names)

    def wait_for(self, name, timeout=5.0):
        wait_until(lambda: name in self.names, timeout)
        with self.lock:
            self.names.discard(name)


@pytest.fixture
def near_pair(make_shared):
    """A reader with a near cache (tracking confirmed) and a writer without one."""
    reader = make_shared(near=1000)
    wait_trusted(reader)
    return reader, make_shared()


@pytest.fixture
def own_server(binary):
    server = LocalValkey(binary=binary).start()
    yield server
    server.cleanup()


def _name(cache, key):
    return cache._namespace.key(key)


def settled_put(reader, writer, key, value, **kwargs):
    """writer.put, then wait until the reader's listener handled its invalidation
    (so a later fill is not dropped by that late push)."""
    seen = Seen(reader)
    writer.put(key, value, **kwargs)
    seen.wait_for(_name(reader, key))
    reader._near.on_invalidate.remove(seen.add)


def test_a_remote_hit_fills_and_the_next_read_is_a_near_hit(near_pair):
    reader, writer = near_pair
    settled_put(reader, writer, "k", [1, 2])
    assert reader.get("k") == [1, 2] and reader.get("k") == [1, 2]
    stats = reader.get_stats()
    assert (stats["remote_hits"], stats["near_hits"], stats["hits"]) == (1, 1, 2)
    assert reader.get("absent", "d") == "d" and reader.get_stats()["misses"] == 1


def test_another_clients_write_invalidates_the_near_entry(near_pair):
    reader, writer = near_pair
    seen = Seen(reader)
    writer.put("k", 1)
    seen.wait_for(_name(reader, "k"))
    assert reader.get("k") == 1
    writer.put("k", 2)
    seen.wait_for(_name(reader, "k"))
    assert "k" not in reader._near.engine
    assert reader.get("k") == 2
    writer.delete("k")
    seen.wait_for(_name(reader, "k"))
    assert reader.get("k") is None
    assert reader.get_stats()["invalidations"] >= 3


def test_own_writes_and_deletes_drop_the_local_copy_at_once(near_pair):
    reader, _ = near_pair
    operations = [
        lambda: reader.put("k", 2),
        lambda: reader.delete("k"),
        lambda: reader.pop("k"),
        lambda: reader.touch("k", 100),
        lambda: reader.put_many({"k": 2}),
        lambda: reader.put("k", 2, ttl=0),
        lambda: reader.clear(),
    ]
    for operation in operations:
        reader.put("k", 1)
        reader._near.engine.put("k", "stale local copy")
        operation()
        assert reader._near.engine.get("k") is None


def test_the_near_ttl_is_the_smaller_of_the_servers_and_near_ttl(make_shared):
    short = make_shared(near=10, near_ttl=5)
    wait_trusted(short)
    settled_put(short, short, "long", 1, ttl=3600)
    settled_put(short, short, "brief", 1, ttl=2)
    settled_put(short, short, "forever", 1, ttl=math.inf)
    for key in ("long", "brief", "forever"):
        assert short.get(key) == 1
    engine = short._near.engine
    assert 4 < engine.ttl("long") <= 5
    assert 1 < engine.ttl("brief") <= 2
    assert 4 < engine.ttl("forever") <= 5


def test_a_fill_that_raced_an_invalidation_is_discarded(near_pair):
    reader, writer = near_pair
    name = _name(reader, "k")
    writer.put("k", "old")
    token = reader._near.token(name)
    reader._near.drop(name)  # what an invalidation does between read and fill
    assert reader._near.fill(name, "old", token, 60) is False
    assert "k" not in reader._near.engine
    assert reader.get_stats()["fills_discarded"] == 1
    assert reader._near.fill(name, "new", reader._near.token(name), 60) is True


def test_no_stale_entry_survives_the_invalidation_of_a_racing_write(near_pair):
    reader, writer = near_pair
    seen = Seen(reader)
    # The fence is k's own invalidation: on a Cluster another key may live on
    # another master, whose listener's push says nothing about k's.
    fence = _name(reader, "k")
    writer.put("k", 0)
    seen.wait_for(fence)
    stale = 0
    for i in range(1, 151):
        start = threading.Barrier(2)

        def write():
            start.wait()
            writer.put("k", i)

        thread = threading.Thread(target=write)
        thread.start()
        start.wait()
        reader.get("k")
        thread.join()
        seen.wait_for(fence)  # this round's put of k has been handled
        if reader._near.engine.get("k", i) != i:
            stale += 1
    assert stale == 0


def test_an_invalidation_reaches_another_process_and_it_converges(server, namespace):
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    rounds = 30
    child = context.Process(target=watching_reader, args=(server.url, namespace, theirs, rounds))
    writer = SharedMooncake(server.url, namespace=namespace)
    writer.put("k", 0)
    child.start()
    try:
        assert ours.poll(30) and ours.recv() == "ready"
        for i in range(1, rounds + 1):
            writer.put("k", i)
            assert ours.poll(5), f"write {i} never reached the other process"
            value, _seen_at = ours.recv()
            assert value == i
        assert ours.poll(5)
        before, after, unchanged = ours.recv()
        assert before["remote_hits"] >= 1  # changed values were read from the server
        assert unchanged == 100
        assert after["near_hits"] - before["near_hits"] == 100
        child.join(10)
        assert child.exitcode == 0
    finally:
        if child.is_alive():
            child.kill()
        writer.clear()
        writer.close()


def test_strict_never_returns_a_value_overwritten_before_the_read_started(server, namespace):
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    child = context.Process(target=strict_reader, args=(server.url, namespace, theirs))
    writer = SharedMooncake(server.url, namespace=namespace)
    writer.put("k", 0)
    child.start()
    try:
        assert ours.poll(30) and ours.recv() == "ready"
        wrong = []
        for i in range(1, 2001):
            writer.put("k", i)
            ours.send(i)  # the put returned: every read from now on must see i
            assert ours.poll(5)
            read = ours.recv()
            if read != i:
                wrong.append((i, read))
        ours.send(None)
        assert ours.poll(5)
        stats = ours.recv()
        assert wrong == []
        assert stats["near_hits"] >= 2000  # the value read was a near entry until the write
        child.join(10)
        assert child.exitcode == 0
    finally:
        if child.is_alive():
            child.kill()
        writer.clear()
        writer.close()


def test_a_server_flush_flushes_the_near_cache(own_server, shell_class):
    cache = shell_class(own_server.url, namespace="n:", near=10)
    wait_trusted(cache)
    settled_put(cache, cache, "k", 1)
    assert cache.get("k") == 1 and len(cache._near.engine) == 1
    own_server.client().flushall()
    wait_until(lambda: len(cache._near.engine) == 0)
    assert cache.get_stats()["flushes"] >= 1
    assert cache.get("k") is None
    cache.close()


@pytest.mark.parametrize("fail_open", [False, True])
def test_a_lost_server_flushes_and_bypasses_and_a_restart_needs_no_step(own_server, fail_open, shell_class):
    cache = shell_class(own_server.url, namespace="n:", near=10, fail_open=fail_open)
    wait_trusted(cache)
    settled_put(cache, cache, "k", 1)
    assert cache.get("k") == 1 and len(cache._near.engine) == 1
    own_server.stop()
    wait_until(lambda: not cache._near.trusted)
    assert len(cache._near.engine) == 0
    if fail_open:
        assert cache.get("k", "default") == "default"
    else:
        with pytest.raises(SharedCacheError):
            cache.get("k")
    own_server.start()  # empty: the old value is gone for good
    assert cache.get("k") is None
    wait_trusted(cache)
    settled_put(cache, cache, "k", 2)
    assert cache.get("k") == 2 and cache.get("k") == 2
    stats = cache.get_stats()
    assert stats["reconnects"] == 1 and stats["near_hits"] >= 1
    cache.close()


def test_a_silent_server_is_noticed_by_the_heartbeat(own_server, monkeypatch, shell_class):
    from mooncake.shared import near

    monkeypatch.setattr(near, "HEARTBEAT_INTERVAL", 0.05)
    monkeypatch.setattr(near, "HEARTBEAT_TIMEOUT", 0.2)
    cache = shell_class(own_server.url + "?socket_timeout=0.2", namespace="n:", near=10)
    wait_trusted(cache)
    cache.put("k", 1)
    cache.get("k")
    own_server.pause()
    try:
        wait_until(lambda: not cache._near.trusted, timeout=3)
        assert len(cache._near.engine) == 0
    finally:
        own_server.resume()
    wait_trusted(cache)
    assert cache.get("k") == 1
    cache.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() is POSIX")
def test_a_forked_child_never_serves_its_parents_entries(near_pair, server):
    reader, writer = near_pair
    settled_put(reader, writer, "k", "before fork")
    assert reader.get("k") == "before fork" and reader.get("k") == "before fork"
    pid = os.fork()
    if pid == 0:  # the child: report by exit code only
        code = 1
        try:
            other = server.client()
            other.set(_name(reader, "k"), writer._core.codec.encode(_name(reader, "k"), "after fork"))
            if reader.get("k") == "after fork":
                code = 2
                wait_trusted(reader)
                writer.put("k", "later")
                wait_until(lambda: reader.get("k") == "later")
                code = 0 if reader.get_stats()["near_hits"] > 0 or reader.get("k") == "later" else 3
        except BaseException:
            pass
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert reader.get("k") == "later"  # and the parent's listener still works


def test_near_arguments_are_checked(standalone):
    with pytest.raises(TypeError):
        SharedMooncake(standalone.url, near="big")
    with pytest.raises(TypeError):
        SharedMooncake(standalone.url, near=True)
    with pytest.raises(ValueError):
        SharedMooncake(standalone.url, near=0)
    with pytest.raises(ValueError):
        SharedMooncake(standalone.url, near=10, near_ttl=0)
    with pytest.raises(ValueError):
        SharedMooncake(standalone.url, strict=True)
    engine = mooncake.SimpleMooncake(5)
    with SharedMooncake(standalone.url, near=engine, namespace="given:") as cache:
        assert cache._near.engine is engine


def test_get_many_serves_near_hits_and_reads_and_fills_the_rest(near_pair):
    reader, writer = near_pair
    settled_put(reader, writer, "a", 1)
    settled_put(reader, writer, "b", 2, ttl=3)
    assert reader.get("a") == 1
    assert reader.get_many(["a", "b", "c"]) == {"a": 1, "b": 2}
    stats = reader.get_stats()
    assert (stats["near_hits"], stats["remote_hits"], stats["misses"]) == (1, 2, 1)
    assert reader._near.engine.get("b") == 2 and 2 < reader._near.engine.ttl("b") <= 3
    assert reader.get_many(["a", "b"]) == {"a": 1, "b": 2}
    assert reader.get_stats()["near_hits"] == 3


def test_keys_equal_in_python_share_one_near_entry_and_bad_keys_raise(near_pair):
    reader, writer = near_pair

    class Name(str):
        pass

    for key, twin in [(1, True), ("a", Name("a")), (("t", 1, b"x"), ("t", True, b"x")), (b"b,", b"b,")]:
        settled_put(reader, writer, key, repr(key))
        assert reader.get(key) == repr(key)  # fills
        assert reader.get(twin) == repr(key)  # the same entry, a near hit
        settled_put(reader, writer, twin, "changed")
        assert reader.get(key) == "changed"  # the invalidation found the entry
    for bad in (1.0, None, [1], ("ok", 2.5)):
        with pytest.raises(TypeError):
            reader.get(bad)
    stats = reader.get_stats()
    assert stats["near_hits"] >= 4 and stats["hits"] == stats["near_hits"] + stats["remote_hits"]


@pytest.mark.sync_only  # the async shell's get is a coroutine function around the front
def test_near_hits_are_served_by_the_engines_front(near_pair):
    reader, _ = near_pair
    front = reader.get.__self__
    if mooncake.ACCELERATED:
        from mooncake.shared._near_front import NearFront
    else:
        from mooncake.shared.near_front import NearFront
    assert type(front) is NearFront and front is reader._near.front
    reader.close()
    assert front.trusted is False  # a closed cache reads remotely (and raises if it cannot)


def test_a_unix_socket_url_gets_its_listener_on_that_socket(binary, tmp_path):
    path = str(tmp_path / "valkey.sock")
    with LocalValkey("--unixsocket", path, binary=binary) as server:
        reader = SharedMooncake(f"unix://{path}", namespace="unix:", near=10)
        writer = SharedMooncake(server.url, namespace="unix:")
        wait_trusted(reader)
        settled_put(reader, writer, "k", 1)
        assert reader.get("k") == 1 and reader.get("k") == 1
        settled_put(reader, writer, "k", 2)
        assert reader.get("k") == 2
        assert reader.get_stats()["near_hits"] == 1
        reader.close()
        writer.close()


def test_the_listener_authenticates_like_the_cache(protected):
    reader = SharedMooncake(protected.url, namespace="auth-near:", near=10)
    writer = SharedMooncake(protected.url, namespace="auth-near:")
    try:
        wait_trusted(reader)  # HELLO 3 AUTH went through
        settled_put(reader, writer, "k", 1)
        assert reader.get("k") == 1 and reader.get("k") == 1
        assert reader.get_stats()["near_hits"] == 1
    finally:
        writer.clear()
        reader.close()
        writer.close()


def test_a_near_engine_serves_one_cache_only(make_shared, namespace):
    """Near entries are keyed by the plain key, without the namespace: an engine
    shared by two namespaces would serve one's value to the other."""
    engine = mooncake.SimpleMooncake(100)
    first = make_shared(near=engine)
    with pytest.raises(ValueError, match="already the near cache"):
        make_shared(near=engine, namespace=namespace + "other:")
    with pytest.raises(ValueError, match="already the near cache"):
        make_shared(near=engine)  # the same namespace too: one owner, one listener
    # Refused before anything is sent: an unreachable server's error never comes.
    with pytest.raises(ValueError, match="already the near cache"):
        SharedMooncake("redis://127.0.0.1:1/0", near=engine, fail_open=True)
    first.close()
    second = make_shared(near=engine)  # closed: the engine is free again
    assert second._near.engine is engine


def test_a_near_engine_that_holds_entries_is_refused(make_shared, raw):
    """Nothing would ever invalidate entries put there before the cache attached."""
    engine = mooncake.SimpleMooncake(100)
    engine.put("k", "not from the server")
    with pytest.raises(ValueError, match="empty"):
        make_shared(near=engine)
    assert engine.get("k") == "not from the server"  # left as it was
    engine.delete("k")
    cache = make_shared(near=engine)
    wait_trusted(cache)
    assert cache.get("k", "absent") == "absent"


def _sized(value):
    if isinstance(value, dict):
        raise TypeError("no size for a dict")
    return 1


def test_a_near_engine_that_refuses_a_value_does_not_fail_the_read(make_shared):
    engine = mooncake.SimpleMooncake(maxmemory=1000, getsizeof=_sized)
    reader, writer = make_shared(near=engine), make_shared()
    wait_trusted(reader)
    settled_put(reader, writer, "d", {"x": 1})
    settled_put(reader, writer, "s", "fits")
    assert reader.get("d") == {"x": 1}  # the server answered: its value
    assert reader.get_many(["d", "s"]) == {"d": {"x": 1}, "s": "fits"}
    assert reader.get("s") == "fits"
    stats = reader.get_stats()
    assert stats["fills_failed"] == 2
    assert (stats["remote_hits"], stats["near_hits"]) == (3, 1)
    assert "d" not in engine and engine.get("s") == "fits"


def test_strict_reads_stay_correct_behind_a_backlog_larger_than_the_socket_buffers(standalone, namespace):
    """A reader stopped while a burst of writes piles megabytes of pushes up in
    the server's output buffer: after it resumes, a strict read must not serve
    the old value, though the invalidation is still queued on the server."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    child = context.Process(target=paused_strict_reader, args=(standalone.url, namespace, theirs))
    writer = SharedMooncake(standalone.url, namespace=namespace)
    raw = standalone.client()
    writer.put("k", "old")
    child.start()
    try:
        assert ours.poll(30)
        ready, near_hits = ours.recv()
        assert ready == "ready" and near_hits == 1
        # The burst runs inside the server (one script), so the pause stays far
        # shorter than the heartbeat's timeout, which would flush and hide the bug.
        burst = "for i = 1, tonumber(ARGV[2]) do redis.call('SET', ARGV[1] .. i, '1') end"
        os.kill(child.pid, signal.SIGSTOP)
        try:
            # 20,000 keys of 1 kB names: about 20 MB of invalidation pushes.
            raw.eval(burst, 0, f"{namespace}s:{'x' * 1000}", 20_000)
            writer.put("k", "new")  # returned: every read from now on must see it
        finally:
            os.kill(child.pid, signal.SIGCONT)
        ours.send("read")
        assert ours.poll(60)
        value, stats = ours.recv()
        assert value == "new"
        assert stats["backlogs"] >= 1
        child.join(30)
        assert child.exitcode == 0
    finally:
        if child.is_alive():
            child.kill()
        raw.close()
        writer.clear()
        writer.close()


def test_a_user_without_dangerous_commands_gets_a_near_cache(standalone, namespace):
    """A common least-privilege ACL (+@all -@dangerous): tracking and the
    heartbeat must need nothing more (ROLE, say, is @dangerous)."""
    admin = standalone.client()
    user = f"limited-{namespace.strip(':').replace(':', '-')}"
    admin.execute_command("ACL", "SETUSER", user, "on", ">pw", "~*", "&*", "+@all", "-@dangerous")
    reader = SharedMooncake(f"redis://{user}:pw@127.0.0.1:{standalone.port}/0", namespace=namespace,
                            near=10)
    try:
        wait_trusted(reader)
        reader.put("k", 1)
        read_until_near_hit(reader, "k", 1)
    finally:
        reader.clear()
        reader.close()
        admin.execute_command("ACL", "DELUSER", user)
        admin.close()


def test_a_killed_listener_connection_flushes_the_near_cache_and_comes_back(own_server, namespace,
                                                                           shell_class):
    standalone = own_server  # no other test's listener on it
    reader = shell_class(standalone.url, namespace=namespace, near=100)
    writer = shell_class(standalone.url, namespace=namespace)
    wait_trusted(reader)
    settled_put(reader, writer, "k", 1)
    read_until_near_hit(reader, "k", 1)
    admin = standalone.client()
    try:
        listeners = [c["id"] for c in admin.client_list() if "t" in c["flags"]]
        assert len(listeners) == 1  # the reader's tracking connection
        admin.client_kill_filter(_id=listeners[0])
        wait_until(lambda: reader.get_stats()["reconnects"] >= 1, timeout=10)
        assert reader.get_stats()["flushes"] >= 1  # the old entry went with the listener
        writer.put("k", 2)
        wait_trusted(reader)
        read_until_near_hit(reader, "k", 2)
    finally:
        admin.close()
        writer.clear()
        reader.close()
        writer.close()
