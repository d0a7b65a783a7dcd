"""Hostile keys and values, fuzzed: never a crash, the twins agree where the
contract defines the outcome, and each cache always stays self-consistent
(between steps, each cache built to check itself also passes its own
``_check_invariants``).

The state machine drives the engine and the pure model side by side, each
with its own fake clock and its own copies of every hostile object, bound to
its own cache. A hostile object is described by a *spec* (drawn by hypothesis)
and built afresh for each twin, so each twin sees the same thing:

* keys whose ``__eq__`` runs an action once per key object (puts, deletes
  itself, clears, cleans up, fills the table so it is rebuilt, raises, returns
  a non-bool with a truth value, a non-bool whose truth raises, or
  NotImplemented), and keys whose ``__hash__`` always raises. Each hostile key
  of number ``n`` has its own hash, so its ``__eq__`` runs in exactly the
  lookups that meet an equal stored key, in both twins;
* values whose ``__del__`` calls put, delete, get, cleanup_expired, clear or
  len on their cache, once, and values whose ``__sizeof__`` raises (the stats
  must stay readable);
* a clock that returns something other than a finite number (infinities,
  NaN, a huge int, a string, None) for one operation, which must raise the
  same error in both twins and change nothing; a second ``__init__``; and
  reads of the access log by index from both ends, reversed and compared.

Separate tests feed both twins every kind of size a user can give (powers of
two up to 2**70, one less, negatives, wrong types) for ``maxsize``,
``maxmemory``, ``access_log_size``, ``max_metrics`` and ``max_operations``:
each is refused alike or gives a cache that works.

When several such ``__del__`` run in one step their order is not part of the
contract (the engine drops references oldest first, a Python list youngest
first). If more than one of them does something order-sensitive, the step is
still checked for self-consistency and then both twins are rebuilt afresh,
so later steps are compared again.

Keys whose hash *changes* while stored are fuzzed per twin (outcomes depend on
the table's layout, exactly as with a dict), and the thread test at the end
runs 8 mixed workers plus a sweeper with values whose ``__del__`` re-enter
the cache.
"""

import functools
import gc
import itertools
import math
import os
import random
import sys

import hypothesis.strategies as st
import pytest
from conftest import IMPLS, TWINS, FakeClock, implementation
from hypothesis import given, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from thread_runner import run_together

ENGINE_MODULE = implementation("cache", IMPLS[0])
MODEL_MODULE = implementation("cache", "py")
Engine = ENGINE_MODULE.SimpleMooncake
Model = MODEL_MODULE.SimpleMooncake

HASH_BASE = 0x5EED_0000  # hostile key n hashes to HASH_BASE + n: one hash per n


class Boom(Exception):
    """What hostile objects raise."""


class World:
    """One twin: its cache, its clock, and a log of hostile callbacks that fired."""

    def __init__(self, cls, maxsize, log_size):
        self.clock = FakeClock()
        self.cache = cls(maxsize, clock=self.clock, access_log_size=log_size)
        self.fired = []


class Truthy:
    def __bool__(self):
        return True


class NoTruth:
    def __bool__(self):
        raise Boom("no truth value")


def run_action(world, action, n):
    """A hostile action on the world's cache (deterministic, the same in both twins)."""
    cache = world.cache
    world.fired.append(action)
    if action == "put":
        cache.put(("from-hostile", n), n)
    elif action == "put_short":
        cache.put(("from-hostile", n), n, ttl=0.5)
    elif action == "delete_plain":
        cache.delete("a")
    elif action == "get":
        cache.get("b")
    elif action == "clear":
        cache.clear()
    elif action == "cleanup":
        cache.cleanup_expired()
    elif action == "len":
        len(cache)
    elif action == "fill":  # enough new keys to force a rebuild (and evictions when bounded)
        cache.put_many([(("fill", n, i), i) for i in range(40)])
    else:  # pragma: no cover - a typo in a strategy
        raise AssertionError(action)


