"""Browsers kept out of the status port of `facesel serve` (review round 3, session 12).

A hostile web page opened on the machine that runs the service could (1) read `/status`,
`/healthz`, `/metrics` and the camera view by DNS rebinding (its own name resolved to 127.0.0.1:
the browser then treats the port as that page's origin, but still sends the name as `Host`), and
(2) post to `/reload` across sites with a plain form. A real `StatusServer` on loopback, over HTTP.
"""

from __future__ import annotations

import http.client

import cv2
import numpy as np
import pytest
from facesel.serve.status_http import StatusServer, browser_refusal
from prometheus_client import CollectorRegistry


@pytest.fixture()
def status():
    calls = []

    def reload(request):
        calls.append("reload")
        request._send(200, "application/json", b"{}")

    def routes(method, path):
        return {("POST", "/reload"): reload}.get((method, path))

    server = StatusServer(("127.0.0.1", 0), CollectorRegistry(), list, routes=routes).start()
    try:
        yield server, calls
    finally:
        server.close()


def _ask(port, method, path, headers):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.putrequest(method, path, skip_host=True)
    for key, value in headers.items():
        conn.putheader(key, value)
    conn.endheaders()
    reply = conn.getresponse()
    body = reply.read()
    conn.close()
    return reply.status, body


def test_a_rebound_name_reads_nothing(status):
    server, _ = status
    port = server.port
    for path in ("/metrics", "/healthz", "/status", "/cameras/door/view.jpg"):
        code, body = _ask(port, "GET", path, {"Host": f"attacker.example:{port}"})
        assert code == 421 and b"loopback" in body, path
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "127.0.0.1", f"[::1]:{port}"):
        code, _ = _ask(port, "GET", "/healthz", {"Host": host})
        assert code == 200, host


def test_a_cross_site_form_cannot_reload(status):
    server, calls = status
    port = server.port
    local = {"Host": f"127.0.0.1:{port}", "Content-Length": "0"}
    for extra in ({"Origin": "http://attacker.example"}, {"Origin": "null"},
                  {"Sec-Fetch-Site": "cross-site"}, {"Origin": f"http://attacker.example:{port}"}):
        code, _ = _ask(port, "POST", "/reload", {**local, **extra})
        assert code == 403, extra
    assert calls == []
    code, _ = _ask(port, "POST", "/reload", local)  # what `facesel serve reload` sends
    assert code == 200 and calls == ["reload"]
    code, _ = _ask(port, "POST", "/reload", {**local, "Origin": f"http://127.0.0.1:{port}"})
    assert code == 200


def test_a_port_exposed_on_purpose_takes_its_listed_names():
    """Bound to a non-loopback address the operator exposed the port (a Prometheus server may use
    the machine's name): an IP address, this machine's name or a name of ``serve.status_hosts``
    (until review 10a any name: a rebound page from the network read it), and still no cross-site POST."""
    import socket

    listed = frozenset({"camera-box.lan"})
    assert browser_refusal("0.0.0.0", "GET", {"Host": "camera-box.lan:9108"}, None, listed) is None
    assert browser_refusal("192.0.2.7", "GET", {"Host": "camera-box.lan:9108"}, None, listed) is None
    assert browser_refusal("192.0.2.7", "GET", {"Host": "192.0.2.7:9108"}) is None
    assert browser_refusal("192.0.2.7", "GET", {"Host": f"{socket.gethostname()}:9108"}) is None
    assert browser_refusal("192.0.2.7", "GET", {"Host": "camera-box.lan:9108"})  # not listed
    assert browser_refusal("0.0.0.0", "POST", {"Host": "camera-box.lan:9108", "Origin": "http://evil.example"},
                           None, listed)
    assert browser_refusal("::1", "GET", {"Host": "evil.example"})


def test_no_answer_of_the_status_port_is_cached():
    """Review 4, finding 7 (low): the view's still picture (the scene, faces hidden) and every
    other answer of the status port went out without ``Cache-Control``, so a browser that showed
    the view once could keep it in its disk cache. Every answer now says ``no-store``, whoever
    writes it: ``_send`` (as ``view.jpg`` does), or a route's own headers (as ``view.mjpg`` does)."""
    frame = cv2.imencode(".jpg", np.full((48, 64, 3), 128, np.uint8))[1].tobytes()

    def still(request):
        request._send(200, "image/jpeg", frame)

    def own_headers(request):
        request.send_response(200)
        request.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        request.send_header("Cache-Control", "no-store")
        request.end_headers()

    def routes(method, path):
        return {("GET", "/cameras/door/view.jpg"): still, ("GET", "/stream"): own_headers}.get((method, path))

    server = StatusServer(("127.0.0.1", 0), CollectorRegistry(), list, routes=routes).start()
    try:
        for path in ("/cameras/door/view.jpg", "/healthz", "/metrics", "/nowhere", "/stream"):
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            conn.request("GET", path)
            reply = conn.getresponse()
            reply.read()
            conn.close()
            assert reply.headers.get_all("Cache-Control") == ["no-store"], path
            assert reply.headers["X-Content-Type-Options"] == "nosniff", path
        assert reply.status == 200
    finally:
        server.close()
