"""Review round 11 (attack20), finding 2: a webhook's answer read whole by the camera service.

``WebhookOutlet.send`` read the body of every answer (``answer.read()``) into memory before the
next event. A webhook endpoint (a third party's service, or whoever answers a plain ``http://``
URL on the camera's network) that answers 200 and then streams without end made ``facesel
serve`` hold all of it: its memory grew until the kernel killed it, and every camera with it.
Now the status line is all that is read.

A real HTTP server on loopback answers 200 and writes up to :data:`_OFFERED` bytes, counting what
it managed to write before the camera's side closed the connection.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from facesel.serve.events import EventBus, WebhookOutlet

_OFFERED = 128 << 20   # far more than loopback's socket buffers hold (a few MB)
_CHUNK = 1 << 16


class _Endless(BaseHTTPRequestHandler):
    written: list[int] = []
    finished = threading.Event()

    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()  # no Content-Length: the body runs until the server closes
        sent, chunk = 0, b"x" * _CHUNK
        try:
            while sent < _OFFERED:
                self.wfile.write(chunk)
                sent += _CHUNK
        except OSError:
            pass  # the camera's side closed the connection
        finally:
            _Endless.written.append(sent)
            _Endless.finished.set()


def test_an_endless_webhook_answer_is_not_read():
    _Endless.written, _Endless.finished = [], threading.Event()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Endless)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    bus = EventBus([WebhookOutlet(f"http://127.0.0.1:{server.server_address[1]}/hook", timeout=30)])
    try:
        bus.publish("door", "track_sealed", track_id=3, record_id="0" * 32)
        deadline = time.monotonic() + 60
        while bus.published + bus.failed < 1 and time.monotonic() < deadline:  # a bound, not a measurement
            time.sleep(0.05)
        assert bus.published == 1 and bus.failed == 0  # the event was delivered
        assert _Endless.finished.wait(60)
    finally:
        bus.close()
        server.shutdown()
        server.server_close()
    # What the server wrote before the connection was closed: the socket buffers' worth, not the
    # whole offer (before, the service read all of it, and would have gone on for ever).
    assert _Endless.written[0] < _OFFERED // 4, _Endless.written
