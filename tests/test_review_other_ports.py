"""Review 7b, finding 1: the desk's session is not handed to another program listening on loopback.

Browsers do not separate cookies by port: a cookie set by http://127.0.0.1:DESK is sent to
http://127.0.0.1:ANY as well. Any account on the machine can listen on a loopback port; once the
investigator's browser loads a page there (a link, a bookmark, a typed address), that program
received the desk's session cookie and, with it, the desk: the find page, the opened faces, the
CSRF token in the page and so every POST. The test is a real Chromium and a real listener.
"""

from __future__ import annotations

import http.client
import http.server
import threading
import urllib.parse

import pytest
from review_browser import driver_for, need_browser
from review_common import review_server
from test_review_security import PHRASES, desk_vault  # noqa: F401 (a fixture)


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Another user's web server on loopback: records every Cookie header a browser sends it."""

    cookies: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        _Recorder.cookies.append(self.headers.get("Cookie") or "")
        body = b"<html><body>another local service</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _desk_get(port: int, path: str, cookie: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", path, headers={"Host": f"127.0.0.1:{port}", "Cookie": cookie})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data


def test_a_page_on_another_loopback_port_gets_no_usable_session(tmp_path, desk_vault):  # noqa: F811
    need_browser()
    adir, vault, ids = desk_vault
    listener = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=listener.serve_forever, daemon=True).start()
    _Recorder.cookies = []
    driver = driver_for(tmp_path / "profile", tmp_path / "downloads")
    try:
        with review_server(vault, adir / "keystore") as served:
            desk_port = urllib.parse.urlsplit(served.url).port
            driver.get(served.url)  # the investigator starts the session: lands on the find page
            assert ids[0] in driver.page_source  # the session works in the browser
            driver.get(f"http://127.0.0.1:{listener.server_address[1]}/")  # then opens another local page
            assert _Recorder.cookies  # the page was asked for (a favicon request may follow)
            for stolen in _Recorder.cookies:
                # Whatever that program received, it opens no page of the desk: not the find page
                # at the root (where the desk's pages were before), nor any path it could learn.
                for path in ("/", "/opening", "/open/holders"):
                    status, page = _desk_get(desk_port, path, stolen)
                    assert status != 200 and ids[0].encode() not in page, (path, status, stolen)
                assert "facesel_review" not in stolen  # the cookie itself never reached the other port
    finally:
        driver.quit()
        listener.shutdown()
        listener.server_close()


@pytest.mark.parametrize("path", ["/", "/s/", "/s/wrong-secret/"])
def test_the_session_needs_its_path_as_well_as_its_cookie(desk_vault, path):  # noqa: F811
    """The cookie alone (e.g. over https, where it has path ``/``) opens nothing outside the session's path."""
    from test_review_security import Client

    adir, vault, ids = desk_vault
    with review_server(vault, adir / "keystore") as served:
        client = Client(served.url)
        client.begin()
        status, page = _desk_get(client.port, path, f"facesel_review={client.cookie}")
        assert status != 200 and ids[0].encode() not in page
