"""The backbone: the Cython engine and the pure-Python model, step by step.

A hypothesis state machine drives both caches under one fake clock with the
same operations and checks after every step that results, ``len``, the live
items, the views, every counter and the removals reported to ``on_remove``
(reasons included) agree, with and without a size bound and a byte budget,
and that each cache built to check itself passes its own ``_check_invariants``.
"""

import math

import hypothesis.strategies as st
from conftest import IMPLS, FakeClock, implementation
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

ENGINE_MODULE = implementation("cache", IMPLS[0])
MODEL_MODULE = implementation("cache", "py")
Engine = ENGINE_MODULE.SimpleMooncake
Model = MODEL_MODULE.SimpleMooncake


class Collide:
    """Distinct keys sharing one hash, so lookups must fall back to __eq__."""

    __slots__ = ("n",)

    def __init__(self, n):
        self.n = n

    def __hash__(self):
        return 12345

    def __eq__(self, other):
        return isinstance(other, Collide) and other.n == self.n

    def __repr__(self):
        return f"Collide({self.n})"


keys = st.one_of(
    st.sampled_from(["a", "b", "c", "d", "e", "f"]),
    st.integers(-3, 3),  # 1 == 1.0 == True: equal keys of different types
    st.sampled_from([1.0, True, 0.0, (1, 2), ("a", (1,)), frozenset({1})]),
    st.builds(Collide, st.integers(0, 4)),
)
values = st.integers(0, 1000) | st.text(max_size=20)
ttls = st.one_of(
    st.sampled_from([0, -1, math.inf, 1, 2.5, 10, 3600]),
    st.floats(min_value=-1, max_value=20, allow_nan=False),
)


def _order(item):
    return repr(item)


def weight(value):
    """A getsizeof for the byte budget that both twins compute alike."""
    return len(repr(value))


class CacheAgainstModel(RuleBasedStateMachine):
    @initialize(
        maxsize=st.none() | st.integers(1, 6),
        log=st.sampled_from([0, 3, 10000]),
        maxmemory=st.none() | st.integers(20, 200),
        getsizeof=st.sampled_from([None, weight]),
    )
    def build(self, maxsize, log, maxmemory, getsizeof):
        self.clock = FakeClock()
        self.events = {"engine": [], "model": []}
        options = dict(clock=self.clock, access_log_size=log, maxmemory=maxmemory, getsizeof=getsizeof)
        self.engine = Engine(maxsize, on_remove=self.recorder("engine"), **options)
        self.model = Model(maxsize, on_remove=self.recorder("model"), **options)

    def recorder(self, name):
        def on_remove(key, value, reason):
            self.events[name].append((key, value, reason))

        return on_remove

    def both(self, call):
        """Run ``call`` on both caches; they must return or raise alike, and
        report the same removals (within one call, in any order)."""
        outcomes = []
        for cache in (self.engine, self.model):
            try:
                outcomes.append(("ok", call(cache)))
            except Exception as exc:  # noqa: BLE001 - compared, not swallowed
                outcomes.append(("raise", type(exc)))
        assert outcomes[0] == outcomes[1], outcomes
        self.same_removals()
        return outcomes[0][1]

    def same_removals(self):
        engine, model = self.events["engine"], self.events["model"]
        assert sorted(engine, key=_order) == sorted(model, key=_order)
        engine.clear()
        model.clear()

    @rule(key=keys, value=values, ttl=ttls)
    def put(self, key, value, ttl):
        self.both(lambda c: c.put(key, value, ttl=ttl))

    @rule(key=keys, value=values)
    def setitem(self, key, value):
        self.both(lambda c: c.__setitem__(key, value))

    @rule(key=keys)
    def get(self, key):
        self.both(lambda c: c.get(key, "<default>"))

    @rule(key=keys)
    def getitem(self, key):
        self.both(lambda c: c[key])

    @rule(key=keys)
    def delete(self, key):
        self.both(lambda c: c.delete(key))

    @rule(key=keys, default=st.none() | st.just("dflt"))
    def pop(self, key, default):
        if default is None:
            self.both(lambda c: c.pop(key))
        else:
            self.both(lambda c: c.pop(key, default))

    @rule(key=keys)
    def contains(self, key):
        self.both(lambda c: key in c)

    @rule(key=keys, ttl=ttls)
    def touch(self, key, ttl):
        self.both(lambda c: c.touch(key, ttl))

    @rule(key=keys)
    def ttl(self, key):
        self.both(lambda c: c.ttl(key))

    @rule(batch=st.lists(st.tuples(keys, values), max_size=5), ttl=ttls)
    def put_many(self, batch, ttl):
        self.both(lambda c: c.put_many(batch, ttl=ttl))

    @rule(batch=st.lists(keys, max_size=5))
    def get_many(self, batch):
        self.both(lambda c: sorted(c.get_many(batch).items(), key=_order))

    @rule()
    def cleanup(self):
        self.both(lambda c: c.cleanup_expired())

    @precondition(lambda self: True)
    @rule(step=st.sampled_from([0.5, 1, 2.5, 10]) | st.floats(0, 5, allow_nan=False))
    def advance(self, step):
        self.clock.advance(step)

    @rule()
    def clear(self):
        self.both(lambda c: c.clear())

    @invariant()
    def internally_consistent(self):
        """Each cache whose module checks itself (the twin always; the engine
        in a MOONCAKE_DEBUG=1 build) passes its own invariants after every step."""
        for module, cache in ((ENGINE_MODULE, self.engine), (MODEL_MODULE, self.model)):
            if getattr(module, "DEBUG_BUILD", False):
                cache._check_invariants()

    @invariant()
    def agree(self):
        assert len(self.engine) == len(self.model)
        self.same_removals()  # len drops expired entries
        assert self.engine.items() == self.model.items()  # same SIEVE (insertion) order
        assert self.engine.get_stats() == self.model.get_stats()
        engine_log = [(r["key"], r["timestamp"]) for r in self.engine.access_log]
        model_log = [(r["key"], r["timestamp"]) for r in self.model.access_log]
        assert [k for k, _ in engine_log] == [k for k, _ in model_log]
        for key in self.model.keys():
            mine, theirs = self.engine.storage[key], self.model.storage[key]
            assert (mine["value"], mine["ttl"], mine["access_count"]) == (
                theirs["value"], theirs["ttl"], theirs["access_count"])
            assert self.engine.ttl(key) == self.model.ttl(key)
        if self.model.maxsize is not None:
            assert len(self.engine) <= self.model.maxsize
        if self.model.maxmemory is not None:
            assert self.engine.get_stats()["memory_usage"] <= self.model.maxmemory
        self.same_removals()


TestCacheAgainstModel = CacheAgainstModel.TestCase
