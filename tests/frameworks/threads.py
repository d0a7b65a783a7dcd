"""Running a piece of work on several threads at once, for the backends' atomicity tests."""

import threading


def run_in_threads(work, n):
    """Call ``work(i)`` for i in ``range(n)``, each on its own thread; return when all end."""
    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
