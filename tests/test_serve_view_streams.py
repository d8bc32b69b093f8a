"""Review 6, finding 4 (low-medium): with ``serve.view = true``, four live-view streams took the
status port away from everyone else.

The status port answers with 4 worker threads, and an MJPEG stream keeps its worker for as long
as its client reads (round 3 made a request wait for a worker rather than be cut, so it waits for
ever). Any client that can reach the port, no login needed, opened four
``/cameras/NAME/view.mjpg`` streams: ``/metrics``, ``/healthz``, ``/status`` and ``/reload`` got
no answer again (monitoring sees a dead service; ``facesel serve reload`` fails), and each stream
ran the view's face detection twice per frame at 2 frames/s, beside the cameras. Now at most
:data:`facesel.serve.view.MAX_STREAMS` streams run at once; another is answered 503 at once.
A real service on the demo clip (looping), real sockets.
"""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import pytest

import facesel
from facesel.serve.config import parse_config
from facesel.serve.service import Service
from facesel.serve.view import MAX_STREAMS

from endless_mjpeg import part_bodies
from test_serve import authority, camera, config_dict, fetch, keys  # noqa: F401
from test_sources import wait_for

DEMO = Path(facesel.__file__).parent / "demo_data" / "intel_face_demographics_walking.gif"


def _open_stream(port: int, name: str = "walk", headers: str = "",
                 view: str = "view.mjpg") -> tuple[socket.socket, bytes]:
    """A client that asks for the stream (``headers``: more header lines, each ending in CRLF),
    reads the status line, then just stays connected."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(f"GET /cameras/{name}/{view} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{headers}\r\n".encode())
    head = b""
    while b"\r\n" not in head:
        chunk = sock.recv(1024)
        if not chunk:
            break
        head += chunk
    return sock, head.split(b"\r\n", 1)[0]


@contextmanager
def _walk_view(authority, keys, tmp_path):
    """A service with the view on and one looping camera, ``walk``, whose view has a picture;
    yields ``(port, streams, service)``: the streams put there are closed and the service stopped after."""
    config = parse_config(config_dict(authority, {"walk": camera(DEMO, tmp_path / "walk", keys("walk"), loop=True)},
                                      view=True))
    service = Service(config).start()
    streams = []
    try:
        port = service.status.port
        assert wait_for(lambda: _status(port, "/cameras/walk/view.jpg") == 200, timeout=120)
        yield port, streams, service
    finally:
        for sock, _ in streams:
            sock.close()
        service.stop()


def test_streams_of_the_view_cannot_take_every_worker_of_the_status_port(authority, keys, tmp_path):
    with _walk_view(authority, keys, tmp_path) as (port, streams, service):
        for _ in range(4):  # as many as the status port has workers
            streams.append(_open_stream(port))
        answered = [status for _, status in streams]
        assert answered[:MAX_STREAMS] == [b"HTTP/1.0 200 OK"] * MAX_STREAMS, answered
        assert all(status.startswith(b"HTTP/1.0 503") for status in answered[MAX_STREAMS:]), answered
        # while the streams run, the monitoring routes still answer
        code, body = fetch(port, "/metrics")
        assert code == 200 and "facesel_frames_received_total" in body
        assert fetch(port, "/healthz")[0] in (200, 503)
        # a stream that ends gives its place back
        streams.pop(0)[0].close()
        assert wait_for(lambda: _try_stream(port, streams), timeout=30)


def _status(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as reply:
            reply.read()
            return reply.status
    except urllib.error.HTTPError as err:
        return err.code


def _try_stream(port: int, streams: list, name: str = "walk") -> bool:
    sock, status = _open_stream(port, name)
    if status == b"HTTP/1.0 200 OK":
        streams.append((sock, status))
        return True
    sock.close()
    return False


def test_a_camera_that_is_not_up_is_answered_503_with_its_reason_and_holds_no_place(authority, keys, tmp_path):
    """ux25: a stream of a camera that was down (reconnecting, nothing listens on its port) was
    answered 200 and held one of the :data:`MAX_STREAMS` places sending nothing for as long as its
    client waited: two such clients locked the operator out of every camera's view. Now it is
    answered 503 naming the state and the reason, and the places stay free for a camera that runs."""
    cameras = {"walk": camera(DEMO, tmp_path / "walk", keys("walk"), loop=True),
               "gone": camera("rtsp://127.0.0.1:9/none", tmp_path / "gone", keys("gone"))}
    service = Service(parse_config(config_dict(authority, cameras, view=True))).start()
    streams = []
    try:
        port = service.status.port
        assert wait_for(lambda: _status(port, "/cameras/walk/view.jpg") == 200, timeout=120)
        for view in ["view.mjpg"] * (MAX_STREAMS + 1) + ["view.jpg"]:
            streams.append(_open_stream(port, "gone", view=view))  # the clients stay connected
            assert streams[-1][1] == b"HTTP/1.0 503 Service Unavailable", streams[-1]
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/cameras/gone/view.mjpg", timeout=30)
        body = answer.value.read().decode()
        assert "camera gone is not up (" in body and "connect" in body, body  # connecting or reconnecting
        for _ in range(MAX_STREAMS):  # every place is still free
            assert _try_stream(port, streams), "a place was held by a stream of the camera that is down"
    finally:
        for sock, _ in streams:
            sock.close()
        service.stop()


def _parts_until_the_end(sock: socket.socket) -> list[bytes]:
    """The JPEG parts a stream sends until it ends (the server closes it)."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return part_bodies(data, b"frame")


