"""Seeded synthetic request traces for the hit-ratio study (lists of int keys).

Every trace is a function of its parameters and ``SEED`` only, so a miss ratio
measured on it is a fixed number: reruns and other machines get the same one.
numpy draws the numbers (a 2M-request trace takes well under a second).

=================  ==========================================================
trace              what it models
=================  ==========================================================
``zipf``           a stable popularity skew (web objects, database rows)
``zipf_scans``     the same skew interrupted by one-hit scans (a batch job
                   reading every row once, a crawler)
``loop``           a cyclic pattern slightly larger than the cache (a job
                   iterating over a data set): LRU and FIFO miss every time
``shifting``       the skew whose hot keys change completely every phase
                   (a new day's articles, a deploy): old frequencies mislead
=================  ==========================================================
"""

import numpy as np

SEED = 20241125


def _rng(*salt):
    return np.random.default_rng([SEED, *salt])


def zipf_ranks(n_keys, n_requests, s, rng):
    """``n_requests`` ranks in ``[0, n_keys)``, rank r drawn with weight ``1/(r+1)**s``
    (inverse-CDF sampling, exact for any ``s``, including ``s <= 1``)."""
    weights = np.arange(1, n_keys + 1, dtype=np.float64) ** -s
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    ranks = np.searchsorted(cdf, rng.random(n_requests), side="right")
    return np.minimum(ranks, n_keys - 1)


def zipf(n_keys, n_requests, s):
    """Zipf(``s``) requests over ``n_keys`` keys; which key holds which rank is a
    seeded shuffle, so popularity is unrelated to the key's value."""
    rng = _rng(1, int(s * 1000), n_keys, n_requests)
    keys = rng.permutation(n_keys)
    return keys[zipf_ranks(n_keys, n_requests, s, rng)].tolist()


def zipf_scans(n_keys, n_requests, s=1.0, segment=100_000, scan=20_000):
    """Zipf(``s``) requests where each ``segment`` requests end with a scan of
    ``scan`` keys never seen before nor after (keys from ``n_keys`` up)."""
    rng = _rng(2, int(s * 1000), n_keys, n_requests)
    keys = rng.permutation(n_keys)
    out = keys[zipf_ranks(n_keys, n_requests, s, rng)]
    fresh = n_keys
    for start in range(0, n_requests, segment):
        lo = start + segment - scan
        hi = min(start + segment, n_requests)
        if lo < hi:
            out[lo:hi] = np.arange(fresh, fresh + hi - lo)
            fresh += hi - lo
    return out.tolist()


def loop(n_loop, n_requests):
    """Keys ``0 .. n_loop-1`` requested in order, over and over."""
    return np.resize(np.arange(n_loop), n_requests).tolist()


def shifting(n_keys, n_requests, s=1.0, phase=200_000):
    """Zipf(``s``) requests whose rank-to-key mapping is reshuffled every
    ``phase`` requests: each phase's hot keys are new (mostly cold before)."""
    rng = _rng(4, int(s * 1000), n_keys, n_requests)
    ranks = zipf_ranks(n_keys, n_requests, s, rng)
    out = np.empty(n_requests, dtype=np.int64)
    for start in range(0, n_requests, phase):
        keys = rng.permutation(n_keys)
        out[start:start + phase] = keys[ranks[start:start + phase]]
    return out.tolist()


class Trace:
    """A named trace; ``build(capacity)`` returns its keys (a loop's length
    depends on the capacity, the others ignore it and are built once)."""

    def __init__(self, name, build, per_capacity=False):
        self.name = name
        self._build = build
        self.per_capacity = per_capacity
        self._cached = None

    def keys(self, capacity):
        if self.per_capacity:
            return self._build(capacity)
        if self._cached is None:
            self._cached = self._build(capacity)
        return self._cached

    def release(self):
        self._cached = None


def suite(n_keys, n_requests, scale=1.0):
    """The study's traces over ``n_keys`` keys with ``n_requests`` each. ``scale``
    shrinks the scan segments and phases with the quick form's shorter traces."""
    segment, scan, phase = (max(1, int(x * scale)) for x in (100_000, 20_000, 200_000))
    return [
        Trace("Zipf 0.8", lambda c: zipf(n_keys, n_requests, 0.8)),
        Trace("Zipf 1.0", lambda c: zipf(n_keys, n_requests, 1.0)),
        Trace("Zipf 1.2", lambda c: zipf(n_keys, n_requests, 1.2)),
        Trace("Zipf 1.0 + scans", lambda c: zipf_scans(n_keys, n_requests, 1.0, segment, scan)),
        Trace("loop 1.2×C", lambda c: loop(int(1.2 * c), n_requests), per_capacity=True),
        Trace("shifting Zipf 1.0", lambda c: shifting(n_keys, n_requests, 1.0, phase)),
    ]
