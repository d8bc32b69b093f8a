"""Review round 14a, finding 3: over HTTP, FFmpeg read formats it frames without a bound.

Round 13b bounded multipart MJPEG (read by Python, part by part) and left every other answer to
FFmpeg with the multipart demuxer off its list. A camera (or whoever answers its URL) sending a raw
JPEG concatenation, no multipart framing, was read as ``jpeg_pipe``, whose JPEG parser keeps bytes
until the next marker: after three good JPEGs, bytes without a ``0xFF`` grew one frame until
PyAV's read timeout. Measured in this run's children (``max_frame_pixels`` = 640 x 480, 256 MiB
offered at loopback speed): main grew +534,156 KiB of peak RSS over the same JPEGs alone. Now an
``http(s)://`` source is read only in the formats of
:data:`facesel.sources.http_mjpeg.HTTP_FORMATS` (HLS, MPEG-TS, FLV, MP4, with HLS's audio and
subtitles) or as multipart MJPEG; a raw JPEG stream is refused at open with the reason
(:class:`facesel.sources.backends.RefusedStream`, so ``facesel run`` does not hand it to OpenCV).
"""

from __future__ import annotations

import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import lying_mp4  # noqa: E402
from endless_mjpeg import EndlessMJPEG  # noqa: E402
from peak_memory import run_fresh  # noqa: E402

import facesel  # noqa: E402

GROWTH_BOUND_KIB = 32 << 10
"""The most the endless stream's reader may grow over the harmless one's: far below the 256 MiB offered."""

_CHILD = r"""
import json, sys
from peak_memory import peak_kib
from facesel.sources.backends import EndOfStream, PyAVConnection, RefusedStream, SourceError
frames, why = 0, "none"
try:
    connection = PyAVConnection(sys.argv[1], read_timeout=3.0, stall_timeout=30.0, max_frame_pixels=640 * 480)
    try:
        while frames < 10:
            connection.read()
            frames += 1
    except EndOfStream:
        why = "end"
    except SourceError as err:
        why = "read: " + str(err)
    connection.close()
except RefusedStream as err:
    why = "refused: " + str(err)
except SourceError as err:
    why = "open: " + str(err)
print(json.dumps({"frames": frames, "why": why, "peak_kib": peak_kib()}))
"""


def _read_in_child(url: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(Path(facesel.__file__).resolve().parents[1])}
    done = run_fresh(_CHILD, url, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_raw_jpeg_stream_over_http_is_refused_not_read_without_a_bound():
    with EndlessMJPEG("raw_good", content_type="application/octet-stream") as server:
        harmless = _read_in_child(server.url)
    with EndlessMJPEG("raw_endless", content_type="application/octet-stream") as server:
        endless = _read_in_child(server.url)
    growth = endless["peak_kib"] - harmless["peak_kib"]
    assert growth < GROWTH_BOUND_KIB, f"+{growth} KiB over the same JPEGs alone ({endless['why']})"
    assert endless["why"].startswith("refused: ") and "MPEG-TS, FLV or MP4 only" in endless["why"], endless


class _OneBody(BaseHTTPRequestHandler):
    body, content_type = b"", ""

    def do_GET(self):  # noqa: N802 - http.server's name
        self.send_response(200)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("container_format, codec", [("mpegts", "mpeg2video"), ("flv", "flv")])
def test_formats_a_camera_sends_over_http_are_still_read(container_format, codec):
    handler = type("Handler", (_OneBody,), {"body": lying_mp4.stripes(container_format, codec),
                                           "content_type": "video/octet-stream"})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        seen = _read_in_child(f"http://127.0.0.1:{server.server_address[1]}/live")
    finally:
        server.shutdown()
        server.server_close()
    assert seen["frames"] == 10, seen
