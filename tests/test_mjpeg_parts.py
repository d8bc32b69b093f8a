"""The multipart reader of HTTP MJPEG streams (facesel.sources.http_mjpeg, review round 13b): parts
delimited as FFmpeg delimits them, bounded in bytes, and the same frames as FFmpeg's own reading."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from endless_mjpeg import EndlessMJPEG, good_jpegs, part_bodies  # noqa: E402
from mjpeg_server import MJPEGServer  # noqa: E402

from facesel.sources.backends import PyAVConnection  # noqa: E402
from facesel.sources.http_mjpeg import MAX_HEADER_BYTES, PartReader, PartRefused  # noqa: E402


class _Response:
    """The body of an HTTP response, handed out a few bytes at a time (as a socket does)."""

    def __init__(self, body: bytes, step: int = 7):
        self._body, self._step = io.BytesIO(body), step

    def read1(self, size: int) -> bytes:
        return self._body.read(min(size, self._step))

    def close(self) -> None:
        pass


class _NoSocket:
    sock = None


def _bodies(stream: bytes, max_part: int = 1000) -> list[bytes]:
    """The part bodies a PartReader finds in ``stream``, read back from its re-framed output."""
    reader = PartReader(_Response(stream), _NoSocket(), part_timeout=10.0, max_part=max_part)
    out = b""
    while chunk := reader.read(5):
        out += chunk
    bodies = part_bodies(out, b"facesel")
    assert reader.parts == len(bodies)
    return bodies


def test_parts_are_delimited_as_ffmpeg_does():
    """Stated lengths (a body may then hold ``\\r\\n--``), boundaries alone (the body runs up to the
    first ``\\r\\n--``, empty lines before it included, as in FFmpeg), parts without the leading line
    end, header names in any case, the closing boundary."""
    stream = (b"--b\r\ncontent-type: image/jpeg\r\nContent-Length: 9\r\n\r\nab\r\n--cde\r\n"
              b"--b\r\nContent-Type: IMAGE/JPEG\r\n\r\nfirst part without a length\r\n"
              b"--b\r\nContent-Type: image/jpeg\r\nContent-Length: abc\r\n\r\nbad length: to the boundary\r\n"
              b"\r\n\r\n--b\r\nContent-Type: image/jpeg\r\nContent-Length: 3\r\n\r\nxyz--b\r\n"
              b"Content-Type: image/jpeg\r\n\r\nlast\r\n--b--\r\n")
    assert _bodies(stream) == [b"ab\r\n--cde", b"first part without a length", b"bad length: to the boundary\r\n\r\n",
                               b"xyz", b"last"]


@pytest.mark.parametrize("stream, words", [
    (b"--b\r\nContent-Type: image/jpeg\r\nContent-Length: 1001\r\n\r\n", "states Content-Length: 1001"),
    (b"--b\r\nContent-Type: image/jpeg\r\n\r\n" + b"x" * 1004, "has no end within 1001 bytes"),
    (b"--b\r\nContent-Type: image/jpeg\r\n\r\n" + b"x" * 1001 + b"\r\n--b\r\n", "has no end within 1001 bytes"),
    (b"--b\r\nContent-Type: image/jpeg\r\nX: " + b"y" * MAX_HEADER_BYTES, f"more than {MAX_HEADER_BYTES} bytes"),
    (b"--b\r\n" + b"X: y\r\n" * (MAX_HEADER_BYTES // 6 + 1), f"more than {MAX_HEADER_BYTES} bytes"),
    (b"--b\r\nContent-Type: text/html\r\n\r\n<html>", "not image/jpeg"),
    (b"--b\r\nContent-Length: 3\r\n\r\nabc", "has no Content-Type"),
    (b"HTTP/1.0 200 OK\r\n", "expected a boundary line"),
])
def test_a_part_out_of_bounds_is_refused(stream, words):
    """A part over ``max_part`` bytes (stated or not), over-long headers, or one FFmpeg refuses too:
    PartRefused naming it, and every later read refuses again."""
    reader = PartReader(_Response(stream, step=4096), _NoSocket(), part_timeout=10.0, max_part=1000)
    with pytest.raises(PartRefused, match=words):
        reader.read(4096)
    assert words in reader.refused
    with pytest.raises(PartRefused):
        reader.read(4096)


def test_a_part_of_exactly_its_bound_passes():
    body = b"j" * 1000
    stream = b"--b\r\nContent-Type: image/jpeg\r\n\r\n" + body + b"\r\n--b\r\nContent-Type: image/jpeg\r\n\r\n" + body
    assert _bodies(stream + b"\r\n--b--") == [body, body]


def test_a_stream_cut_inside_a_part_is_an_error_not_its_end():
    reader = PartReader(_Response(b"--b\r\nContent-Type: image/jpeg\r\nContent-Length: 50\r\n\r\nabc"), _NoSocket(),
                        part_timeout=10.0, max_part=1000)
    with pytest.raises(ConnectionError, match="ended inside multipart part 0"):
        reader.read(4096)


def _frames(read, count: int) -> list[tuple[tuple, int]]:
    return [(frame.shape, int(frame.sum())) for frame in (read() for _ in range(count))]


def test_a_good_stream_gives_ffmpegs_frames():
    """The same frames (count, size, pixels) as FFmpeg reading the URL itself, as before the change."""
    rng = np.random.default_rng(13)
    pictures = [cv2.GaussianBlur(rng.integers(0, 256, (360, 480, 3), dtype=np.uint8), (9, 9), 3) for _ in range(6)]
    with MJPEGServer(pictures, fps=100) as server:
        connection = PyAVConnection(server.url)
        assert connection._parts is not None  # read by Python, part by part
        ours = _frames(lambda: connection.read()[0], 10)
        connection.close()
        container = av.open(server.url)
        decoded = container.decode(video=0)
        theirs = _frames(lambda: next(decoded).to_ndarray(format="bgr24"), 10)
        container.close()
    assert ours == theirs
    assert [shape for shape, _ in ours] == [(360, 480, 3)] * 10
    assert len({total for _, total in ours}) == 6  # six different pictures, looping


def test_a_multipart_body_under_another_content_type_is_still_bounded(monkeypatch):
    """FFmpeg picks its multipart demuxer for a body starting with ``--`` whatever the Content-Type:
    such a response is read part by part too, and its endless part refused."""
    import endless_mjpeg

    monkeypatch.setattr(endless_mjpeg, "OFFERED", 8 << 20)
    with EndlessMJPEG("no_boundary", content_type="application/octet-stream") as server:
        connection = PyAVConnection(server.url, max_frame_pixels=640 * 480)
        assert connection._parts is not None
        frames = [connection.read()[0] for _ in range(3)]
        with pytest.raises(Exception, match="multipart part 3 has no end"):
            connection.read()
        connection.close()
    assert [frame.shape for frame in frames] == [(480, 640, 3)] * 3


def test_run_does_not_hand_a_refused_stream_to_opencv(monkeypatch):
    """``facesel run`` on a URL whose first part is over its bound: an error naming the bound, not
    OpenCV's unbounded reading of the same part (its fallback for URLs PyAV cannot open)."""
    import endless_mjpeg
    from facesel.video import open_source

    monkeypatch.setattr(endless_mjpeg, "OFFERED", 8 << 20)
    with EndlessMJPEG("lying_length", jpegs=[]) as server:
        with pytest.raises(ValueError, match="states Content-Length: 2000000000"):
            open_source(server.url, max_frame_pixels=640 * 480)


