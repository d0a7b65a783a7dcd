"""The server commands of the cache: every read and write of a SharedMooncake
goes through one ``Store``, so a layer in front (a near cache) has one seam.

Server keys and values are bytes here (made by ``keys`` and ``codec``); ttls
are whole milliseconds or None (no expiry). redis-py's errors pass through:
the cache turns them into SharedCacheError. Multi-key commands make one round
trip per node: a pipeline (redis-py's ClusterPipeline groups it by node) or
MGET split by slot.

Idempotence. redis-py resends a command after a dropped connection (the URL
client once, a given client or a RedisCluster as configured), and the cache
cannot tell a resend from a first attempt. So every command must give the
same effect and the same answer when it runs twice, or carry what lets the
second run tell:

    operation              command                          run twice
    get, get_many, in,     GET, MGET, GET+PTTL, EXISTS,     reads: safe
      ttl, len, ping         PTTL, SCAN, PING
    put, put_many          SET PX (pipelined)               same value, fresh ttl: safe
    put/put_many ttl<=0,   DEL, UNLINK (answer unused)      the key is gone either way: safe
      clear
    touch                  PEXPIRE / PERSIST+EXISTS         the key is still there: safe
    delete, touch ttl<=0   script: DEL + receipt            a receipt says "removed"
    pop                    script: GET + RENAME to receipt  the receipt holds the value
    memoize lock           SET NX PX GET                    answers the holder: our token is ours
    memoize unlock         script: compare-and-delete       safe (answer unused)
    memoize lock's holder  GET                              read: safe
    memoize take-over      script: compare-and-set          our token already there: ours

A receipt is a helper key in the same slot as the key (``receipt_name``),
named by a token each call draws, written only when the call removed
something and kept ``RECEIPT_MS``: a resend with the same token finds it and
answers as the first run did. A run that removed nothing leaves no receipt,
so its resend is a fresh attempt, the same as one call made at that time.
"""

import hashlib

from redis.exceptions import NoScriptError, ResponseError

from .keys import HELPER_MARK

_SCAN_BATCH = 1000

#: How long a receipt outlives the call (ms): longer than any resend takes.
RECEIPT_MS = 60_000

#: The holder of a lock key that is not a string (nobody's token): a value no
#: token can equal, so a waiter sees the same holder until it takes it over.
FOREIGN_HOLDER = b"\x00not a string"

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""

# KEYS: the key, its receipt. ARGV: the receipt's lifetime (ms).
_DELETE = """
if redis.call('EXISTS', KEYS[2]) == 1 then
    return 1
end
local removed = redis.call('DEL', KEYS[1])
if removed == 1 then
    redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
end
return removed
"""

# The value is moved, not copied, to the receipt (RENAME), so a resend can return it.
_POP = """
local kept = redis.call('GET', KEYS[2])
if kept then
    return kept
end
local data = redis.call('GET', KEYS[1])
if data then
    redis.call('RENAME', KEYS[1], KEYS[2])
    redis.call('PEXPIRE', KEYS[2], ARGV[1])
end
return data
"""


# Replace a lock still held by ARGV[1] (the holder a waiter saw for a whole lease)
# with ARGV[2] for ARGV[3] ms. ARGV[4]: FOREIGN_HOLDER. 1 if the lock is now ARGV[2].
_TAKE_OVER = """
local kind = redis.call('TYPE', KEYS[1])['ok']
local current = false
if kind == 'string' then
    current = redis.call('GET', KEYS[1])
elseif kind ~= 'none' then
    current = ARGV[4]
end
if current == ARGV[2] then
    return 1
end
if current == ARGV[1] then
    redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
    return 1
end
return 0
"""


def _wrong_type(exc):
    return str(exc).startswith("WRONGTYPE")


class _Script:
    """A Lua script sent by its SHA1 (EVALSHA), and whole once if the server lacks it."""

    __slots__ = ("text", "sha")

    def __init__(self, text):
        self.text = text
        self.sha = hashlib.sha1(text.encode()).hexdigest()

    def __call__(self, client, keys, args):
        try:
            return client.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:  # never ran: sending it whole is a first attempt
            return client.eval(self.text, len(keys), *keys, *args)


_DELETE_SCRIPT = _Script(_DELETE)
_POP_SCRIPT = _Script(_POP)
_TAKE_OVER_SCRIPT = _Script(_TAKE_OVER)


def receipt_name(prefix, name, token):
    """The receipt of one call on ``name``: a helper key of the namespace
    ``prefix`` whose hash tag is ``name`` (which has no braces), so it lies in
    ``name``'s Cluster slot and one script may touch both."""
    return prefix + HELPER_MARK + b"receipt:{" + name + b"}:" + token


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

    def delete(self, name, receipt):
        """Remove ``name``; True if it was there, even when this is a resend of a
        call whose reply was lost (``receipt``: see receipt_name)."""
        return _DELETE_SCRIPT(self._client(), (name, receipt), (RECEIPT_MS,)) == 1

    def acquire(self, name, token, ms):
        """SET NX PX GET: None if ``name`` was free and now holds ``token`` for
        ``ms``, else the holder's token (our own ``token`` if a lost reply's
        resend finds the lock this call took)."""
        try:
            return self._client().set(name, token, nx=True, px=ms, get=True)
        except ResponseError as exc:
            if _wrong_type(exc):
                return FOREIGN_HOLDER
            raise

    def lock_holder(self, name):
        """The token in lock ``name`` (None if free, FOREIGN_HOLDER if not a string)."""
        try:
            return self._client().get(name)
        except ResponseError as exc:
            if _wrong_type(exc):
                return FOREIGN_HOLDER
            raise

    def take_over(self, name, holder, token, ms):
        """Put ``token`` in lock ``name`` for ``ms`` if it still holds ``holder``;
        True if it now holds ``token``."""
        args = (holder, token, ms, FOREIGN_HOLDER)
        return _TAKE_OVER_SCRIPT(self._client(), (name,), args) == 1

    def release(self, name, token):
        """Delete ``name`` only if it still holds ``token`` (one Lua script: atomic)."""
        return self._client().eval(_RELEASE, 1, name, token)

    def get_and_delete(self, name, receipt):
        """The value of ``name`` (None if absent), removed; a resend of a call whose
        reply was lost returns the value the first run removed (``receipt``)."""
        return _POP_SCRIPT(self._client(), (name, receipt), (RECEIPT_MS,))

    def remove(self, name):
        """DEL, where the answer is not used (a resend removes nothing more)."""
        self._client().delete(name)

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
