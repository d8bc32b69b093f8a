"""A real HLS stream on localhost for tests: the clip encoded (H.264, in memory then written to
a temporary folder as the playlist and its MPEG-TS segments) and served by ``http.server``."""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import av


def write_hls(frames, folder: Path, fps: int = 12, segment_seconds: int = 1) -> Path:
    """Encode ``frames`` (BGR) as an HLS VOD playlist in ``folder``; its path."""
    playlist = folder / "stream.m3u8"
    height, width = frames[0].shape[:2]
    with av.open(str(playlist), "w", format="hls",
                 options={"hls_time": str(segment_seconds), "hls_playlist_type": "vod"}) as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "g": str(fps)}
        for image in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return playlist


class HLSServer:
    def __init__(self, folder: Path):
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/stream.m3u8"

    def __enter__(self):
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