class HostileKey:
    """Equal to any HostileKey with the same n. Its first ``__eq__`` call runs
    ``action``: a cache operation, or one of the odd results."""

    def __init__(self, world, n, action):
        self.world, self.n, self.action = world, n, action
        self.spec = ("key", n, action)

    def __hash__(self):
        return HASH_BASE + self.n

    def __eq__(self, other):
        action, self.action = self.action, None  # once per key object
        if action == "raise":
            self.world.fired.append(action)
            raise Boom("eq")
        if action == "truthy":
            return Truthy() if isinstance(other, HostileKey) and other.n == self.n else False
        if action == "no_truth":
            return NoTruth()
        if action == "not_implemented":
            # On every call, not just the first: Python then falls back to identity,
            # so the key's equality stays one answer. An answer that changed between
            # calls would make the outcome hang on how often a lookup compares, and
            # the engine's probe may meet a record twice where the twin's bucket
            # meets it once.
            self.action = action
            return NotImplemented
        if action == "delete_self":
            self.world.fired.append(action)
            self.world.cache.delete(self)
        elif action is not None:
            run_action(self.world, action, self.n)
        return isinstance(other, HostileKey) and other.n == self.n

    def __repr__(self):
        return f"HostileKey({self.n}, {self.spec[2]!r})"


class UnhashableKey:
    """A key whose ``__hash__`` always raises: it can never be stored."""

    spec = ("unhashable",)

    def __init__(self, world):
        pass

    def __hash__(self):
        raise Boom("hash")


class HostileValue:
    """A value whose ``__del__`` runs ``action`` on its cache, once."""

    def __init__(self, world, n, action):
        self.world, self.n, self.action = world, n, action
        self.spec = ("value", n, action)

    def __del__(self):
        action, self.action = self.action, None
        if action is not None:
            try:
                run_action(self.world, action, ("del", self.n))
            except Exception as exc:  # noqa: BLE001 - a __del__ cannot raise; record it
                self.world.fired.append(("del-raised", type(exc).__name__))

    def __repr__(self):
        return f"HostileValue({self.n}, {self.spec[2]!r})"


class UnmeasurableValue:
    """A value whose ``__sizeof__`` raises: stats must stay readable."""

    def __init__(self, world, n):
        self.spec = ("unmeasurable", n)

    def __sizeof__(self):
        raise Boom("no size")

    def __repr__(self):
        return f"UnmeasurableValue({self.spec[1]})"


# Specs: ("plain", x) | ("key", n, action) | ("unhashable",) | ("value", n, action) | ("unmeasurable", n)
PLAIN_KEYS = st.sampled_from(["a", "b", "c", "d", 1, 2, (1, 2)])
EQ_ACTIONS = st.sampled_from([
    None, "put", "put_short", "delete_self", "delete_plain", "get", "clear", "cleanup",
    "len", "fill", "raise", "truthy", "no_truth", "not_implemented",
])
DEL_ACTIONS = st.sampled_from(["put", "put_short", "delete_plain", "get", "clear", "cleanup", "len"])
# Actions whose order with respect to another callback in the same step does
# not change the outcome (no clock moves inside a step).
COMMUTING = {"cleanup", "len"}

key_specs = st.one_of(
    PLAIN_KEYS.map(lambda x: ("plain", x)),
    st.tuples(st.just("key"), st.integers(0, 4), EQ_ACTIONS),
    st.just(("unhashable",)),
)
value_specs = st.one_of(
    st.integers(0, 100).map(lambda x: ("plain", x)),
    st.tuples(st.just("value"), st.integers(0, 4), DEL_ACTIONS),
    st.integers(0, 4).map(lambda n: ("unmeasurable", n)),
)
# Clock readings a hostile clock may return for one operation.
BAD_READINGS = st.sampled_from([math.inf, -math.inf, math.nan, 10**400, "123", None])
ttls = st.sampled_from([0, -1, 0.5, 1, 2.5, 10, math.inf])


def build(world, spec):
    """A fresh object for ``spec``, bound to ``world``."""
    kind = spec[0]
    if kind == "plain":
        return spec[1]
    if kind == "key":
        return HostileKey(world, spec[1], spec[2])
    if kind == "unhashable":
        return UnhashableKey(world)
    if kind == "unmeasurable":
        return UnmeasurableValue(world, spec[1])
    return HostileValue(world, spec[1], spec[2])


