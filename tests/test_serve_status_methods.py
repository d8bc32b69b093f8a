"""ux21: the status port's answers to a method a URL does not take, and to HEAD.

A POST to a view URL was answered 404 (``not found``, as if the URL were mistyped) and a GET of
``/reload`` 404 ``not found: try /metrics or /healthz``; now both are 405 with an ``Allow``
header naming the methods the URL takes. ``HEAD /metrics`` (and every other GET route) was 501
(``Unsupported method``): it now answers as GET does, headers only. A real service with the view
on (the demo clip, looping), real sockets.
"""

from __future__ import annotations

import http.client
import socket

from facesel.serve.view import MAX_STREAMS

from test_serve import authority, camera, config_dict, keys  # noqa: F401
from test_serve_view_streams import _try_stream, _walk_view
from test_sources import wait_for


def _ask(port: int, method: str, path: str):
    """(status, headers, body) of one request."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path)
        reply = conn.getresponse()
        return reply.status, reply.headers, reply.read()
    finally:
        conn.close()


def _head_of_stream(port: int) -> bytes:
    """What a HEAD of the MJPEG stream is answered, read until the server closes or a frame comes."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(f"HEAD /cameras/walk/view.mjpg HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        answer = b""
        while b"--frame" not in answer and (chunk := sock.recv(65536)):  # a frame: a body (was endless)
            answer += chunk
    return answer


def test_a_url_asked_with_another_method_is_405_and_head_answers_like_get(authority, keys, tmp_path):
    with _walk_view(authority, keys, tmp_path) as (port, streams, _):
        for path in ("/cameras/walk/view.jpg", "/cameras/walk/view.mjpg", "/metrics", "/healthz", "/status"):
            code, headers, body = _ask(port, "POST", path)
            assert (code, headers["Allow"]) == (405, "GET, HEAD"), (path, code, body)
            assert b"use GET, HEAD" in body
        code, headers, body = _ask(port, "GET", "/reload")
        assert (code, headers["Allow"]) == (405, "POST"), (code, body)
        assert _ask(port, "POST", "/nowhere")[0] == 404  # an unknown URL stays 404
        assert _ask(port, "GET", "/nowhere")[0] == 404

        for path in ("/metrics", "/healthz", "/status", "/cameras/walk/view.jpg"):
            get_code, get_headers, get_body = _ask(port, "GET", path)
            code, headers, body = _ask(port, "HEAD", path)
            assert (code, body) == (get_code, b""), (path, code)
            assert headers["Content-Type"] == get_headers["Content-Type"], path
            assert int(headers["Content-Length"]) > 0, path
        assert _ask(port, "HEAD", "/cameras/nobody/view.jpg")[:1] == (404,)

        answer = _head_of_stream(port)
        assert answer.startswith(b"HTTP/1.0 200"), answer[:200]
        assert answer.endswith(b"\r\n\r\n") and b"--frame" not in answer, answer[:400]
        # a HEAD of the stream gives its place back: every place can still be taken
        for _ in range(MAX_STREAMS):
            assert wait_for(lambda: _try_stream(port, streams), timeout=30)
