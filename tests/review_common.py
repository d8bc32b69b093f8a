"""Shared builders for the review tests (no tests here): a vault of the demo clip, 2-of-3
passphrase-protected shares, and a running ``facesel review`` server."""

from __future__ import annotations

import contextlib
import os
import re
import resource
import subprocess
import sys
from pathlib import Path

import facesel
from facesel.cli import main
from facesel.demo_data import demo_clip
from facesel.vault.keys import AuthorityPublic

HERE = Path(__file__).resolve().parent
# Child processes import the same facesel as the tests (the installed package under CI, a
# source tree with its built extension in development), never the bare source tree.
FACESEL_HOME = Path(facesel.__file__).resolve().parents[1]


def demo_vault(root: Path) -> dict:
    """Authority (3 holders, 2 needed, passphrases), camera, and a vault sealed from the shipped demo
    clip with a clip of +-4 frames per record. Returns paths: auth, keystore, vault, shares, passphrases."""
    root.mkdir(parents=True, exist_ok=True)
    auth, cam, pp, vault = root / "auth", root / "cam", root / "pp", root / "vault"
    steps = [["authority", "init", "--out", auth, "--shares", "3", "--threshold", "2", "--generate-passphrases", pp,
              "--kdf-level", "min", "--insecure-kdf-for-tests"]]
    for argv in steps:
        assert main([str(a) for a in argv]) == 0
    fingerprint = AuthorityPublic.load(auth / "authority.pub").fingerprint
    shares = [auth / "shares" / f"share-{i}-of-3.json" for i in (1, 2, 3)]
    passphrases = [(pp / f"holder-{i}.txt").read_text().strip() for i in (1, 2, 3)]
    for argv in (["camera", "init", "--out", cam, "--camera-id", "demo-cam-1", "--authority-fingerprint", fingerprint],
                 ["authority", "register", "--dir", auth, "--camera", cam / "camera.pub",
                  "--share", shares[0], "--passphrase-file", pp / "holder-1.txt",
                  "--share", shares[1], "--passphrase-file", pp / "holder-2.txt"],
                 ["run", demo_clip(), "--vault", vault, "--authority", auth / "authority.pub", "--camera", cam,
                  "--camera-id", "demo-cam-1", "--clip-window", "4", "--max-frames", "60", "--no-progress"]):
        assert main([str(a) for a in argv]) == 0
    return {"auth": auth, "keystore": auth / "keystore", "vault": vault, "shares": shares, "passphrases": passphrases,
            "fingerprint": fingerprint}


class Served:
    """A running ``facesel review``: its start URL; ``output`` holds stdout and stderr once it stopped."""

    def __init__(self, process: subprocess.Popen, url: str) -> None:
        self.process, self.url, self.output = process, url, ""


@contextlib.contextmanager
def review_server(vault: Path | None, keystore: Path, *extra: str, tz: str | None = None, central: str | None = None,
                  fd_limit: int | None = None, core_dir: Path | None = None):
    """A real ``facesel review`` process on a free loopback port for ``vault`` (or the ``central``
    store's DSN), in time zone ``tz`` when given, with at most ``fd_limit`` open files (soft and
    hard) when given, started in ``core_dir`` with core dumps allowed (as a service manager may
    start it) when given; yields a :class:`Served`."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(FACESEL_HOME), os.environ.get("PYTHONPATH", "")])}
    if tz:
        env["TZ"] = tz
    where = ["--central", central] if central else ["--vault", str(vault)]

    def limit():
        if fd_limit is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (fd_limit, fd_limit))
        if core_dir is not None:
            hard = resource.getrlimit(resource.RLIMIT_CORE)[1]
            resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))

    process = subprocess.Popen([sys.executable, "-m", "facesel", "review", *where, "--keystore", str(keystore),
                                *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                               preexec_fn=limit if fd_limit is not None or core_dir is not None else None,
                               cwd=core_dir)
    served = None
    try:
        line = process.stdout.readline()
        match = re.search(r"(http://\S+/start\?token=\S+)", line)
        if match is None:
            process.kill()
            raise RuntimeError(f"facesel review did not start: {line!r} {process.stderr.read()!r}")
        served = Served(process, match.group(1))
        yield served
    finally:
        if process.poll() is None:
            process.terminate()  # uvicorn stops gracefully: the lifespan ends (and logs) an open session
        try:
            out, err = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate(timeout=10)
        if served is not None:
            served.output = out + err


def picks(vault: Path, ids: list[str]) -> list[str]:
    """The find form's values for records ``ids`` of ``vault``: ``CAMERA/RECORD_ID`` each (the desk
    names records by camera and id since session 21)."""
    from facesel.vault.opening import open_index

    index = open_index(vault)
    try:
        cameras = {row.record_id: row.camera_id for row in index.rows()}
    finally:
        index.close()
    return [f"{cameras[rid]}/{rid}" for rid in ids]