def signature(obj):
    """What an object stands for, comparable across the twins."""
    return getattr(obj, "spec", None) or ("plain", obj)


def assert_consistent(cache):
    """len agrees with items(), and every live key is found with its value."""
    items = cache.items()
    assert len(items) == len(cache) == len(cache.keys()) == len(cache.values())
    for key, value in items:
        assert key in cache
        assert cache.storage[key]["value"] is value
    if cache.maxsize is not None:
        assert len(items) <= cache.maxsize


def drain(world):
    """Empty a cache whose values may put things back when they die."""
    for _ in range(10):
        world.cache.clear()
        gc.collect()
        if len(world.cache) == 0:
            return


class HostileAgainstModel(RuleBasedStateMachine):
    @initialize(maxsize=st.none() | st.integers(1, 5), log=st.sampled_from([0, 4]))
    def start(self, maxsize, log):
        self.params = (maxsize, log)
        self.engine = World(Engine, maxsize, log)
        self.model = World(Model, maxsize, log)
        self.resyncs = 0

    def teardown(self):
        for world in (getattr(self, "engine", None), getattr(self, "model", None)):
            if world is not None:
                drain(world)

    def both(self, call):
        """Run ``call(world)`` on each twin; compare what the contract defines."""
        outcomes = []
        for world in (self.engine, self.model):
            world.fired.clear()
            try:
                result = call(world)
                outcomes.append(("ok", _comparable(result)))
                del result  # a popped hostile value dies now, inside its own twin's turn
            except Exception as exc:  # noqa: BLE001 - compared, not swallowed
                outcomes.append(("raise", type(exc)))
        order_sensitive = [a for a in self.engine.fired + self.model.fired
                           if a not in COMMUTING and a != "raise"]
        if len(order_sensitive) > 2:  # more than one per twin: their order is unspecified
            self.resync()
            return
        assert outcomes[0] == outcomes[1], (outcomes, self.engine.fired, self.model.fired)
        assert sorted(map(repr, self.engine.fired)) == sorted(map(repr, self.model.fired))

    def resync(self):
        """Check each twin on its own, then start both afresh."""
        for world in (self.engine, self.model):
            assert_consistent(world.cache)
            drain(world)
        self.engine = World(Engine, *self.params)
        self.model = World(Model, *self.params)
        self.resyncs += 1

    @rule(key=key_specs, value=value_specs, ttl=ttls)
    def put(self, key, value, ttl):
        self.both(lambda w: w.cache.put(build(w, key), build(w, value), ttl=ttl))

    @rule(key=key_specs)
    def get(self, key):
        self.both(lambda w: w.cache.get(build(w, key), "<default>"))

    @rule(key=key_specs)
    def delete(self, key):
        self.both(lambda w: w.cache.delete(build(w, key)))

    @rule(key=key_specs)
    def pop(self, key):
        self.both(lambda w: w.cache.pop(build(w, key), "<default>"))

    @rule(key=key_specs)
    def contains(self, key):
        self.both(lambda w: build(w, key) in w.cache)

    @rule(key=key_specs, ttl=ttls)
    def touch(self, key, ttl):
        self.both(lambda w: w.cache.touch(build(w, key), ttl))

    @rule(key=key_specs)
    def ttl(self, key):
        self.both(lambda w: w.cache.ttl(build(w, key)))

    @rule(batch=st.lists(st.tuples(key_specs, value_specs), max_size=4), ttl=ttls)
    def put_many(self, batch, ttl):
        self.both(lambda w: w.cache.put_many([(build(w, k), build(w, v)) for k, v in batch], ttl=ttl))

    @rule(batch=st.lists(key_specs, max_size=4))
    def get_many(self, batch):
        self.both(lambda w: sorted(map(repr, map(signature, w.cache.get_many(
            [build(w, k) for k in batch]).values()))))

    @rule()
    def cleanup(self):
        self.both(lambda w: w.cache.cleanup_expired())

    @rule()
    def clear(self):
        self.both(lambda w: w.cache.clear())

    @rule(step=st.sampled_from([0.25, 0.5, 1, 3, 20]))
    def advance(self, step):
        self.engine.clock.advance(step)
        self.model.clock.advance(step)

    @rule()
    def overwrite_every_live_key(self):
        """Each stored key object looked up by identity: drops every value at once."""
        self.both(lambda w: [w.cache.put(k, "plain") for k in w.cache.keys()] and None)

    @rule(step=st.sampled_from([0.5, 1, 20]), key=key_specs,
          op=st.sampled_from(["get", "put", "delete", "touch", "contains", "ttl"]))
    def advance_then_lookup(self, step, key, op):
        """Meet expired entries lazily, before any invariant purges them."""
        self.advance(step)
        calls = {
            "get": lambda w, k: w.cache.get(k),
            "put": lambda w, k: w.cache.put(k, "late"),
            "delete": lambda w, k: w.cache.delete(k),
            "touch": lambda w, k: w.cache.touch(k, 1),
            "contains": lambda w, k: k in w.cache,
            "ttl": lambda w, k: w.cache.ttl(k),
        }
        self.both(lambda w: calls[op](w, build(w, key)))

    @rule(reading=BAD_READINGS, key=key_specs,
          op=st.sampled_from(["get", "put", "delete", "touch", "len", "cleanup", "items", "stats"]))
    def bad_clock_reading(self, reading, key, op):
        """One operation meets a clock reading that is not a finite number: it
        raises the same error in both twins and changes nothing."""
        calls = {
            "get": lambda w: w.cache.get(build(w, key)),
            "put": lambda w: w.cache.put(build(w, key), "v", ttl=math.inf),
            "delete": lambda w: w.cache.delete(build(w, key)),
            "touch": lambda w: w.cache.touch(build(w, key), 1),
            "len": lambda w: len(w.cache),
            "cleanup": lambda w: w.cache.cleanup_expired(),
            "items": lambda w: w.cache.items(),
            "stats": lambda w: w.cache.get_stats(),
        }
        saved = (self.engine.clock.now, self.model.clock.now)
        before = [w.cache.get_stats() for w in (self.engine, self.model)]
        self.engine.clock.now = self.model.clock.now = reading
        try:
            self.both(calls[op])
        finally:
            self.engine.clock.now, self.model.clock.now = saved
        for world, stats in zip((self.engine, self.model), before):
            after = world.cache.get_stats()
            assert after["puts"] == stats["puts"] and after["hits"] == stats["hits"]

    @rule()
    def access_log_reads(self):
        """Indexing (both ends), reversal and comparison of the access log agree."""
        def reads(w):
            log = w.cache.access_log
            n = len(log)
            return ([signature(log[i]["key"]) for i in range(-n, n)],
                    [signature(r["key"]) for r in reversed(log)],
                    log == list(log))
        self.both(reads)

    @rule()
    def second_init(self):
        """__init__ on a live cache is refused and changes nothing."""
        self.both(lambda w: w.cache.__init__(1, clock=w.clock, access_log_size=1))

    @invariant()
    def internal_invariants_hold(self):
        """Each cache that checks itself (the twin always, the engine in a
        MOONCAKE_DEBUG=1 build) passes its own invariants. Hypothesis runs an
        invariant between rules, so no hostile callback is running now, and
        the check runs no user code, so none fires."""
        for module, world in ((ENGINE_MODULE, self.engine), (MODEL_MODULE, self.model)):
            if getattr(module, "DEBUG_BUILD", False):
                fired = list(world.fired)
                world.cache._check_invariants()
                assert world.fired == fired

    @invariant()
    def consistent_and_agreeing(self):
        # Reading the caches purges expired entries, and a dying value may call
        # back: do that purge as a compared step first, so the checks below run
        # on caches that hold no expired entry (the clock does not move here).
        self.both(lambda w: len(w.cache))
        for world in (self.engine, self.model):
            world.fired.clear()
            assert_consistent(world.cache)
        engine_items = [(signature(k), signature(v)) for k, v in self.engine.cache.items()]
        model_items = [(signature(k), signature(v)) for k, v in self.model.cache.items()]
        assert engine_items == model_items
        mine, theirs = self.engine.cache.get_stats(), self.model.cache.get_stats()
        del mine["memory_usage"], theirs["memory_usage"]
        assert mine == theirs
        # The checks themselves drop no value, so no callback may have fired.
        assert self.engine.fired == self.model.fired == []


