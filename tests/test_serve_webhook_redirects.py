"""Review 7b, finding 2 (low): a webhook's redirect followed wherever it pointed.

``WebhookOutlet`` posted with ``urllib``'s default opener, which follows a 301/302/303 with a GET
to any URL the answer names: ``http://`` to another machine (past round 6's refusal of a plain
remote webhook, which is checked on the configured URL only) or a service on the camera's own
network that nothing outside reaches (the camera then fetches it: a request forgery from inside).
The GET carried the ``X-Facesel-Event`` header. A webhook endpoint that redirects (a moved
service, a compromised one, or whoever answers in its place) chose where the camera connects.

Real HTTP servers on loopback: the webhook answers 302 (and 303, 301) to a second server, which
records what reaches it.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from facesel.serve.events import EventBus, WebhookOutlet


class _Collector(BaseHTTPRequestHandler):
    """The redirect's target: records every request line and its headers."""

    seen: list[tuple[str, str, dict]] = []

    def log_message(self, *args):
        pass

    def _record(self):
        _Collector.seen.append((self.command, self.path, dict(self.headers)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = _record  # noqa: N815 (http.server's names)


def _redirecting(code: int, target: str):
    class Redirect(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(code)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
    return Redirect


@pytest.fixture
def servers():
    started = []

    def serve(handler):
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
        return server.server_address[1]

    yield serve
    for server in started:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("code", [301, 302, 303])
def test_a_redirect_of_the_webhook_is_not_followed(servers, code):
    _Collector.seen = []
    inside = servers(_Collector)
    hook = servers(_redirecting(code, f"http://127.0.0.1:{inside}/internal/admin?from=facesel"))
    bus = EventBus([WebhookOutlet(f"http://127.0.0.1:{hook}/hook")])
    try:
        bus.publish("door", "track_sealed", track_id=3, record_id="0" * 32)
        deadline = time.monotonic() + 30
        while bus.published < 1 and time.monotonic() < deadline:  # a bound, not a measurement
            time.sleep(0.05)
        assert bus.published == 1
    finally:
        bus.close()
    assert _Collector.seen == []  # the camera connected nowhere the answer named
    assert bus.failed == 1  # a redirect is a failed delivery (and logged as one), not a success
