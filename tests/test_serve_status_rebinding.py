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

from facesel.serve.control import call

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
