"""A real HTTP MJPEG server on localhost for tests and benchmarks (multipart/x-mixed-replace).

It serves the frames it is given, JPEG-encoded in memory, at a fixed rate, looping. ``stop()``
closes the listening socket and every open stream (a camera that loses power);
``start()`` again serves on the same port. ``mode="silent"`` accepts and sends the headers, then
nothing (a hung camera); ``mode="garbage"`` sends bytes that hold no JPEG.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
from facesel.ports import unclaimed_port

BOUNDARY = "facesel-frame"


class MJPEGServer:
    def __init__(self, frames, fps: float = 12.5, port: int = 0, mode: str = "stream"):
        self.jpegs = [cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes() for f in frames]
        self.fps, self.mode = float(fps), mode
        self.port = port or unclaimed_port()
        self.frames_sent = 0
        self._server: ThreadingHTTPServer | None = None
        self._alive = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/stream.mjpg"

    def start(self) -> MJPEGServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
                self.end_headers()
                k = 0
                try:
                    while owner._alive.is_set():
                        if owner.mode == "silent":
                            time.sleep(0.05)
                            continue
                        body = b"\x00garbage" * 512 if owner.mode == "garbage" else owner.jpegs[k % len(owner.jpegs)]
                        self.wfile.write(f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                                         f"Content-Length: {len(body)}\r\n\r\n".encode() + body + b"\r\n")
                        self.wfile.flush()
                        owner.frames_sent += 1
                        k += 1
                        time.sleep(1.0 / owner.fps)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                # Leaving without a closing boundary: the client sees the connection drop.
                self.close_connection = True

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._server.allow_reuse_address = True
        self._alive.set()
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._alive.clear()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def read_gif(path, limit: int | None = None):
    capture = cv2.VideoCapture(str(path))
    frames = []
    while limit is None or len(frames) < limit:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames
