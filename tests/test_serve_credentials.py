"""Stream credentials never leave ``facesel serve`` (issue 24, finding 5): a real ``facesel serve``
process, a real RTSP server that goes down, every connection backend; the password must not
appear in /healthz, /metrics, the log (text and JSON) or ``serve --check``, and the reasons
still name the stream (with ``***`` for its credentials)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import rtsp_server
from facesel.ports import unclaimed_port
from process_helpers import running
from test_serve import fetch
from test_sources import wait_for

# A password and a percent-encoded one (FFmpeg may print it decoded: "Pa@ss-W0rd-8831").
SECRET = "S3cr3t-Passw0rd-4417"
ENCODED, DECODED = "Pa%40ss-W0rd-8831", "Pa@ss-W0rd-8831"
TOKEN = "T0ken-9921-xyz"
LEAKS = (SECRET, ENCODED, DECODED, TOKEN)


def make_serve_authority(folder):
    """An authority (3 shares, 2 needed, epochs from now) for serve processes; its authority.pub."""
    from facesel.vault import create_authority

    create_authority(folder, shares=3, threshold=2, epoch_seconds=86400.0, retention_seconds=7 * 86400.0,
                     horizon_seconds=2 * 86400.0, start=time.time())
    return folder / "authority.pub"


@pytest.fixture(scope="module")
def authority(tmp_path_factory):
    return make_serve_authority(tmp_path_factory.mktemp("authority"))


def _key(authority, folder, camera_id):
    from facesel.vault import enrol_camera

    shares = sorted((authority.parent / "shares").iterdir())[:2]
    enrol_camera(authority.parent, folder / camera_id, camera_id, shares)
    return folder / camera_id


def _leaks(text: str) -> list[str]:
    return [secret for secret in LEAKS if secret in text]


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_credentials_do_not_leak_from_a_running_service(shared_data, authority, tmp_path, log_format):
    rtsp_server.require()
    server = rtsp_server.RTSPServer(shared_data / "videos" / "intel_face_demographics_walking.gif").start()
    closed = unclaimed_port()  # nothing listens there
    host = f"127.0.0.1:{server.port}"
    sources = {
        # the case: a camera streaming, then its server goes away
        "door": (f"rtsp://admin:{SECRET}@{host}/cam", "pyav"),
        "door_cv": (f"rtsp://admin:{ENCODED}@{host}/cam", "opencv"),
        # a server that answers, but not for this path
        "nopath": (f"rtsp://admin:{SECRET}@{host}/nothing-here", "pyav"),
        # nobody listening, with each backend
        "closed": (f"rtsp://admin:{ENCODED}@127.0.0.1:{closed}/s1", "pyav"),
        "closed_cv": (f"rtsp://admin:{SECRET}@127.0.0.1:{closed}/s1", "opencv"),
        "mjpeg": (f"http://viewer:{SECRET}@127.0.0.1:{closed}/video.mjpg?token={TOKEN}", "pyav"),
    }
    config = tmp_path / "facesel.toml"
    text = (f'[serve]\nlisten = "127.0.0.1:0"\nlog_format = "{log_format}"\nlog_level = "debug"\n'
            f'shutdown_timeout = 20\n[defaults]\nauthority = "{authority}"\nopen_timeout = 2\nread_timeout = 2\n'
            'stall_timeout = 3\nreconnect_max_delay = 2\n[defaults.pipeline]\nscorer = "laplacian"\n')
    for name, (url, backend) in sources.items():
        text += (f'[cameras.{name}]\nsource = "{url}"\nbackend = "{backend}"\nvault = "{name}"\n'
                 f'camera_key = "{_key(authority, tmp_path / "keys", f"{name}-{log_format}")}"\n')
    config.write_text(text)
    config.chmod(0o600)  # it holds camera passwords: only its owner may read it (others' are refused)
    check = subprocess.run([sys.executable, "-m", "facesel", "serve", "--config", str(config), "--check"],
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0 and not _leaks(check.stdout + check.stderr), check.stdout + check.stderr
    stderr_path = tmp_path / "stderr.txt"
    with open(stderr_path, "w") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "facesel", "serve", "--config", str(config)],
                                   stdout=subprocess.PIPE, stderr=stderr, text=True,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            with running(process):
                assert wait_for(lambda: "metrics and health on" in stderr_path.read_text(), timeout=60)
                log = stderr_path.read_text()
                port = int(log.split("metrics and health on http://127.0.0.1:")[1].split("/")[0])

                def health():
                    return json.loads(fetch(port, "/healthz")[1])["cameras"]

                def state(name):  # the status port answers before the cameras are started (Service.start)
                    return health().get(name, {}).get("state")

                assert wait_for(lambda: state("door") == "running" and state("door_cv") == "running", timeout=90)
                server.stop()  # the stream goes down
                assert wait_for(lambda: all(health().get(name, {}).get("reason") for name in sources), timeout=90), health()
                # a few reconnection attempts more, each logged (counted, not slept for: one per camera)
                attempts = stderr_path.read_text().count("cannot connect")
                assert wait_for(lambda: stderr_path.read_text().count("cannot connect") >= attempts + len(sources),
                                timeout=120)
                healthz, metrics = fetch(port, "/healthz")[1], fetch(port, "/metrics")[1]
                process.send_signal(signal.SIGTERM)
                stdout, _ = process.communicate(timeout=60)
        finally:
            server.stop()
    log = stderr_path.read_text()
    reasons = {name: info.get("reason", "") for name, info in json.loads(healthz)["cameras"].items()}
    assert not _leaks(healthz), reasons
    assert not _leaks(metrics)
    assert not _leaks(stdout)
    assert not _leaks(log), [line for line in log.splitlines() if _leaks(line)][:5]
    # Still useful: the PyAV reasons name the stream, credentials masked.
    assert "rtsp://***@127.0.0.1" in reasons["closed"], reasons
    assert f"rtsp://***@{host}/cam" in log


def test_a_config_error_about_a_stream_does_not_print_its_password(authority, tmp_path):
    config = tmp_path / "facesel.toml"
    config.write_text(f'[defaults]\nauthority = "{authority}"\n[cameras.door]\n'
                      f'source = "rtsp://admin:{SECRET}@10.0.0.5:554/s1?token={TOKEN}"\nloop = true\nvault = "v"\n'
                      f'camera_key = "{_key(authority, tmp_path / "keys", "door-config")}"\n')
    check = subprocess.run([sys.executable, "-m", "facesel", "serve", "--config", str(config), "--check"],
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 1 and "loop applies to video files only" in check.stderr, check.stderr
    assert not _leaks(check.stdout + check.stderr) and "rtsp://***@10.0.0.5:554/s1" in check.stderr


def test_text_from_any_library_is_masked():
    """The rules behind every place above: URL userinfo, secret query values, libpq passwords, and
    a remembered password in any form (FFmpeg may print it percent-decoded, '@' included)."""
    from facesel.redaction import redact_url, remember_url_secrets

    remember_url_secrets(f"rtsp://admin:{ENCODED}@10.0.0.9/s1")
    text = (f"[rtsp @ 0x1] rtsp://admin:{DECODED}@10.0.0.9/s1 failed; user admin password {DECODED}; "
            f"http://u:{SECRET}@h/x.m3u8?a=1&token={TOKEN}; host=db password='{SECRET}' dbname=x")
    masked = redact_url(text)
    assert not _leaks(masked), masked
    assert "rtsp://***@10.0.0.9/s1" in masked and "http://***@h/x.m3u8?a=1&token=***" in masked
    assert "host=db password=*** dbname=x" in masked
    assert redact_url("no URL here: administrator at 10.0.0.9") == "no URL here: administrator at 10.0.0.9"
