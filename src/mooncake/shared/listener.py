"""One invalidation listener: a socket to one master node, tracking a prefix.

The connection speaks RESP3 (``HELLO 3``) and turns on
``CLIENT TRACKING ON BCAST PREFIX <namespace>``: the server then pushes
``invalidate`` with the names of the keys under the prefix that anyone
changed (or that expired or were evicted), and ``invalidate`` with a null
after FLUSHDB/FLUSHALL. BCAST keeps no per-key state on the server. The
listener itself reads no keys; its heartbeat is a bare ``HELLO``, whose reply
names the node's role (a node that is no longer a master, after a failover,
is lost at once; ``HELLO`` needs no more ACL rights than tracking does), and
``PING`` is its fence.

Implementation note on backlogs and fences. A strict read applies what the
kernel already holds, which is every invalidation the server has written so
far. That is all of them unless the server could not write: when a burst of
pushes fills the socket's buffers, the rest waits in the server's own output
buffer, and a poll cannot see it. Such a backlog can only form after a full
receive window (far more than ``BACKLOG_BYTES``) arrived unread, so once
that many bytes came in since the listener was last known to be caught up,
it is marked ``behind``: the near cache then serves no hits (reads go to the
server). A ``PING`` fence shows when it has caught up: the server answers it
after every push it queued before, so reading the ``PONG`` proves that all
sent before the ``PING`` was read, and the count starts again from there.
Fences go out early, at half that many bytes, so under a steady trickle of
pushes the answer comes back long before the listener would be marked
behind, and hits are never interrupted.

Reading is non-blocking: ``drain()`` takes what the kernel already holds,
so the near cache's background thread and a strict read can both call it.
Any socket error, EOF or unparsable byte is ``ListenerLost``.
"""

import socket
import ssl
import time

from redis.connection import SSLConnection
from redis.exceptions import RedisError

from . import resp


class ListenerLost(Exception):
    """The listener's connection failed: coherence can no longer be vouched for."""


#: A push meaning "drop everything": a null invalidate (FLUSHDB, FLUSHALL).
FLUSH = object()

#: Bytes received since the listener was last known caught up beyond which a
#: server-side backlog is possible: well under one receive window.
BACKLOG_BYTES = 32 * 1024
#: ... and beyond which a fence is sent, to learn that it caught up.
FENCE_BYTES = BACKLOG_BYTES // 2
#: What each message counts on a Unix socket besides its bytes: there the
#: kernel charges every write its buffer overhead, so many small pushes fill
#: the socket long before their bytes add up to a window.
UNIX_MESSAGE_COST = 1024
#: The most one drain reads; what is left waits for the next (and, being far
#: over BACKLOG_BYTES, keeps the listener behind meanwhile).
DRAIN_LIMIT = 1 << 20


def node_address(client):
    """(host, port, username, password, tls) of a redis-py Redis client; for a
    Unix socket, host is its path and port None. ``tls`` is None, or an
    unconnected copy of the client's own SSL connection, whose TLS settings
    (CA, verification mode, host name check, client certificate, minimum
    version, ciphers) the listener uses as they are: it never trusts a server
    the cache's own client would refuse."""
    pool = client.connection_pool
    kwargs = pool.connection_kwargs
    password, username = kwargs.get("password"), kwargs.get("username")
    provider = kwargs.get("credential_provider")
    if provider is not None:
        credentials = provider.get_credentials()
        if len(credentials) == 2:
            username, password = credentials
        else:
            password = credentials[0]
    tls = None
    if issubclass(pool.connection_class, SSLConnection):
        tls = pool.connection_class(**kwargs)  # makes no connection until asked
    elif "ssl" in pool.connection_class.__name__.lower():
        # A TLS connection class we cannot borrow the TLS code of: never fall
        # back to plain text, which would send the password in clear.
        raise ListenerLost(f"cannot listen through {pool.connection_class.__name__}: "
                           f"not a redis.connection.SSLConnection")
    if kwargs.get("path"):
        return kwargs["path"], None, username, password, tls
    return kwargs.get("host", "localhost"), kwargs.get("port", 6379), username, password, tls


def node_host_port(client):
    """(host, port) of a redis-py Redis client's node (a Unix socket: (path, None)),
    read from its settings alone: cheap enough for every heartbeat."""
    kwargs = client.connection_pool.connection_kwargs
    if kwargs.get("path"):
        return kwargs["path"], None
    return kwargs.get("host", "localhost"), kwargs.get("port", 6379)


def _wrap_tls(sock, tls, timeout):
    """``sock`` wrapped by the client's own TLS code (redis-py >= 5.2), so the
    certificate and host name checks are exactly the client's; with the
    listener's own timeout (the client's may be None: wait for ever)."""
    tls.socket_connect_timeout = tls.socket_timeout = timeout  # our private copy
    try:
        return tls._wrap_socket_with_ssl(sock)
    except (ssl.SSLError, RedisError) as exc:
        raise ListenerLost(f"TLS handshake refused: {exc}") from exc


def _check_master(hello):
    """The reply to ``HELLO``; ListenerLost unless it names the node a master."""
    role = hello.get(b"role") if isinstance(hello, dict) else None
    if role != b"master":
        raise ListenerLost(f"the node is not a master (HELLO says role {role!r})")


