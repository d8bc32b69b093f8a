"""Review round 11 (attack20), finding 2: a webhook's answer read whole by the camera service.

``WebhookOutlet.send`` read the body of every answer (``answer.read()``) into memory before the
next event. A webhook endpoint (a third party's service, or whoever answers a plain ``http://``
URL on the camera's network) that answers 200 and then streams without end made ``facesel
serve`` hold all of it: its memory grew until the kernel killed it, and every camera with it.
Now the status line is all that is read. A real HTTP server on loopback (``endless_http``).
"""

from __future__ import annotations

import time

from endless_http import OFFERED, EndlessServer
from facesel.serve.events import EventBus, WebhookOutlet


def test_an_endless_webhook_answer_is_not_read():
    with EndlessServer() as server:
        bus = EventBus([WebhookOutlet(f"http://127.0.0.1:{server.port}/hook", timeout=30)])
        try:
            bus.publish("door", "track_sealed", track_id=3, record_id="0" * 32)
            deadline = time.monotonic() + 60
            while bus.published + bus.failed < 1 and time.monotonic() < deadline:  # a bound, not a measurement
                time.sleep(0.05)
            assert bus.published == 1 and bus.failed == 0  # the event was delivered
            written = server.wait()
        finally:
            bus.close()
    # The socket buffers' worth, not the whole offer (before, the service read all of it, and
    # would have gone on for ever).
    assert written < OFFERED // 4, written
