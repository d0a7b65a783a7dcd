"""Eviction policies simulated in plain Python, laid out like the engine's table.

These are reference models for the hit-ratio study, not caches to use: a key
is an int, there are no values, and ``access(key)`` is the study's request
(get, and put on a miss) returning True on a hit. Both keep the engine's
layout, so what is measured here is what the engine (``mooncake/cache/``) does:

* records live in one list in insertion order (oldest first); a removed
  record leaves a hole (``None``) and the list is compacted, keeping order,
  when holes outnumber live records;
* ``index`` maps a key to its record's position (the engine's hash table);
* a SIEVE hand is a position in that list moving from older to newer.

``Sieve`` is the NSDI'24 paper's algorithm. ``WTinyLfuSieve`` is the policy
proposed in ``bench/POLICY.md``: a FIFO window of the newest records in front
of a SIEVE main region, a TinyLFU frequency sketch (``FrequencySketch``)
deciding which of the window's oldest record and SIEVE's victim stays, and two
ghosts of recently removed keys (``Ghost``) sizing the window.
"""

MASK32 = 0xFFFFFFFF
MASK64 = 0xFFFFFFFFFFFFFFFF


class Sieve:
    """SIEVE as in the paper (Zhang et al., NSDI'24, Fig. 2).

    Hit: set the record's visited bit. Miss on a full cache: the hand walks
    from older to newer records (wrapping to the oldest), clearing visited
    bits, and evicts the first unvisited record; the hand then rests on the
    next newer live record, or on the oldest when the victim was the newest.
    Only then is the new key appended (unvisited), so it is never the next
    record examined.
    """

    name = "SIEVE (paper)"

    def __init__(self, capacity):
        self.capacity = capacity
        self.keys = []       # records in insertion order; None marks a hole
        self.visited = []
        self.index = {}      # key -> position in keys
        self.hand = 0

    def access(self, key):
        i = self.index.get(key)
        if i is not None:
            self.visited[i] = True
            return True
        if len(self.index) >= self.capacity:
            self._evict()
        self._append(key)
        return False

    def _append(self, key):
        if len(self.keys) >= 2 * self.capacity:
            self._compact()
        self.index[key] = len(self.keys)
        self.keys.append(key)
        self.visited.append(False)

    def _evict(self):
        keys, visited = self.keys, self.visited
        end = len(keys)
        i = self.hand
        while True:
            if i >= end:
                i = 0
            if keys[i] is not None:
                if not visited[i]:
                    break
                visited[i] = False
            i += 1
        del self.index[keys[i]]
        keys[i] = None
        self.hand = _next_live(keys, i + 1, end)

    def _compact(self):
        self.hand, _ = _compact(self, self.hand, 0)


def _next_live(keys, i, end):
    """The first live position in ``[i, end)``, else 0 (back to the oldest)."""
    while i < end and keys[i] is None:
        i += 1
    return i if i < end else 0


def _compact(policy, hand, boundary):
    """Squeeze the holes out of ``policy``'s records, keeping their order;
    returns ``hand`` and ``boundary`` mapped to the new positions (a position
    on a hole maps to the next live record's)."""
    keys, visited = policy.keys, policy.visited
    new_keys, new_visited, index = [], [], {}
    new_hand = new_boundary = None
    for i, k in enumerate(keys):
        if i == hand:
            new_hand = len(new_keys)
        if i == boundary:
            new_boundary = len(new_keys)
        if k is not None:
            index[k] = len(new_keys)
            new_keys.append(k)
            new_visited.append(visited[i])
    n = len(new_keys)
    policy.keys, policy.visited, policy.index = new_keys, new_visited, index
    return (n if new_hand is None else new_hand), (n if new_boundary is None else new_boundary)


