"""The default policy evicts exactly as its specification, W-TinyLFU-SIEVE
(``bench/POLICY.md``).

``ReferenceWTinyLfuSieve`` transcribes the specification's pseudo-code on a
plain list of records that is never compacted (the engine compacts its array
and remaps the hand and the window's boundary, so the two layouts differ), and
both twins are held to its eviction order on get / put-on-miss traces with
int keys, deletes mixed in.
"""

import copy
import pickle
import random
import sys
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import IMPLS, FakeClock, implementation

MASK32 = 0xFFFFFFFF
MASK64 = 0xFFFFFFFFFFFFFFFF


def _key_hash(key):
    """The hash both engines decide on: the high 32 bits, times an odd
    constant, xor-ed onto the low 32."""
    h = hash(key) & MASK64
    return (h & MASK32) ^ (((h >> 32) * 0x9E3779B1) & MASK32)


def _slots(key, width):
    h = (_key_hash(key) * 0x9E3779B97F4A7C15) & MASK64
    h ^= h >> 32
    h1, h2 = h & MASK32, (h >> 32) | 1
    return [((h1 + i * h2) & MASK32) * width >> 32 for i in range(4)]


def _fingerprint(key):
    f = (_key_hash(key) * 0xD6E8FEB86659FD93) & MASK64
    return ((f ^ (f >> 32)) & MASK32) or 1


