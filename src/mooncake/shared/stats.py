"""The counters of one shared cache, shared by its shells and its near cache."""

import threading

#: Every counter, in the order get_stats reports them.
FIELDS = ("hits", "misses", "puts", "deletes", "errors", "rejected", "remote_hits",
          "invalidations", "flushes", "fills_discarded", "fills_failed", "reconnects", "backlogs")


class Counters:
    """Event counts, each bumped under one lock (threads and the listener share them)."""

    __slots__ = ("_lock",) + FIELDS

    def __init__(self):
        self._lock = threading.Lock()
        for field in FIELDS:
            setattr(self, field, 0)

    def add(self, field, n=1):
        with self._lock:
            setattr(self, field, getattr(self, field) + n)

    def lookups(self, hits, misses, rejected=0, remote=False):
        """Count a read's outcome (``remote``: hits that filled the near cache)."""
        with self._lock:
            self.hits += hits
            self.misses += misses
            self.rejected += rejected
            if remote:
                self.remote_hits += hits

    def snapshot(self):
        """{field: count}, all read at one instant."""
        with self._lock:
            return {field: getattr(self, field) for field in FIELDS}
