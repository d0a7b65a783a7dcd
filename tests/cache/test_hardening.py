"""Regression tests for the first hostile review of the Cython engine (the
hardening round of issue #9): sizes, half-initialised
caches, deep re-entry, the byte budget, clock readings, ttl() and the access log.

Cases that crashed the interpreter run in a subprocess, so a segfault fails
one test, not the run.
"""

import math
import pickle
import subprocess
import sys
import textwrap
import tracemalloc

import pytest
from conftest import IMPLS, FakeClock, implementation

from mooncake.cache.arguments import MAX_ACCESS_LOG_SIZE, MAX_SIZE
from mooncake.user_code import MAX_USER_CODE_DEPTH

MODULE = {"c": "mooncake.cache._engine", "py": "mooncake.cache.twin"}


def run_isolated(impl, body):
    """Run ``body`` in a fresh interpreter with ``SimpleMooncake`` of ``impl``
    imported; return its stdout (a crash or a non-zero exit fails the test)."""
    code = f"from {MODULE[impl]} import SimpleMooncake\n" + textwrap.dedent(body)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"exit {done.returncode}\nstdout:{done.stdout}\nstderr:{done.stderr[-3000:]}"
    return done.stdout


# -- 1. sizes from user input ------------------------------------------------


@pytest.mark.parametrize("size", [2**60, 2**64, MAX_ACCESS_LOG_SIZE + 1])
def test_access_log_size_above_the_maximum_is_refused(cache_cls, size):
    with pytest.raises(ValueError, match="access_log_size"):
        cache_cls(access_log_size=size)


@pytest.mark.parametrize("name", ["maxsize", "maxmemory"])
def test_bounds_above_the_maximum_are_refused(cache_cls, name):
    with pytest.raises(ValueError, match=name):
        cache_cls(**{name: MAX_SIZE + 1})
    cache = cache_cls(**{name: MAX_SIZE})
    assert getattr(cache, name) == MAX_SIZE


def test_huge_access_log_then_many_hits_does_not_crash(impl):
    out = run_isolated(impl, f"""
        cache = SimpleMooncake(access_log_size={MAX_ACCESS_LOG_SIZE})
        cache.put("k", 1)
        for _ in range(100_000):
            cache.get("k")
        log = cache.access_log
        print(len(log), log[0]["key"], log[-1]["key"])
    """)
    assert out.split() == ["100000", "k", "k"]


def test_a_large_access_log_bound_costs_nothing_until_used(cache_cls):
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        cache = cache_cls(access_log_size=10**9)
        after = tracemalloc.get_traced_memory()[0]
        cache.put("k", 1)
        for _ in range(1000):
            cache.get("k")
        used = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert after - before < 64 * 1024
    assert used - before < 1024 * 1024  # 1000 hits, not 10**9 records
    assert len(cache.access_log) == 1000


def test_access_log_ring_keeps_the_newest_hits_in_order_while_it_grows(make_cache):
    cache = make_cache(access_log_size=40)
    for i in range(100):
        cache.put(i, i)
        cache.get(i)
        expected = list(range(max(0, i - 39), i + 1))
        assert [r["key"] for r in cache.access_log] == expected


# -- 2. __init__ runs once; nothing works before it ----------------------------


def test_second_init_on_a_live_cache_is_refused_and_changes_nothing(make_cache, clock):
    cache = make_cache(2, access_log_size=5)
    cache.put("a", 1)
    cache.get("a")
    with pytest.raises(TypeError, match="only once"):
        cache.__init__(1, access_log_size=1, clock=clock)
    assert cache.maxsize == 2
    assert cache.items() == [("a", 1)]
    assert len(cache.access_log) == 1


def test_init_that_failed_on_its_clock_leaves_an_unusable_cache(impl):
    out = run_isolated(impl, """
        class Broken(Exception):
            pass
        def clock():
            raise Broken()
        cache = SimpleMooncake.__new__(SimpleMooncake)
        try:
            cache.__init__(access_log_size=100, clock=clock)
        except Broken:
            pass
        try:
            cache.__init__(access_log_size=1, clock=lambda: 1.0)
        except TypeError:
            print("init-refused")
        for call in (lambda: cache.put("k", 1), lambda: cache.get("k"), lambda: len(cache),
                     cache.get_stats, cache.clear, lambda: list(cache.access_log)):
            try:
                call()
            except RuntimeError:
                print("refused")
    """)
    assert out.split() == ["init-refused"] + ["refused"] * 6