def _comparable(result):
    if isinstance(result, (list, tuple)):
        return [signature(x) for x in result]
    return signature(result) if hasattr(result, "spec") else result


# MOONCAKE_HOSTILE_EXAMPLES overrides the profile's example count (the
# valgrind script uses a small one).
_EXAMPLES = os.environ.get("MOONCAKE_HOSTILE_EXAMPLES")
HostileAgainstModel.TestCase.settings = settings(
    stateful_step_count=30, **({"max_examples": int(_EXAMPLES)} if _EXAMPLES else {}))
TestHostileAgainstModel = HostileAgainstModel.TestCase


# ----------------------------------------------------------------------------
# Keys whose hash changes while they are stored (each twin on its own: where a
# drifted key is found depends on the table's layout, exactly as with a dict).


class DriftingKey:
    """Its hash is ``base + drift``; the test moves ``drift``."""

    def __init__(self, base):
        self.base, self.drift, self.broken = base, 0, False
        self.moved = False  # its hash changed since the cache was last emptied

    def __hash__(self):
        if self.broken:
            raise Boom("hash broke after the key was stored")
        return self.base + self.drift

    def __repr__(self):
        return f"DriftingKey({self.base}, drift={self.drift}, broken={self.broken})"


drift_ops = st.lists(
    st.one_of(
        st.tuples(st.just("put"), st.integers(0, 5), st.sampled_from([0.5, 2, math.inf])),
        st.tuples(st.just("drift"), st.integers(0, 5)),
        st.tuples(st.just("break"), st.integers(0, 5)),
        st.tuples(st.just("restore"), st.integers(0, 5)),
        st.tuples(st.just("get"), st.integers(0, 5)),
        st.tuples(st.just("delete"), st.integers(0, 5)),
        st.tuples(st.just("advance"), st.sampled_from([0.6, 3])),
        st.tuples(st.just("cleanup")),
        st.tuples(st.just("plain_put"), st.integers(0, 20)),
        st.tuples(st.just("clear")),
    ),
    max_size=40,
)


