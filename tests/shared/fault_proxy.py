"""A TCP proxy in front of one server that can lose a reply the server sent.

``FaultProxy(port)`` listens on 127.0.0.1 and forwards each client connection
to the server at 127.0.0.1:``port``. It reads RESP on both directions, so it
knows which reply answers which command. ``lose_reply(match, nth=1)`` arms one
fault: the ``nth`` command (counted from now) for which ``match(args)`` is true
and whose reply is not an error is forwarded to the server, which runs it; but
when its reply comes back, the proxy closes both sockets instead of passing it
on. The client sees the connection drop after the command took effect: a lost
reply, as a network cut or a failover would make it.

Bounded: it listens on loopback only, takes at most ``max_connections`` client
connections at once, holds whole messages only (a test's values are small),
and ``close()`` stops every thread it started (each waits at most 0.2 s in
any blocking call). Standalone servers only: a Cluster's replies name the
nodes' real addresses (MOVED, CLUSTER SHARDS), which a client would then reach
around the proxy.
"""

import socket
import threading
from collections import deque

_POLL = 0.2  # seconds a blocking accept/recv waits before checking for close()


class Incomplete(Exception):
    """The buffer does not hold the whole message yet."""


def _line_end(buf, pos):
    end = buf.find(b"\r\n", pos)
    if end < 0:
        raise Incomplete
    return end


def message_end(buf, pos=0):
    """The index just past the RESP2/RESP3 message starting at ``buf[pos]``;
    Incomplete if it is not all there yet."""
    if pos >= len(buf):
        raise Incomplete
    kind = buf[pos:pos + 1]
    end = _line_end(buf, pos)
    after = end + 2
    if kind in b"$!=":  # bulk string, bulk error, verbatim string
        size = int(buf[pos + 1:end])
        if size < 0:
            return after
        if after + size + 2 > len(buf):
            raise Incomplete
        return after + size + 2
    if kind in b"*~>%|":  # array, set, push, map, attribute
        count = int(buf[pos + 1:end])
        if kind in b"%|":
            count *= 2
        for _ in range(max(count, 0)):
            after = message_end(buf, after)
        if kind == b"|":  # an attribute is followed by the reply it annotates
            after = message_end(buf, after)
        return after
    return after  # + - : _ , # ( : one line


def command_args(message):
    """The arguments of a command sent as an array of bulk strings."""
    if not message.startswith(b"*"):
        return [message.strip()]
    args, pos = [], _line_end(message, 0) + 2
    while pos < len(message):
        end = _line_end(message, pos)
        size = int(message[pos + 1:end])
        args.append(message[end + 2:end + 2 + size])
        pos = end + 2 + size + 2
    return args


class _Fault:
    def __init__(self, match, nth):
        self.match = match
        self.remaining = nth


class FaultProxy:
    """A loopback proxy to ``127.0.0.1:port`` that can drop one reply (see the module)."""

    def __init__(self, port, max_connections=32):
        self.target = ("127.0.0.1", port)
        self.max_connections = max_connections
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(_POLL)
        self.port = self._listener.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._lock = threading.Lock()
        self._fault = None
        self._stop = threading.Event()
        self._threads = []
        self._sockets = set()
        #: the arguments of every command whose reply was lost, in order
        self.lost = []
        self.lost_event = threading.Event()

    def start(self):
        self._spawn(self._accept)
        return self

    def lose_reply(self, match, nth=1):
        """Arm the fault: lose the successful reply to the ``nth`` command matching ``match``."""
        with self._lock:
            self._fault = _Fault(match, nth)
            self.lost_event.clear()

    def _spawn(self, target, *args):
        thread = threading.Thread(target=target, args=args, daemon=True, name="fault-proxy")
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _accept(self):
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            with self._lock:
                full = len(self._sockets) >= 2 * self.max_connections
            if full:
                client.close()
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            for sock in (client, server):
                sock.settimeout(_POLL)
            with self._lock:
                self._sockets.update((client, server))
            pending = deque()  # per connection: for each command sent, is it the armed one?
            self._spawn(self._commands, client, server, pending)
            self._spawn(self._replies, server, client, pending)

    def _recv(self, sock):
        """Bytes from ``sock``; b"" once it is closed (or the proxy is)."""
        while not self._stop.is_set():
            try:
                return sock.recv(65536)
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return b""
        return b""

    def _cut(self, *socks):
        for sock in socks:
            with self._lock:
                self._sockets.discard(sock)
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _commands(self, client, server, pending):
        """Client to server: note each command (and whether it matches the fault), then forward it."""
        buf = b""
        while True:
            data = self._recv(client)
            if not data:
                self._cut(client, server)
                return
            buf += data
            pos = 0
            while True:
                try:
                    end = message_end(buf, pos)
                except Incomplete:
                    break
                args = command_args(buf[pos:end])
                with self._lock:
                    fault = self._fault
                    pending.append(fault is not None and bool(fault.match(args)) and args)
                pos = end
            try:
                server.sendall(buf[:pos])
            except OSError:
                self._cut(client, server)
                return
            buf = buf[pos:]

    def _replies(self, server, client, pending):
        """Server to client: pass each reply on, except the armed one's."""
        buf = b""
        while True:
            data = self._recv(server)
            if not data:
                self._cut(client, server)
                return
            buf += data
            pos = 0
            while True:
                try:
                    end = message_end(buf, pos)
                except Incomplete:
                    break
                if buf.startswith(b">", pos):  # a RESP3 push answers no command
                    pos = end
                    continue
                args = pending.popleft() if pending else False
                if args and not buf.startswith((b"-", b"!"), pos) and self._fires(args):
                    try:
                        client.sendall(buf[:pos])  # the replies before it arrive
                    except OSError:
                        pass
                    self._cut(client, server)
                    self.lost_event.set()
                    return
                pos = end
            try:
                client.sendall(buf[:pos])
            except OSError:
                self._cut(client, server)
                return
            buf = buf[pos:]

    def _fires(self, args):
        with self._lock:
            fault = self._fault
            if fault is None:
                return False
            fault.remaining -= 1
            if fault.remaining:
                return False
            self._fault = None
            self.lost.append(args)
            return True

    def close(self):
        self._stop.set()
        self._listener.close()
        with self._lock:
            socks, threads = list(self._sockets), list(self._threads)
        self._cut(*socks)
        for thread in threads:
            thread.join(2 * _POLL + 1)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.close()