def test_methods_before_init_refuse_instead_of_storing(cache_cls):
    class Prefilled(cache_cls):
        def __init__(self):
            self.put("early", 1)
            super().__init__(maxmemory=1000)

    with pytest.raises(RuntimeError, match="not initialised"):
        Prefilled()
    bare = cache_cls.__new__(cache_cls)
    with pytest.raises(RuntimeError):
        bare.put("k", 1)
    assert "not initialised" in repr(bare)
    bare.__init__(maxmemory=1000)  # never initialised: the first __init__ may run
    bare.put("k", "v")
    assert 0 < bare.get_stats()["memory_usage"] <= 1000


# -- 3. deep re-entry ends in RecursionError ------------------------------------


REENTRY = {
    "on_remove": """
        def on_remove(key, value, reason):
            depth[0] += 1
            cache.put(("k", depth[0]), 1)
        cache = SimpleMooncake(1, on_remove=on_remove)
        cache.put("a", 1)
        cache.put("b", 2)
    """,
    "monitor": """
        class Monitor:
            def record_operation(self, *args):
                depth[0] += 1
                cache.get(depth[0])
        cache = SimpleMooncake(monitor=Monitor())
        cache.get(0)
    """,
    "clock": """
        ready = [False]
        def clock():
            if ready[0]:
                depth[0] += 1
                cache.get(depth[0])
            return 1.0
        cache = SimpleMooncake(clock=clock)
        ready[0] = True
        try:
            cache.get(0)
        except RecursionError:
            errors.append(RecursionError)
    """,
    "key_eq": """
        class Key:
            def __init__(self, n):
                self.n = n
            def __hash__(self):
                return 1
            def __eq__(self, other):
                depth[0] += 1
                cache.get(Key(self.n + 1))
                return False
        cache = SimpleMooncake()
        cache.put(Key(0), 1)
        try:
            cache.get(Key(1))
        except RecursionError:
            errors.append(RecursionError)
    """,
    "key_hash": """
        class Key:
            def __hash__(self):
                depth[0] += 1
                cache.get(Key())
                return 1
        cache = SimpleMooncake()
        try:
            cache.get(Key())
        except RecursionError:
            errors.append(RecursionError)
    """,
}


@pytest.mark.parametrize("limit", [7000, 1_000_000])
@pytest.mark.parametrize("source", sorted(REENTRY))
def test_deep_reentry_ends_in_recursion_error_not_a_crash(impl, source, limit):
    out = run_isolated(impl, f"""
        import sys
        sys.setrecursionlimit({limit})
        depth = [0]
        errors = []
        sys.unraisablehook = lambda u: errors.append(u.exc_type)
    """ + REENTRY[source] + """
        print(depth[0], RecursionError in errors)
    """)
    depth, raised = out.split()
    assert 100 < int(depth) <= MAX_USER_CODE_DEPTH + 1  # (a plain dict segfaults at 1_000_000)
    assert raised == "True"


@pytest.mark.skipif("c" not in IMPLS, reason="the engine is not built (MOONCAKE_PURE_PYTHON=1)")
def test_both_twins_share_the_reentry_bound():
    engine = implementation("cache", "c")

    assert engine.MAX_USER_CODE_DEPTH == MAX_USER_CODE_DEPTH


# -- 4. the byte budget never wraps ---------------------------------------------


def test_byte_budget_near_the_top_of_the_range_holds_what_fits(make_cache):
    cache = make_cache(maxmemory=2**63 - 1, getsizeof=lambda value: 2**62)
    for i in range(6):
        assert cache.put(i, i) is True
    assert cache.keys() == [5]
    assert cache.get_stats()["memory_usage"] == 2**62