def test_a_stream_whose_camera_goes_down_says_so_in_a_last_picture_and_gives_its_place_back(authority, keys,
                                                                                         tmp_path):
    """ux25: the stream went on showing the last scene (or nothing) after its camera went down, holding
    its place. Now its last part is a dark picture saying the camera is down, then the stream ends."""
    with _walk_view(authority, keys, tmp_path) as (port, streams, service):
        for _ in range(MAX_STREAMS):
            assert _try_stream(port, streams)
        cam = next(c for c in service.camera_list() if c.config.name == "walk")
        # Down as /status would say it (not through _set_state: this looping file camera sets itself
        # "running" again at each loop of the clip, a race with the stream's next look).
        cam.health = lambda: {"up": False, "state": "reconnecting", "reason": "the source stopped: test"}
        try:
            for sock, _ in streams:
                sock.settimeout(30)
                parts = _parts_until_the_end(sock)
                last = cv2.imdecode(np.frombuffer(parts[-1], np.uint8), cv2.IMREAD_GRAYSCALE)
                assert last.shape == (540, 960) and np.median(last) == 40, "not the picture saying it is down"
            assert _status(port, "/cameras/walk/view.mjpg") == 503
        finally:
            del cam.health  # the class's again
        for sock, _ in streams:
            sock.close()
        streams.clear()
        for _ in range(MAX_STREAMS):  # both places were given back
            assert _try_stream(port, streams)


# What a browser sends for <img src="http://127.0.0.1:PORT/cameras/walk/view.mjpg"> on a page of
# another site (Chrome, Firefox, Safari), and what an older browser sends (no Sec-Fetch-*).
IMG_ON_ANOTHER_SITE = ("Sec-Fetch-Site: cross-site\r\nSec-Fetch-Mode: no-cors\r\nSec-Fetch-Dest: image\r\n"
                       "Referer: http://pages.example/\r\n")
IMG_ON_A_LOCAL_PAGE = "Sec-Fetch-Site: same-site\r\nSec-Fetch-Dest: image\r\n"  # a page on localhost:8080
IMG_IN_AN_OLD_BROWSER = "Referer: http://pages.example/watch.html\r\n"
TYPED_BY_THE_OPERATOR = "Sec-Fetch-Site: none\r\nSec-Fetch-Mode: navigate\r\nSec-Fetch-Dest: document\r\n"


def test_a_web_page_of_another_site_cannot_hold_the_view_streams(authority, keys, tmp_path):
    """attack20: an ``<img>`` of ``view.mjpg`` on any page the operator had open held both stream
    places (two tabs, or two images), and the operator's own view was answered 503 until that
    page was closed. Now a request a page of another site makes is refused (403) before it takes
    a place; the operator's typed URL and command-line clients get the stream."""
    with _walk_view(authority, keys, tmp_path) as (port, streams, service):
        for headers in (IMG_ON_ANOTHER_SITE, IMG_ON_ANOTHER_SITE, IMG_ON_A_LOCAL_PAGE, IMG_IN_AN_OLD_BROWSER):
            streams.append(_open_stream(port, headers=headers))
        assert [status for _, status in streams] == [b"HTTP/1.0 403 Forbidden"] * 4, streams
        still = _open_stream(port, headers=IMG_ON_ANOTHER_SITE, view="view.jpg")  # no render for it either
        streams.append(still)
        assert still[1] == b"HTTP/1.0 403 Forbidden", still
        # the operator's own view, and a command-line client's, get both places
        for headers in (TYPED_BY_THE_OPERATOR, ""):
            streams.append(_open_stream(port, headers=headers))
            assert streams[-1][1] == b"HTTP/1.0 200 OK", streams[-1]
