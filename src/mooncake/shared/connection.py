"""How the cache reaches the server: one redis-py client, made from a URL or given.

A URL gets a default socket timeout (redis-py's own default is none, so a call
could hang for ever), one immediate retry after a dropped connection (so the
first call after a server restart succeeds on a fresh connection instead of
failing on the stale one)
and, when the server turns out to be a Cluster node, a ``RedisCluster``.
A given client is used as it is: its timeouts and retries are the user's.
A client that decodes responses (``decode_responses=True``) is refused: values
are bytes (a pickle, a signature) and must come back as bytes.

A configuration mistake is reported at construction even with ``fail_open``:
the server answered the handshake with a refusal (wrong credentials, an ACL
that forbids the commands, a database number it does not have), or the URL
names a database other than 0 on a Cluster. Only a server that cannot be
reached may come back later by itself.

``close()`` closes the sockets and keeps the client: the next command opens
new ones, on a Cluster as on a standalone server (redis-py's own
``RedisCluster.close()`` would forget the default node, after which some of
its commands fail for good).

Fork safety is redis-py's: its connection pools notice a changed pid and open
new sockets in the child, so a child never shares its parent's connections.
"""

import threading

import redis
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.exceptions import (AuthenticationError, AuthenticationWrongNumberOfArgsError,
                              AuthorizationError, NoPermissionError, ResponseError)
from redis.retry import Retry

from .errors import SERVER_ERRORS, SharedCacheError

#: Seconds a socket read/write or connect may take when the cache makes the client.
DEFAULT_SOCKET_TIMEOUT = 5.0


def url_options(retry_class=Retry):
    """The options of a client made from a URL (``retry_class``: redis-py's
    sync or asyncio Retry)."""
    # One retry, on a dropped connection only: a timeout is not retried, so a
    # hung server costs one socket timeout per call, not two.
    return dict(socket_timeout=DEFAULT_SOCKET_TIMEOUT, socket_connect_timeout=DEFAULT_SOCKET_TIMEOUT,
                retry=retry_class(NoBackoff(), 1, supported_errors=(redis.exceptions.ConnectionError,)))


#: Error codes of refusals that pass by themselves (a script still running).
_PASSING_REFUSALS = frozenset({"BUSY"})


def is_configuration_mistake(exc):
    """True for a redis-py error no retry can cure: the server answered the
    handshake or PING with a refusal, such as SELECT of a database it does not
    have. Refusals that pass (a Cluster that is down, a server still loading)
    have their own subclasses, except BUSY, recognised by its code."""
    if isinstance(exc, (AuthenticationError, AuthorizationError, NoPermissionError,
                        AuthenticationWrongNumberOfArgsError)):
        return True
    if type(exc) is not ResponseError:
        return False
    # redis-py >= 8 keeps the code; older versions leave it as the message's first word
    code = getattr(exc, "status_code", None) or str(exc).split(" ", 1)[0]
    return code not in _PASSING_REFUSALS


def check_not_decoding(client):
    if client.get_encoder().decode_responses:
        raise ValueError(
            "the client decodes responses (decode_responses=True): the cache stores bytes "
            "(a pickle, a signature) and must read them back as bytes; pass a client made "
            "without decode_responses")


def cluster_enabled(info):
    """Whether INFO cluster's reply says the node is a Cluster node."""
    return int(info.get("cluster_enabled", 0)) == 1


def hello_says_cluster(reply):
    """Whether HELLO's reply says the node is a Cluster node."""
    fields = reply if isinstance(reply, dict) else dict(zip(reply[::2], reply[1::2]))
    mode = fields.get(b"mode", fields.get("mode"))
    return mode in (b"cluster", "cluster")


def _is_cluster_node(client):
    try:
        return cluster_enabled(client.info("cluster"))
    except NoPermissionError:
        # A user without @dangerous (INFO is): HELLO, a @connection command, names the mode.
        return hello_says_cluster(client.execute_command("HELLO"))


class Connection:
    """The redis-py client of one cache, and the facts the cache needs about it.

    ``client`` is None until the server was first reached (a URL whose server
    was down at construction, with ``fail_open``); ``resolve()`` makes it.
    """

    def __init__(self, url=None, client=None, *, fail_open=False, connect=True):
        if (url is None) == (client is None):
            raise TypeError("pass either a URL or a redis-py client (client=...), not both or neither")
        if url is not None and not isinstance(url, str):
            raise TypeError(f"url must be a str, not {type(url).__name__}")
        if client is not None and not isinstance(client, (redis.Redis, RedisCluster)):
            raise TypeError(f"client must be a redis.Redis or a redis.cluster.RedisCluster, "
                            f"not {type(client).__name__}")
        if client is not None:
            check_not_decoding(client)
        self._url = url
        self._lock = threading.Lock()
        self.client = client
        self.is_cluster = isinstance(client, RedisCluster)
        if not connect:  # the listener's view of an async cache's server: made on first use
            return
        try:
            if client is None:
                self.resolve()
            else:
                self._ping(client)
        except SharedCacheError as exc:
            # A configuration mistake is to report now, fail_open or not;
            # an unreachable server may come back.
            if not fail_open or is_configuration_mistake(exc.__cause__):
                raise

    @staticmethod
    def _ping(client):
        try:
            client.ping()
        except SERVER_ERRORS as exc:
            raise SharedCacheError(f"cannot reach the server: {exc}") from exc

    def resolve(self):
        """The client, made from the URL on first use: PING, then a RedisCluster
        if the server is a Cluster node. SharedCacheError if it cannot be reached."""
        with self._lock:
            if self.client is not None:
                return self.client
            try:
                client = redis.Redis.from_url(self._url, **url_options())
            except ValueError as exc:
                raise ValueError(f"not a usable redis URL: {exc}") from None
            try:
                check_not_decoding(client)
            except ValueError as exc:
                raise ValueError(f"not a usable redis URL: {exc}") from None
            try:
                client.ping()
                cluster = _is_cluster_node(client)
            except SERVER_ERRORS as exc:
                client.close()
                raise SharedCacheError(f"cannot reach the server: {exc}") from exc
            if cluster:
                client.close()
                database = client.get_connection_kwargs().get("db") or 0
                if database != 0:
                    raise ValueError(f"not a usable redis URL: it names database {database}, and a "
                                     f"Cluster client uses only database 0")
                try:
                    client = RedisCluster.from_url(self._url, **url_options())
                except SERVER_ERRORS as exc:
                    raise SharedCacheError(f"cannot reach the cluster: {exc}") from exc
            self.is_cluster = cluster
            self.client = client
            return client

    def primaries(self):
        """The clients of every master node (one client for a standalone server):
        where a scan must look, and where a listener per node would connect."""
        client = self.client or self.resolve()
        if not self.is_cluster:
            return [client]
        return [node.redis_connection for node in client.get_primaries()]

    def close(self):
        """Close the sockets of a client the cache made (a given client is the
        user's). The client stays usable: its next command opens new sockets."""
        client = self.client
        if self._url is None or client is None:
            return
        if not self.is_cluster:
            client.close()  # disconnects the pool, which connects again on demand
            return
        for node in client.get_nodes():
            if node.redis_connection is not None:
                node.redis_connection.close()