def _drift_step(cache, clock, keys, op):
    kind = op[0]
    if kind == "put":
        cache.put(keys[op[1]], op[1], ttl=op[2])
    elif kind == "drift":
        keys[op[1]].drift += 1
        keys[op[1]].moved = True
    elif kind == "break":
        keys[op[1]].broken = True
        keys[op[1]].moved = True
    elif kind == "restore":
        keys[op[1]].drift, keys[op[1]].broken = 0, False
        keys[op[1]].moved = True  # back to the original hash is a move too
    elif kind == "get":
        cache.get(keys[op[1]])
    elif kind == "delete":
        cache.delete(keys[op[1]])
    elif kind == "advance":
        clock.advance(op[1])
    elif kind == "cleanup":
        cache.cleanup_expired()
    elif kind == "plain_put":
        cache.put(("plain", op[1]), op[1])  # fills a bounded cache: evictions
    elif kind == "clear":
        cache.clear()
        for key in keys:
            key.moved = False


def _check_drift_cache(cache, keys):
    items = cache.items()
    assert len(items) == len(cache) == len(cache.keys())
    if cache.maxsize is not None:
        assert len(items) <= cache.maxsize
    for key, value in items:
        if isinstance(key, DriftingKey) and key.moved:
            # Its hash moved while it may have been stored: each of its entries
            # may be hidden, or stored twice, depending on the layout, as in a dict.
            continue
        assert cache.storage[key]["value"] is value


