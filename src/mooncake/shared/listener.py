"""One invalidation listener: a socket to one master node, tracking a prefix.

The connection speaks RESP3 (``HELLO 3``) and turns on
``CLIENT TRACKING ON BCAST PREFIX <namespace>``: the server then pushes
``invalidate`` with the names of the keys under the prefix that anyone
changed (or that expired or were evicted), and ``invalidate`` with a null
after FLUSHDB/FLUSHALL. BCAST keeps no per-key state on the server. The
listener itself reads no keys and sends only PINGs (its heartbeat).

Reading is non-blocking: ``drain()`` takes what the kernel already holds,
so the near cache's background thread and a strict read can both call it.
Any socket error, EOF or unparsable byte is ``ListenerLost``.
"""

import socket
import ssl
import time

from . import resp


class ListenerLost(Exception):
    """The listener's connection failed: coherence can no longer be vouched for."""


#: A push meaning "drop everything": a null invalidate (FLUSHDB, FLUSHALL).
FLUSH = object()


def node_address(client):
    """(host, port, username, password, ssl options or None) of a redis-py Redis client;
    for a Unix socket, host is its path and port None."""
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
    if "ssl" in pool.connection_class.__name__.lower():
        tls = {name: kwargs.get(name) for name in
               ("ssl_ca_certs", "ssl_certfile", "ssl_keyfile", "ssl_cert_reqs", "ssl_check_hostname")}
    if kwargs.get("path"):
        return kwargs["path"], None, username, password, tls
    return kwargs.get("host", "localhost"), kwargs.get("port", 6379), username, password, tls


def _wrap_tls(sock, host, options):
    context = ssl.create_default_context(cafile=options.get("ssl_ca_certs"))
    if options.get("ssl_certfile"):
        context.load_cert_chain(options["ssl_certfile"], options.get("ssl_keyfile"))
    requirement = options.get("ssl_cert_reqs")
    if requirement in ("none", ssl.CERT_NONE):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        context.check_hostname = bool(options.get("ssl_check_hostname", False))
    return context.wrap_socket(sock, server_hostname=host)


class NodeListener:
    """The tracking connection to one master node."""

    def __init__(self, address, prefix, timeout):
        self.address = address
        self.prefix = prefix
        self.timeout = timeout
        self.sock = None
        self._buf = bytearray()
        self._pos = 0
        #: monotonic time a PING was sent that has not been answered (None: none pending)
        self.ping_sent = None

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
                sock = _wrap_tls(sock, host, tls)
            self.sock = sock
            hello = ["HELLO", "3"]
            if password is not None:
                hello += ["AUTH", username or "default", password]
            sock.sendall(resp.command(*hello)
                         + resp.command("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", self.prefix))
            for _ in range(2):
                reply = self._read_reply_blocking()
                if isinstance(reply, resp.ReplyError):
                    raise ListenerLost(f"the server refused tracking: {reply}")
            sock.setblocking(False)
        except (OSError, ValueError) as exc:
            self.close()
            raise ListenerLost(f"cannot listen to {host}:{port}: {exc}") from exc
        except ListenerLost:
            self.close()
            raise
        return self

    def _read_reply_blocking(self):
        # Only during connect: pushes cannot arrive before tracking is on.
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
        """Send a heartbeat PING (at most one outstanding)."""
        if self.ping_sent is not None:
            return
        try:
            self.sock.sendall(resp.command("PING"))
        except OSError as exc:
            raise ListenerLost(f"heartbeat failed: {exc}") from exc
        self.ping_sent = time.monotonic()

    def drain(self):
        """Every complete message the kernel already holds, without blocking:
        lists of invalidated names, or FLUSH. ListenerLost on EOF or error."""
        sock = self.sock
        try:
            while True:
                chunk = sock.recv(262144)
                if not chunk:
                    raise ListenerLost("the server closed the connection")
                self._buf += chunk
                if len(chunk) < 262144:
                    break
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
                if isinstance(message, resp.Push):
                    if message and message[0] == b"invalidate":
                        names = message[1] if len(message) > 1 else None
                        events.append(FLUSH if names is None else names)
                elif isinstance(message, resp.ReplyError):
                    raise ListenerLost(f"the server answered the listener with an error: {message}")
                else:  # PONG
                    self.ping_sent = None
        except ValueError as exc:
            raise ListenerLost(f"unreadable data on the listener: {exc}") from exc
        if self._pos == len(buf):
            buf.clear()
            self._pos = 0
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
