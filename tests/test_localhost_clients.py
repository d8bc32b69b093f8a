"""Review round 14a, finding 1: a client setting naming ``localhost`` reached whoever listens on
``[::1]`` at its port.

Where ``/etc/hosts`` maps ``localhost`` to ``::1`` as well as ``127.0.0.1`` (Debian's and Ubuntu's
default), the resolver returns ``::1`` first, and any account of the machine may listen on
``[::1]:PORT`` beside a service on ``127.0.0.1:PORT``. ``serve``'s webhook (its events and the token
in its URL), its MQTT broker (username, password), a camera's URL (credentials, frames) and the
central store's object store then talked to that account.

This machine's ``/etc/hosts`` has no ``::1 localhost`` and the tests do not edit it: the resolver
Python's clients call (``socket.getaddrinfo``, which urllib, paho and urllib3 all use) is given
Debian's answer for ``localhost`` (``::1``, then ``127.0.0.1``); every other name resolves as
before. A real listener on ``[::1]:PORT`` must accept nothing; the one on ``127.0.0.1:PORT`` gets
the client. Skipped where this machine has no IPv6 loopback. libpq resolves in C, so the central
store's DSN is tested on the connection string it is given (``tests/central/``).
"""

from __future__ import annotations

import select
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from facesel.loopback_pin import pin_dsn, pin_host, pin_url

_real_getaddrinfo = socket.getaddrinfo


def _debian_getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
    """``socket.getaddrinfo`` as on a machine whose /etc/hosts maps localhost to ::1 and 127.0.0.1."""
    if isinstance(host, (str, bytes)) and (host.decode() if isinstance(host, bytes) else host).lower() == "localhost":
        answers = []
        if family in (0, socket.AF_INET6):
            answers += _real_getaddrinfo("::1", port, socket.AF_INET6, type, proto, flags)
        if family in (0, socket.AF_INET):
            answers += _real_getaddrinfo("127.0.0.1", port, socket.AF_INET, type, proto, flags)
        return answers
    return _real_getaddrinfo(host, port, family, type, proto, flags)


@pytest.fixture
def debian_localhost(monkeypatch):
    """Python's resolver answering ``localhost`` as Debian's /etc/hosts does."""
    monkeypatch.setattr(socket, "getaddrinfo", _debian_getaddrinfo)


