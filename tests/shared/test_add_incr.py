"""add (store only if absent) and incr/decr (atomic across processes)."""

import math
import multiprocessing

import pytest

from mooncake.shared import SharedMooncake

SHELLS = ("sync", "async")  # every test runs through both shells (see conftest)


def test_add_stores_only_when_absent(shared):
    assert shared.add("k", "first") is True
    assert shared.add("k", "second") is False
    assert shared.get("k") == "first"


def test_add_keeps_the_ttl_it_was_given(shared):
    assert shared.add("k", 1, ttl=100)
    assert 99 < shared.ttl("k") <= 100
    assert shared.add("forever", 1, ttl=math.inf)
    assert shared.ttl("forever") == math.inf


@pytest.mark.parametrize("ttl", [0, -1])
def test_add_with_ttl_at_most_zero_stores_nothing_and_says_whether_it_was_absent(shared, ttl):
    assert shared.add("k", 1, ttl=ttl) is True
    assert "k" not in shared
    shared.put("k", "held")
    assert shared.add("k", 2, ttl=ttl) is False
    assert shared.get("k") == "held"


def test_add_of_bad_input_raises_before_sending(shared, commands_sent):
    with pytest.raises(TypeError):
        shared.add(["unhashable"], 1)
    with pytest.raises(ValueError):
        shared.add("k", 1, ttl=math.nan)
    with pytest.raises(TypeError):
        shared.add("k", lambda: 1)  # pickle refuses it
    assert commands_sent() == 0


def test_incr_adds_and_keeps_the_ttl(shared):
    shared.put("n", 41, ttl=100)
    assert shared.incr("n") == 42
    assert shared.incr("n", 10) == 52
    assert shared.decr("n", 12) == 40
    assert shared.incr("n", -40) == 0
    assert shared.get("n") == 0
    assert 99 < shared.ttl("n") <= 100


def test_incr_of_an_absent_key_raises_key_error(shared):
    with pytest.raises(KeyError):
        shared.incr("absent")
    assert "absent" not in shared


@pytest.mark.parametrize("value", [None, "41", 4.5, True])
def test_incr_of_a_value_that_is_not_an_int_raises_type_error(shared, value):
    shared.put("k", value)
    with pytest.raises(TypeError):
        shared.incr("k")
    assert shared.get("k") == value


@pytest.mark.parametrize("delta", [1.0, "1", True, None])
def test_incr_by_something_else_than_an_int_raises_before_sending(shared, commands_sent, delta):
    with pytest.raises(TypeError):
        shared.incr("k", delta)
    assert commands_sent() == 0


def test_incr_handles_huge_ints(shared):
    shared.put("n", 2**100)
    assert shared.incr("n", 2**100) == 2**101


def _bump(url, namespace, times):
    cache = SharedMooncake(url, namespace=namespace)
    for _ in range(times):
        cache.incr("n")
    cache.close()


def test_incr_from_many_processes_loses_no_increment(shared, server, namespace):
    shared.put("n", 0)
    context = multiprocessing.get_context("spawn")
    children = [context.Process(target=_bump, args=(server.url, namespace, 100)) for _ in range(4)]
    for child in children:
        child.start()
    _bump(server.url, namespace, 100)
    for child in children:
        child.join(120)
        assert child.exitcode == 0
    assert shared.get("n") == 500


def test_a_near_cache_reads_its_own_increment(make_shared):
    cache = make_shared(near=100)
    cache.put("n", 1)
    assert cache.get("n") == 1
    assert cache.incr("n") == 2
    assert cache.get("n") == 2
