"""The server commands of the shared tier, as plans that do no I/O.

Every read and write of a shared cache is a *plan*: a generator that yields
commands and receives their replies (or has redis-py's error thrown into it).
A command is a callable ``command(client)`` that calls one method of a redis-py
client, sync or async alike: the sync shell calls it and passes the reply back,
the async shell awaits what it returns. So the plans, the Lua scripts and the
rules below exist once, for both shells (``cache`` and ``async_cache``).

Server keys and values are bytes here (made by ``keys`` and ``codec``); ttls
are whole milliseconds or None (no expiry). Multi-key commands make one round
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
    add                    script: SET NX + receipt         a receipt says "stored"
    incr                   script: compare-and-set + receipt  a receipt says "swapped"
    memoize lock           SET NX PX GET                    answers the holder: our token is ours
    memoize unlock         script: compare-and-delete       safe (answer unused)
    memoize lock's holder  GET                              read: safe
    memoize take-over      script: compare-and-set          our token already there: ours

A receipt is a helper key in the same slot as the key (``receipt_name``),
named by a token each call draws, written only when the call changed
something and kept ``RECEIPT_MS``: a resend with the same token finds it and
answers as the first run did. A run that changed nothing leaves no receipt,
so its resend is a fresh attempt, the same as one call made at that time.
"""

import hashlib

from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster
from redis.cluster import RedisCluster
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


# KEYS: the key, its receipt. ARGV: the value, its ttl (ms, or "" for none), the receipt's lifetime.
_ADD = """
if redis.call('EXISTS', KEYS[2]) == 1 then
    return 1
end
local stored
if ARGV[2] == '' then
    stored = redis.call('SET', KEYS[1], ARGV[1], 'NX')
else
    stored = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
end
if stored then
    redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
    return 1
end
return 0
"""

# KEYS: the key, its receipt. ARGV: the value read, the value to write, the
# receipt's lifetime. 1: swapped (keeping the ttl); 0: the value changed
# since it was read; -1: the key is gone.
_SWAP = """
if redis.call('EXISTS', KEYS[2]) == 1 then
    return 1
end
local current = redis.call('GET', KEYS[1])
if not current then
    return -1
end
if current ~= ARGV[1] then
    return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
return 1
"""


def _wrong_type(exc):
    return str(exc).startswith("WRONGTYPE")


class _Script:
    """A Lua script sent by its SHA1 (EVALSHA), and whole once if the server lacks it."""

    __slots__ = ("text", "sha")

    def __init__(self, text):
        self.text = text
        self.sha = hashlib.sha1(text.encode()).hexdigest()

    def run(self, keys, args):
        """A plan: the script's reply."""
        sha, n = self.sha, len(keys)
        try:
            return (yield lambda client: client.evalsha(sha, n, *keys, *args))
        except NoScriptError:  # never ran: sending it whole is a first attempt
            text = self.text
            return (yield lambda client: client.eval(text, n, *keys, *args))


_DELETE_SCRIPT = _Script(_DELETE)
_POP_SCRIPT = _Script(_POP)
_TAKE_OVER_SCRIPT = _Script(_TAKE_OVER)
_RELEASE_SCRIPT = _Script(_RELEASE)
_ADD_SCRIPT = _Script(_ADD)
_SWAP_SCRIPT = _Script(_SWAP)


def receipt_name(prefix, name, token):
    """The receipt of one call on ``name``: a helper key of the namespace
    ``prefix`` whose hash tag is ``name`` (which has no braces), so it lies in
    ``name``'s Cluster slot and one script may touch both."""
    return prefix + HELPER_MARK + b"receipt:{" + name + b"}:" + token


# -- plans (generators: ``reply = yield command``; the return value is the answer) --

def ping():
    return (yield lambda client: client.ping())


def get(name):
    return (yield lambda client: client.get(name))


def get_with_ttl(name):
    """(data or None, PTTL in ms: -1 no expiry, -2 no key), in one round trip."""
    def command(client):
        pipe = client.pipeline(transaction=False)
        pipe.get(name)
        pipe.pttl(name)
        return pipe.execute()
    data, ms = yield command
    return data, ms


#: The Cluster clients: their multi-key reads are split by slot, their scans go node by node.
CLUSTER_CLIENTS = (RedisCluster, AsyncRedisCluster)


def get_many(names):
    def command(client):
        if isinstance(client, CLUSTER_CLIENTS):
            return client.mget_nonatomic(names)
        return client.mget(names)
    return (yield command)


def get_many_with_ttl(names):
    """([data or None], [PTTL in ms]) of ``names``: one pipeline, one round trip per node."""
    def command(client):
        pipe = client.pipeline(transaction=False)
        for name in names:
            pipe.get(name)
            pipe.pttl(name)
        return pipe.execute()
    replies = yield command
    return replies[0::2], replies[1::2]


def set(name, data, ms):  # noqa: A001 - the command's name
    return (yield lambda client: client.set(name, data, px=ms))


