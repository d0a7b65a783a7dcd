"""The keys, values and operation sequences every peer is fed (built once, seeded)."""

import bisect
import itertools
import random

SEED = 20240604

#: The value stored by the timed workloads: one shared object, so no peer pays
#: for allocating values inside the timed loop.
VALUE = "value"


def str_keys(n, start=0, *, shuffle=True):
    """``n`` distinct string keys ``"key:<i>"``, in a seeded random order."""
    keys = [f"key:{i}" for i in range(start, start + n)]
    if shuffle:
        random.Random(SEED + start).shuffle(keys)
    return keys


def int_keys(n, start=0, *, shuffle=True):
    """``n`` distinct int keys ``start .. start+n-1``, in a seeded random order."""
    keys = list(range(start, start + n))
    if shuffle:
        random.Random(SEED + start + 1).shuffle(keys)
    return keys


def zipf_ranks(n_keys, n_draws, s=0.99, seed=SEED):
    """``n_draws`` ranks in ``0 .. n_keys-1`` drawn from Zipf(s): P(rank r) ~ 1/(r+1)**s."""
    cumulative = list(itertools.accumulate(1.0 / (r + 1) ** s for r in range(n_keys)))
    total = cumulative[-1]
    rng = random.Random(seed)
    return [bisect.bisect_left(cumulative, rng.random() * total) for _ in range(n_draws)]


def mix_sequence(keys, n_ops, put_share=0.1, s=0.99, seed=SEED):
    """A read-mostly operation sequence: ``(is_put, key)`` pairs over Zipf(s)-popular ``keys``.

    ``keys[0]`` is the most popular key; ``keys`` is expected already shuffled.
    """
    rng = random.Random(seed + 7)
    ranks = zipf_ranks(len(keys), n_ops, s, seed)
    return [(rng.random() < put_share, keys[r]) for r in ranks]
