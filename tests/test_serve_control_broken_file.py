"""``facesel serve status`` and ``serve reload`` with a config file an edit left broken (ux19).

Both read only ``serve.listen`` from the file. A file that was not valid TOML as a whole (a
camera's line half-typed) made ``status`` say ``not valid TOML`` with exit 1, which the README
gives as "no service answers", while the service ran on; ``reload`` never asked the service, so
nothing said the cameras went on unchanged. Here a stand-in for the status port answers as the
service does (``facesel/serve/control.py``'s routes), so no camera is needed.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from facesel.ports import unclaimed_port
from facesel.serve.control import listen_of
from test_vault_common import run_cli

STATUS = {"pid": 4242, "uptime_s": 60.0, "reloads": 0, "sealed_total": 7,
          "cameras": {"door": {"up": True, "state": "running", "processed": 100, "open_tracks": 1, "sealed": 7,
                               "frames_dropped": 0, "reconnects": 0}}}
REFUSAL = "facesel.toml: not valid TOML: Invalid value (at line 7, column 8)"


@pytest.fixture
def service():
    """A stand-in status port: answers GET /status with STATUS and POST /reload with the service's
    409 refusal; ``asked`` lists the requests it got."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, code: int, body: dict) -> None:
            asked.append(f"{self.command} {self.path}")
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):  # noqa: N802 (http.server's name)
            self._answer(200, STATUS)

        def do_POST(self):  # noqa: N802
            self._answer(409, {"error": REFUSAL})

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", unclaimed_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], asked
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def broken_config(tmp_path, port: int):
    path = tmp_path / "facesel.toml"
    path.write_text(f'[serve]\nlisten = "127.0.0.1:{port}"\n\n[cameras.door]\nsource = "rtsp://192.0.2.1/s"\n'
                    'vault = "door"\nmin_hits = = 3\n')
    return path


def test_status_of_a_file_broken_outside_its_serve_table_still_asks_the_service(service, tmp_path, capsys):
    port, asked = service
    code, out, err = run_cli(capsys, "serve", "status", "--config", broken_config(tmp_path, port))
    assert (code, err) == (0, ""), err
    assert out.startswith("facesel serve pid 4242, up 60 s") and "door: up, running" in out
    assert asked == ["GET /status"]


def test_reload_of_a_broken_file_asks_the_service_which_refuses_it(service, tmp_path, capsys):
    port, asked = service
    code, out, err = run_cli(capsys, "serve", "reload", "--config", broken_config(tmp_path, port))
    assert code == 1 and out == ""
    assert err == f"facesel serve: error: config refused, the cameras go on unchanged: {REFUSAL}\n"
    assert asked == ["POST /reload"]


@pytest.mark.parametrize("text", [
    '[serve]\nlisten = = "127.0.0.1:9108"\n[cameras.door]\nsource = "x"\n',  # the error inside [serve]
    'serve.listen = "127.0.0.1:1"\n[serve]\nlog_level = "info"\n[cameras.door]\nx = = 1\n',  # serve at the top too
    '[cameras.door]\nsource = = "x"\n',  # no [serve] table: the default port is a guess
])
def test_a_broken_file_whose_listen_cannot_be_told_apart_is_refused_without_asking(tmp_path, text):
    path = tmp_path / "facesel.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=r"not valid TOML \(.*\), and its serve\.listen cannot be read apart from "
                                         r"the error: the service was not asked$"):
        listen_of(path)


def test_a_valid_file_is_read_as_a_whole(tmp_path):
    # the [serve] table alone is only a fallback: a valid file's dotted key counts as before
    path = tmp_path / "facesel.toml"
    path.write_text('serve.listen = "127.0.0.1:29999"\n[cameras.door]\nsource = "x"\n')
    assert listen_of(path) == ("127.0.0.1", 29999)
