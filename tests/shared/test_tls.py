"""The near cache's listener speaks TLS exactly as the cache's own client does:
same CA, same verification mode, same host name check. Certificates are made
here with openssl; a TLS front (tls_proxy.py) stands before a plain server,
which needs a password, so a listener that trusted the wrong server would
send that password to it."""

import shutil
import subprocess
import time

import pytest
import redis

from mooncake.shared import SharedMooncake
from mooncake.shared.listener import ListenerLost, NodeListener, node_address

from .near_procs import read_until_near_hit, wait_trusted
from .tls_proxy import TLSProxy

PASSWORD = "right-password"  # the `protected` fixture's


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _authority(folder, name):
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
             "-keyout", f"{name}.key", "-out", f"{name}.crt", cwd=folder)


def _certificate(folder, name, authority, alt_names):
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
             "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=folder)
    (folder / f"{name}.ext").write_text(f"subjectAltName={alt_names}\n")
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{authority}.crt", "-CAkey", f"{authority}.key",
             "-CAcreateserial", "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.crt", cwd=folder)
    return str(folder / f"{name}.crt"), str(folder / f"{name}.key")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.fail("the TLS tests need the openssl command", pytrace=False)
    folder = tmp_path_factory.mktemp("pki")
    _authority(folder, "ca")
    _authority(folder, "other-ca")
    return {
        "ca": str(folder / "ca.crt"),
        "other-ca": str(folder / "other-ca.crt"),
        "localhost": _certificate(folder, "localhost", "ca", "DNS:localhost,IP:127.0.0.1"),
        "elsewhere": _certificate(folder, "elsewhere", "ca", "DNS:elsewhere.example"),
    }


@pytest.fixture
def front(protected, pki):
    """A TLS front for the password-protected server: ``front(cert_name)``."""
    made = []

    def make(cert):
        proxy = TLSProxy(protected.port, *pki[cert])
        made.append(proxy)
        return proxy

    yield make
    for proxy in made:
        proxy.close()


@pytest.fixture(params=["url", "kwargs"])
def client_for(request):
    """``client_for(proxy, **tls)``: a client of the TLS front, built from a
    ``rediss://`` URL (whose query carries the TLS settings) or from keywords."""

    def make(proxy, **tls):
        if request.param == "url":
            query = "&".join(f"{name}={value}" for name, value in tls.items())
            return redis.Redis.from_url(f"rediss://:{PASSWORD}@localhost:{proxy.port}/0?{query}",
                                        socket_timeout=5)
        return redis.Redis(host="localhost", port=proxy.port, password=PASSWORD, ssl=True,
                           socket_timeout=5, **tls)

    return make


def test_the_listener_trusts_what_the_client_trusts(front, pki, namespace, client_for):
    proxy = front("localhost")
    cache = SharedMooncake(client=client_for(proxy, ssl_ca_certs=pki["ca"]), namespace=namespace, near=10)
    try:
        wait_trusted(cache)
        cache.put("k", "v")
        read_until_near_hit(cache, "k", "v")
        writer = SharedMooncake(client=client_for(proxy, ssl_ca_certs=pki["ca"]), namespace=namespace)
        writer.put("k", "new")  # the invalidation arrives over TLS
        assert wait_for(lambda: cache.get("k") == "new")
        writer.close()
    finally:
        cache.clear()
        cache.close()


def wait_for(condition, tries=500):
    for _ in range(tries):
        if condition():
            return True
        time.sleep(0.01)
    return False


@pytest.mark.parametrize("cert, ca", [("elsewhere", "ca"), ("localhost", "other-ca")],
                         ids=["wrong-host-name", "wrong-ca"])
def test_the_listener_refuses_a_server_the_client_refuses_and_sends_it_nothing(front, pki, cert, ca, client_for):
    proxy = front(cert)
    client = client_for(proxy, ssl_ca_certs=pki[ca])
    with pytest.raises(redis.exceptions.ConnectionError):
        client.ping()  # the client's own check, as redis-py makes it
    listener = NodeListener(node_address(client), b"any:", timeout=5)
    with pytest.raises(ListenerLost, match="certificate"):
        listener.connect()
    assert proxy.handshakes == 0
    assert proxy.forwarded == 0  # no HELLO, no AUTH, no password reached the server
    client.close()


def test_the_listener_skips_verification_only_when_the_client_does(front, namespace, client_for):
    proxy = front("elsewhere")
    client = client_for(proxy, ssl_cert_reqs="none", ssl_check_hostname=False)
    assert client.ping()
    cache = SharedMooncake(client=client, namespace=namespace, near=10)
    try:
        wait_trusted(cache)  # the listener connected under the same (lax) rules
        assert proxy.handshakes >= 2
    finally:
        cache.close()
