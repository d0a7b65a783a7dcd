"""The pure twin's self-check: ``SimpleMooncake._check_invariants`` of
``mooncake.cache.twin`` calls ``check_invariants`` here, under the cache's lock.

It reads the twin's private state and runs no user code (no hash, ``==``,
clock or ``getsizeof`` of the user's); each failed check raises
AssertionError naming the invariant, even under ``python -O``.
"""

import math

from .twin import _PLAIN_KEYS

_COUNTER_VALUES = bytes(range(16))  # what a sketch counter may hold


def _check(condition, message, *args):
    """An invariant check that ``python -O`` does not strip; the message is
    formatted with ``args`` only when it fails (the checks run per entry)."""
    if not condition:
        raise AssertionError(message.format(*args) if args else message)


def check_invariants(cache):
    """Every invariant of ``cache`` (a twin ``SimpleMooncake``, initialised)."""
    entries = _check_table(cache)
    _check_expiry_heap(cache, entries)
    _check_policy_state(cache)
    _check_budget(cache)
    _check(len(cache._log) <= cache._log_size and cache._log.maxlen == cache._log_size,
           f"access log: {len(cache._log)} records, bound {cache._log_size} "
           f"(deque maxlen {cache._log.maxlen})")
    counters = (cache._hits, cache._misses, cache._puts, cache._deletes,
                cache._expirations, cache._evictions)
    _check(all(c >= 0 for c in counters), f"counters: a negative counter in {counters}")


def _check_table(cache):
    """Key <-> record mapping: the buckets and the SIEVE queue hold the same
    entries, each once, filed under its own hash and seq. Returns the
    entries by id."""
    queue = cache._queue
    seqs = list(queue)
    _check(seqs == sorted(seqs), "queue: seqs not in insertion order")
    by_id = {}
    for seq, entry in queue.items():
        _check(entry.seq == seq, "queue: entry filed under seq {} has seq {}", seq, entry.seq)
        _check(0 <= seq < cache._next_seq, "queue: seq {} outside 0 .. {}", seq, cache._next_seq - 1)
        _check(not entry.removed, "graveyard: removed entry (seq {}) still in the queue", seq)
        _check(entry.ttl > 0 and entry.ttl == entry.ttl,
               "entry: seq {} stored with ttl {!r}", seq, entry.ttl)
        _check(entry.hits >= 0, "entry: seq {} has {} hits", seq, entry.hits)
        by_id[id(entry)] = entry
    in_buckets = 0
    for key_hash, bucket in cache._buckets.items():
        _check(len(bucket) > 0, "buckets: empty bucket left for hash {:#x}", key_hash)
        plain = set()
        for entry in bucket:
            in_buckets += 1
            _check(entry.hash == key_hash,
                   "buckets: entry of hash {:#x} in bucket {:#x}", entry.hash, key_hash)
            _check(queue.get(entry.seq) is entry,
                   "key <-> record: bucket entry (seq {}) is not the queue's record", entry.seq)
            if type(entry.key) in _PLAIN_KEYS:  # equal exact str/int/bytes: no user code
                _check((type(entry.key), entry.key) not in plain,
                       "key <-> record: key {!r} stored twice", entry.key)
                plain.add((type(entry.key), entry.key))
    _check(in_buckets == len(queue),
           f"live count: {in_buckets} entries in the buckets, {len(queue)} in the queue")
    if cache._maxsize is not None:
        _check(len(queue) <= cache._maxsize, f"live count: {len(queue)} > maxsize {cache._maxsize}")
    return by_id

def _check_expiry_heap(cache, entries):
    """Heap order on (expires_at, token); each entry that can expire has
    exactly one current heap item, with its exact expiry (the twin files a
    new item on every (re)schedule, so its keys are never lazy); entries
    that never expire have none. Stale items keep no key or value alive."""
    heap = cache._heap
    for i in range(1, len(heap)):
        parent = (i - 1) // 2
        _check(heap[parent][:2] <= heap[i][:2],
               "heap order: item {} {} below its parent {}", i, heap[i][:2], heap[parent][:2])
    current = {}
    for expires_at, token, entry in heap:
        _check(0 < token <= cache._heap_tokens, "heap: token {} never issued", token)
        if entry.removed:
            _check(entry.key is None and entry.value is None,
                   "graveyard: a stale heap item keeps a removed key or value alive")
            continue
        _check(id(entry) in entries, "heap: item for seq {} whose entry is not stored", entry.seq)
        if entry.heap_token != token:
            continue  # stale: the entry was scheduled again since
        _check(entry.ttl != math.inf, "heap membership: seq {} never expires, but is filed", entry.seq)
        _check(id(entry) not in current, "heap membership: seq {} filed twice", entry.seq)
        _check(expires_at == entry.expires_at,
               "heap key: seq {} filed at {}, expires at {}", entry.seq, expires_at, entry.expires_at)
        current[id(entry)] = entry
    for entry in entries.values():
        if entry.ttl != math.inf:
            _check(id(entry) in current, "heap membership: seq {} can expire, but is not filed", entry.seq)

