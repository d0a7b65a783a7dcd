"""The Zipf mix run by 1, 2 and 4 threads sharing one bounded cache.

The sequence is split into as many contiguous chunks as there are threads, so
every thread count does the same total work; a figure is wall time divided by
the total number of operations (aggregate ns/op, lower is better). Threads are
started first and released together by a barrier, so thread start-up is not
timed. Peers whose documentation requires a lock for shared use
(``cachetools``) run every call inside ``with lock:``, at every thread count.
With the GIL only one thread runs Python at a time: on a GIL build these
figures show the cost of contention, not parallel speed-up.
"""

import sys
import threading
import time

from . import harness, keyspace, workloads


def _body(peer):
    body = workloads.mix_body(peer)
    if not peer.needs_lock:
        return body
    return "with lock:\n" + "\n".join("    " + line for line in body.splitlines())


def _run_threads(loop, c, chunks, v, loops):
    barrier = threading.Barrier(len(chunks) + 1)

    def worker(chunk):
        barrier.wait()
        loop(c, chunk, v, loops)

    threads = [threading.Thread(target=worker, args=(chunk,)) for chunk in chunks]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def threaded_mix(peers, sequence, maxsize, n_threads, rounds, target, progress=None):
    """Time the mix on ``n_threads`` threads for every peer; ``{name: Result}``."""
    v = keyspace.VALUE

    def split(items):
        size = -(-len(items) // n_threads)
        return [items[i:i + size] for i in range(0, len(items), size)]

    cases = []
    for peer in peers:
        c = peer.make(maxsize)
        loop = harness.compile_loop(_body(peer), target="is_put, k",
                                    namespace={"lock": threading.Lock(),
                                               "_timer": time.perf_counter})
        bind = (lambda loop, c: lambda items: (lambda chunks: lambda loops: _run_threads(
            loop, c, chunks, v, loops))(split(items)))(loop, c)
        cases.append(harness.Case(peer.name, bind, sequence))
    return harness.measure(cases, rounds, target, progress)


def gil_enabled():
    """True on a GIL build (or a free-threaded build running with the GIL on)."""
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else check()