class FrequencySketch:
    """TinyLFU's popularity estimate: a 4-bit count-min sketch, optionally
    behind a doorkeeper (off by default: the same bytes spent on wider rows
    did better in the study, see POLICY.md).

    Four rows of ``width`` 4-bit counters (saturating at 15) and, with
    ``door_bits_per_entry``, a doorkeeper: a Bloom filter of ``door_bits``
    bits probed twice. ``increment`` sets the key's doorkeeper bits the first
    time it is seen and, once the doorkeeper holds the key (at once without
    one), increments its four counters (each in its own row, at the
    fast-range of a double hash). ``estimate`` is the smallest of the four,
    plus one if the doorkeeper holds the key. Every ``sample`` increments all
    counters are halved and the doorkeeper is cleared, so estimates follow
    change (TinyLFU's reset).

    The simulation keeps one Python int per counter; the engine packs them
    (``4 * width / 2 + door_bits / 8`` bytes in all, see ``nbytes``).
    """

    def __init__(self, capacity, width_per_entry=3.25, door_bits_per_entry=0,
                 sample_per_entry=10, conservative=True, resample=None):
        self.conservative = conservative
        self.resample = resample     # called at each halving: the next period, in increments
        self.width = max(16, int(capacity * width_per_entry))
        self.rows = [[0] * self.width for _ in range(4)]
        self.door_bits = max(64, int(capacity * door_bits_per_entry)) if door_bits_per_entry else 0
        self.door = bytearray(self.door_bits) if self.door_bits else None
        self.sample = max(16, int(capacity * sample_per_entry))
        self.additions = 0

    def nbytes(self):
        return 4 * self.width // 2 + self.door_bits // 8

    def increment(self, key):
        h = (key * 0x9E3779B97F4A7C15) & MASK64
        h ^= h >> 32
        door = self.door
        if door is not None:
            a = (h & 0xFFFFFF) * self.door_bits >> 24
            b = ((h >> 24) & 0xFFFFFF) * self.door_bits >> 24
            if not (door[a] and door[b]):
                door[a] = door[b] = 1
                self.additions += 1
                if self.additions >= self.sample:
                    self._reset()
                return
        h1, h2, w = h & MASK32, (h >> 32) | 1, self.width
        r0, r1, r2, r3 = self.rows
        if self.conservative:
            slots = (h1 * w >> 32, ((h1 + h2) & MASK32) * w >> 32,
                     ((h1 + 2 * h2) & MASK32) * w >> 32, ((h1 + 3 * h2) & MASK32) * w >> 32)
            low = min(r0[slots[0]], r1[slots[1]], r2[slots[2]], r3[slots[3]])
            if low < 15:
                for row, i in zip(self.rows, slots):
                    if row[i] == low:
                        row[i] = low + 1
            self.additions += 1
            if self.additions >= self.sample:
                self._reset()
            return
        i = h1 * w >> 32
        if r0[i] < 15:
            r0[i] += 1
        i = ((h1 + h2) & MASK32) * w >> 32
        if r1[i] < 15:
            r1[i] += 1
        i = ((h1 + 2 * h2) & MASK32) * w >> 32
        if r2[i] < 15:
            r2[i] += 1
        i = ((h1 + 3 * h2) & MASK32) * w >> 32
        if r3[i] < 15:
            r3[i] += 1
        self.additions += 1
        if self.additions >= self.sample:
            self._reset()

    def _reset(self):
        self.additions = 0
        if self.resample is not None:
            self.sample = self.resample()
        self.rows = [[c >> 1 for c in row] for row in self.rows]
        if self.door is not None:
            self.door = bytearray(self.door_bits)

    def estimate(self, key):
        h = (key * 0x9E3779B97F4A7C15) & MASK64
        h ^= h >> 32
        h1, h2, w = h & MASK32, (h >> 32) | 1, self.width
        r0, r1, r2, r3 = self.rows
        low = min(r0[h1 * w >> 32], r1[((h1 + h2) & MASK32) * w >> 32],
                  r2[((h1 + 2 * h2) & MASK32) * w >> 32], r3[((h1 + 3 * h2) & MASK32) * w >> 32])
        door = self.door
        if door is not None:
            if door[(h & 0xFFFFFF) * self.door_bits >> 24] and \
                    door[((h >> 24) & 0xFFFFFF) * self.door_bits >> 24]:
                low += 1
        return low