def test_weight_beyond_any_size_is_refused_not_overflowed(make_cache):
    cache = make_cache(maxmemory=100, getsizeof=lambda value: value)
    assert cache.put("huge", 2**80) is False
    assert cache.put("ok", 60) is True
    assert cache.put("ok", 2**80) is False
    assert cache.items() == [("ok", 60)]
    assert cache.get_stats()["memory_usage"] == 60


# -- 5. clock readings must be finite ---------------------------------------------


@pytest.mark.parametrize("reading, error", [
    (math.inf, ValueError), (-math.inf, ValueError), (math.nan, ValueError),
    (10**400, ValueError), ("123", TypeError),
])
def test_non_finite_clock_readings_are_refused(make_cache, clock, reading, error):
    cache = make_cache()
    cache.put("k", 1, ttl=10)
    good = clock.now
    clock.now = reading
    with pytest.raises(error, match="clock"):
        cache.put("x", 1, ttl=math.inf)
    with pytest.raises(error, match="clock"):
        cache.get("k")
    clock.now = good
    assert cache.items() == [("k", 1)]
    assert cache.get_stats()["puts"] == 1


def test_a_clock_that_starts_infinite_is_refused_at_init(cache_cls):
    with pytest.raises(ValueError, match="clock"):
        cache_cls(clock=lambda: math.inf)


# -- 6. ttl() never reads above the ttl given ----------------------------------------


def test_ttl_never_exceeds_the_ttl_given_on_a_fake_clock(make_cache, clock):
    cache = make_cache()
    clock.now = 1000.0
    cache.put("k", 1, 1 / 3)
    assert cache.ttl("k") <= 1 / 3
    assert cache.ttl("k") == 1 / 3
    for ttl in (0.1, 0.7, 1e-9, 123.456):
        cache.put(ttl, 1, ttl)
        assert cache.ttl(ttl) <= ttl
    clone = pickle.loads(pickle.dumps(cache))
    assert clone.ttl("k") <= 1 / 3


def test_ttl_never_exceeds_the_ttl_given_on_the_builtin_clock(cache_cls):
    cache = cache_cls()
    for i in range(2000):
        ttl = (i + 1) / 7
        cache.put(i, i, ttl)
        assert cache.ttl(i) <= ttl


# -- 8. the access log is a real sequence ---------------------------------------------


def test_access_log_indexing_and_reversal_do_not_snapshot(cache_cls, clock):
    snapshots = []

    class Counting(cache_cls):
        def _access_log_snapshot(self):
            snapshots.append(1)
            return super()._access_log_snapshot()

    cache = Counting(clock=clock, access_log_size=50)
    for i in range(60):
        cache.put(i, i)
        cache.get(i)
    log = cache.access_log
    assert [log[i]["key"] for i in range(len(log))] == list(range(10, 60))
    assert log[-1]["key"] == 59 and log[-50]["key"] == 10
    assert snapshots == []
    with pytest.raises(IndexError):
        log[50]
    with pytest.raises(IndexError):
        log[-51]
    assert [r["key"] for r in reversed(log)] == list(range(59, 9, -1))
    assert len(snapshots) == 1
    assert log == list(log)
    assert log == tuple(log)
    assert log != list(log)[1:]
    assert log[2:5] == list(log)[2:5]


# -- 9. stats stay readable -------------------------------------------------------------


def test_stats_survive_a_value_whose_sizeof_raises(make_cache):
    class Unmeasurable:
        def __sizeof__(self):
            raise RuntimeError("no size")

    class Enormous:
        def __sizeof__(self):
            return 2**70  # sys.getsizeof refuses it (OverflowError)

    class Big:
        def __sizeof__(self):
            return 2**62

    cache = make_cache()
    cache.put("a", Unmeasurable())
    cache.put("b", Enormous())
    stats = cache.get_stats()
    assert stats["total_objects"] == 2
    assert 0 < stats["memory_usage"] < 10_000  # the odd ones count as their base size
    cache.put("c", Big())
    cache.put("d", Big())
    assert cache.get_stats()["memory_usage"] > 2**63  # a Python int: the sum never wraps


# -- 7. pickling and copying ---------------------------------------------------------------

