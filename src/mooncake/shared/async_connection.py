"""How an async cache reaches the server: a redis.asyncio client per event loop.

redis.asyncio's connections belong to the loop that opened them, so a cache
made from a URL keeps one client per running loop (made on that loop's first
call; dropped with the loop): one instance serves every task of a loop, and a
second loop (a test's ``asyncio.run``, a thread with a loop of its own) gets a
client of its own. A given client is the user's and belongs to one loop: the
first loop that uses it; another loop gets a RuntimeError saying so.

The rules are the sync Connection's (``connection``): the same default
timeout and single retry on a dropped connection, a Cluster client when the
URL names a Cluster node, a client that decodes responses refused, and a
configuration mistake (wrong credentials, a database the server lacks)
reported by ``connect()`` even with ``fail_open``.
"""

import asyncio
import weakref

import redis.asyncio
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.exceptions import NoPermissionError

from .connection import (check_not_decoding, cluster_enabled, hello_says_cluster,
                         is_configuration_mistake, url_options)
from .errors import SERVER_ERRORS, SharedCacheError


async def _is_cluster_node(client):
    try:
        return cluster_enabled(await client.info("cluster"))
    except NoPermissionError:
        return hello_says_cluster(await client.execute_command("HELLO"))


class AsyncConnection:
    """The redis.asyncio client of each loop (or the one given)."""

    def __init__(self, url=None, client=None):
        if (url is None) == (client is None):
            raise TypeError("pass either a URL or a redis.asyncio client (client=...), not both or neither")
        if url is not None and not isinstance(url, str):
            raise TypeError(f"url must be a str, not {type(url).__name__}")
        if client is not None and not isinstance(client, (redis.asyncio.Redis, RedisCluster)):
            raise TypeError(f"client must be a redis.asyncio.Redis or a redis.asyncio.cluster."
                            f"RedisCluster, not {type(client).__name__}")
        if client is not None:
            check_not_decoding(client)
        self.url = url
        self.given = client
        self.is_cluster = isinstance(client, RedisCluster)
        self._clients = weakref.WeakKeyDictionary()  # loop -> its ready client
        self._given_loop = None
        # The last loop asked and its client: the common case, without a weakref lookup.
        self._last_loop = self._last_client = None

    def ready(self, loop):
        """The ready client of ``loop`` (None if it has none yet)."""
        if loop is self._last_loop:
            return self._last_client
        client = self._clients.get(loop)
        if client is not None:
            self._last_loop, self._last_client = loop, client
        elif self.given is not None and self._given_loop is not None:
            owner = self._given_loop()
            if owner is not None and owner is not loop and not owner.is_closed():
                raise RuntimeError(
                    "this AsyncSharedMooncake was given a client that belongs to another event "
                    "loop; redis.asyncio clients cannot move between loops (build the cache "
                    "from a URL: it makes a client per loop)")
        return client

    async def connect(self, loop):
        """The client of ``loop``, made and PINGed now if needed; SharedCacheError
        if the server cannot be reached (or refuses us)."""
        client = self.ready(loop)
        if client is not None:
            return client
        if self.given is not None:
            client = self.given
            try:
                if isinstance(client, RedisCluster):
                    await client.initialize()
                await client.ping()
            except SERVER_ERRORS as exc:
                raise SharedCacheError(f"cannot reach the server: {exc}") from exc
            self._given_loop = weakref.ref(loop)
        else:
            client = await self._from_url()
        found = self._clients.get(loop)
        if found is not None:  # another task of this loop connected meanwhile: keep one
            if client is not self.given:
                await client.aclose()
            return found
        self._clients[loop] = client
        self._last_loop, self._last_client = loop, client
        return client

    async def _from_url(self):
        options = url_options(Retry)
        try:
            client = redis.asyncio.Redis.from_url(self.url, **options)
            check_not_decoding(client)
        except ValueError as exc:
            raise ValueError(f"not a usable redis URL: {exc}") from None
        try:
            await client.ping()
            cluster = await _is_cluster_node(client)
        except SERVER_ERRORS as exc:
            await client.aclose()
            raise SharedCacheError(f"cannot reach the server: {exc}") from exc
        if not cluster:
            return client
        await client.aclose()
        database = client.get_connection_kwargs().get("db") or 0
        if database != 0:
            raise ValueError(f"not a usable redis URL: it names database {database}, and a "
                             f"Cluster client uses only database 0")
        try:
            cluster_client = RedisCluster.from_url(self.url, **options)
            await cluster_client.initialize()
        except SERVER_ERRORS as exc:
            raise SharedCacheError(f"cannot reach the cluster: {exc}") from exc
        self.is_cluster = True
        return cluster_client

    async def close(self, loop):
        """Close the client of ``loop`` if the cache made it (a given one is the
        user's); the next call makes a new one."""
        client = self._clients.pop(loop, None)
        if self._last_loop is loop:
            self._last_loop = self._last_client = None
        if client is not None and client is not self.given:
            await client.aclose()


def sync_mirror_options(client):
    """redis-py sync client options reaching the same server as the async
    ``client`` (for the near cache's listener, which runs in a thread)."""
    if isinstance(client, RedisCluster):
        node = client.get_default_node() or client.get_nodes()[0]
        kwargs = dict(client.connection_kwargs, host=node.host, port=node.port)
    else:
        kwargs = dict(client.connection_pool.connection_kwargs)
    keep = ("host", "port", "path", "db", "username", "password", "credential_provider",
            "socket_timeout", "socket_connect_timeout")
    options = {name: kwargs[name] for name in keep if kwargs.get(name) is not None}
    ssl_options = {name: value for name, value in kwargs.items()
                   if name.startswith("ssl_") and value is not None}
    if ssl_options or kwargs.get("ssl"):
        options.update(ssl_options, ssl=True)
    return options


__all__ = ["AsyncConnection", "is_configuration_mistake", "sync_mirror_options"]
