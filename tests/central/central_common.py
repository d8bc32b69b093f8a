"""Builders shared by the central tests (no tests here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from facesel.central.anchors import anchor_problems
from facesel.central.pg_backend import PostgresVault
from facesel.vault import CameraKey, enrol_camera
from facesel.vault.audit import AuditLog, verify
from facesel.vault.consistency import custody_problems
from facesel.vault.identity import load_identity, vault_owner
from test_vault_common import camera_dir, share_paths

CAMERA_PROCESS = Path(__file__).with_name("camera_process.py")


class Cameras:
    """Cameras enrolled with one authority (a signing key each, registered in its authority.pub),
    as ``facesel camera init`` + ``facesel authority register`` make them; each enrolled once."""

    def __init__(self, authority_dir: Path, keys_dir: Path) -> None:
        self.authority_dir, self.keys_dir = Path(authority_dir), Path(keys_dir)
        self._keys: dict[str, CameraKey] = {}

    @property
    def pub_path(self) -> Path:
        """The authority's current authority.pub (it registers every camera enrolled so far)."""
        return self.authority_dir / "authority.pub"

    def key_dir(self, camera_id: str) -> Path:
        made_with_authority = camera_dir(self.authority_dir, camera_id)  # make_authority's own camera
        return made_with_authority if (made_with_authority / "camera.key").is_file() else self.keys_dir / camera_id

    def __call__(self, camera_id: str) -> CameraKey:
        if camera_id not in self._keys and (self.key_dir(camera_id) / "camera.key").is_file():
            self._keys[camera_id] = CameraKey.load(self.key_dir(camera_id))
        if camera_id not in self._keys:
            self._keys[camera_id] = enrol_camera(self.authority_dir, self.key_dir(camera_id), camera_id,
                                                 share_paths(self.authority_dir)[:2])
        return self._keys[camera_id]

    def register(self, store: PostgresVault, *camera_ids: str) -> None:
        """Register these cameras' public keys with the central store (enrolling them first)."""
        for camera_id in camera_ids:
            store.register_camera(camera_id, self(camera_id).public.public_key)

    def in_new_store(self, dsn: str, pub: Path, camera_id: str = "cam-a") -> None:
        """Make the central store at ``dsn`` for the authority ``pub`` and register ``camera_id`` there
        (the store is closed after: the test's ``facesel sync`` opens its own)."""
        with PostgresVault.create(dsn, pub) as store:
            self.register(store, camera_id)


def orl_paths(shared_data: Path, count: int) -> list[str]:
    return [str(shared_data / "faces" / "orl" / f"s{i}" / "1.pgm") for i in range(1, count + 1)]


def camera(vault_dir: Path, pub_path: Path, camera_key: Path, count: int, sync_every: int, dsn: str,
           faces: list[str], env: dict | None = None) -> subprocess.Popen:
    """Start a camera process (see camera_process.py) signing with the key in folder ``camera_key``;
    its stdout lists the record ids it sealed."""
    return subprocess.Popen([sys.executable, str(CAMERA_PROCESS), str(vault_dir), str(pub_path), str(camera_key),
                             str(count), str(sync_every), dsn, *faces],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def facesel(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "facesel", *args], capture_output=True, text=True, timeout=timeout)


def sealed_ids(process: subprocess.Popen, timeout: float = 300) -> tuple[list[str], str]:
    """(record ids the camera process printed, its stderr) once it has ended."""
    out, err = process.communicate(timeout=timeout)
    return [line for line in out.split() if len(line) == 32], err


def check_delivered(dsn: str, vault_dirs: list[Path], expected: set[str]) -> None:
    """Everything sealed is central exactly once; every local vault is empty and self-consistent."""
    with PostgresVault(dsn) as store:
        assert {r.record_id for r in store.rows()} == expected
        entries = [json.loads(line) for line in store.audit_lines()]
        received = [e["record_id"] for e in entries if e["event"] == "received"]
        assert sorted(received) == sorted(expected), "each record arrives once in the central log"
        assert store.verify_audit().ok
        for vault_dir in vault_dirs:  # every camera's copy of the central entries still matches
            assert anchor_problems(store, vault_dir)[1] == []
    for vault_dir in vault_dirs:
        assert list((vault_dir / "records").glob("*.fsr")) == []
        # Every local entry, the forwarder's included, is signed by the vault's camera.
        assert verify(vault_dir / "audit.log", keys=load_identity(vault_dir).audit_keys()).ok
        signers = {e["signer"] for e in AuditLog(vault_dir / "audit.log").entries()}
        assert signers == {f"camera:{vault_owner(vault_dir)}"}
        assert custody_problems(vault_dir) == []
        forwarded = [e["record_id"] for e in AuditLog(vault_dir / "audit.log").entries()
                     if e.get("event") == "purge" and e.get("reason") == "forwarded"]
        assert len(forwarded) == len(set(forwarded)), "each local deletion is logged once"


def keys_of(store, *record_ids: str) -> list[tuple[str, str]]:
    """``(camera_id, record_id)`` of every row of ``store`` holding one of ``record_ids``: how the
    desk names records (an id alone may be several cameras' since schema 5)."""
    return [(row.camera_id, row.record_id) for row in store.rows() if row.record_id in record_ids]