def test_max_part_follows_the_decoders_bound():
    """After the probe, a part may hold 3 bytes a pixel of the decoder's bound (2 x a 640 x 480 frame,
    at least 1024 x 1024): 3 MiB, not 3 bytes a pixel of an 8K frame."""
    with EndlessMJPEG("good", jpegs=good_jpegs() * 10) as server:
        connection = PyAVConnection(server.url)
        assert connection._parts.max_part == 3 * (1 << 20)
        connection.close()


def test_a_part_that_trickles_in_is_given_up_after_its_timeout(monkeypatch):
    """A sender that keeps a part coming a byte at a time (each read within the socket's timeout)
    is cut once the part has taken ``part_timeout`` seconds (PyAV's read timeout did this before)."""
    from facesel.sources import http_mjpeg

    clock = iter(range(0, 1000))  # one second more at every look at the clock
    monkeypatch.setattr(http_mjpeg.time, "monotonic", lambda: float(next(clock)))
    stream = b"--b\r\nContent-Type: image/jpeg\r\n\r\n" + b"x" * 500
    reader = PartReader(_Response(stream, step=1), _NoSocket(), part_timeout=20.0, max_part=1000)
    with pytest.raises(TimeoutError, match="did not arrive whole within 20 s"):
        reader.read(4096)


def _serve(answer, tls=None):
    """A loopback HTTP server whose GETs ``answer(handler, number)`` answers (number: 0, 1, ... in order);
    HTTPS with ``tls`` = (certificate, key) files."""
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    count = iter(range(1000))

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            try:
                answer(self, next(count))
            except OSError:
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _multipart(handler, parts: int = 3):
    handler.send_response(200)
    handler.send_header("Content-Type", "multipart/x-mixed-replace; boundary=part")
    handler.end_headers()
    for body in good_jpegs(parts):
        handler.wfile.write(b"--part\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(body) + body
                            + b"\r\n")


def _digest_ok(header: str, password: str) -> bool:
    """Whether ``header`` (an Authorization value) is a right RFC 7616 MD5 answer for user "cam"."""
    import hashlib
    import urllib.request

    if not header.startswith("Digest "):
        return False
    fields = urllib.request.parse_keqv_list(urllib.request.parse_http_list(header[7:]))
    md5 = lambda text: hashlib.md5(text.encode()).hexdigest()  # noqa: E731 - the RFC's H()
    first, second = md5(f"cam:lens:{password}"), md5(f"GET:{fields['uri']}")
    expected = md5(f"{first}:{fields['nonce']}:{fields['nc']}:{fields['cnonce']}:{fields['qop']}:{second}")
    return fields.get("username") == "cam" and fields.get("response") == expected


