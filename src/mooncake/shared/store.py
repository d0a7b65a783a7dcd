"""The server commands of the cache: every read and write of a SharedMooncake
goes through one ``Store``, so a layer in front (a near cache) has one seam.

Server keys and values are bytes here (made by ``keys`` and ``codec``); ttls
are whole milliseconds or None (no expiry). redis-py's errors pass through:
the cache turns them into SharedCacheError. Multi-key commands make one round
trip per node: a pipeline (redis-py's ClusterPipeline groups it by node) or
MGET split by slot.
"""

_SCAN_BATCH = 1000

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


class Store:
    __slots__ = ("connection",)

    def __init__(self, connection):
        self.connection = connection

    def _client(self):
        connection = self.connection
        return connection.client or connection.resolve()

    def ping(self):
        return self._client().ping()

    def get(self, name):
        connection = self.connection
        return (connection.client or connection.resolve()).get(name)

    def set(self, name, data, ms):
        connection = self.connection
        return (connection.client or connection.resolve()).set(name, data, px=ms)

    def delete(self, name):
        return self._client().delete(name) == 1

    def acquire(self, name, token, ms):
        """SET NX PX: True if ``name`` was free and now holds ``token`` for ``ms``."""
        return bool(self._client().set(name, token, nx=True, px=ms))

    def release(self, name, token):
        """Delete ``name`` only if it still holds ``token`` (one Lua script: atomic)."""
        return self._client().eval(_RELEASE, 1, name, token)

    def get_and_delete(self, name):
        return self._client().getdel(name)

    def exists(self, name):
        return self._client().exists(name) == 1

    def remaining_ms(self, name):
        """PTTL: milliseconds left, -1 for no expiry, -2 for no key."""
        return self._client().pttl(name)

    def expire(self, name, ms):
        """Restart a key's expiry at ``ms`` (None: never expires); False if absent."""
        client = self._client()
        if ms is not None:
            return bool(client.pexpire(name, ms))
        # PERSIST says 0 both for "absent" and "had no expiry": ask EXISTS in the same round trip.
        pipe = client.pipeline(transaction=False)
        pipe.persist(name)
        pipe.exists(name)
        return pipe.execute()[1] == 1

    def get_many(self, names):
        client = self._client()
        if self.connection.is_cluster:
            return client.mget_nonatomic(names)
        return client.mget(names)

    def set_many(self, pairs, ms):
        pipe = self._client().pipeline(transaction=False)
        for name, data in pairs:
            pipe.set(name, data, px=ms)
        pipe.execute()

    def delete_many(self, names):
        return self._client().delete(*names)

    def scan(self, pattern, keep=None):
        """Every key matching ``pattern`` on every master node (and, if given,
        for which ``keep(name)`` is true: a glob cannot say everything)."""
        for node in self.connection.primaries():
            names = node.scan_iter(match=pattern, count=_SCAN_BATCH)
            yield from names if keep is None else filter(keep, names)

    def count(self, pattern, keep=None):
        return sum(1 for _ in self.scan(pattern, keep))

    def unlink_matching(self, pattern, keep=None):
        """UNLINK every key ``scan`` yields, a batch at a time; the count removed."""
        removed = 0
        client = self._client()
        batch = []
        for name in self.scan(pattern, keep):
            batch.append(name)
            if len(batch) == _SCAN_BATCH:
                removed += client.unlink(*batch)
                batch.clear()
        if batch:
            removed += client.unlink(*batch)
        return removed
