"""Shared builders for the vault tests (no tests here): real ORL faces, authorities, fake clocks."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import cv2
import numpy as np
from facesel.types import Snapshot, TrackResult
from facesel.vault import Vault
from facesel.vault.authority import create_authority, register_camera
from facesel.vault.keys import AuthorityPublic, Keystore
from facesel.vault.shares import reconstruct_master
from facesel.vault.signing import CameraKey

# A fixed "now" for fake clocks, in the past (2025-10-09): audit logs refuse entries dated in the
# future, and entries written later with the real clock (openings) must come after it.
T0 = 1_760_000_000.0
DAY = 86400.0


def orl_faces(shared_data: Path, count: int, size: tuple[int, int] | None = None) -> list[np.ndarray]:
    """``count`` real ORL faces (one per identity) as (h, w, 3) uint8 BGR, optionally resized (w, h)."""
    faces = []
    for i in range(1, count + 1):
        image = cv2.imread(str(shared_data / "faces" / "orl" / f"s{i}" / "1.pgm"), cv2.IMREAD_COLOR)
        if image is None:
            raise FileNotFoundError(f"ORL face s{i}/1.pgm not readable under {shared_data}")
        faces.append(cv2.resize(image, size, interpolation=cv2.INTER_AREA) if size else image)
    return faces


def track_result(crop: np.ndarray, track_id: int = 0, clip: list[np.ndarray] | None = None,
                 quality: float = 0.75) -> TrackResult:
    """A TrackResult around a real face crop, as the Selector would report it."""
    h, w = crop.shape[:2]
    clip = list(clip or [])
    best = Snapshot(crop=crop, box=np.array([10, 20, 10 + w, 20 + h], np.float32),
                    landmarks=np.array([[30, 40], [60, 40], [45, 60], [35, 80], [55, 80]], np.float32),
                    quality=quality, frame_index=7, timestamp=0.28, track_id=track_id, clip=clip,
                    clip_frame_indices=list(range(6, 6 + len(clip))))
    return TrackResult(track_id=track_id, first_frame=3, last_frame=12, first_timestamp=0.12, last_timestamp=0.48,
                       best=best, qualities=np.linspace(0.1, 0.75, 10), frame_indices=np.arange(3, 13))


def make_authority(directory: Path, shares: int = 3, threshold: int = 2, start: float = T0 - 2 * DAY,
                   epoch: float = DAY, retention: float = 30 * DAY, horizon: float = 10 * DAY, passphrases=None,
                   camera_id: str = "cam-1"):
    """An authority folder under ``directory`` with one registered camera (see :func:`camera_dir`);
    returns (AuthorityPublic, authority folder)."""
    create_authority(directory, shares, threshold, epoch, retention, horizon, start, passphrases, kdf_level="min",
                     insecure_kdf=True)
    pub = add_camera(Path(directory), camera_id, passphrases)
    return pub, Path(directory)


def make_live_authority(directory: Path, camera_id: str = "cam-1"):
    """:func:`make_authority` with keys that cover the present (from two days ago, for ten days),
    where :func:`make_authority`'s cover October 2025 (its T0): a ``facesel serve`` camera is
    refused under an authority whose keys ended (ux27). Returns (AuthorityPublic, authority folder)."""
    import time

    return make_authority(directory, start=time.time() - 2 * DAY, camera_id=camera_id)


def camera_dir(authority_dir: Path, camera_id: str = "cam-1") -> Path:
    """Where :func:`make_authority` put the key of camera ``camera_id`` (beside the authority folder)."""
    return Path(authority_dir).parent / f"{Path(authority_dir).name}-{camera_id}"


def master_of(authority_dir: Path, passphrases=None) -> bytes:
    keystore = Keystore(Path(authority_dir) / "keystore")
    paths = share_paths(authority_dir)[: int(keystore.meta["threshold"])]
    lookup = None if passphrases is None else (lambda f: passphrases[f.index - 1])
    return reconstruct_master(paths, keystore, lookup)[0]


def add_camera(authority_dir: Path, camera_id: str, passphrases=None):
    """Make a camera key pinned to the authority and register it; returns the new AuthorityPublic."""
    pub = AuthorityPublic.load(Path(authority_dir) / "authority.pub")
    camera = CameraKey.create(camera_dir(authority_dir, camera_id), camera_id, pub.fingerprint)
    return register_camera(authority_dir, master_of(authority_dir, passphrases), camera.public)


def vault_at(path: Path, authority_dir: Path, camera_id: str = "cam-1", **kwargs):
    """A Vault of camera ``camera_id`` sealing to the authority in ``authority_dir``.

    A test that moves a :class:`FakeClock` by hand means that much time passed: the same clock is
    the vault's ``elapsed`` unless the test gives one (the vault bounds housekeeping purges by the
    elapsed time, so a clock stepped forward alone expires nothing: review 5, finding 1)."""
    if isinstance(kwargs.get("clock"), FakeClock):
        kwargs.setdefault("elapsed", kwargs["clock"])
    return Vault(path, Path(authority_dir) / "authority.pub", camera=camera_dir(authority_dir, camera_id), **kwargs)


def share_paths(authority_dir: Path) -> list[Path]:
    return sorted((authority_dir / "shares").glob("share-*.json"), key=lambda p: int(p.name.split("-")[1]))


class FakeClock:
    """A settable clock: ``clock()`` returns ``clock.now``."""

    def __init__(self, now: float = T0) -> None:
        self.now = float(now)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def tree_digest(root: Path) -> dict[str, object]:
    """Relative path -> SHA-256 of every file under ``root``, plus the index rows (to prove nothing
    changed). SQLite's own files are compared by content, since a reader may checkpoint the WAL."""
    root = Path(root)
    digest: dict[str, object] = {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file() and not p.name.startswith("index.sqlite")}
    db = root / "index.sqlite"
    if db.exists():
        con = sqlite3.connect(db)
        try:
            digest["<index rows>"] = con.execute("SELECT * FROM records ORDER BY record_id").fetchall()
        finally:
            con.close()
    return digest


