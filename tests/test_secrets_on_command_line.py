"""Review round 9, finding 4: secrets on the command line (the central store's password, a camera's).

``--central 'postgresql://cam:PASSWORD@central/evidence'`` was taken as it is by every command
(``sync``, ``central ...``, ``batch``, ``review``), and every account on the machine reads every
process's command line (``ps``, ``/proc/PID/cmdline``): for ``sync --watch``, which runs for ever,
the store's password was on show for as long as the camera forwarded. Now a ``--central`` string
that holds a password (either form) is refused before anything connects, naming the flag and the
ways that keep it out of the process list; the string itself is not quoted. ``$FACESEL_CENTRAL``
(readable by the same user only) takes one as before.

Real CLI processes; the "store" is a listener on loopback that counts connections.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from network_attacker import Listener

SECRET = "Hunter2Sesame"


def _dsn(form: str, port: int, password: bool = True) -> str:
    secret = f":{SECRET}" if password else ""
    if form == "uri":
        return f"postgresql://cam{secret}@127.0.0.1:{port}/evidence"
    return f"host=127.0.0.1 port={port} dbname=evidence user=cam" + (f" password={SECRET}" if password else "")


def _args(command: str, dsn: str | None, tmp_path) -> list[str]:
    central = [] if dsn is None else ["--central", dsn]
    if command == "central-list":
        return ["central", "list", *central]
    if command == "sync-watch":
        return ["sync", "--watch", "5", "--vault", str(tmp_path / "vault"), "--camera", str(tmp_path / "key"), *central]
    return ["review", *central, "--keystore", str(tmp_path / "keystore")]


def _run(args: list[str], env_dsn: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "FACESEL_CENTRAL"))}
    if env_dsn is not None:
        env["FACESEL_CENTRAL"] = env_dsn
    process = subprocess.Popen([sys.executable, "-m", "facesel", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env)
    try:
        out, err = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:  # before: sync --watch ran on, its password in the process list
        process.kill()
        process.communicate()
        pytest.fail(f"{args[:2]} was still running after 120 s with the password in its command line")
    return subprocess.CompletedProcess(args, process.returncode, out, err)


@pytest.mark.parametrize("form", ["keyvalue", "uri"])
@pytest.mark.parametrize("command", ["central-list", "sync-watch", "review"])
def test_a_password_on_the_command_line_is_refused_before_anything_connects(tmp_path, form, command):
    store = Listener("127.0.0.1", lambda conn: conn.recv(4096))
    try:
        done = _run(_args(command, _dsn(form, store.port), tmp_path))
    finally:
        store.close()
    assert done.returncode == 1, (done.returncode, done.stderr)
    assert "--central holds a password" in done.stderr and "$FACESEL_CENTRAL" in done.stderr, done.stderr
    assert SECRET not in done.stdout + done.stderr
    assert store.connections == 0, "the command went on with the password in its command line"


@pytest.mark.parametrize("form", ["keyvalue", "uri"])
def test_without_a_password_or_from_the_environment_the_store_is_asked_as_before(tmp_path, form):
    for args, env_dsn in ((_args("central-list", _dsn(form, 0, password=False), tmp_path), None),
                          (_args("central-list", None, tmp_path), _dsn(form, 0))):
        store = Listener("127.0.0.1", lambda conn: conn.recv(4096))
        try:
            port = str(store.port)
            done = _run([a.replace(":0/", f":{port}/").replace("port=0", f"port={port}") for a in args],
                        env_dsn and env_dsn.replace(":0/", f":{port}/").replace("port=0", f"port={port}"))
        finally:
            store.close()
        assert store.connections >= 1, (args, done.stderr)  # it went on to the store, which hung up
        assert done.returncode == 1 and "holds a password" not in done.stderr, done.stderr
        assert SECRET not in done.stdout + done.stderr


@pytest.mark.parametrize("url", ["rtsp://admin:{secret}@127.0.0.1:{port}/stream",
                                 "http://127.0.0.1:{port}/video.mjpg?token={secret}"])
def test_a_camera_url_with_a_password_is_refused_on_the_command_line(url, tmp_path):
    """The same class for ``facesel run URL``: a live run goes on for hours, the camera's password in
    the process list all along. A camera with credentials belongs in an owner-only config file
    (``--config``, as for ``facesel serve``); a URL without any still opens."""
    camera = Listener("127.0.0.1", lambda conn: conn.recv(4096))
    try:
        done = _run(["run", url.format(secret=SECRET, port=camera.port), "--dry-run"])
        assert done.returncode == 1, (done.returncode, done.stderr)
        assert "holds a password or token" in done.stderr and "--config" in done.stderr, done.stderr
        assert SECRET not in done.stdout + done.stderr
        assert camera.connections == 0, "the run went on with the camera's password in its command line"
        plain = url.replace("admin:{secret}@", "").replace("?token={secret}", "")
        _run(["run", plain.format(port=camera.port), "--dry-run"])
        assert camera.connections >= 1  # without a secret the camera is asked (this one hangs up)
    finally:
        camera.close()
