"""SIEVE evicts exactly as the paper's pseudo-code (Zhang et al., NSDI'24, Fig. 2).

``PaperSieve`` transcribes the paper's algorithm on a doubly linked list, the
way libCacheSim implements it, and both twins are held to its eviction order
on get / put-on-miss traces, with deletes mixed in.
"""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FakeClock


class _Node:
    __slots__ = ("key", "visited", "newer", "older")

    def __init__(self, key):
        self.key = key
        self.visited = False
        self.newer = None  # the paper's "prev": towards the head, where new objects go
        self.older = None


class PaperSieve:
    """The paper's SIEVE: new objects at the head, the hand moving from the
    tail (oldest) towards the head, and back to the tail past the head."""

    def __init__(self, capacity):
        self.capacity = capacity
        self.nodes = {}
        self.head = self.tail = self.hand = None
        self.evicted = []

    def access(self, key):
        """A get, with a put on a miss. True on a hit."""
        node = self.nodes.get(key)
        if node is not None:
            node.visited = True
            return True
        if len(self.nodes) >= self.capacity:
            self._evict()
        node = self.nodes[key] = _Node(key)
        node.older = self.head
        if self.head is not None:
            self.head.newer = node
        self.head = node
        if self.tail is None:
            self.tail = node
        return False

    def delete(self, key):
        node = self.nodes.get(key)
        if node is not None:
            self._unlink(node)

    def _evict(self):
        obj = self.hand or self.tail
        while obj.visited:
            obj.visited = False
            obj = obj.newer or self.tail
        self.evicted.append(obj.key)
        self.hand = obj  # unlinking it moves the hand to obj's newer neighbour
        self._unlink(obj)

    def _unlink(self, node):
        if node is self.hand:
            self.hand = node.newer  # None: the next search starts at the tail
        if node.newer is not None:
            node.newer.older = node.older
        else:
            self.head = node.older
        if node.older is not None:
            node.older.newer = node.newer
        else:
            self.tail = node.newer
        del self.nodes[node.key]


def _run_on_cache(make_cache, capacity, trace):
    evicted = []
    cache = make_cache(
        maxsize=capacity,
        policy="sieve",
        on_remove=lambda key, value, reason: reason == "evicted" and evicted.append(key),
    )
    for op, key in trace:
        if op == "delete":
            cache.delete(key)
        elif cache.get(key) is None:
            cache.put(key, key, 3600)
    return evicted, cache


def _run_on_paper(capacity, trace):
    paper = PaperSieve(capacity)
    for op, key in trace:
        if op == "delete":
            paper.delete(key)
        else:
            paper.access(key)
    return paper


def test_hand_returns_to_the_oldest_after_evicting_the_newest(make_cache):
    # a, b; a is hit; c evicts b (the newest), so the hand goes back to the
    # oldest: d then evicts a (its visited bit was cleared), not c.
    trace = [("get", k) for k in "abacd"]
    evicted, cache = _run_on_cache(make_cache, 2, trace)
    assert evicted == ["b", "a"] == _run_on_paper(2, trace).evicted
    assert sorted(cache.keys()) == ["c", "d"]


def test_deleting_the_entries_under_the_hand_sends_it_back_to_the_oldest(make_cache):
    # a is hit, so d evicts b and the hand rests on c. Deleting c moves it to
    # d; deleting d leaves nothing newer, so it goes back to the oldest, a.
    # After e and f, g evicts a. A hand left on the holes would evict e.
    trace = [("get", k) for k in "abcad"] + [("delete", "c"), ("delete", "d")]
    trace += [("get", k) for k in "efg"]
    evicted, cache = _run_on_cache(make_cache, 3, trace)
    assert evicted == ["b", "a"] == _run_on_paper(3, trace).evicted
    assert sorted(cache.keys()) == ["e", "f", "g"]


_traces = st.lists(
    st.tuples(st.sampled_from(["get"] * 6 + ["delete"]), st.integers(0, 24)),
    max_size=300,
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # cache_cls is stateless
@given(capacity=st.integers(1, 12), trace=_traces)
def test_eviction_order_matches_the_paper(cache_cls, capacity, trace):
    evicted, cache = _run_on_cache(lambda **kw: cache_cls(clock=FakeClock(), **kw), capacity, trace)
    paper = _run_on_paper(capacity, trace)
    assert evicted == paper.evicted
    assert sorted(cache.keys()) == sorted(paper.nodes)