@pytest.mark.parametrize("impl_name", IMPLS)
@given(ops=drift_ops, maxsize=st.none() | st.integers(1, 4))
def test_keys_whose_hash_changes_never_corrupt_the_cache(impl_name, ops, maxsize):
    """Removal (expiry, eviction, clear) of a key whose hash has since changed or
    now raises must work: the cache keeps the hash it computed at put time."""
    clock = FakeClock()
    module = implementation("cache", impl_name)
    cache = module.SimpleMooncake(maxsize, clock=clock, access_log_size=0)
    keys = [DriftingKey(HASH_BASE + 100 + i) for i in range(6)]
    for op in ops:
        try:
            _drift_step(cache, clock, keys, op)
        except Boom:
            assert op[0] in ("put", "get", "delete")  # only a lookup of a broken key may raise
        if getattr(module, "DEBUG_BUILD", False):
            cache._check_invariants()  # it never hashes a key: a broken one is no trouble
        _check_drift_cache(cache, keys)
    for key in keys:
        key.drift, key.broken = 0, False
    clock.advance(10_000)
    cache.cleanup_expired()
    cache.clear()
    assert len(cache) == 0 and cache.items() == []


@pytest.mark.parametrize("impl_name", IMPLS)
@pytest.mark.parametrize("removal", ["expire", "evict", "purge_on_put"])
@pytest.mark.parametrize("change", ["drift", "break"])
def test_removing_a_key_whose_hash_changed_after_put(impl_name, removal, change):
    """Minimal form of what the fuzz above found: the cache must not re-hash a
    stored key to remove it (it may have changed, or raise, by now)."""
    clock = FakeClock()
    cache = implementation("cache", impl_name).SimpleMooncake(1, clock=clock)
    key = DriftingKey(7)
    cache.put(key, "v", ttl=1)
    if change == "drift":
        key.drift = 1
    else:
        key.broken = True
    if removal == "expire":
        clock.advance(2)
        assert cache.cleanup_expired() == 1
    elif removal == "evict":
        cache.put("other", 1)
        assert cache.get_stats()["evictions"] == 1
    else:  # purge_on_put
        clock.advance(2)
        cache.put("other", 1)  # the full cache purges the expired key first
        assert cache.get_stats()["expirations"] == 1
    assert cache.keys() == (["other"] if removal != "expire" else [])


# ----------------------------------------------------------------------------
# Threads: plain keys, values whose __del__ re-enters the cache.

THREADS = 8
OPS = 3000


class ReentrantValue:
    """A value that, when dropped (overwrite is never used here: keys are
    unique), runs one cache operation and tallies it."""

    __slots__ = ("cache", "action", "tally", "__weakref__")

    def __init__(self, cache, action, tally):
        self.cache, self.action, self.tally = cache, action, tally

    def __del__(self):
        cache, tally = self.cache, self.tally
        if self.action == "put":
            cache.put(("del", next(tally["ids"])), 0, ttl=1.0)
            tally["puts"].append(1)
        elif self.action == "delete":
            deleted = cache.delete(("del", next(tally["ids"]) - 1))
            tally["deletes"].append(int(deleted))
        elif self.action == "get":
            cache.get(("del", 0))
            tally["gets"].append(1)
        elif self.action == "cleanup":
            cache.cleanup_expired()
        else:
            len(cache)
            cache.get_stats()


@pytest.fixture
def fast_switching():
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