class Ghost:
    """The keys of the last ``keys`` removals, roughly, as 32-bit fingerprints.

    Two generations of at most ``keys / 2`` fingerprints each: when the young
    one is full it becomes the old one and an empty set takes its place, so
    membership means "removed within the last ``keys/2 .. keys`` removals".
    The engine keeps each generation as an open-addressing table of uint32
    at load 2/3 (``nbytes``); a false match needs two keys whose 32-bit
    fingerprints collide, about ``keys / 2**32`` per lookup. (A Bloom filter
    was tried: its 1-2% false matches make the window drift, see POLICY.md.)
    """

    def __init__(self, keys):
        self.per_generation = max(1, keys // 2)
        self.young, self.old = set(), set()

    def nbytes(self):
        return 2 * 4 * (self.per_generation * 3 // 2)

    @staticmethod
    def fingerprint(key):
        h = (key * 0xD6E8FEB86659FD93) & MASK64
        return (h ^ (h >> 32)) & MASK32

    def add(self, key):
        young = self.young
        young.add(self.fingerprint(key))
        if len(young) >= self.per_generation:
            self.old, self.young = young, set()

    def __contains__(self, key):
        f = self.fingerprint(key)
        return f in self.young or f in self.old


class WTinyLfuSieve:
    """The proposed policy: FIFO window + TinyLFU admission + SIEVE main region,
    the window sized by ghost hits (see ``bench/POLICY.md``).

    Records ``[0, boundary)`` form the main region, a SIEVE queue with its own
    hand; records from ``boundary`` on are the window, the newest keys in FIFO
    order. Every request increments the sketch (conservatively: only the
    key's smallest counters).

    * Hit: set the visited bit (window or main).
    * Miss: count the key's vote on the window's size (below), then append
      the key to the window: it is always stored. If the cache is now over
      capacity, the window's oldest record (the *candidate*) leaves the
      window: while main is below its share the candidate just joins it (the
      boundary moves past it); otherwise SIEVE's hand picks main's *victim*
      and the sketch decides: the candidate replaces the victim if its
      estimated frequency is higher, or equal and the candidate was hit in
      the window (main's newest end is the boundary, so joining main moves no
      record), else the candidate is evicted. When the window is within its
      share but main is over its own (the window just grew), main's victim
      goes.
    * Window size: a miss on a key in ``rejected`` (candidates evicted
      lately) is a vote to grow the window (the filter turned away a key that
      came back soon); a miss on a key in ``evicted`` (main's victims lately)
      a vote to shrink it. Every ``capacity // vote_divisor`` misses (at least
      2) the votes are weighed: with ``r`` to grow and ``e`` to shrink, the
      window moves by ``r - e`` steps of ``ghost_step * capacity``, at most
      ``max_steps``, if the net vote beats its noise, ``(r - e)**2 > noise *
      (r + e)``; it stays between 1 and ``capacity - 1``. Each ghost
      remembers about ``ghost * capacity`` keys: short enough that a loop's
      keys (back after more than 0.2×C misses) are not recognised.
      ``vote_divisor=None`` is round 1's rule: every vote moves the window by
      one step at once (a random walk when both ghosts are hit alike).
    * The sketch halves its counters every ``10 * capacity`` increments while
      the window is small, and faster as it grows, down to every
      ``1.5 * capacity`` once it holds a quarter of the cache (a large window
      means recency wins: old counts are stale). ``fast_halving=False``
      keeps the period at ``sample_per_entry * capacity``.
    """

    name = "W-TinyLFU-SIEVE"

    def __init__(self, capacity, window=0.01, ghost=0.1, ghost_step=0.002, vote_divisor=20,
                 max_steps=8, noise=2, visited_wins_ties=True, fast_halving=True, **sketch):
        self.capacity = capacity
        self.keys = []               # records in insertion order; None marks a hole
        self.visited = []
        self.index = {}              # key -> position in keys
        self.boundary = 0            # first window position
        self.hand = 0                # main's SIEVE hand, in [0, boundary)
        self.n_main = 0
        self.n_window = 0
        self.window_max = max(1, round(capacity * window))
        self.sketch = FrequencySketch(capacity, **sketch)
        if fast_halving:
            self.sketch.resample = self.halving_period
            self.sketch.sample = self.halving_period()
        self.increment = self.sketch.increment
        ghost_keys = max(2, int(ghost * capacity))
        self.rejected = Ghost(ghost_keys)
        self.evicted = Ghost(ghost_keys)
        self.ghost_step = max(1, int(ghost_step * capacity))
        self.vote_period = max(2, capacity // vote_divisor) if vote_divisor else None
        self.max_steps, self.noise = max_steps, noise
        self.visited_wins_ties = visited_wins_ties
        self.grow_votes = self.shrink_votes = self.new_keys = 0

    def nbytes(self):
        """Bytes the policy adds beyond the records' own visited bits."""
        return self.sketch.nbytes() + self.rejected.nbytes() + self.evicted.nbytes()

    def halving_period(self):
        """Increments between two halvings: ``10 * C`` shortened by ``34`` per
        window record up to a quarter of the cache (``1.5 * C`` there)."""
        c = self.capacity
        return max(16, 10 * c - 34 * min(self.window_max, c // 4))

    def access(self, key):
        i = self.index.get(key)
        if i is not None:
            self.increment(key)
            self.visited[i] = True
            return True
        if self.vote_period is None:
            if key in self.rejected:
                self.window_max = min(self.capacity - 1, self.window_max + self.ghost_step)
            elif key in self.evicted:
                self.window_max = max(1, self.window_max - self.ghost_step)
        else:
            self._vote(key)
        self.increment(key)
        if len(self.keys) >= 2 * self.capacity:
            self.hand, self.boundary = _compact(self, self.hand, self.boundary)
        self.index[key] = len(self.keys)
        self.keys.append(key)
        self.visited.append(False)
        self.n_window += 1
        if self.n_main + self.n_window > self.capacity:
            self._evict()
        return False

    def _vote(self, key):
        """Count the new key's vote on the window's size; every ``vote_period``
        new keys, move the window by the net vote (capped) if it beats its noise."""
        if key in self.rejected:
            self.grow_votes += 1
        elif key in self.evicted:
            self.shrink_votes += 1
        self.new_keys += 1
        if self.new_keys >= self.vote_period:
            r, e = self.grow_votes, self.shrink_votes
            net = r - e
            if net * net > self.noise * (r + e):
                net = max(-self.max_steps, min(self.max_steps, net))
                self.window_max = max(1, min(self.capacity - 1,
                                             self.window_max + net * self.ghost_step))
            self.grow_votes = self.shrink_votes = self.new_keys = 0

    def _oldest_window(self):
        keys, i = self.keys, self.boundary
        while keys[i] is None:
            i += 1
        return i

    def _evict(self):
        keys = self.keys
        window_max = max(1, min(self.capacity - 1, self.window_max))
        main_max = self.capacity - window_max
        # The window's overflow joins main while main has room (after the window shrank).
        while self.n_window > window_max and self.n_main < main_max:
            self.boundary = self._oldest_window() + 1
            self.n_window -= 1
            self.n_main += 1
        if self.n_main + self.n_window <= self.capacity:
            return
        if self.n_window > window_max or self.n_main == 0:
            c = self._oldest_window()
            if self.n_main == 0:     # capacity 1: the window is the whole cache
                self._remove_candidate(c)
                return
            v = self._sieve_victim()
            ec, ev = self.sketch.estimate(keys[c]), self.sketch.estimate(keys[v])
            if ec > ev or (ec == ev and self.visited[c] and self.visited_wins_ties):
                self._remove_main(v)
                self.boundary = c + 1        # the candidate is now main's newest record
                self.n_window -= 1
                self.n_main += 1
            else:
                self._remove_candidate(c)
        else:
            # The window grew: main gives up records until it is back to its share.
            self._remove_main(self._sieve_victim())

    def _sieve_victim(self):
        """Main's first unvisited record from the hand on, clearing visited bits
        on the way; the hand rests on it (a second call returns it again)."""
        keys, visited, end = self.keys, self.visited, self.boundary
        i = self.hand
        while True:
            if i >= end:
                i = 0
            if keys[i] is not None:
                if not visited[i]:
                    self.hand = i
                    return i
                visited[i] = False
            i += 1

    def _remove_main(self, i):
        key = self.keys[i]
        self.evicted.add(key)
        del self.index[key]
        self.keys[i] = None
        self.n_main -= 1
        self.hand = _next_live(self.keys, i + 1, self.boundary)

    def _remove_candidate(self, c):
        key = self.keys[c]
        self.rejected.add(key)
        del self.index[key]
        self.keys[c] = None
        self.n_window -= 1
        self.boundary = c + 1


class _NoGhost:
    """A ghost that remembers nothing (the climber sizes the window alone)."""

    def add(self, key):
        pass

    def __contains__(self, key):
        return False


class HillClimbWTinyLfuSieve(WTinyLfuSieve):
    """A study variant (bench/POLICY.md, "Held-out families"): the window
    sized by Caffeine's hill climber instead of (``ghosts=False``) or on top
    of (``ghosts=True``) the ghosts. Every ``sample_per_entry * capacity``
    requests the hit rate of the sample is compared with the last one's: the
    window moves by the step in the direction that did not lower it; the step
    starts at ``step * capacity`` (shrinking first), decays by ``decay`` per
    sample, and restarts when the hit rate moved by ``restart`` or more."""

    name = "W-TinyLFU-SIEVE, hill climber"

    def __init__(self, capacity, ghosts=False, sample_per_entry=10, step=0.0625, decay=0.98,
                 restart=0.05, **params):
        super().__init__(capacity, **params)
        if not ghosts:
            self.rejected = self.evicted = _NoGhost()
        self.sample_size = max(16, int(sample_per_entry * capacity))
        self.first_step = step * capacity
        self.step = -self.first_step
        self.decay, self.restart = decay, restart
        self.last_rate = 0.0
        self.hits = self.requests = 0

    def access(self, key):
        hit = super().access(key)
        self.hits += hit
        self.requests += 1
        if self.requests >= self.sample_size:
            self._climb()
        return hit

    def _climb(self):
        rate = self.hits / self.requests
        change = rate - self.last_rate
        amount = self.step if change >= 0 else -self.step
        if abs(change) >= self.restart:
            self.step = self.first_step if amount >= 0 else -self.first_step
        else:
            self.step = self.decay * amount
        self.last_rate = rate
        self.window_max = max(1, min(self.capacity - 1, self.window_max + round(amount)))
        self.hits = self.requests = 0


POLICIES = {"sieve": Sieve, "wtinylfu-sieve": WTinyLfuSieve}


def misses(policy, keys):
    """Replay ``keys`` through ``policy`` (get, and put on a miss); the misses."""
    access = policy.access
    return sum(1 for k in keys if not access(k))
