"""The desk stops once its one session ended (ux21). Its start link works once, so an ended
session leaves a desk nobody can use: it used to keep running and keep its port, silently, while
the ended page said "start facesel review again", which on the same --port (the proxy's) failed
with "another program listens on that port"."""

from __future__ import annotations

import http.client
import re
import socket
import subprocess
import time
import urllib.parse

from review_common import review_server
from test_vault_common import make_authority, vault_at

DEADLINE = 60.0  # seconds: generous on a loaded machine; the desk stops about 5 s after the end


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _begin(url: str) -> None:
    """Use the one-time start link as a browser does (the session begins)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    conn.request("GET", f"{parts.path}?{parts.query}", headers={"Host": parts.netloc})
    assert conn.getresponse().status == 303
    conn.close()


def _wait_for_exit(process: subprocess.Popen, seconds: float = DEADLINE) -> int | None:
    """The process's exit code once it exited, or None when it still runs after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    return process.poll()


def test_an_ended_session_stops_the_desk_and_frees_its_port(tmp_path):
    adir = make_authority(tmp_path / "auth")[1]
    with vault_at(tmp_path / "vault", adir):
        pass  # an empty vault: the desk's start and end need no record
    port = str(_free_port())
    with review_server(tmp_path / "vault", adir / "keystore", "--port", port, "--idle", "5") as served:
        _begin(served.url)
        code = _wait_for_exit(served.process)
        assert code == 0, "the desk still ran after its session ended (idle timeout)"
    assert re.search(r"the session ended \(idle timeout\); the desk has stopped", served.output), served.output
    assert "Traceback" not in served.output
    # Started again as the ended page says, on the same port: a new link, no "another program listens".
    with review_server(tmp_path / "vault", adir / "keystore", "--port", port) as again:
        assert f":{port}/start?token=" in again.url


def test_a_desk_whose_link_is_not_used_yet_keeps_waiting(tmp_path):
    """No session began: the idle timeout has nothing to end and the desk waits for its link."""
    adir = make_authority(tmp_path / "auth")[1]
    with vault_at(tmp_path / "vault", adir):
        pass
    with review_server(tmp_path / "vault", adir / "keystore", "--idle", "5") as served:
        ended = _wait_for_exit(served.process, 12.0)  # past --idle and the stop's grace
        assert ended is None, "the desk stopped before anyone used its link"
        _begin(served.url)  # and the link still works

