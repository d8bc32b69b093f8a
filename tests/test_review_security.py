"""The desk's wall, against a real `facesel review` process over HTTP: loopback only, one-time start
link, Host check, same-origin and CSRF on every POST, body limit, strict headers on every answer,
no directory listing, pictures only after a logged opening, and the idle timeout ending the
opening (logged) and the session."""

from __future__ import annotations

import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.parse

import pytest
from facesel.review.security import CSP
from facesel.review.serve import check_host
from facesel.vault.audit import AuditLog
from review_common import picks, review_server
from test_vault_common import T0, FakeClock, make_authority, orl_faces, share_paths, track_result, vault_at

PHRASES = [b"first holder words 1", b"second holder words 2", b"third holder words 3"]


@pytest.fixture(scope="module")
def desk_vault(tmp_path_factory, shared_data):
    root = tmp_path_factory.mktemp("desk")
    adir = make_authority(root / "auth", passphrases=PHRASES)[1]
    clock = FakeClock(T0)
    with vault_at(root / "vault", adir, clock=clock) as vault:
        ids = []
        for i, face in enumerate(orl_faces(shared_data, 2)):
            clock.advance(3600)
            ids.append(vault.seal(track_result(face, track_id=i, clip=[face])))
    return adir, root / "vault", ids


class Client:
    """A minimal same-origin browser stand-in: the session cookie, Origin, and the page's CSRF token."""

    def __init__(self, url: str):
        parts = urllib.parse.urlsplit(url)
        self.host, self.port, self.start = parts.hostname, parts.port, f"{parts.path}?{parts.query}"
        self.origin, self.cookie, self.csrf = f"http://{parts.netloc}", None, None
        self.base = ""  # the session's secret path, learnt from the start link's redirect

    def request(self, method, path, body=b"", headers=None, host=None):
        """``path`` as the page names it (``/opening``): sent under the session's path, as a browser does."""
        if not path.startswith(("/start", "/static/")):
            path = self.base + path
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        sent = {"Host": host or f"{self.host}:{self.port}"}
        if self.cookie:
            sent["Cookie"] = f"facesel_review={self.cookie}"
        sent.update(headers or {})
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        found = re.search(r'name="csrf" value="([^"]+)"', data.decode("utf-8", "replace"))
        if found:
            self.csrf = found.group(1)
        return response, data

    def begin(self):
        response, _ = self.request("GET", self.start)
        assert response.status == 303
        self.cookie = re.search(r"facesel_review=([^;]+)", response.getheader("Set-Cookie")).group(1)
        self.base = response.getheader("Location").rstrip("/")
        self.request("GET", "/")

    def post(self, path, fields, origin="same", csrf=True, files=None):
        fields = dict(fields)
        if csrf:
            fields["csrf"] = self.csrf
        headers = {} if origin is None else {"Origin": self.origin if origin == "same" else origin}
        if files is None:
            body = urllib.parse.urlencode(fields, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            boundary = secrets.token_hex(8)
            parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                     for k, v in fields.items()]
            parts += [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename="{name}"\r\n'
                      f"Content-Type: application/json\r\n\r\n".encode() + data + b"\r\n"
                      for k, (name, data) in files.items()]
            body = b"".join(parts) + f"--{boundary}--\r\n".encode()
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        return self.request("POST", path, body, headers)