class NodeListener:
    """The tracking connection to one master node."""

    def __init__(self, address, prefix, timeout):
        self.address = address
        self.prefix = prefix
        self.timeout = timeout
        self.sock = None
        self._buf = bytearray()
        self._pos = 0
        #: monotonic time a heartbeat (ROLE) was sent that has not been answered (None: none pending)
        self.ping_sent = None
        #: True while a server-side backlog of pushes is possible (see the module's note)
        self.behind = False
        self._received = 0      # bytes (and message costs) received since last known caught up
        self._message_cost = UNIX_MESSAGE_COST if address[1] is None else 0
        self._fences_sent = 0   # PINGs sent, and PONGs read: caught up when they match
        self._fences_read = 0

    def fileno(self):
        return self.sock.fileno()

    def connect(self):
        """Connect, authenticate, turn tracking on; return once the server confirmed it.
        ListenerLost on any failure (the socket is then closed)."""
        host, port, username, password, tls = self.address
        try:
            if port is None:  # a Unix socket
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(self.timeout)
                self.sock = sock
                sock.connect(host)
            else:
                sock = socket.create_connection((host, port), timeout=self.timeout)
                self.sock = sock  # closed by close() if what follows fails
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if tls is not None:
                sock = _wrap_tls(sock, tls, self.timeout)
                sock.settimeout(self.timeout)
            self.sock = sock
            hello = ["HELLO", "3"]
            if password is not None:
                hello += ["AUTH", username or "default", password]
            sock.sendall(resp.command(*hello)
                         + resp.command("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", self.prefix))
            replies = []
            while len(replies) < 2:
                reply = self._read_reply_blocking()
                if isinstance(reply, resp.Push):
                    # A write right after tracking started: nothing is trusted
                    # or filled before connect returns, so it concerns nothing.
                    continue
                if isinstance(reply, resp.ReplyError):
                    raise ListenerLost(f"the server refused tracking: {reply}")
                replies.append(reply)
            _check_master(replies[0])  # HELLO's reply names the node's role
            sock.setblocking(False)
        except (OSError, ValueError) as exc:
            self.close()
            raise ListenerLost(f"cannot listen to {host}:{port}: {exc}") from exc
        except ListenerLost:
            self.close()
            raise
        return self

    def _read_reply_blocking(self):
        # Only during connect.
        while True:
            parsed = resp.parse(self._buf, self._pos)
            if parsed is not None:
                reply, self._pos = parsed
                return reply
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ListenerLost("the server closed the connection")
            self._buf += chunk

    def ping(self):
        """Send a heartbeat (a bare ``HELLO``, at most one outstanding): its
        answer shows the node is alive and still a master."""
        if self.ping_sent is not None:
            return
        self._send(resp.command("HELLO"), "heartbeat")
        self.ping_sent = time.monotonic()

    def _send(self, data, what):
        # A few bytes (at most one heartbeat and one fence are outstanding),
        # bounded by the listener's timeout all the same.
        try:
            self.sock.settimeout(self.timeout)
            self.sock.sendall(data)
            self.sock.setblocking(False)
        except OSError as exc:
            raise ListenerLost(f"{what} failed: {exc}") from exc

    def _fence(self):
        self._send(resp.command("PING"), "fence")
        self._fences_sent += 1

    def drain(self):
        """Every complete message the kernel already holds, without blocking:
        lists of invalidated names, or FLUSH. ListenerLost on EOF or error."""
        sock = self.sock
        read = 0
        try:
            # Until the kernel (and, for TLS, the record layer) has nothing
            # more: a TLS recv returns one record at most, so a short read
            # says nothing about what is still waiting.
            while read < DRAIN_LIMIT:
                chunk = sock.recv(262144)
                if not chunk:
                    raise ListenerLost("the server closed the connection")
                self._buf += chunk
                read += len(chunk)
                self._received += len(chunk)  # counted on arrival: a part of a push counts too
        except (BlockingIOError, ssl.SSLWantReadError):
            pass
        except OSError as exc:
            raise ListenerLost(f"the listener's connection failed: {exc}") from exc
        events = []
        buf = self._buf
        try:
            while self._pos < len(buf):
                parsed = resp.parse(buf, self._pos)
                if parsed is None:
                    break
                message, self._pos = parsed
                self._received += self._message_cost
                if isinstance(message, resp.Push):
                    if message and message[0] == b"invalidate":
                        names = message[1] if len(message) > 1 else None
                        events.append(FLUSH if names is None else names)
                elif isinstance(message, resp.ReplyError):
                    raise ListenerLost(f"the server answered the listener with an error: {message}")
                elif message == b"PONG":  # a fence's answer: all before it is read
                    self._fences_read += 1
                    if self._fences_read == self._fences_sent:
                        self.behind = False
                        self._received = len(buf) - self._pos
                else:  # the heartbeat's HELLO
                    _check_master(message)
                    self.ping_sent = None
        except ValueError as exc:
            raise ListenerLost(f"unreadable data on the listener: {exc}") from exc
        if self._pos == len(buf):
            buf.clear()
            self._pos = 0
        if self._received >= BACKLOG_BYTES:
            self.behind = True
        if self._received >= FENCE_BYTES and self._fences_read == self._fences_sent:
            self._fence()
        return events

    def close(self):
        sock, self.sock = self.sock, None
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass

    def forget(self):
        """In a forked child: drop the parent's socket without a word to the server.
        Closing our copy of the descriptor leaves the parent's connection intact."""
        self.close()