import copy  # noqa: E402

CLONES = {
    "pickle": lambda c: pickle.loads(pickle.dumps(c)),
    "copy": copy.copy,
    "deepcopy": copy.deepcopy,
}


@pytest.mark.parametrize("how", sorted(CLONES))
def test_a_cache_with_a_monitor_can_be_cloned(make_cache, monitor_mod, how):
    monitor = monitor_mod.SimpleMonitor(clock=FakeClock(50.0))
    cache_clock = FakeClock()
    cache = make_cache(monitor=monitor, clock=cache_clock)
    cache.put("k", 1)
    cache.get("k")
    twin = CLONES[how](cache)
    assert twin.get("k") == 1
    assert monitor.get_operation_count("get") == (2 if how == "copy" else 1)


class Holder:
    """A value that refers back to its cache."""


def _wrapping(base, name):
    class Wrapping(base):
        """A subclass with its own __init__ signature, an attribute and a put that wraps."""

        puts = []

        def __init__(self, label):
            super().__init__(clock=FakeClock())
            self.label = label

        def put(self, key, value, ttl=3600):
            self.puts.append(key)
            return super().put(key, ("wrapped", value), ttl)

    Wrapping.__name__ = Wrapping.__qualname__ = name
    globals()[name] = Wrapping
    return Wrapping


WRAPPING = {impl: _wrapping(implementation("cache", impl).SimpleMooncake, f"Wrapping_{impl}")
            for impl in IMPLS}


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_self_references_come_back_pointing_at_the_clone(make_cache, how):
    cache = make_cache(clock=FakeClock())
    holder = Holder()
    holder.cache = cache
    cache.put("holder", holder)
    cache.put("self", cache)
    twin = CLONES[how](cache)
    assert twin is not cache
    assert twin.get("self") is twin
    assert twin.get("holder").cache is twin


@pytest.mark.parametrize("how", sorted(CLONES))
def test_subclasses_are_restored_without_their_init_or_put(impl, how):
    cls = WRAPPING[impl]
    cls.puts.clear()
    cache = cls("mine")
    cache.put("k", 1)
    twin = CLONES[how](cache)
    assert type(twin) is cls
    assert twin.label == "mine"
    assert twin.get("k") == ("wrapped", 1)
    assert cls.puts == ["k"]


def test_setstate_refuses_a_live_cache(make_cache):
    cache = make_cache()
    cache.put("k", 1)
    state = cache.__reduce__()[2]
    with pytest.raises(TypeError):
        cache.__setstate__(state)
    assert cache.items() == [("k", 1)]


# -- 9. the item syntax follows a subclass's named methods, monitored or not -------------


@pytest.mark.parametrize("monitored", [False, True], ids=["plain", "monitored"])
def test_item_syntax_always_goes_through_overridden_methods(cache_cls, monitor_mod, monitored):
    calls = []

    class Logged(cache_cls):
        def put(self, key, value, ttl=3600):
            calls.append(("put", key))
            return super().put(key, value * 2, ttl)

        def get(self, key, default=None):
            calls.append(("get", key))
            return super().get(key, default)

        def delete(self, key):
            calls.append(("delete", key))
            return super().delete(key)

    monitor = monitor_mod.SimpleMonitor() if monitored else None
    cache = Logged(clock=FakeClock(), monitor=monitor)
    cache["k"] = 21
    assert cache["k"] == 42
    del cache["k"]
    with pytest.raises(KeyError):
        cache["k"]
    with pytest.raises(KeyError):
        del cache["k"]
    assert calls == [("put", "k"), ("get", "k"), ("delete", "k"), ("get", "k"), ("delete", "k")]


@pytest.mark.parametrize("seconds_left, error", [(math.nan, ValueError), ("1", TypeError)])
def test_a_corrupt_state_is_refused_not_stored(cache_cls, seconds_left, error):
    state = cache_cls(clock=FakeClock()).__reduce__()[2]
    state["entries"] = [("k", 1, seconds_left)]
    fresh = cache_cls.__new__(cache_cls)
    with pytest.raises(error):
        fresh.__setstate__(state)
