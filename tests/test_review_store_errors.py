"""ux21: the desk asks the central store, on an opening request, which chosen records arrived
after their camera's key was revoked; a database error there (the connection lost, the server
restarted) was a bare 500 page. Now nothing is requested, the find page says so naming the store
and its error, the desk's terminal logs it, and no traceback reaches the browser.

The desk's real ASGI application is driven in-process (no browser, no server): its source is a
stand-in whose question fails the way :class:`facesel.review.sources.CentralSource` now reports a
store's failure (:class:`facesel.review.sources.StoreError`); that translation is tested apart
with a store whose query raises psycopg's own error.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from urllib.parse import urlencode

import pytest
from facesel.review.app import COOKIE, build_app
from facesel.review.catalog import SearchResult
from facesel.review.sources import CentralSource, StoreError
from facesel.review.state import DeskState

from test_vault_common import make_authority

HOST = "127.0.0.1:8765"
LABEL = "Central store facesel@db.example:5432"
FAILURE = "OperationalError: server closed the connection unexpectedly"


class FailingStoreSource:
    """A central-store source whose late-arrival question fails as a lost connection does."""
    label = LABEL

    def late_arrivals(self, records):
        raise StoreError(f"{LABEL} could not say which of the chosen records arrived after a revocation: {FAILURE}")

    def search(self, filters):
        return SearchResult([], [], [])  # the find page the desk goes back to: no record

    def close(self):
        pass


def _call(app, method: str, path: str, headers: dict, body: bytes = b"") -> tuple[int, dict, bytes]:
    """One HTTP request through the ASGI ``app``: (status, headers, body)."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8765),
             "headers": [(k.lower().encode(), v.encode()) for k, v in {"host": HOST, **headers}.items()]}
    sent = [{"type": "http.request", "body": body, "more_body": False}]
    answer = {"status": None, "headers": {}, "body": b""}

    async def receive():
        return sent.pop(0) if sent else {"type": "http.disconnect"}

    async def send(message):
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
            answer["headers"] = {k.decode(): v.decode() for k, v in message.get("headers", [])}
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    asyncio.run(app(scope, receive, send))
    return answer["status"], answer["headers"], answer["body"]


def test_a_store_failing_on_an_opening_request_is_a_clear_message_not_a_500(tmp_path, caplog):
    _, authority_dir = make_authority(tmp_path / "authority")
    state = DeskState(source=FailingStoreSource(), keystore_dir=authority_dir / "keystore")
    session = state.begin(state.start_token)
    app = build_app(state, {HOST}, {f"http://{HOST}"})
    cookie = {"cookie": f"{COOKIE}={session}"}
    form = urlencode({"csrf": state.csrf, "record": "cam-1/" + "a" * 32, "case": "C-1", "reason": "theft",
                      "opened_by": "inspector"}).encode()
    with caplog.at_level(logging.ERROR, logger="facesel.review"):
        code, headers, body = _call(app, "POST", state.url_base + "/open",
                                    {**cookie, "origin": f"http://{HOST}",
                                     "content-type": "application/x-www-form-urlencoded",
                                     "content-length": str(len(form))}, form)
    assert code == 303 and headers["location"].endswith("/"), (code, body[:300])
    assert state.pending is None  # nothing was requested: no holder is asked for a share
    assert any(FAILURE in record.getMessage() and LABEL in record.getMessage() for record in caplog.records)
    code, _, page = _call(app, "GET", state.url_base + "/", cookie)
    text = page.decode()
    assert code == 200, text[:300]
    assert "nothing was requested, no share was asked for" in text and LABEL in text and FAILURE in text
    assert "Traceback" not in text


def test_the_central_source_names_the_store_and_the_database_error():
    psycopg = pytest.importorskip("psycopg", reason="psycopg (the central store's client) is not installed")

    class LostStore:
        def rows(self, selection):
            raise psycopg.OperationalError("server closed the connection unexpectedly\n\tThis probably means ...")

    source = CentralSource.__new__(CentralSource)  # no server: only its error reporting is tested
    source.store, source.lock, source.label, source.keystore = LostStore(), threading.Lock(), LABEL, None
    with pytest.raises(StoreError) as caught:
        source.late_arrivals([("cam-1", "a" * 32)])
    assert str(caught.value) == (f"{LABEL} could not say which of the chosen records arrived after a revocation: "
                                 f"{FAILURE}")