def test_only_loopback_without_an_explicit_flag(desk_vault):
    for host in ("127.0.0.1", "::1", "localhost"):
        check_host(host, allow_remote=False)
    for host in ("0.0.0.0", "192.168.1.10", "example.org"):
        with pytest.raises(ValueError, match="allow-remote"):
            check_host(host, allow_remote=False)
    check_host("0.0.0.0", allow_remote=True)
    adir, vault, _ = desk_vault
    done = subprocess.run([sys.executable, "-m", "facesel", "review", "--vault", str(vault), "--keystore",
                           str(adir / "keystore"), "--host", "0.0.0.0"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "127.0.0.1 only" in done.stderr


def test_wall_refuses_what_a_hostile_page_or_client_would_try(desk_vault):
    adir, vault, ids = desk_vault
    with review_server(vault, adir / "keystore") as served:
        client = Client(served.url)
        response, _ = client.request("GET", "/")
        assert response.status == 404  # no session yet: no page outside the session's secret path
        response, _ = client.request("GET", client.start, host="evil.example:80")
        assert response.status == 421  # DNS rebinding: another Host is refused before anything else
        client.begin()
        response, _ = client.request("GET", client.start)
        assert response.status == 403  # the start link works once
        for path in ("/", "/static/review.css", "/nothing", "/static/", "/static/..%2fapp.py"):
            response, _ = client.request("GET", path)
            assert response.getheader("Content-Security-Policy") == CSP
            assert response.getheader("Cache-Control") == "no-store"
            assert response.getheader("X-Frame-Options") == "DENY"
            if path != "/" and path != "/static/review.css":
                assert response.status == 404, path  # no listing, no way out of the static folder
        for path in ("/", "/static/review.css", "/static/review.js"):  # nothing from elsewhere, no inline script
            page = client.request("GET", path)[1].decode()
            assert not re.search(r"""(src|href)=["']?(https?:)?//|url\(|@import""", page), path
            assert "<script>" not in page and " on" + "click=" not in page
        request = {"record": picks(vault, ids), "case": "C-1", "reason": "order", "opened_by": "me"}
        assert client.post("/open", request, origin=None)[0].status == 403
        assert client.post("/open", request, origin="http://evil.example")[0].status == 403
        assert client.post("/open", request, origin="null")[0].status == 403
        assert client.post("/open", request, csrf=False)[0].status == 403
        assert client.post("/open", {**request, "csrf": "forged"}, csrf=False)[0].status == 403
        response, _ = client.request("POST", "/open", b"x" * (1 << 20),
                                     {"Origin": client.origin, "Content-Type": "application/x-www-form-urlencoded"})
        assert response.status == 413
        # No picture before an opening, whatever id is asked for.
        assert client.request("GET", f"/opening/r/{ids[0]}/crop")[0].status == 404
        response, _ = client.post("/open", request)
        assert response.status == 303 and response.getheader("Location") == client.base + "/open/holders"
        assert not [e for e in AuditLog(vault / "audit.log").entries() if e["event"] == "open"]
    output = served.output
    assert "Traceback" not in output


def test_idle_timeout_ends_the_opening_logged_and_the_session(desk_vault):
    adir, vault, ids = desk_vault
    # 10 s idle: long enough that a loaded machine does not end the session between the test's own
    # requests, short enough to wait for.
    with review_server(vault, adir / "keystore", "--idle", "10") as served:
        client = Client(served.url)
        assert b"Faces are on screen" in _open_and_view(client, adir, vault, ids)
        assert client.request("GET", f"/opening/r/{ids[1]}/crop")[0].status == 404  # not opened
        deadline = time.time() + 60
        while time.time() < deadline and AuditLog(vault / "audit.log").entries()[-1]["event"] != "review-end":
            time.sleep(0.5)
        last = AuditLog(vault / "audit.log").entries()[-3:]
        assert [e["event"] for e in last] == ["open", "view", "review-end"]
        assert last[-1]["why"] == "idle timeout" and last[-1]["opening"] == last[0]["hash"]
        assert client.request("GET", f"/opening/r/{ids[0]}/crop")[0].status == 401
    output = served.output
    assert not any(p.decode() in output for p in PHRASES)


def _open_and_view(client, adir, vault, ids) -> bytes:
    """One investigator's whole opening of the first record over HTTP: request, two holders (each
    answered by a redirect), the view and one picture. Returns the view page's HTML."""
    client.begin()
    client.post("/open", {"record": picks(vault, ids[:1]), "case": "C-9", "reason": "order 9", "opened_by": "me"})
    client.request("GET", "/open/holders")
    for i in (0, 1):
        share = share_paths(adir)[i]
        response, _ = client.post("/open/holders", {"passphrase": PHRASES[i].decode()},
                                  files={"share": (share.name, share.read_bytes())})
        assert response.status == 303
    assert response.getheader("Location") == client.base + "/opening"
    response, page = client.request("GET", "/opening")
    assert response.status == 200
    response, crop = client.request("GET", f"/opening/r/{ids[0]}/crop")
    assert response.status == 200 and crop[:4] == b"\x89PNG"
    return page


def test_idle_and_trickling_connections_cannot_starve_the_desk(desk_vault):
    """Review round 3: 400 connections that never finish a request (half of them trickling header
    bytes, as slowloris does) against a desk limited to 256 open files. Before, uvicorn kept every
    one: accept failed with EMFILE and the investigator's page never answered. Now they are capped
    and closed when idle, and a whole opening (vault files, audit log, pictures) still works."""
    adir, vault, ids = desk_vault
    with review_server(vault, adir / "keystore", fd_limit=256) as served:
        client = Client(served.url)
        flood = []
        for i in range(400):
            sock = socket.create_connection((client.host, client.port), timeout=60)
            if i % 2:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # headers started, never finished
            flood.append(sock)
        for sock in flood[1::2]:
            sock.sendall(b"X-Slow: 1\r\n")  # a trickled byte must not keep a connection alive
        _open_and_view(client, adir, vault, ids)
        fds = len(os.listdir(f"/proc/{served.process.pid}/fd"))
        closed = 0
        for sock in flood:  # every flooding socket is closed by the server (cap or idle deadline)
            try:
                closed += sock.recv(1) == b""
            except ConnectionResetError:
                closed += 1
            sock.close()
        assert closed == len(flood)
        assert fds < 256 - 64, f"{fds} descriptors open in the desk after the flood"
    entries = AuditLog(vault / "audit.log").entries()
    assert [e["event"] for e in entries if e["event"] in ("open", "view")][-2:] == ["open", "view"]
    assert "Too many open files" not in served.output


@pytest.mark.parametrize("option, value", [("--idle", "nan"), ("--idle", "-1"), ("--idle", "inf"),
                                           ("--passphrase-delay", "0"), ("--passphrase-delay", "nan"),
                                           ("--passphrase-delay", "-2")])
def test_settings_that_switch_a_protection_off_are_refused(desk_vault, option, value):
    """Review round 3: NaN compares false, so `--idle nan` never ended a session and
    `--passphrase-delay 0`, `nan` or a negative value never slowed a guesser; each started silently."""
    adir, vault, _ = desk_vault
    done = subprocess.run([sys.executable, "-m", "facesel", "review", "--vault", str(vault), "--keystore",
                           str(adir / "keystore"), option, value], capture_output=True, text=True, timeout=60)
    # a usage error naming the flag since ux19 (exit 1 before, from the desk's own check)
    assert done.returncode == 2 and f"argument {option}: must be a number in" in done.stderr
    assert "Traceback" not in done.stderr and "start?token=" not in done.stdout


def test_a_rogue_cameras_metadata_cannot_break_the_view_of_other_records(tmp_path, shared_data):
    """Review round 3: the sealed metadata is the camera's word, and a camera key holder can write
    any JSON there. A record whose frame numbers are text (and whose box is not numbers) made the
    whole view page answer 500, hiding every other record of the opening; the page must show the
    others and say which record's metadata it could not read (nothing of it executed)."""
    import json
    import struct

    from facesel.vault import store

    adir = make_authority(tmp_path / "auth", passphrases=PHRASES)[1]
    original = store.encode_snapshot

    def rogue(result, record_id, clip_format="png"):  # what modified camera software could seal
        payload = original(result, record_id, clip_format)
        (size,) = struct.unpack_from(">I", payload)
        meta = json.loads(payload[4:4 + size])
        meta["best"]["frame_index"] = "<b>7</b>"
        meta["best"]["box"] = ["x", {"a": 1}]
        meta["track"]["frame_indices"] = ["<script>alert(1)</script>"] * len(meta["track"]["frame_indices"])
        body = json.dumps(meta).encode()
        return struct.pack(">I", len(body)) + body + payload[4 + size:]

    clock = FakeClock(T0)
    faces = orl_faces(shared_data, 2)
    with vault_at(tmp_path / "vault", adir, clock=clock) as vault:
        clock.advance(3600)
        good = vault.seal(track_result(faces[0], track_id=0, clip=[faces[0]]))
        store.encode_snapshot = rogue
        try:
            clock.advance(60)
            bad = vault.seal(track_result(faces[1], track_id=1, clip=[faces[1]]))
        finally:
            store.encode_snapshot = original
    with review_server(tmp_path / "vault", adir / "keystore") as served:
        client = Client(served.url)
        client.begin()
        client.post("/open", {"record": picks(tmp_path / "vault", [good, bad]), "case": "C-3", "reason": "order 3",
                              "opened_by": "me"})
        for i in (0, 1):
            share = share_paths(adir)[i]
            response, _ = client.post("/open/holders", {"passphrase": PHRASES[i].decode()},
                                      files={"share": (share.name, share.read_bytes())})
        assert response.getheader("Location") == client.base + "/opening"
        response, page = client.request("GET", "/opening")
        text = page.decode()
        assert response.status == 200, text[:300]
        camera = picks(tmp_path / "vault", [bad])[0].split("/")[0]
        assert f"/opening/r/{camera}/{good}/crop" in text and f'id="record-{camera}-{bad}"' in text
        assert "metadata" in text and "<script>alert" not in text and "<b>7</b>" not in text
        response, crop = client.request("GET", f"/opening/r/{bad}/crop")  # its pixels are still the sealed ones
        assert response.status == 200 and crop[:4] == b"\x89PNG"
    assert "Traceback" not in served.output