@pytest.mark.parametrize("maxsize", [None, 200])
def test_threads_with_reentrant_values_lose_nothing(cache_cls, fast_switching, maxsize):
    """8 workers (put/get/delete on unique keys, values whose __del__ re-enters
    the cache) and one sweeper (cleanup_expired, get_stats, moving the fake
    clock). Every put is live or left by exactly one counted way, and each
    counter equals what the threads and callbacks did."""
    clock = FakeClock()
    cache = cache_cls(maxsize, clock=clock)
    tally = {"ids": itertools.count(), "puts": [], "deletes": [], "gets": []}
    worker_puts = [0] * THREADS
    worker_gets = [0] * THREADS
    worker_deletes = [0] * THREADS
    immortal = [set() for _ in range(THREADS)]  # put with ttl=inf, not deleted
    actions = ["put", "delete", "get", "cleanup", "stats"]

    def worker(n):
        rng = random.Random(n)
        for i in range(OPS):
            op = rng.random()
            if op < 0.5:
                ttl = rng.choice([0.05, 1.0, math.inf])
                cache.put((n, i), ReentrantValue(cache, rng.choice(actions), tally), ttl=ttl)
                worker_puts[n] += 1
                if ttl == math.inf:
                    immortal[n].add((n, i))
            elif op < 0.85:
                cache.get((n, rng.randrange(i + 1)))
                worker_gets[n] += 1
            else:
                key = (n, rng.randrange(i + 1))
                if cache.delete(key):
                    worker_deletes[n] += 1
                immortal[n].discard(key)

    def sweeper(stop):
        while not stop.is_set():
            clock.advance(0.01)  # a float store: atomic enough for a fake clock
            cache.cleanup_expired()
            stats = cache.get_stats()
            if maxsize is not None:
                assert stats["total_objects"] <= maxsize

    run_together([functools.partial(worker, n) for n in range(THREADS)], sweeper)

    stats = cache.get_stats()
    assert stats["puts"] == sum(worker_puts) + len(tally["puts"])
    assert stats["hits"] + stats["misses"] == sum(worker_gets) + len(tally["gets"])
    assert stats["deletes"] == sum(worker_deletes) + sum(tally["deletes"])
    # Every key was new and every ttl positive: each put is live now, or left
    # by exactly one counted way.
    assert stats["puts"] == (stats["total_objects"] + stats["deletes"]
                             + stats["evictions"] + stats["expirations"])
    if maxsize is None:
        assert stats["evictions"] == 0
        live = set(cache.keys())
        missing = [k for keys in immortal for k in keys if k not in live]
        assert missing == []
    else:
        assert stats["total_objects"] <= maxsize and stats["evictions"] > 0
    cache.clear()  # the values' __del__ may put again; drop what they left
    cache.clear()


# ----------------------------------------------------------------------------
# Sizes from user input: every size a user can give is checked before any
# arithmetic, alike in both twins (a size that wraps once crashed the engine).

SIZES = st.one_of(
    st.integers(-3, 70).map(lambda e: 2**e if e >= 0 else e),
    st.integers(-3, 70).map(lambda e: 2**e - 1 if e >= 0 else e),
    st.sampled_from([True, 1.0, "10", None]),
)


def _outcome(make):
    try:
        return ("ok", make())
    except Exception as exc:  # noqa: BLE001 - compared, not swallowed
        return ("raise", type(exc))


@settings(max_examples=200)
@given(setting=st.sampled_from(["maxsize", "maxmemory", "access_log_size"]), size=SIZES)
def test_sizes_from_user_input_are_checked_alike(setting, size):
    outcomes = []
    for cls in (Engine, Model):
        kind, made = _outcome(lambda cls=cls: cls(clock=FakeClock(), **{setting: size}))
        if kind == "ok":
            # A cache that was built works: fill it, read it, log its hits.
            for i in range(50):
                made.put(i, i)
                made.get(i)
            made = (len(made), [r["key"] for r in made.access_log][-3:], made.get_stats()["puts"])
        outcomes.append((kind, made))
    assert outcomes[0] == outcomes[1]


@settings(max_examples=100)
@given(setting=st.sampled_from(["max_metrics", "max_operations"]), size=SIZES)
def test_monitor_sizes_from_user_input_are_checked_alike(setting, size):
    outcomes = []
    for impl in TWINS if len(TWINS) == 2 else ("py", "py"):
        cls = implementation("monitor", impl).SimpleMonitor
        kind, made = _outcome(lambda cls=cls: cls(clock=FakeClock(), **{setting: size}))
        if kind == "ok":
            for i in range(50):
                made.record_operation(f"op{i % 7}", 0.001 * i, True)
            made = (len(made.metrics), made.get_supported_operations())
        outcomes.append((kind, made))
    assert outcomes[0] == outcomes[1]
