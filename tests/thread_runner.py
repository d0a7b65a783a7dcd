"""Run worker threads and one sweeper together, failing on any thread's error."""

import threading


def run_together(workers, sweeper):
    """Start every ``worker()`` and ``sweeper(stop)`` behind one barrier, wait
    for the workers, then stop the sweeper; re-raise the first error any of
    them hit, so an assertion inside a thread fails the test."""
    barrier = threading.Barrier(len(workers) + 1)
    stop = threading.Event()
    errors = []

    def guarded(fn, *args):
        try:
            barrier.wait()
            fn(*args)
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(worker,)) for worker in workers]
    sweep = threading.Thread(target=guarded, args=(sweeper, stop))
    for t in threads + [sweep]:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    sweep.join()
    if errors:
        raise errors[0]
