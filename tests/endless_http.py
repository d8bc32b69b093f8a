"""A loopback HTTP server whose every answer is 200 with a body far larger than socket buffers,
counting what it managed to write before the client closed the connection (review round 11,
attack20: clients that read an answer whole)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

OFFERED = 128 << 20   # far more than loopback's socket buffers hold (a few MB)
_CHUNK = 1 << 16


class EndlessServer:
    """``with EndlessServer() as server``: ``server.port``; after a request, ``server.wait()`` is the
    number of body bytes written before the client went (or :data:`OFFERED` when it read them all)."""

    def __init__(self) -> None:
        self.written: list[int] = []
        self._finished = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()  # no Content-Length: the body runs until the server closes
                sent, chunk = 0, b" " * _CHUNK
                try:
                    while sent < OFFERED:
                        self.wfile.write(chunk)
                        sent += _CHUNK
                except OSError:
                    pass  # the client closed the connection
                finally:
                    owner.written.append(sent)
                    owner._finished.set()

            do_GET = do_POST = _answer  # noqa: N815 (http.server's names)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]

    def __enter__(self) -> EndlessServer:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait(self, timeout: float = 60.0) -> int:
        """Bytes written for the first request, once it ended (a bound, not a measurement)."""
        assert self._finished.wait(timeout), "the server's answer did not end"
        return self.written[0]
