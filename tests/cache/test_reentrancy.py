"""Keys and values whose Python methods fight back: never a crash, never a
corrupted table, and the cache stays usable and self-consistent."""

import gc
import sys

import pytest


def assert_consistent(cache):
    """Every live key is found by get, and len, keys and items agree."""
    items = cache.items()
    assert len(items) == len(cache) == len(cache.keys())
    for key, value in items:
        assert cache.get(key, "<gone>") is value


class MutatingKey:
    """Equal to another MutatingKey with the same n; its __eq__ runs ``action``."""

    def __init__(self, n, action=None):
        self.n = n
        self.action = action

    def __hash__(self):
        return 777

    def __eq__(self, other):
        if self.action is not None:
            action, self.action = self.action, None  # once, so the lookup can finish
            action()
        return isinstance(other, MutatingKey) and other.n == self.n


@pytest.mark.parametrize("mutation", ["put", "delete", "clear", "cleanup", "fill"])
def test_eq_that_mutates_the_cache_during_lookup(make_cache, clock, mutation):
    cache = make_cache()
    stored = MutatingKey(1)
    cache.put(stored, "one")
    cache.put("victim", "v", ttl=1)
    actions = {
        "put": lambda: cache.put("new", "n"),
        "delete": lambda: cache.delete(stored),
        "clear": cache.clear,
        "cleanup": lambda: (clock.advance(2), cache.cleanup_expired()),
        "fill": lambda: cache.put_many({i: i for i in range(200)}),  # forces a rebuild
    }
    stored.action = actions[mutation]
    result = cache.get(MutatingKey(1))
    assert result in ("one", None)
    if mutation in ("delete", "clear"):
        assert MutatingKey(1) not in cache
    else:
        assert cache.get(MutatingKey(1)) == "one"
    assert_consistent(cache)


def test_eq_that_raises_propagates_and_changes_nothing(make_cache):
    class Boom(Exception):
        pass

    class RaisingKey:
        def __hash__(self):
            return 5

        def __eq__(self, other):
            raise Boom

    cache = make_cache()
    cache.put(RaisingKey(), 1)
    cache.put("k", 2)
    before = cache.get_stats()
    for call in (
        lambda c: c.get(RaisingKey()),
        lambda c: c.put(RaisingKey(), 3),
        lambda c: c.delete(RaisingKey()),
    ):
        with pytest.raises(Boom):
            call(cache)
    assert cache.get_stats() == before
    assert len(cache) == 2


def test_eq_returning_a_non_bool_uses_its_truth_and_errors_propagate(make_cache):
    class Truthy:
        def __bool__(self):
            return True

    class NoTruth:
        def __bool__(self):
            raise ValueError("ambiguous")

    class OddKey:
        def __init__(self, result):
            self.result = result

        def __hash__(self):
            return 9

        def __eq__(self, other):
            return self.result

    cache = make_cache()
    cache.put(OddKey(Truthy()), "found")
    assert cache.get(OddKey(Truthy())) == "found"
    cache.clear()
    cache.put(OddKey(NoTruth()), "x")
    with pytest.raises(ValueError):
        cache.get(OddKey(NoTruth()))
    assert len(cache) == 1


def test_hash_that_raises_changes_nothing(make_cache):
    class BadHash:
        def __hash__(self):
            raise ArithmeticError("no hash")

    cache = make_cache()
    cache.put("k", 1)
    before = cache.get_stats()
    with pytest.raises(ArithmeticError):
        cache.put(BadHash(), 1)
    with pytest.raises(ArithmeticError):
        cache.get(BadHash())
    assert cache.get_stats() == before


def test_hash_that_changes_only_hides_the_key(make_cache):
    class Drifting:
        def __init__(self):
            self.h = 1

        def __hash__(self):
            return self.h

    cache = make_cache()
    key = Drifting()
    cache.put(key, "v")
    key.h = 2
    assert cache.get(key) is None  # like dict: looked for in the wrong place
    key.h = 1
    assert cache.get(key) == "v"
    assert_consistent(cache)