class _Answer200(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's name
        self.server.paths.append(self.path)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def squatted_port():
    """``(port, squatter)``: a port free on 127.0.0.1 where another account listens on ``[::1]``
    (``IPV6_V6ONLY``, as it may beside our socket); ``squatter`` is that listener
    (:class:`_closing_listener`), its ``count`` the connections it took."""
    for _ in range(20):
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        squatter = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        squatter.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        try:
            squatter.bind(("::1", port))
        except OSError as err:
            squatter.close()
            if err.errno in (socket.EAI_ADDRFAMILY if hasattr(socket, "EAI_ADDRFAMILY") else -1, 99, 97):
                pytest.skip(f"no IPv6 loopback on this machine ({err})")
            continue
        squatter.listen(8)
        squatter.setblocking(False)
        with _closing_listener(squatter) as closing:  # closes at once what it takes: no client waits on it
            yield port, closing
        return
    pytest.fail("no port free on both 127.0.0.1 and ::1 in 20 tries")


def _listener(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", port))
    sock.listen(8)
    sock.setblocking(False)
    return sock


class _closing_listener:
    """A listener (on 127.0.0.1:``port``, or the listening socket given) that closes each
    connection unanswered, so a client fails at once, not after its read timeout; ``count``: the
    connections it took."""

    def __init__(self, port_or_socket):
        sock = _listener(port_or_socket) if isinstance(port_or_socket, int) else port_or_socket
        self.sock, self.count, self.done, self.took = sock, 0, threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._close_each, daemon=True)

    def _close_each(self):
        while not self.done.is_set():
            if select.select([self.sock], [], [], 0.05)[0]:
                try:
                    self.sock.accept()[0].close()
                    self.count += 1
                    self.took.set()
                except BlockingIOError:
                    pass

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()
        self.sock.close()


def test_the_resolver_stand_in_answers_localhost_with_ipv6_first(debian_localhost):
    answers = socket.getaddrinfo("localhost", 80, type=socket.SOCK_STREAM)
    assert [a[4][0] for a in answers] == ["::1", "127.0.0.1"]  # what the tests below rely on


def test_the_webhook_at_localhost_reaches_127_0_0_1_not_the_squatter(debian_localhost, squatted_port):
    from facesel.serve.events import WebhookOutlet

    port, squatter = squatted_port
    server = HTTPServer(("127.0.0.1", port), _Answer200)
    server.paths = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        outlet = WebhookOutlet(f"http://localhost:{port}/hook?token=s3cret", timeout=3)
        try:
            outlet.send({"event": "track_closed", "camera": "cam-1"})
        except OSError:
            pass  # main: the squatter took the request and closed it
    finally:
        server.shutdown()
        server.server_close()
    assert squatter.count == 0, "the event and the URL's token went to the account on [::1]"
    assert server.paths == ["/hook?token=s3cret"]


def test_the_mqtt_broker_at_localhost_without_tls_is_reached_at_127_0_0_1(debian_localhost, squatted_port):
    pytest.importorskip("paho.mqtt")
    from facesel.serve.events import MqttOutlet

    port, squatter = squatted_port
    with _closing_listener(port) as broker:
        outlet = MqttOutlet("localhost", port, topic="t")
        try:
            # paho's thread connects to one of the two: wait for that connection (15 s at most)
            for _ in range(150):
                if broker.took.wait(0.05) or squatter.took.wait(0.05):
                    break
        finally:
            outlet._client.loop_stop()
            outlet._client.disconnect()
    assert squatter.count == 0, "the MQTT client (username, password, events) went to the account on [::1]"
    assert broker.count >= 1


def test_a_camera_url_at_localhost_is_read_from_127_0_0_1(debian_localhost, squatted_port):
    from facesel.sources.backends import PyAVConnection, SourceError

    port, squatter = squatted_port
    with _closing_listener(port) as camera:  # nothing answers the GET: the open fails either way
        with pytest.raises(SourceError):
            PyAVConnection(f"http://user:pw@localhost:{port}/video.mjpg", open_timeout=3, read_timeout=3)
    assert squatter.count == 0, "the camera's request and credentials went to the account on [::1]"
    assert camera.count >= 1


def test_an_object_store_at_localhost_is_reached_at_127_0_0_1(debian_localhost, squatted_port, monkeypatch):
    pytest.importorskip("boto3")
    from facesel.central.blobs import S3BlobStore

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    port, squatter = squatted_port
    with _closing_listener(port) as store:
        blobs = S3BlobStore("s3://evidence", f"http://localhost:{port}")
        assert blobs.client.meta.endpoint_url == f"http://127.0.0.1:{port}"
        with pytest.raises(Exception):  # noqa: B017 - nothing answers (on main: the squatter, silent)
            blobs.client.head_bucket(Bucket="evidence")
    assert squatter.count == 0, "the object store's signed requests went to the account on [::1]"
    assert store.count >= 1


def test_serve_status_at_localhost_asks_127_0_0_1_not_the_squatter(debian_localhost, squatted_port, tmp_path):
    """Review round 15a, finding 2: ``facesel serve status``/``reload`` with ``serve.listen =
    "localhost:PORT"`` asked whoever listens on ``[::1]`` (it answers the CLI in the service's place)."""
    from facesel.serve.control import call, listen_of

    port, squatter = squatted_port
    config = tmp_path / "serve.toml"
    config.write_text(f'[serve]\nlisten = "localhost:{port}"\n')
    listen = listen_of(config)
    assert listen == ("localhost", port)
    with _closing_listener(port) as service:  # closes each connection: the call fails either way
        with pytest.raises(RuntimeError, match=f"localhost:{port}"):  # the config's word in the message
            call(listen, "GET", "/status", timeout=3)
    assert squatter.count == 0, "facesel serve status asked the account on [::1]"
    assert service.count == 1


@pytest.mark.parametrize("given, pinned", [
    ("http://localhost:8080/hook?token=a", "http://127.0.0.1:8080/hook?token=a"),
    ("http://u:p@LOCALHOST./x", "http://u:p@127.0.0.1/x"),
    ("rtsp://a:b@cam.localhost:554/s", "rtsp://a:b@127.0.0.1:554/s"),
    ("https://localhost/x", "https://localhost/x"),  # the certificate names the server: kept
    ("rtsps://localhost/x", "rtsps://localhost/x"),
    ("http://[::1]:80/", "http://[::1]:80/"),
    ("http://localhost:bad/", "http://localhost:bad/"),  # left to the client's own error
    ("/videos/localhost.mp4", "/videos/localhost.mp4"),
])
def test_pin_url(given, pinned):
    assert pin_url(given) == pinned


def test_pin_host():
    assert [pin_host(h) for h in ("localhost", "LocalHost.", "db.localhost", "127.0.0.1", "::1", "example.org")] == \
        ["127.0.0.1", "127.0.0.1", "127.0.0.1", "127.0.0.1", "::1", "example.org"]


def test_pin_dsn(monkeypatch):
    from psycopg.conninfo import conninfo_to_dict

    for name in ("PGHOST", "PGHOSTADDR", "PGSERVICE"):
        monkeypatch.delenv(name, raising=False)

    def pinned(dsn):
        return {k: v for k, v in conninfo_to_dict(pin_dsn(dsn)).items() if k in ("host", "hostaddr")}

    assert pinned("host=localhost port=5432 dbname=x") == {"host": "localhost", "hostaddr": "127.0.0.1"}
    assert pinned("postgresql://u@localhost:5/db") == {"host": "localhost", "hostaddr": "127.0.0.1"}
    assert pinned("host=localhost,db.example dbname=x") == {"host": "localhost,db.example", "hostaddr": "127.0.0.1,"}
    assert pinned("host=localhost,localhost hostaddr=,10.0.0.2") == {"host": "localhost,localhost",
                                                                     "hostaddr": "127.0.0.1,10.0.0.2"}
    for kept in ("host=localhost hostaddr=10.0.0.1", "dbname=x", "host=/run/postgresql dbname=x",
                 "host=db.example dbname=x"):
        assert pin_dsn(kept) == kept
    monkeypatch.setenv("PGHOST", "localhost")  # libpq's environment counts as the string's own host
    assert pinned("dbname=x") == {"host": "localhost", "hostaddr": "127.0.0.1"}
