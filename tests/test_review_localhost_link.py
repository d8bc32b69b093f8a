"""Review round 13c, finding 1: the desk's start link must reach the desk and nothing else.

``facesel review --host localhost`` bound ``127.0.0.1`` and printed ``http://localhost:PORT/start?token=...``.
Browsers resolve ``localhost`` to ``::1`` as well and try it first (Chromium resolves the name itself,
whatever ``/etc/hosts`` says: shown below in a real Chromium on a machine whose ``/etc/hosts`` maps
``localhost`` to ``127.0.0.1`` only), and any account of the machine may listen on ``[::1]:PORT``
beside our ``127.0.0.1:PORT``. That account received the one-time start link and could relay the whole
session to the desk (``Host: localhost:PORT`` is accepted): the holders' passphrases and share files,
and every face opened. Same for ``--public-origin http://localhost:PORT`` (an ssh tunnel's origin).

The attacker here is another local account, played by this process: a socket on ``[::1]`` at the
desk's port, opened after the desk printed its link (the port is visible to every account).
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
from facesel.review.reach import parse_public_origin
from review_common import review_server
from test_vault_common import make_authority, vault_at


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def empty_desk_vault(tmp_path_factory):
    root = tmp_path_factory.mktemp("localhost")
    adir = make_authority(root / "auth")[1]
    with vault_at(root / "vault", adir):
        pass  # an identity and a log: the desk needs no record to start
    return adir, root / "vault"


class Squatter:
    """Another account's listener on ``[::1]`` at the desk's port: records each request line it gets."""

    def __init__(self, port: int) -> None:
        self.sock = socket.socket(socket.AF_INET6)
        self.sock.bind(("::1", port))  # no conflict with a socket on 127.0.0.1 at the same port
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.lines: list[bytes] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                with contextlib.suppress(OSError):
                    self.lines.append(conn.recv(4096).split(b"\r\n")[0])
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


def _browser_addresses(host: str) -> list[str]:
    """Where a browser connects for a link's host, in order: an address literal is itself; the name
    localhost is ``::1`` first, then ``127.0.0.1`` (RFC 6761 section 6.3; Chromium answers it itself)."""
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        assert host.lower() == "localhost", host
        return ["::1", "127.0.0.1"]


def test_the_start_link_of_a_desk_started_on_localhost_reaches_only_the_desk(empty_desk_vault):
    if not _ipv6_loopback():
        pytest.skip("this machine has no IPv6 loopback: nobody can listen on [::1]")
    adir, vault = empty_desk_vault
    with review_server(vault, adir / "keystore", "--host", "localhost") as served:
        link = urllib.parse.urlsplit(served.url)
        squatter = Squatter(link.port)  # the port is public; the start link is not
        try:
            first = _browser_addresses(link.hostname)[0]
            conn = http.client.HTTPConnection(first, link.port, timeout=30)
            conn.request("GET", f"{link.path}?{link.query}", headers={"Host": link.netloc})
            answer = conn.getresponse()
            answer.read()
            conn.close()
        finally:
            squatter.close()
        stolen = [line for line in squatter.lines if b"token=" in line]
        # main: link http://localhost:PORT/..., and the request went to the squatter, token and all
        assert stolen == [], f"another account's socket on [::1] received the start link: {stolen}"
        assert answer.status == 303 and answer.getheader("set-cookie"), (answer.status, answer.getheaders())
        assert ipaddress.ip_address(link.hostname).is_loopback, served.url  # an address, never a name


def test_chromium_goes_to_the_address_the_link_names(empty_desk_vault):
    """The assumption of the test above, in a real browser: Chromium sends ``http://localhost:PORT/...``
    to ``[::1]`` when something listens there, even where ``/etc/hosts`` maps localhost to 127.0.0.1 only;
    the desk's link (an address) reaches the desk."""
    from review_browser import driver_for, need_browser

    need_browser()
    if not _ipv6_loopback():
        pytest.skip("this machine has no IPv6 loopback: nobody can listen on [::1]")
    adir, vault = empty_desk_vault
    with tempfile.TemporaryDirectory(prefix="facesel-chromium-") as profile, \
            review_server(vault, adir / "keystore", "--host", "localhost") as served:
        link = urllib.parse.urlsplit(served.url)
        squatter = Squatter(link.port)
        driver = driver_for(Path(profile, "p"), Path(profile, "d"))
        try:
            driver.get(served.url)
            deadline = time.monotonic() + 20
            while "find" not in driver.title.lower() and time.monotonic() < deadline:
                time.sleep(0.1)
            title = driver.title
            # The name localhost itself, as a browser resolves it: the squatter's (the class of the finding).
            driver.get(f"http://localhost:{link.port}/start?token=probe")
        finally:
            driver.quit()
            squatter.close()
        assert "Find" in title, title  # the desk's own find page, after the start link's redirect
        assert [line for line in squatter.lines if b"token=" in line] == [b"GET /start?token=probe HTTP/1.1"], \
            squatter.lines


def test_an_http_public_origin_names_a_loopback_address_not_localhost():
    from facesel.review.reach import bind_address  # added with the fix

    with pytest.raises(ValueError, match=r"http://127\.0\.0\.1:PORT or http://\[::1\]:PORT, not the name localhost"):
        parse_public_origin("http://localhost:8080")
    for text, origin in (("http://127.0.0.1:8080", "http://127.0.0.1:8080"), ("http://[::1]:8080", "http://[::1]:8080"),
                         ("https://localhost:8443", "https://localhost:8443")):  # TLS: a squatter has no certificate
        assert parse_public_origin(text).origin == origin
    assert [bind_address(h) for h in ("localhost", "LOCALHOST", "127.0.0.1", "::1", "0.0.0.0")] == \
        ["127.0.0.1", "127.0.0.1", "127.0.0.1", "::1", "0.0.0.0"]
