"""A loopback HTTP MJPEG server that sends a few good parts, then one that never ends (review round 13b).

``kind``: ``"good"`` sends the good parts and closes the stream (the harmless comparison);
``"no_boundary"`` then starts a part with no ``Content-Length`` and sends bytes without a
boundary; ``"raw_endless"`` sends no multipart framing at all: the good JPEGs back to back (a raw
JPEG concatenation, which FFmpeg reads with an image pipe and its JPEG parser), then bytes without
a ``0xFF`` (no JPEG marker, so the parser never ends a frame; review round 14a, finding 3), and
``"raw_good"`` the same JPEGs alone, then the end (its harmless comparison); ``"lying_length"`` then starts a part stating ``Content-Length: 2000000000`` (under
FFmpeg's int limit, so FFmpeg believes it). Either endless part offers :data:`OFFERED` bytes of
random data holding no ``\\r\\n--``, then holds the connection open without a word (a reader that
keeps the part waits for its read timeout), until the client goes or :data:`HOLD_S` passes.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np

OFFERED = 256 << 20
"""Bytes of the endless part offered (a reader that keeps them grows by about as much)."""
HOLD_S = 20.0
_BLOCK = 1 << 20
KINDS = ("good", "no_boundary", "lying_length", "raw_good", "raw_endless")


def good_jpegs(count: int = 3) -> list[bytes]:
    """``count`` different 640 x 480 JPEGs (stripes, no face)."""
    jpegs = []
    for k in range(count):
        picture = np.zeros((480, 640, 3), np.uint8)
        picture[:, (k * 40) % 640:(k * 40) % 640 + 200] = (60 + 40 * k, 120, 200 - 30 * k)
        jpegs.append(cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes())
    return jpegs


def part_bodies(data: bytes, boundary: bytes) -> list[bytes]:
    """The bodies of the multipart parts in ``data`` (``--BOUNDARY``, headers with a Content-Length,
    the body, CRLF), in order; each body must be followed by its CRLF and nothing else."""
    bodies = []
    for piece in data.split(b"--" + boundary + b"\r\n")[1:]:
        head, _, rest = piece.partition(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        assert rest[length:] == b"\r\n", rest[length:length + 40]
        bodies.append(rest[:length])
    return bodies


def _junk() -> bytes:
    """One block of random bytes without a ``\\r\\n--`` (no boundary can be found in it)."""
    block = np.random.default_rng(23).integers(0, 256, _BLOCK, dtype=np.uint8).tobytes()
    return block.replace(b"\r\n--", b"\r\n-x")


class EndlessMJPEG:
    """``with EndlessMJPEG(kind) as server``: ``server.url``; ``server.sent`` counts the endless part's bytes written.
    ``jpegs``: the good parts (default :func:`good_jpegs`; ``[]``: none); ``content_type``: the response's."""

    def __init__(self, kind: str, jpegs: list[bytes] | None = None,
                 content_type: str = "multipart/x-mixed-replace; boundary=part"):
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        self.kind, self.jpegs = kind, good_jpegs() if jpegs is None else jpegs
        self.sent = 0
        self._done = threading.Event()
        owner, junk = self, _junk()
        raw = kind.startswith("raw_")
        if raw:
            junk = junk.replace(b"\xff", b"\x00")  # no JPEG marker anywhere

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.end_headers()
                try:
                    if raw:
                        self.wfile.write(b"".join(owner.jpegs))
                    for body in [] if raw else owner.jpegs:
                        self.wfile.write(b"--part\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n"
                                         % len(body) + body + b"\r\n")
                    endless = owner.kind not in ("good", "raw_good")  # the good ones: the parts, then the end
                    if endless and not raw:  # a multipart part that never ends
                        length = b"Content-Length: 2000000000\r\n" if owner.kind == "lying_length" else b""
                        self.wfile.write(b"--part\r\nContent-Type: image/jpeg\r\n" + length + b"\r\n")
                    if endless:
                        while owner.sent < OFFERED:
                            self.wfile.write(junk)
                            owner.sent += len(junk)
                        self.wfile.flush()
                        # Silent now: the connection stays open until the client goes.
                        self.connection.settimeout(HOLD_S)
                        self.connection.recv(1)
                except OSError:  # the client went (broken pipe, reset) or the hold ended
                    pass
                self.close_connection = True
                owner._done.set()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/video.mjpg"

    def __enter__(self) -> EndlessMJPEG:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
