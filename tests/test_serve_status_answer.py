"""Review round 15a, finding 6: ``facesel serve status``/``reload`` took whatever answers on
``serve.listen`` at its word, raw.

While the service is down any local account may listen on its port (round 11 bounded the answer's
size). Its words went to the terminal raw: an OSC 52 sequence (sets the clipboard in terminals
that honour it), an erase-line and a conceal code in a camera's name and state. An answer of
another shape (a JSON list, a missing key, a string for a count) ended in a Python traceback. Now
each line is written with its control characters escaped, and an answer that does not read as the
service's is one error line naming the address.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from facesel.cli import main
from facesel.cli.serve import EXIT_DEGRADED

ESCAPES = "\x1b]52;c;cm0gLXJmIH4K\x07\x1b[2K\r"  # clipboard := "rm -rf ~", erase the line, back to its start


def _camera(**given) -> dict:
    return {"state": "running", "up": True, "processed": 1, "open_tracks": 0, "sealed": 0, "frames_dropped": 0,
            "reconnects": 0, **given}


@pytest.fixture
def answering(tmp_path):
    """``answering(body)``: a config whose ``serve.listen`` is a loopback server answering ``body``
    (JSON) to any GET or POST, as another account's listener on a free port would."""
    servers = []

    def start(body):
        data = json.dumps(body).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_GET  # noqa: N815

            def log_message(self, *args):
                pass

        server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        config = tmp_path / f"serve{len(servers)}.toml"
        config.write_text(f'[serve]\nlisten = "127.0.0.1:{server.server_address[1]}"\n')
        return str(config)

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_status_words_are_written_with_their_control_characters_escaped(answering, capsys):
    config = answering({"pid": 1, "uptime_s": 1, "reloads": 0, "sealed_total": 0,
                        "cameras": {f"gate{ESCAPES}": _camera(state="running\x1b[8m")}})
    assert main(["serve", "status", "--config", config]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\r" not in out, repr(out)
    assert "gate\\x1b]52;c;cm0gLXJmIH4K\\x07\\x1b[2K\\r: up, running\\x1b[8m;" in out


def test_reload_words_are_written_with_their_control_characters_escaped(answering, capsys):
    config = answering({"added": [f"gate{ESCAPES}"], "removed": [], "changed": [], "unreadable": [f"x{ESCAPES}"]})
    assert main(["serve", "reload", "--config", config]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\r" not in out, repr(out)
    assert out.startswith("reloaded: added gate\\x1b]52;")


@pytest.mark.parametrize("action, body, said", [
    ("status", [1, 2], "TypeError"),
    ("status", {"pid": 1}, "KeyError('uptime_s')"),
    ("status", {"pid": 1, "uptime_s": "long", "reloads": 0, "sealed_total": 0, "cameras": {}}, "ValueError"),
    ("status", {"pid": 1, "uptime_s": 1, "reloads": 0, "sealed_total": 0, "cameras": [1]}, "AttributeError"),
    ("reload", {"added": "gate"}, "TypeError"),
    ("reload", [1], "TypeError"),
])
def test_an_answer_of_another_shape_is_one_error_line_not_a_traceback(answering, capsys, action, body, said):
    config = answering(body)
    assert main(["serve", action, "--config", config]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("facesel serve: error: what answers on 127.0.0.1:") and len(err.splitlines()) == 1, err
    assert f"is not a facesel serve (its /{action} answer does not read as one: {said}" in err


def test_status_json_checks_the_answer_and_escapes_it(answering, capsys):
    config = answering({"pid": 1, "uptime_s": 1, "reloads": 0, "sealed_total": 0,
                        "cameras": {f"gate{ESCAPES}": _camera(up=False, state="reconnecting")}})
    assert main(["serve", "status", "--json", "--config", config]) == EXIT_DEGRADED  # the camera is down
    out = capsys.readouterr().out
    assert "\x1b" not in out and json.loads(out)["cameras"]
