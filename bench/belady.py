"""Belady's offline MIN: the fewest misses any cache of a given size can have.

MIN knows the future: on a miss with a full cache it drops the resident key
(or declines the new one) whose next request lies furthest ahead, and a key
never requested again is not kept at all. It is the lower bound the table
quotes beside the peers (no online policy can beat it; declining the new key
is allowed here, which only lowers the bound).
"""

import heapq

import numpy as np


def next_use(keys):
    """For each position, the position of the next request of the same key,
    or ``len(keys)`` when there is none."""
    arr = np.asarray(keys, dtype=np.int64)
    n = len(arr)
    order = np.argsort(arr, kind="stable")
    nxt = np.full(n, n, dtype=np.int64)
    same = arr[order[1:]] == arr[order[:-1]]
    nxt[order[:-1][same]] = order[1:][same]
    return nxt.tolist()


def misses(keys, capacity):
    """The number of misses of MIN with ``capacity`` slots on ``keys``.

    Resident keys are remembered by their next request's position, which is
    unique, so the max-heap holds positions only; an entry is stale once its
    key has been requested again (then ``due`` no longer holds it).
    """
    nxt = next_use(keys)
    never = len(keys)
    due = set()          # positions of the next request of every resident key
    heap = []            # -position, a max-heap over ``due`` with stale entries
    missed = 0
    for t, n in enumerate(nxt):
        if t in due:                     # a hit: the key is resident
            due.discard(t)
            if n != never:
                due.add(n)
                heapq.heappush(heap, -n)
            continue
        missed += 1
        if n == never:
            continue                     # never needed again: not worth a slot
        if len(due) >= capacity:
            while -heap[0] not in due:
                heapq.heappop(heap)
            if -heap[0] < n:             # every resident key is needed sooner
                continue
            due.discard(-heapq.heappop(heap))
        due.add(n)
        heapq.heappush(heap, -n)
    return missed
