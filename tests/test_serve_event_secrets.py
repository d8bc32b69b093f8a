"""Review 4, finding 5 (medium): secrets of an event endpoint in ``facesel serve``'s log.

Webhook services put their secret in the URL's path (``/services/T0/B0/SECRET``,
``/api/webhooks/ID/TOKEN``): whoever has the URL can post to the channel. ``serve`` logged a failed
delivery as ``events: webhook <the whole URL> failed``, once a minute, and a mistyped scheme was
refused with the whole URL in the message. The log's redaction masks URL passwords and
``?token=`` values but cannot tell a secret path from an ordinary one, so the class is closed where
the URL is shown: logs and errors name an endpoint by scheme, host and port only.

Real HTTP on localhost (a server that answers 500), the real log set-up of ``serve``.
"""

from __future__ import annotations

import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from facesel.serve.events import EventBus, WebhookOutlet, check_webhook
from facesel.serve.logs import configure_logging, restore_logging
from test_sources import wait_for

SECRET = "B07QX2ZK9-xoxb-5u9Rj4Tq0WmY"


class _Failing(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(500)
        self.end_headers()


@pytest.fixture
def failing_hook():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("secret_part", [f"/services/T0/{SECRET}", f"/hook?token={SECRET}",
                                         f"/hook#{SECRET}"])
def test_a_failed_delivery_is_logged_without_the_webhooks_secret(failing_hook, secret_part):
    url = failing_hook + secret_part
    stream = io.StringIO()
    saved = configure_logging("info", stream=stream)
    try:
        bus = EventBus([WebhookOutlet(**dict(check_webhook({"url": url, "timeout": 5}, "serve.webhook")))])
        bus.publish("gate", "camera_up", state="running", reason="started")
        # delivered (and failed) before the close: close() waits at most 5 s for what is queued, a
        # bound a delivery on a starved machine may pass, and then nothing would have been logged yet
        assert wait_for(lambda: bus.published == 1, timeout=60)
        bus.close()
    finally:
        restore_logging(saved)
    text = stream.getvalue()
    assert bus.failed == 1 and "HTTP Error 500" in text  # the failure is there, and says where
    assert f"webhook {failing_hook}/... failed" in text
    assert SECRET not in text


def test_a_refused_webhook_url_is_not_quoted_whole():
    with pytest.raises(ValueError) as refused:
        check_webhook({"url": f"htps://hooks.example.org/services/T0/{SECRET}"}, "serve.webhook")
    assert SECRET not in str(refused.value) and "serve.webhook.url" in str(refused.value)
    with pytest.raises(ValueError) as refused:  # a space would only fail at the first POST, quoting it
        check_webhook({"url": f"https://hooks.example.org/services/T0/{SECRET} "}, "serve.webhook")
    assert SECRET not in str(refused.value) and "https://hooks.example.org/..." in str(refused.value)
