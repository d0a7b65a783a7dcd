"""W-TinyLFU-SIEVE's bookkeeping for the pure twin: the frequency sketch, the
two ghosts and the window's share (specification: ``bench/POLICY.md``).

The engine keeps the same numbers in C buffers; both compute every slot and
fingerprint from the key's hash alike, so their decisions are identical.
The last part, ``evict_tinylfu``, is the policy's eviction step over the
twin's own records: which window record joins main, is admitted, or is evicted.
"""

MASK32 = 0xFFFFFFFF
MASK64 = 0xFFFFFFFFFFFFFFFF
_HALVE = bytes(c >> 1 for c in range(256))  # every counter halved: TinyLFU's reset

#: Up to this ``maxsize`` the state is built with the cache; above it, when
#: the cache first fills (so a huge ``maxsize`` costs nothing until it is used).
EAGER_MAXSIZE = 1 << 20

VOTE_DIVISOR = 20  # the votes on the window are weighed every maxsize // 20 new keys
MAX_STEPS = 8      # a weighing moves the window by at most this many steps
NOISE = 2          # a net vote moves it only if net**2 > NOISE x votes


def fingerprint(key_hash):
    """A ghost's 32-bit fingerprint of a key's hash; never 0 (an empty slot in the engine)."""
    f = ((key_hash & MASK64) * 0xD6E8FEB86659FD93) & MASK64
    return ((f ^ (f >> 32)) & MASK32) or 1


class Ghost:
    """Roughly the last ``ghost_keys`` removals of one kind, as fingerprints:
    a young and an old generation of up to ``ghost_keys // 2`` each."""

    def __init__(self, ghost_keys):
        self.per_generation = max(1, ghost_keys // 2)
        self.young, self.old = set(), set()

    def add(self, f):
        self.young.add(f)
        if len(self.young) >= self.per_generation:
            self.old, self.young = self.young, set()

    def __contains__(self, f):
        return f in self.young or f in self.old


class AdmissionState:
    """Sketch, ghosts and window share of one bounded cache of ``maxsize`` entries."""

    def __init__(self, maxsize):
        self.maxsize = maxsize
        self.width = max(16, maxsize * 13 // 4)
        self.rows = [bytearray(self.width) for _ in range(4)]
        self.additions = 0
        ghost_keys = max(2, maxsize // 10)
        self.rejected = Ghost(ghost_keys)
        self.evicted = Ghost(ghost_keys)
        self.window_max = max(1, round(0.01 * maxsize))
        self.window_step = max(1, maxsize * 2 // 1000)
        self.sample = self.halving_period()
        self.vote_period = max(2, maxsize // VOTE_DIVISOR)
        self.new_keys = self.grow_votes = self.shrink_votes = 0

    def halving_period(self):
        """Increments between two halvings: fewer as the window grows (a large
        window means recency wins, so counts age faster)."""
        return max(16, 10 * self.maxsize - 34 * min(self.window_max, self.maxsize // 4))

    def _slots(self, key_hash):
        h = ((key_hash & MASK64) * 0x9E3779B97F4A7C15) & MASK64
        h ^= h >> 32
        h1, h2, w = h & MASK32, (h >> 32) | 1, self.width
        return [((h1 + i * h2) & MASK32) * w >> 32 for i in range(4)]

    def increment(self, key_hash):
        """Add one to the key's smallest counters (a conservative update)."""
        slots = self._slots(key_hash)
        low = min(row[slot] for row, slot in zip(self.rows, slots))
        if low < 15:
            for row, slot in zip(self.rows, slots):
                if row[slot] == low:
                    row[slot] = low + 1
        self.additions += 1
        if self.additions >= self.sample:
            self.additions = 0
            self.sample = self.halving_period()
            self.rows = [row.translate(_HALVE) for row in self.rows]

    def estimate(self, key_hash):
        return min(row[slot] for row, slot in zip(self.rows, self._slots(key_hash)))

    def adapt_window(self, key_hash):
        """A new key arrives: it votes to grow the window if the filter turned
        it away lately, to shrink it if main evicted it lately; every
        ``vote_period`` new keys the net vote, capped, moves the window if it
        beats its noise."""
        f = fingerprint(key_hash)
        if f in self.rejected:
            self.grow_votes += 1
        elif f in self.evicted:
            self.shrink_votes += 1
        self.new_keys += 1
        if self.new_keys < self.vote_period:
            return
        net = self.grow_votes - self.shrink_votes
        votes = self.grow_votes + self.shrink_votes
        self.new_keys = self.grow_votes = self.shrink_votes = 0
        if net * net > NOISE * votes:
            net = max(-MAX_STEPS, min(MAX_STEPS, net))
            self.window_max = max(1, min(self.maxsize - 1, self.window_max + net * self.window_step))

    def window_share(self):
        """The window's share now, within ``1 .. maxsize - 1`` (1 when maxsize is 1)."""
        return max(1, min(self.maxsize - 1, self.window_max))


# -- eviction under W-TinyLFU-SIEVE, on the twin's records --------------------

def _oldest_window_entry(cache):
    # The twin's queue holds its records in insertion order; the window starts at the boundary.
    return next(e for e in cache._queue.values() if e.seq >= cache._boundary)


def evict_tinylfu(cache, graveyard):
    """One removal from the twin ``cache`` for a new key (bench/POLICY.md,
    make_room): the window's overflow joins main while main has room; then the window's oldest entry
    (the candidate) either displaces main's SIEVE victim, if the sketch
    says it is more frequent (or as frequent, and it was hit in the window),
    or is evicted itself; or, with the window
    within its share, main gives up its victim."""
    state = cache._admission
    window_max = state.window_share()
    main_max = cache._maxsize - window_max
    w = cache._n_window + 1  # the incoming key counts as a window entry
    while w > window_max and cache._n_main < main_max:
        cache._boundary = _oldest_window_entry(cache).seq + 1
        cache._n_window -= 1
        cache._n_main += 1
        w -= 1
    if cache._n_main == 0:  # maxsize 1: the window is everything
        _reject(cache, _oldest_window_entry(cache), graveyard)
    elif w > window_max:
        candidate = _oldest_window_entry(cache)
        victim = cache._sieve_victim(None, cache._boundary)
        ec, ev = state.estimate(candidate.hash), state.estimate(victim.hash)
        # Ties go to a candidate hit while in the window, else to the old record.
        if ec > ev or (ec == ev and candidate.visited):
            state.evicted.add(fingerprint(victim.hash))
            cache._evict(victim, graveyard)
            cache._boundary = candidate.seq + 1  # the candidate is now main's newest
            cache._n_window -= 1
            cache._n_main += 1
        else:
            _reject(cache, candidate, graveyard)
    else:
        victim = cache._sieve_victim(None, cache._boundary)
        state.evicted.add(fingerprint(victim.hash))
        cache._evict(victim, graveyard)


def _reject(cache, candidate, graveyard):
    cache._admission.rejected.add(fingerprint(candidate.hash))
    cache._evict(candidate, graveyard)
    cache._boundary = candidate.seq + 1  # the window starts after it
