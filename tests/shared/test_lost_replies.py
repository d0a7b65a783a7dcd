"""A lost reply is not an answer: when a command ran on the server but its reply
never came, redis-py's retry must not turn "it worked" into "nothing was there".

The replies are lost by a FaultProxy (tests/shared/fault_proxy.py) between the
cache and a standalone server: the proxy forwards the command, the server runs
it, and the proxy drops the connection instead of returning the reply. Only
standalone: a Cluster's replies name its nodes' real addresses, which a client
would reach around the proxy. The commands are the same on a Cluster (the
scripts keep every key they touch in one slot).
"""

import threading

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from mooncake.shared import SharedCacheError, SharedMooncake
from mooncake.shared.memo_keys import SharedMemoKeys

from .fault_proxy import FaultProxy


@pytest.fixture
def proxy(standalone):
    with FaultProxy(standalone.port) as proxy:
        yield proxy


@pytest.fixture
def raw_standalone(standalone):
    client = standalone.client()
    yield client
    client.close()


@pytest.fixture
def through(proxy, namespace):
    """A SharedMooncake whose every command passes the proxy (its URL, so the
    cache's own retry: one, at once, after a dropped connection)."""
    made = []

    def make(**kwargs):
        kwargs.setdefault("namespace", namespace)
        cache = SharedMooncake(kwargs.pop("url", proxy.url), **kwargs)
        made.append(cache)
        return cache

    yield make
    for cache in made:
        try:
            cache.clear()
        finally:
            cache.close()


def _touches(name):
    """Matches a command that has ``name`` among its arguments."""
    return lambda args: name in args


def test_the_proxy_loses_a_reply_after_the_server_ran_the_command(proxy, raw_standalone, namespace):
    client = redis.Redis(port=proxy.port, retry=Retry(NoBackoff(), 0))
    counter = namespace + "counter"
    try:
        assert client.incr(counter) == 1  # forwarded both ways
        proxy.lose_reply(_touches(counter.encode()))
        with pytest.raises(redis.exceptions.ConnectionError):
            client.incr(counter)
        assert proxy.lost == [[b"INCRBY", counter.encode(), b"1"]]
        assert raw_standalone.get(counter) == b"2"  # it ran all the same
        assert client.incr(counter) == 3  # and the proxy forwards again on a new connection
    finally:
        raw_standalone.delete(counter)
        client.close()


@pytest.mark.parametrize("near", [None, 10])
def test_pop_whose_reply_was_lost_still_returns_the_value(through, proxy, raw_standalone, near):
    cache = through(near=near)
    cache.put("warm", 0)
    cache.pop("warm")  # the first call may load a script: not the command to lose
    cache.put("k", "value")
    proxy.lose_reply(_touches(cache._namespace.key("k")))
    assert cache.pop("k", "default") == "value"
    assert len(proxy.lost) == 1
    assert raw_standalone.exists(cache._namespace.key("k")) == 0
    assert cache.get_stats()["deletes"] == 2
    assert len(cache) == 0  # the receipt holding the value is a helper key, not an entry


@pytest.mark.parametrize("near", [None, 10])
def test_delete_whose_reply_was_lost_still_says_it_removed_the_key(through, proxy, raw_standalone, near):
    cache = through(near=near)
    cache.put("warm", 0)
    cache.delete("warm")
    cache.put("k", "value")
    proxy.lose_reply(_touches(cache._namespace.key("k")))
    assert cache.delete("k") is True
    assert len(proxy.lost) == 1
    assert raw_standalone.exists(cache._namespace.key("k")) == 0
    assert cache.delete("k") is False  # a later delete of an absent key is still False


def test_touch_to_zero_whose_reply_was_lost_still_says_the_key_was_there(through, proxy):
    cache = through()
    cache.put("warm", 0)
    cache.touch("warm", 0)
    cache.put("k", "value")
    proxy.lose_reply(_touches(cache._namespace.key("k")))
    assert cache.touch("k", 0) is True
    assert len(proxy.lost) == 1


def test_a_retried_pop_does_not_answer_for_a_later_value(through, proxy, raw_standalone):
    """A pop that found nothing records nothing: a retry may take a value written
    in between, which is one pop at the retry's time, never a value popped twice."""
    cache = through()
    cache.put("warm", 0)
    cache.pop("warm")
    cache.put("k", "first")
    assert cache.pop("k") == "first"
    assert cache.pop("k", "default") == "default"  # each pop has its own token
    cache.put("k", "second")
    assert cache.pop("k") == "second"


def test_a_lost_reply_without_a_retry_is_a_shared_cache_error(proxy, namespace):
    """A client that does not retry: the outcome is unknown, so the call raises
    (with fail_open it answers as absent: "unknown", not "it was not there")."""
    for fail_open in (False, True):
        client = redis.Redis(port=proxy.port, retry=Retry(NoBackoff(), 0))
        cache = SharedMooncake(client=client, namespace=namespace, fail_open=fail_open)
        try:
            cache.put("k", "value")
            proxy.lose_reply(_touches(cache._namespace.key("k")))
            if fail_open:
                assert cache.pop("k", "unknown") == "unknown"
            else:
                with pytest.raises(SharedCacheError):
                    cache.pop("k")
            assert len(proxy.lost) == 1 + fail_open
        finally:
            cache.clear()
            client.close()


def _lock_of(cache, func, args, lease):
    keys = SharedMemoKeys(cache, func, None, False, namespace=cache._namespace, count=None, clear=None)
    return cache._core.lock_name(keys.make(args, {}).name)


def test_a_lone_caller_whose_lock_reply_was_lost_computes_at_once(through, proxy, raw_standalone):
    cache = through()
    calls = []

    @cache.memoize(ttl=60, lease=600)
    def work(x):
        calls.append(x)
        return x * 2

    lock = _lock_of(cache, work.__wrapped__, (21,), 600)
    proxy.lose_reply(lambda args: args[:2] == [b"SET", lock])
    outcome = []
    caller = threading.Thread(target=lambda: outcome.append(work(21)), daemon=True)
    caller.start()
    caller.join(60)  # a hang guard: without the fix it waits out the 600 s lease
    assert not caller.is_alive(), "the caller waited for its own lock"
    assert outcome == [42] and calls == [21]
    assert proxy.lost and proxy.lost[0][:2] == [b"SET", lock]
    assert raw_standalone.exists(lock) == 0  # released