@pytest.mark.parametrize("scheme", ["Basic", "Digest"])
def test_credentials_in_the_url_answer_the_cameras_challenge(scheme):
    """``http://user:password@camera/``: Basic and Digest answered, as FFmpeg's HTTP client did (the
    password percent-decoded)."""
    import base64

    def answer(handler, number):
        given = handler.headers.get("Authorization", "")
        ok = (given == "Basic " + base64.b64encode(b"cam:p@ss").decode() if scheme == "Basic"
              else _digest_ok(given, "p@ss"))
        if not ok:
            handler.send_response(401)
            handler.send_header("WWW-Authenticate", 'Basic realm="lens"' if scheme == "Basic" else
                                'Digest realm="lens", nonce="n0nce", qop="auth", algorithm=MD5')
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        _multipart(handler)

    server = _serve(answer)
    try:
        url = f"http://cam:p%40ss@127.0.0.1:{server.server_address[1]}/video.mjpg"
        connection = PyAVConnection(url)
        assert [connection.read()[0].shape for _ in range(3)] == [(480, 640, 3)] * 3
        connection.close()
        with pytest.raises(Exception, match="401"):
            PyAVConnection(url.replace("p%40ss", "wrong"))
    finally:
        server.shutdown()
        server.server_close()


def test_ffmpeg_is_not_let_read_multipart_itself():
    """A server that answers our request with something else and FFmpeg's own request (the one it
    opens for HLS and other formats) with multipart: FFmpeg refuses its multipart demuxer
    (``format_whitelist``), so the part cannot grow there either."""
    def answer(handler, number):
        if number == 0:
            handler.send_response(200)
            handler.send_header("Content-Type", "text/plain")
            handler.send_header("Content-Length", "5")
            handler.end_headers()
            handler.wfile.write(b"hello")
            return
        _multipart(handler)

    server = _serve(answer)
    try:
        with pytest.raises(Exception, match="Invalid argument"):
            PyAVConnection(f"http://127.0.0.1:{server.server_address[1]}/video.mjpg")
    finally:
        server.shutdown()
        server.server_close()


def test_https_with_a_certificate_no_one_trusts_reads_as_ffmpeg_did(tmp_path):
    """A camera's self-signed certificate: read, as FFmpeg read it (its ``tls_verify`` is off by
    default), and its endless part refused all the same."""
    from network_attacker import certificate_authority

    _, certificate, key = certificate_authority(tmp_path, "127.0.0.1")

    def answer(handler, number):
        _multipart(handler)
        handler.wfile.write(b"--part\r\nContent-Type: image/jpeg\r\n\r\n" + b"x" * (4 << 20))

    server = _serve(answer, tls=(str(certificate), str(key)))
    try:
        connection = PyAVConnection(f"https://127.0.0.1:{server.server_address[1]}/video.mjpg",
                                    max_frame_pixels=640 * 480)
        assert [connection.read()[0].shape for _ in range(3)] == [(480, 640, 3)] * 3
        with pytest.raises(Exception, match="multipart part 3 has no end within 921601 bytes"):
            connection.read()
        connection.close()
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("target", ["/elsewhere.mjpg", "ftp://127.0.0.1:1/video.mjpg"])
def test_redirects_are_followed_to_http_only(target):
    """A camera's redirect to another path is followed; one to another scheme (urllib would fetch
    ``ftp://``) is refused, naming it."""
    def answer(handler, number):
        if handler.path != "/elsewhere.mjpg":
            handler.send_response(302)
            handler.send_header("Location", target)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        _multipart(handler)

    server = _serve(answer)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/video.mjpg"
        if target.startswith("ftp"):
            with pytest.raises(Exception, match="a redirect to ftp:// refused"):
                PyAVConnection(url)
        else:
            connection = PyAVConnection(url)
            assert [connection.read()[0].shape for _ in range(3)] == [(480, 640, 3)] * 3
            connection.close()
    finally:
        server.shutdown()
        server.server_close()


def test_a_camera_says_why_and_reconnects(monkeypatch):
    """``facesel serve``'s source of such a camera: the good parts are frames, the endless part ends
    the connection with its reason in the camera's ``last_error``, and the source opens it again
    (its backoff), getting the good parts once more."""
    import time

    import endless_mjpeg
    from facesel.sources import Backoff, make_source

    monkeypatch.setattr(endless_mjpeg, "OFFERED", 8 << 20)
    with EndlessMJPEG("no_boundary") as server:
        source = make_source(server.url, max_frame_pixels=640 * 480, buffer_frames=64, live=False,
                             backoff=Backoff(base=0.05, cap=0.1)).start()
        frames = 0
        give_up = time.monotonic() + 60  # only a failing test waits this long
        try:
            while frames < 6 and time.monotonic() < give_up:
                frames += source.read(timeout=1.0) is not None
            stats = source.snapshot()
        finally:
            source.stop()
    assert frames == 6
    assert stats.connects >= 2 and stats.stream_errors >= 1
    assert "multipart part 3 has no end within 921601 bytes" in stats.last_error