def sealed_vault(root: Path, faces: list[np.ndarray], camera_id: str = "cam-1", authority_dir: Path | None = None):
    """A vault under ``root`` holding one record per face, sealed an hour apart from T0.

    Returns (authority folder, vault folder, record ids); makes the authority unless given one.
    """
    root = Path(root)
    adir = authority_dir or make_authority(root / "auth", camera_id=camera_id)[1]
    clock = FakeClock(T0)
    ids = []
    with vault_at(root / f"v-{camera_id}", adir, camera_id=camera_id, clock=clock) as vault:
        for i, face in enumerate(faces):
            clock.advance(3600)
            ids.append(vault.seal(track_result(face, track_id=i)))
    return adir, root / f"v-{camera_id}", ids


def open_all(vault_dir: Path, authority_dir: Path, out: Path, **kwargs):
    """Open every record with the first K (unprotected) shares."""
    from facesel.vault import open_records

    keystore = Keystore(Path(authority_dir) / "keystore")
    return open_records(vault_dir, share_paths(authority_dir)[: int(keystore.meta["threshold"])], keystore.path,
                        "test", out, all_records=True, **kwargs)


def run_cli(capsys, *argv):
    """``facesel ARGV`` in this process: (exit code, stdout, stderr)."""
    from facesel.cli import main

    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def plant_sparse(path: Path, size: int) -> None:
    """Put a sparse file of ``size`` bytes (zeros, no disk used) at ``path``, in place of what is there:
    what a writer of the vault folder can plant under a record's name at no cost (review round 15b)."""
    path.unlink(missing_ok=True)
    with open(path, "wb") as file:
        file.truncate(size)


def count_reads(monkeypatch) -> list[int]:
    """Make every ``os.read`` count: the returned list gets the length of each one's bytes from now
    on (its sum is what was read; bytes counted, never time). ``monkeypatch`` puts ``os.read`` back."""
    import os

    counted, real = [], os.read

    def counting(fd, n):
        data = real(fd, n)
        counted.append(len(data))
        return data

    monkeypatch.setattr(os, "read", counting)
    return counted


def run_cli_exit(capsys, *argv):
    """:func:`run_cli`, a usage error included: argparse's ``SystemExit`` is taken as the exit code."""
    try:
        return run_cli(capsys, *argv)
    except SystemExit as stop:
        out, err = capsys.readouterr()
        return stop.code, out, err
