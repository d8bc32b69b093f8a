"""Review round 9, finding 3: DNS rebinding onto a status port bound to every address.

An operator who binds the status port to ``0.0.0.0`` (for a Prometheus server on the network)
also listens on 127.0.0.1. The Host rule of review round 3 (a rebound name refused) applied only
to a port bound to a loopback address, so a web page the operator opens on that machine, whose
name its own DNS then points at 127.0.0.1, reached the port as its own origin: it read
``/status`` (camera names, their state, counters, the config file's path) and posted
``/reload`` (its ``Origin`` is the page's own, and a reload is answered to any loopback peer),
applying the operator's half-finished edit. Now a request that arrives over loopback must name
a loopback address, ``localhost``, another IP address or this machine's own name as its ``Host``,
whatever address the port is bound to; clients of the network are as before
(``tests/test_serve_reload_peers.py``).

A real service (in this process) bound to ``0.0.0.0``; the "browser" is a socket on 127.0.0.1
sending what a browser sends for the rebound page (``Host``, ``Origin`` and ``Sec-Fetch-Site`` of
that page's own origin).
"""

from __future__ import annotations

import json
import socket

import pytest

from facesel.serve.control import call
from network_attacker import outside_address

from test_serve import authority, keys  # noqa: F401
from test_serve_reload_peers import service_with_a_half_done_edit
from test_sources import wait_for


def _ask(connect_to: str, port: int, method: str, path: str, headers: dict) -> tuple[int, bytes]:
    """``(status, body)`` of one raw HTTP/1.1 request to ``connect_to:port`` with ``headers``."""
    with socket.create_connection((connect_to, port), timeout=30) as sock:
        lines = [f"{method} {path} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items()), "Content-Length: 0",
                 "Connection: close"]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_a_rebound_page_cannot_read_or_reload_a_port_bound_to_every_address(authority, keys, tmp_path):
    with service_with_a_half_done_edit("0.0.0.0", authority, keys, tmp_path) as (service, config_path):
        port = service.status.port
        page = f"attacker.example:{port}"  # the page's name, which its DNS now answers with 127.0.0.1
        browser = {"Host": page, "Origin": f"http://{page}", "Sec-Fetch-Site": "same-origin"}
        code, body = _ask("127.0.0.1", port, "GET", "/status", {k: browser[k] for k in ("Host", "Sec-Fetch-Site")})
        assert code == 421 and b"gate" not in body and str(config_path).encode() not in body, (code, body[:200])
        code, body = _ask("127.0.0.1", port, "POST", "/reload", browser)
        assert code == 421, (code, body[:200])
        assert service.reloads == 0 and [cam.config.name for cam in service.camera_list()] == ["gate"]

        # the names a local client or scraper uses still pass on loopback, as any does from the network
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"0.0.0.0:{port}", f"{socket.gethostname()}:{port}"):
            code, body = _ask("127.0.0.1", port, "GET", "/status", {"Host": host})
            assert code == 200 and "gate" in json.loads(body)["cameras"], host
        # and `facesel serve reload`, which asks 0.0.0.0 (reached over loopback), is answered
        code, changes = call(("0.0.0.0", port), "POST", "/reload")
        assert code == 200 and changes["added"] == ["half"], (code, changes)
        assert wait_for(lambda: sorted(cam.config.name for cam in service.camera_list()) == ["gate", "half"],
                        timeout=30)


def test_a_rebound_page_on_the_network_cannot_read_a_port_bound_there(authority, keys, tmp_path):
    """Review 10a, finding 2 (round 9's "left of finding 3"): a port bound to this machine's address
    on the network had no Host rule for clients of that network, so a page opened by an operator on
    another machine of the network, its name pointed at this address, read ``/status`` as its own
    origin (on main: 200 with the camera names and the config's path). Now a request from the
    network must name an IP address or this machine's name too; the names a scraper uses are listed
    in ``serve.status_hosts``."""
    outside = outside_address()
    with service_with_a_half_done_edit(outside, authority, keys, tmp_path) as (service, config_path):
        port = service.status.port
        page = f"attacker.example:{port}"
        code, body = _request_with_host(outside, port, page)
        assert code == 421 and b"gate" not in body and str(config_path).encode() not in body, (code, body[:200])
        assert b"serve.status_hosts" in body
        for host in (f"{outside}:{port}", f"{socket.gethostname()}:{port}", outside):
            code, body = _request_with_host(outside, port, host)
            assert code == 200 and "gate" in json.loads(body)["cameras"], host


def _request_with_host(address: str, port: int, host: str) -> tuple[int, bytes]:
    """``GET /status`` from ``address`` (this machine's address on the network: a client of the network) with ``host``."""
    with socket.create_connection((address, port), timeout=30, source_address=(address, 0)) as sock:
        assert sock.getsockname()[0] == address
        sock.sendall(f"GET /status HTTP/1.1\r\nHost: {host}\r\nSec-Fetch-Site: same-origin\r\nConnection: close\r\n\r\n"
                     .encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_the_names_scrapers_use_are_a_setting(tmp_path):
    """``serve.status_hosts`` lets a name through on a port bound beyond loopback (never on a loopback
    port); it is checked as a list of host names when the config is read."""
    from facesel.serve.config import _status_hosts
    from facesel.serve.status_http import browser_refusal

    allowed = frozenset(_status_hosts(["Metrics.Example.org."]))
    assert allowed == {"metrics.example.org"}
    assert browser_refusal("0.0.0.0", "GET", {"Host": "metrics.example.org:9108"}, "10.0.0.2", allowed) is None
    assert browser_refusal("0.0.0.0", "GET", {"Host": "attacker.example:9108"}, "10.0.0.2", allowed).startswith(
        "Host 'attacker.example:9108' refused")
    assert browser_refusal("127.0.0.1", "GET", {"Host": "metrics.example.org:9108"}, "127.0.0.1", allowed) is not None
    for bad in ("http://metrics.example.org", "metrics.example.org:9108", "", 5):
        with pytest.raises(ValueError, match="serve.status_hosts"):
            _status_hosts([bad])
    with pytest.raises(ValueError, match="serve.status_hosts must be a list"):
        _status_hosts("metrics.example.org")