def _check_policy_state(cache):
    """The SIEVE hand, and W-TinyLFU-SIEVE's window/main split and admission state."""
    queue = cache._queue
    _check(cache._hand == 0 or cache._hand in queue, f"SIEVE hand: {cache._hand} is no stored entry")
    state = cache._admission
    if not cache._tinylfu:
        _check(cache._n_main == cache._n_window == 0 and state is None,
               "tinylfu: window/main state kept without the tinylfu policy")
        return
    _check(0 <= cache._boundary <= cache._next_seq,
           f"boundary: {cache._boundary} outside 0 .. {cache._next_seq}")
    _check(cache._hand == 0 or cache._hand < cache._boundary,
           f"SIEVE hand: {cache._hand} is in the window (boundary {cache._boundary})")
    _check(cache._n_main + cache._n_window == len(queue),
           f"window + main: {cache._n_main} + {cache._n_window} != live {len(queue)}")
    n_main = sum(1 for seq in queue if seq < cache._boundary)
    _check(cache._n_main == n_main,
           f"boundary rule: main counts {cache._n_main}, {n_main} stored below seq {cache._boundary}")
    _check(cache._n_main <= cache._maxsize - 1,
           f"boundary rule: main holds {cache._n_main} of maxsize {cache._maxsize}, no room left for the window")
    if state is None:
        _check(cache._n_main == 0, "admission: main has entries but no admission state was built")
        return
    _check(state.maxsize == cache._maxsize, f"admission: built for maxsize {state.maxsize}")
    _check(1 <= state.window_share() <= max(1, cache._maxsize - 1),
           f"admission: window share {state.window_share()} outside 1 .. maxsize - 1")
    _check(len(state.rows) == 4 and all(len(row) == state.width for row in state.rows),
           "admission: sketch is not 4 rows of its width")
    _check(not any(row.translate(None, _COUNTER_VALUES) for row in state.rows),
           "admission: a sketch counter above 15")
    _check(0 <= state.additions < state.sample,
           f"admission: {state.additions} additions since the last halving, sample {state.sample}")
    _check(16 <= state.sample <= max(16, 10 * state.maxsize),
           f"admission: halving period {state.sample} outside 16 .. 10 x maxsize")
    _check(1 <= state.window_max <= max(1, state.maxsize - 1),
           f"admission: window_max {state.window_max} outside 1 .. maxsize - 1")
    _check(0 <= state.new_keys < state.vote_period
           and min(state.grow_votes, state.shrink_votes) >= 0
           and state.grow_votes + state.shrink_votes <= state.new_keys,
           f"admission: {state.grow_votes} + {state.shrink_votes} votes over "
           f"{state.new_keys} new keys (weighed every {state.vote_period})")
    for name, ghost in (("rejected", state.rejected), ("evicted", state.evicted)):
        _check(len(ghost.young) < ghost.per_generation and len(ghost.old) <= ghost.per_generation,
               f"admission: {name} ghost over its generation size {ghost.per_generation}")

def _check_budget(cache):
    """The byte budget: the sum of the weights, within maxmemory."""
    sizes = [entry.size for entry in cache._queue.values()]
    if cache._maxmemory is None:
        _check(cache._memory == 0 and not any(sizes), "budget: weights kept without maxmemory")
        return
    _check(all(size >= 0 for size in sizes), "budget: a negative weight")
    _check(cache._memory == sum(sizes),
           f"budget: memory {cache._memory} != sum of the weights {sum(sizes)}")
    _check(cache._memory <= cache._maxmemory, f"budget: memory {cache._memory} > maxmemory {cache._maxmemory}")

# -- pickling and copying ---------------------------------------------