class CallbackOnDel:
    """A value whose __del__ calls back into the cache."""

    def __init__(self, action):
        self.action = action

    def __del__(self):
        self.action()


# Int keys: their hashes do not change from run to run (str hashes do), so
# which entry the frequency sketch deems least worth keeping is the same in
# every run.
OTHER, HOSTILE, FROM_DEL = 1000, 1001, 1002


@pytest.mark.parametrize("callback", ["put", "delete", "cleanup", "clear", "len", "get"])
@pytest.mark.parametrize("removal", ["overwrite", "delete", "expire", "evict", "clear", "pop"])
def test_value_del_may_call_back_into_the_cache(make_cache, clock, callback, removal):
    cache = make_cache(4)
    calls = []

    def action():
        calls.append(callback)
        {
            "put": lambda: cache.put(FROM_DEL, 1),
            "delete": lambda: cache.delete(OTHER),
            "cleanup": cache.cleanup_expired,
            "clear": cache.clear,
            "len": lambda: len(cache),
            "get": lambda: cache.get(OTHER),
        }[callback]()

    cache.put(OTHER, 0)
    cache.put(HOSTILE, CallbackOnDel(action), ttl=5)
    if removal == "overwrite":
        cache.put(HOSTILE, "plain")
    elif removal == "delete":
        cache.delete(HOSTILE)
    elif removal == "pop":
        cache.pop(HOSTILE)
    elif removal == "expire":
        clock.advance(5)
        cache.cleanup_expired()
    elif removal == "evict":
        cache.get(OTHER)
        for i in range(3):
            # Each new key is read twice, so under either policy it is worth
            # more than HOSTILE, the oldest entry not read: that one goes.
            cache.put(i, i)
            cache.get(i)
            cache.get(i)
    elif removal == "clear":
        cache.clear()
    gc.collect()
    assert calls == [callback]
    assert_consistent(cache)


def test_dropping_the_cache_runs_value_dels_safely(cache_cls):
    seen = []

    class Noisy:
        def __del__(self):
            seen.append(1)

    cache = cache_cls()
    cache.put_many({i: Noisy() for i in range(100)})
    del cache
    gc.collect()
    assert len(seen) == 100


def test_lookup_gives_up_on_an_eq_that_always_mutates(make_cache):
    cache = make_cache()

    class Relentless:
        def __hash__(self):
            return 1

        def __eq__(self, other):
            cache.put(object(), 0)  # changes the table on every comparison
            return False

    cache.put(Relentless(), 1)
    with pytest.raises(RuntimeError):
        cache.get(Relentless())
    assert len(cache) == len(cache.keys())


def test_refcounts_return_to_start_after_fill_and_clear(make_cache, clock):
    keys = [f"key-{i}" for i in range(300)] + [(i, "t") for i in range(100)]
    values = [object() for _ in keys]
    start = [sys.getrefcount(o) for o in keys + values]
    cache = make_cache(250, access_log_size=0)
    for i, (key, value) in enumerate(zip(keys, values)):
        cache.put(key, value, ttl=1 + i % 7)
        cache.get(keys[i // 2])
        if i % 5 == 0:
            cache.put(key, values[-1 - i])  # overwrite
        if i % 11 == 0:
            cache.delete(keys[i // 3])
        if i % 13 == 0:
            clock.advance(1)
            cache.cleanup_expired()
    cache.clear()
    del key, value  # the loop's own references
    assert [sys.getrefcount(o) for o in keys + values] == start


def test_refcounts_return_to_start_when_the_cache_dies(make_cache):
    keys = [f"key-{i}" for i in range(100)]
    values = [object() for _ in keys]
    start = [sys.getrefcount(o) for o in keys + values]
    cache = make_cache(access_log_size=10)
    for key, value in zip(keys, values):
        cache.put(key, value)
        cache.get(key)
    assert [sys.getrefcount(o) for o in keys] != start[: len(keys)]
    del cache, key, value
    gc.collect()
    assert [sys.getrefcount(o) for o in keys + values] == start
