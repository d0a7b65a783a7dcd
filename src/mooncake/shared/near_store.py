"""The Store seen through a near cache: every write drops the local copy.

Each command that changes a key drops that key from the near cache once the
server answered, and also when it failed (the write may or may not have
happened), so a process always reads its own writes. ``get_with_ttl`` is the
remote read that fills the near cache: the value and its remaining TTL in one
round trip.
"""

from .store import Store


class NearStore(Store):
    __slots__ = ("near",)

    def __init__(self, connection, near):
        super().__init__(connection)
        self.near = near

    def get_with_ttl(self, name):
        """(data or None, PTTL in ms: -1 no expiry, -2 no key)."""
        pipe = self._client().pipeline(transaction=False)
        pipe.get(name)
        pipe.pttl(name)
        data, ms = pipe.execute()
        return data, ms

    def get_many_with_ttl(self, names):
        """([data or None], [PTTL in ms]) of ``names``: one pipeline, one round trip per node."""
        pipe = self._client().pipeline(transaction=False)
        for name in names:
            pipe.get(name)
            pipe.pttl(name)
        replies = pipe.execute()
        return replies[0::2], replies[1::2]

    def set(self, name, data, ms):
        try:
            return super().set(name, data, ms)
        finally:
            self.near.drop(name)

    def delete(self, name, receipt):
        try:
            return super().delete(name, receipt)
        finally:
            self.near.drop(name)

    def get_and_delete(self, name, receipt):
        try:
            return super().get_and_delete(name, receipt)
        finally:
            self.near.drop(name)

    def remove(self, name):
        try:
            return super().remove(name)
        finally:
            self.near.drop(name)

    def expire(self, name, ms):
        try:
            return super().expire(name, ms)
        finally:
            self.near.drop(name)

    def set_many(self, pairs, ms):
        try:
            return super().set_many(pairs, ms)
        finally:
            self.near.drop_many([name for name, _ in pairs])

    def delete_many(self, names):
        try:
            return super().delete_many(names)
        finally:
            self.near.drop_many(names)

    def unlink_matching(self, pattern, keep=None):
        try:
            return super().unlink_matching(pattern, keep)
        finally:
            self.near.flush()
