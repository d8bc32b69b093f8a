"""A loopback HTTP server sending an MP4 whose ``stsz`` states one sample far larger than it is
(review round 15a, finding 4).

``kind``: ``"good"`` sends a faststart MP4 (``moov`` before ``mdat``) of twelve 320 x 240 frames
and closes (the harmless comparison); ``"lying"`` sends the same file with the third sample's
size stated as :data:`STATED` bytes and ``mdat`` running to the end of the stream, then, after the
file's own bytes, :data:`OFFERED` bytes of filler and holds the connection open without a word
until the client goes or :data:`HOLD_S` passes. FFmpeg's ``mov`` demuxer reads a sample's stated
bytes as they arrive (``av_get_packet``), so a reader keeping them grows by about what is offered.
"""

from __future__ import annotations

import io
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

STATED = 0x3FFF0000
"""The lying sample's stated size (1 GiB less 64 KiB: under FFmpeg's 0x3FFFFFFF per-sample limit)."""
OFFERED = 128 << 20
"""Filler bytes offered after the file's own (a reader that keeps them grows by about as much)."""
HOLD_S = 20.0
_BLOCK = 1 << 20


def stripes_mp4() -> bytes:
    """Twelve 320 x 240 frames of moving stripes (no face), MPEG-4 Part 2 in an MP4 with ``moov``
    before ``mdat`` (as ``movflags=faststart`` writes, which needs a file: done here in memory)."""
    return _moov_first(stripes())


def stripes(container_format: str = "mp4", codec: str = "mpeg4", options: dict | None = None,
            gop_size: int | None = None) -> bytes:
    """Twelve 320 x 240 frames of moving stripes (no face) encoded in memory as ``container_format``
    with ``codec`` (``options``: the muxer's, e.g. fragmented MP4's ``movflags``; ``gop_size``: a
    keyframe every so many frames, the encoder's default when None)."""
    import av

    out = io.BytesIO()
    with av.open(out, "w", format=container_format, options=options or {}) as container:
        stream = container.add_stream(codec, rate=10)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        if gop_size is not None:
            stream.codec_context.gop_size = gop_size
        for k in range(12):
            picture = np.zeros((240, 320, 3), np.uint8)
            picture[:, (k * 20) % 320:(k * 20) % 320 + 60] = (200, 120, 60)
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def _moov_first(mp4: bytes) -> bytes:
    """The top-level boxes of ``mp4`` with ``moov`` moved before ``mdat``, its chunk offsets moved
    by ``moov``'s size."""
    boxes, at = [], 0
    while at < len(mp4):
        size, kind = struct.unpack_from(">I4s", mp4, at)
        boxes.append((kind, mp4[at:at + size]))
        at += size
    kinds = [k for k, _ in boxes]
    moov = bytearray(dict(boxes)[b"moov"])
    stco = moov.index(b"stco")  # 32-bit chunk offsets: size(4) 'stco' version+flags(4) count(4) offsets
    (count,) = struct.unpack_from(">I", moov, stco + 8)
    for i in range(count):
        where = stco + 12 + 4 * i
        struct.pack_into(">I", moov, where, struct.unpack_from(">I", moov, where)[0] + len(moov))
    order = [k for k in kinds if k != b"moov"]
    order.insert(order.index(b"mdat"), b"moov")
    return b"".join(bytes(moov) if k == b"moov" else dict(boxes)[k] for k in order)


def lying(mp4: bytes, sample: int = 2) -> bytes:
    """``mp4`` with sample ``sample``'s size in ``stsz`` stated as :data:`STATED` and ``mdat``'s
    size 0 (to the end of the stream)."""
    data = bytearray(mp4)
    at = data.index(b"stsz")  # size(4) 'stsz' version+flags(4) sample_size(4) count(4) sizes(4 each)
    uniform, count = struct.unpack_from(">II", data, at + 8)
    assert uniform == 0 and count > sample, (uniform, count)
    struct.pack_into(">I", data, at + 16 + 4 * sample, STATED)
    mdat = data.index(b"mdat") - 4
    assert data.index(b"moov") < mdat, "not faststart"
    struct.pack_into(">I", data, mdat, 0)
    return bytes(data)


class LyingMP4Server:
    """``with LyingMP4Server(kind) as server: server.url``; see the module docstring."""

    def __init__(self, kind: str):
        assert kind in ("good", "lying"), kind
        body = stripes_mp4()
        body = lying(body) if kind == "lying" else body
        done = self._done = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802 - http.server's name
                self.send_response(200)
                self.send_header("Content-Type", "video/mp4")
                if kind == "good":
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                    if kind == "lying":
                        filler = bytes(range(256)) * (_BLOCK // 256)
                        for _ in range(OFFERED // _BLOCK):
                            self.wfile.write(filler)
                        self.wfile.flush()
                        done.wait(HOLD_S)  # hold the connection open without a word
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the reader gave up

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/live.mp4"

    def __enter__(self) -> LyingMP4Server:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._server.shutdown()
        self._server.server_close()


def write_local(path, stated: int, sample: int = 0, filler: int = OFFERED) -> None:
    """Write to ``path`` the faststart MP4 of :func:`stripes_mp4` with ``mdat`` running to the file's
    end and ``filler`` bytes of zeros after its own (a hole: the file takes no disk for them), sample
    ``sample``'s size stated as ``stated`` bytes (as it is when ``stated`` is 0): a local file can
    only make FFmpeg read what it holds (``ffio_limit`` stops a packet at the file's end), so the
    lie needs bytes behind it."""
    global STATED
    mp4 = stripes_mp4()
    if stated:
        kept, STATED = STATED, stated
        try:
            mp4 = lying(mp4, sample)
        finally:
            STATED = kept
    else:
        data = bytearray(mp4)
        struct.pack_into(">I", data, data.index(b"mdat") - 4, 0)
        mp4 = bytes(data)
    with open(path, "wb") as file:
        file.write(mp4)
        file.truncate(len(mp4) + filler)