def set_many(pairs, ms):
    def command(client):
        pipe = client.pipeline(transaction=False)
        for name, data in pairs:
            pipe.set(name, data, px=ms)
        return pipe.execute()
    yield command


def add(name, data, ms, receipt):
    """Store ``data`` only if ``name`` is absent; True if this call stored it."""
    ttl = b"" if ms is None else ms
    return (yield from _ADD_SCRIPT.run((name, receipt), (data, ttl, RECEIPT_MS))) == 1


def swap(name, old, new, receipt):
    """Replace ``old`` by ``new`` (keeping the ttl): 1 done, 0 changed meanwhile, -1 gone."""
    return (yield from _SWAP_SCRIPT.run((name, receipt), (old, new, RECEIPT_MS)))


def delete(name, receipt):
    """Remove ``name``; True if it was there, even when this is a resend of a
    call whose reply was lost (``receipt``: see receipt_name)."""
    return (yield from _DELETE_SCRIPT.run((name, receipt), (RECEIPT_MS,))) == 1


def get_and_delete(name, receipt):
    """The value of ``name`` (None if absent), removed; a resend of a call whose
    reply was lost returns the value the first run removed (``receipt``)."""
    return (yield from _POP_SCRIPT.run((name, receipt), (RECEIPT_MS,)))


def remove(name):
    """DEL, where the answer is not used (a resend removes nothing more)."""
    yield lambda client: client.delete(name)


def delete_many(names):
    return (yield lambda client: client.delete(*names))


def exists(name):
    return (yield lambda client: client.exists(name)) == 1


def remaining_ms(name):
    """PTTL: milliseconds left, -1 for no expiry, -2 for no key."""
    return (yield lambda client: client.pttl(name))


def expire(name, ms):
    """Restart a key's expiry at ``ms`` (None: never expires); False if absent."""
    if ms is not None:
        return bool((yield lambda client: client.pexpire(name, ms)))

    # PERSIST says 0 both for "absent" and "had no expiry": ask EXISTS in the same round trip.
    def command(client):
        pipe = client.pipeline(transaction=False)
        pipe.persist(name)
        pipe.exists(name)
        return pipe.execute()
    return (yield command)[1] == 1


def acquire(name, token, ms):
    """SET NX PX GET: None if ``name`` was free and now holds ``token`` for
    ``ms``, else the holder's token (our own ``token`` if a lost reply's
    resend finds the lock this call took)."""
    try:
        return (yield lambda client: client.set(name, token, nx=True, px=ms, get=True))
    except ResponseError as exc:
        if _wrong_type(exc):
            return FOREIGN_HOLDER
        raise


def lock_holder(name):
    """The token in lock ``name`` (None if free, FOREIGN_HOLDER if not a string)."""
    try:
        return (yield lambda client: client.get(name))
    except ResponseError as exc:
        if _wrong_type(exc):
            return FOREIGN_HOLDER
        raise


def take_over(name, holder, token, ms):
    """Put ``token`` in lock ``name`` for ``ms`` if it still holds ``holder``;
    True if it now holds ``token``."""
    args = (holder, token, ms, FOREIGN_HOLDER)
    return (yield from _TAKE_OVER_SCRIPT.run((name,), args)) == 1


def release(name, token):
    """Delete ``name`` only if it still holds ``token`` (one Lua script: atomic)."""
    return (yield from _RELEASE_SCRIPT.run((name,), (token,)))


def primaries():
    """The master nodes to scan: redis-py's ClusterNodes, or [None] for a
    standalone server (the client itself)."""
    return (yield _get_primaries)


def _get_primaries(client):
    if isinstance(client, CLUSTER_CLIENTS):
        return client.get_primaries()  # not a coroutine in redis.asyncio either
    return [None]


def scan_page(node, cursor, pattern):
    """One SCAN step on ``node`` (see primaries): (next cursor, names)."""
    if node is None:
        return (yield lambda client: client.scan(cursor, match=pattern, count=_SCAN_BATCH))
    cursors, names = yield lambda client: client.scan(cursor, match=pattern, count=_SCAN_BATCH,
                                                      target_nodes=node)
    # A Cluster client answers the cursor of each node asked: {"host:port": cursor}.
    (cursor,) = cursors.values()
    return cursor, names


def _walk(pattern, keep=None, command=None):
    """Every key matching ``pattern`` on every master node (and, if given, for
    which ``keep(name)`` is true: a glob cannot say everything), a page at a
    time: with ``command(names)``, each page's command is sent and the plan
    returns the sum of the replies; without, the number of keys."""
    total = 0
    for node in (yield from primaries()):
        cursor = 0
        while True:
            cursor, names = yield from scan_page(node, cursor, pattern)
            batch = list(names if keep is None else filter(keep, names))
            if batch:
                total += len(batch) if command is None else (yield command(batch))
            if not cursor:
                break
    return total


def count(pattern, keep=None):
    return (yield from _walk(pattern, keep))


def unlink_matching(pattern, keep=None):
    """UNLINK every key ``_walk`` finds, a page at a time; the count removed."""
    return (yield from _walk(pattern, keep, lambda batch: lambda client: client.unlink(*batch)))