class _Ghost:
    def __init__(self, ghost_keys):
        self.half = max(1, ghost_keys // 2)
        self.young, self.old = set(), set()

    def add(self, key):
        self.young.add(_fingerprint(key))
        if len(self.young) >= self.half:
            self.old, self.young = self.young, set()

    def __contains__(self, key):
        f = _fingerprint(key)
        return f in self.young or f in self.old


class ReferenceWTinyLfuSieve:
    """The specification, step by step: records in insertion order (None: a
    hole), ``[0, boundary)`` main with its SIEVE hand, the rest the window."""

    def __init__(self, maxsize):
        self.maxsize = maxsize
        self.keys, self.visited, self.index = [], [], {}
        self.boundary = self.hand = self.n_main = self.n_window = 0
        self.window_max = max(1, round(0.01 * maxsize))
        self.window_step = max(1, maxsize * 2 // 1000)
        self.width = max(16, maxsize * 13 // 4)
        self.rows = [[0] * self.width for _ in range(4)]
        self.additions, self.sample = 0, self.halving_period()
        self.rejected = _Ghost(max(2, maxsize // 10))
        self.evicted = _Ghost(max(2, maxsize // 10))
        self.vote_period = max(2, maxsize // 20)
        self.new_keys = self.grow_votes = self.shrink_votes = 0
        self.evictions = []

    def halving_period(self):
        return max(16, 10 * self.maxsize - 34 * min(self.window_max, self.maxsize // 4))

    def increment(self, key):
        counters = [(row, slot) for row, slot in zip(self.rows, _slots(key, self.width))]
        low = min(row[slot] for row, slot in counters)
        for row, slot in counters:
            if row[slot] == low and low < 15:
                row[slot] += 1
        self.additions += 1
        if self.additions >= self.sample:
            self.additions = 0
            self.sample = self.halving_period()
            self.rows = [[c >> 1 for c in row] for row in self.rows]

    def vote(self, key):
        if key in self.rejected:
            self.grow_votes += 1
        elif key in self.evicted:
            self.shrink_votes += 1
        self.new_keys += 1
        if self.new_keys == self.vote_period:
            r, e = self.grow_votes, self.shrink_votes
            self.new_keys = self.grow_votes = self.shrink_votes = 0
            if (r - e) ** 2 > 2 * (r + e):
                steps = max(-8, min(8, r - e))
                self.window_max = max(1, min(self.maxsize - 1,
                                             self.window_max + steps * self.window_step))

    def estimate(self, key):
        return min(row[slot] for row, slot in zip(self.rows, _slots(key, self.width)))

    def access(self, key):
        """A get; on a miss, a put of the key."""
        i = self.index.get(key)
        if i is not None:
            self.visited[i] = True
            self.increment(key)
            return
        self.vote(key)
        self.increment(key)
        if self.n_main + self.n_window + 1 > self.maxsize:
            self.make_room()
        self.index[key] = len(self.keys)
        self.keys.append(key)
        self.visited.append(False)
        self.n_window += 1

    def delete(self, key):
        i = self.index.get(key)
        if i is not None:
            self._remove(i)

    def oldest_window(self):
        i = self.boundary
        while self.keys[i] is None:
            i += 1
        return i

    def make_room(self):
        window_max = max(1, min(self.maxsize - 1, self.window_max))
        main_max = self.maxsize - window_max
        w = self.n_window + 1
        while w > window_max and self.n_main < main_max:
            self.boundary = self.oldest_window() + 1
            self.n_window, self.n_main, w = self.n_window - 1, self.n_main + 1, w - 1
        if self.n_main == 0:
            self.remove_candidate(self.oldest_window())
        elif w > window_max:
            c = self.oldest_window()
            v = self.sieve_victim()
            ec, ev = self.estimate(self.keys[c]), self.estimate(self.keys[v])
            if ec > ev or (ec == ev and self.visited[c]):
                self.remove_main(v)
                self.boundary = c + 1
                self.n_window, self.n_main = self.n_window - 1, self.n_main + 1
            else:
                self.remove_candidate(c)
        else:
            self.remove_main(self.sieve_victim())

    def sieve_victim(self):
        i = self.hand
        while True:
            if i >= self.boundary:
                i = 0
            if self.keys[i] is not None:
                if not self.visited[i]:
                    self.hand = i
                    return i
                self.visited[i] = False
            i += 1

    def remove_main(self, v):
        self.evicted.add(self.keys[v])
        self.evictions.append(self.keys[v])
        self._remove(v)

    def remove_candidate(self, c):
        self.rejected.add(self.keys[c])
        self.evictions.append(self.keys[c])
        self._remove(c)
        self.boundary = c + 1

    def _remove(self, i):
        del self.index[self.keys[i]]
        self.keys[i] = None
        if i < self.boundary:
            self.n_main -= 1
        else:
            self.n_window -= 1
        if i == self.hand:
            j = i + 1
            while j < self.boundary and self.keys[j] is None:
                j += 1
            self.hand = j if j < self.boundary else 0


def _run_on_cache(cache_cls, maxsize, trace):
    evicted = []
    cache = cache_cls(
        maxsize, clock=FakeClock(),
        on_remove=lambda key, value, reason: reason == "evicted" and evicted.append(key),
    )
    for op, key in trace:
        if op == "delete":
            cache.delete(key)
        elif cache.get(key) is None:
            cache.put(key, key)
    return evicted, cache


def _run_on_reference(maxsize, trace):
    ref = ReferenceWTinyLfuSieve(maxsize)
    for op, key in trace:
        (ref.delete if op == "delete" else ref.access)(key)
    return ref


_traces = st.lists(
    st.tuples(st.sampled_from(["get"] * 12 + ["delete"]), st.integers(0, 60)),
    max_size=400,
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # cache_cls is stateless
@given(maxsize=st.integers(1, 30), trace=_traces)
def test_eviction_order_matches_the_specification(cache_cls, maxsize, trace):
    evicted, cache = _run_on_cache(cache_cls, maxsize, trace)
    ref = _run_on_reference(maxsize, trace)
    assert evicted == ref.evictions
    assert sorted(cache.keys()) == sorted(ref.index)


@pytest.mark.parametrize("maxsize, seed", [(200, 1), (1000, 2)])
def test_skewed_trace_with_a_moving_hot_set_matches_the_specification(cache_cls, maxsize, seed):
    # Large enough for window steps, ghost generations and halvings to matter.
    rnd = random.Random(seed)
    trace = []
    for phase in range(4):
        hot = 3 * maxsize * phase
        trace += [("get", hot + int(rnd.paretovariate(0.8)) % (4 * maxsize)) for _ in range(12 * maxsize)]
        trace += [("get", 10**6 + k % (maxsize + maxsize // 5)) for k in range(3 * maxsize)]  # a loop
    evicted, cache = _run_on_cache(cache_cls, maxsize, trace)
    ref = _run_on_reference(maxsize, trace)
    assert evicted == ref.evictions
    assert len(evicted) > len(trace) // 20
    assert sorted(cache.keys()) == sorted(ref.index)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(maxsize=st.integers(1, 20), trace=_traces)
def test_a_key_just_put_is_readable_right_after(cache_cls, maxsize, trace):
    cache = cache_cls(maxsize, clock=FakeClock())
    for op, key in trace:
        if op == "delete":
            cache.delete(key)
        elif cache.get(key) is None:
            cache.put(key, key)
            assert key in cache  # not a hit: the trace goes on unchanged
        assert len(cache) <= maxsize


def test_clear_starts_the_policy_over(cache_cls):
    rnd = random.Random(7)
    first = [("get", rnd.randrange(300)) for _ in range(3000)]
    second = [("get", int(rnd.paretovariate(1.0)) % 300) for _ in range(3000)]
    evicted, cache = _run_on_cache(cache_cls, 50, first)
    evicted.clear()
    cache.clear()
    for _, key in second:
        if cache.get(key) is None:
            cache.put(key, key)
    assert evicted == _run_on_reference(50, second).evictions


def test_default_policy_is_tinylfu_and_sieve_with_a_byte_budget(cache_cls):
    assert cache_cls(10).policy == "tinylfu"
    assert cache_cls().policy == "tinylfu"
    assert cache_cls(10, maxmemory=1000).policy == "sieve"
    assert cache_cls(10, policy="sieve").policy == "sieve"


@pytest.mark.parametrize("policy, error", [
    (1, TypeError), (b"sieve", TypeError), ("lru", ValueError), ("SIEVE", ValueError),
])
def test_bad_policy_is_refused(cache_cls, policy, error):
    with pytest.raises(error, match="policy"):
        cache_cls(10, policy=policy)


def test_tinylfu_with_a_byte_budget_is_refused(cache_cls):
    with pytest.raises(ValueError, match="maxmemory"):
        cache_cls(10, maxmemory=1000, policy="tinylfu")


@pytest.mark.parametrize("policy", ["sieve", "tinylfu"])
def test_pickling_and_copying_keep_the_policy(cache_cls, policy):
    cache = cache_cls(5, policy=policy)
    for k in range(8):
        cache.put(k, k)
    for twin in (pickle.loads(pickle.dumps(cache)), copy.copy(cache), copy.deepcopy(cache)):
        assert twin.policy == policy
        assert twin.items() == cache.items()


def test_a_huge_maxsize_allocates_nothing_up_front(cache_cls):
    # The sketch and ghosts (8 B per unit of maxsize) are built when such a
    # cache first fills, not at construction.
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        cache = cache_cls(sys.maxsize)
        cache.put(1, 1)
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert cache.get(1) == 1
    assert grown < 100_000


def test_sketch_and_ghosts_cost_at_most_8_bytes_per_unit_of_maxsize(cache_cls):
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        sieve = cache_cls(100_000, policy="sieve")
        plain = tracemalloc.get_traced_memory()[0] - before
        del sieve
        before = tracemalloc.get_traced_memory()[0]
        cache = cache_cls(100_000)
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert cache.policy == "tinylfu"
    if type(cache).__module__ == "mooncake.cache._engine":
        assert 6 * 100_000 < grown - plain <= 8 * 100_000
    else:  # the twin keeps a byte per counter: readable, not small
        assert grown - plain > 4 * 100_000


@pytest.mark.parametrize("impl_name", [name for name in IMPLS if name == "c"])  # the twin: too slow
def test_a_cache_above_the_eager_bound_builds_its_policy_when_it_first_fills(impl_name):
    from mooncake.cache.twin_admission import EAGER_MAXSIZE

    maxsize = EAGER_MAXSIZE + 1
    cache = implementation("cache", impl_name).SimpleMooncake(maxsize, access_log_size=0)
    cache.put_many((k, None) for k in range(maxsize))
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        cache.put("new", 1)  # the first eviction builds the sketch and ghosts
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert cache.get("new") == 1
    assert len(cache) == maxsize and cache.get_stats()["evictions"] == 1
    assert 6 * maxsize < grown <= 8 * maxsize
