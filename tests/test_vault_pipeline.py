"""`facesel run VIDEO --vault V --authority A.pub`, then `facesel open` with K shares: exactly the
snapshots chosen come back, and no plaintext face ever reached the disk."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
from test_vault_common import share_paths

PNG, JPEG = b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"
VIDEO = "videos/intel_face_demographics_walking.gif"
# The Laplacian scorer keeps this test independent of the trained model; the vault is the subject.
RUN_FLAGS = ["--scorer", "laplacian", "--clip-window", "2", "--no-progress"]


def _facesel(*args, env=None, log=None):
    cmd = [sys.executable, "-m", "facesel", *map(str, args)]
    done = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
    if log is not None:
        log.write_bytes(done.stdout)
    assert done.returncode == 0, done.stdout.decode(errors="replace")
    return done.stdout.decode(errors="replace")


def _windows(images: list[np.ndarray], size: int = 24, stride: int = 5) -> set[bytes]:
    """Byte windows of the images' raw pixels, keeping only varied ones (a run of one grey level
    could occur in any file by chance)."""
    out = set()
    for image in images:
        raw = np.ascontiguousarray(image).tobytes()
        for i in range(0, len(raw) - size, stride):
            window = raw[i:i + size]
            if len(set(window)) >= 8:
                out.add(window)
    return out


def _files(*roots):
    for root in roots:
        if root.is_file():
            yield root
        else:
            yield from (p for p in root.rglob("*") if p.is_file())


@pytest.mark.slow
def test_full_run_into_vault_then_open_gives_back_exactly_the_chosen_snapshots(tmp_path, shared_data):
    work = tmp_path / "work"
    temp = tmp_path / "tmp"  # the run's own temporary folder, scanned afterwards
    temp.mkdir()
    work.mkdir()
    env = dict(os.environ, TMPDIR=str(temp), FACESEL_KDF_LEVEL="min", FACESEL_DATA=str(shared_data))
    video = shared_data / VIDEO
    _facesel("authority", "init", "--out", work / "auth", "--shares", 5, "--threshold", 3, "--horizon", "2d",
             "--no-passphrase", env=env)
    shares = share_paths(work / "auth")
    _facesel("camera", "init", "--out", work / "cam", "--camera-id", "lobby-1", "--authority",
             work / "auth" / "authority.pub", env=env)
    _facesel("authority", "register", "--dir", work / "auth", "--camera", work / "cam" / "camera.pub",
             *[a for i in (0, 1, 2) for a in ("--share", shares[i])], env=env)
    vault, log = work / "vault", work / "run.log"
    output = _facesel("run", video, "--vault", vault, "--authority", work / "auth" / "authority.pub",
                      "--camera", work / "cam", "--camera-id", "lobby-1", *RUN_FLAGS, env=env, log=log)
    assert "sealed" in output

    # Open everything with K = 3 of the 5 shares (holders 2, 4, 5).
    opened = work / "opened"
    args = ["open", "--vault", vault, "--reason", "pipeline test", "--all", "--out", opened]
    for i in (1, 3, 4):
        args += ["--share", shares[i]]
    _facesel(*args, env=env)
    assert "records and log agree" in _facesel("audit", "verify", "--vault", vault, "--authority", work / "auth",
                                                env=env)

    # The same run in the clear (a testing flag) is the reference: identical settings, same video.
    reference = tmp_path / "reference"
    _facesel("run", video, "--plaintext-out", reference, *RUN_FLAGS, env=env)
    expected = {}
    for line in (reference / "tracks.jsonl").read_text().splitlines():
        track = json.loads(line)
        expected[track["track_id"]] = (cv2.imread(str(reference / track["snapshot"]), cv2.IMREAD_UNCHANGED),
                                       [cv2.imread(str(reference / c), cv2.IMREAD_UNCHANGED) for c in track["clip"]])
    assert expected, "the run chose no snapshot: nothing to compare"

    got = {}
    for folder in sorted(p for p in opened.iterdir() if p.is_dir()):
        meta = json.loads((folder / "meta.json").read_text())
        clip = [cv2.imread(str(p), cv2.IMREAD_UNCHANGED) for p in sorted((folder / "clip").glob("*.png"))] \
            if (folder / "clip").is_dir() else []
        got[meta["snapshot"]["track"]["track_id"]] = (cv2.imread(str(folder / "crop.png"), cv2.IMREAD_UNCHANGED), clip)
    assert sorted(got) == sorted(expected)
    for track_id, (crop, clip) in expected.items():
        assert np.array_equal(got[track_id][0], crop)
        assert len(got[track_id][1]) == len(clip) and all(np.array_equal(a, b) for a, b in zip(got[track_id][1], clip))

    # Nothing under the vault, the run's temporary folder or its log holds an image signature or
    # any 24-byte run of the chosen crops' (or clips') raw pixels.
    images = [c for crop, clip in expected.values() for c in [crop, *clip]]
    windows = _windows(images)
    assert len(windows) > 1000
    # Positive controls: the scan does find plaintext when it is there.
    assert PNG in (reference / "tracks.jsonl").with_name(json.loads(
        (reference / "tracks.jsonl").read_text().splitlines()[0])["snapshot"]).read_bytes()
    raw = images[0].tobytes()
    assert sum(w in raw for w in windows) > 50
    scanned = 0
    for path in _files(vault, temp, log):
        data = path.read_bytes()
        scanned += 1
        assert PNG not in data and JPEG not in data, f"image signature in {path}"
        hits = [w for w in windows if w in data]
        assert not hits, f"{len(hits)} runs of raw crop pixels in {path}"
    assert scanned >= 4  # records, index, audit log, log at least
