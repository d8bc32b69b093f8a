"""A camera's vault folder as a :class:`VaultBackend`, through the file vault's own objects.

Reads go through :class:`facesel.vault.index.Index`, :func:`facesel.vault.store.record_path` and
:class:`facesel.vault.audit.AuditLog`; purging opens a :class:`facesel.vault.Vault` (which holds
the folder's write lock while it works). A file vault has no camera registry: it accepts every
camera id, as it always has.
"""

from __future__ import annotations

import os
from pathlib import Path

from facesel.central.backend import Camera, Selection, VaultBackend
from facesel.vault.audit import AuditLog, VerifyResult, verify
from facesel.vault.errors import RecordError
from facesel.vault.index import IndexRow
from facesel.vault.keys import AuthorityPublic
from facesel.vault.opening import open_index
from facesel.vault.store import Vault, record_path

# Audit events of the file vault that carry the digest of a record as it was stored.
SEAL_EVENTS = ("seal", "recovered-record")


class FileVaultBackend(VaultBackend):
    """An existing vault folder (never creates one)."""

    def __init__(self, vault_dir: str | os.PathLike) -> None:
        self.path = Path(vault_dir)
        self.location = str(self.path)
        if not (self.path / "authority.pub").is_file():
            raise FileNotFoundError(f"no vault at {self.path} (authority.pub missing)")
        self._authority = AuthorityPublic.load(self.path / "authority.pub")
        self.index = open_index(self.path)
        self.log = AuditLog(self.path / "audit.log")

    @property
    def authority(self) -> AuthorityPublic:
        return self._authority

    def rows(self, selection: Selection = Selection()) -> list[IndexRow]:
        rows = self.index.rows(record_ids=None if selection.record_ids is None else list(selection.record_ids),
                               start=selection.start, end=selection.end)
        if selection.camera_ids is not None:
            rows = [r for r in rows if r.camera_id in selection.camera_ids]
        return rows

    def read(self, record_id: str) -> bytes:
        path = record_path(self.path, record_id)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise RecordError(f"record {record_id}: file {path} is missing") from None

    def logged_digests(self, record_ids: list[str]) -> dict[str, str]:
        wanted = set(record_ids)
        return {e["record_id"]: e["sha256"] for e in self.log.entries()
                if e.get("event") in SEAL_EVENTS and e.get("record_id") in wanted and "sha256" in e}

    def camera(self, camera_id: str) -> Camera | None:
        return Camera(camera_id)

    def append_audit(self, event: str, **fields) -> dict:
        return self.log.append(event, **fields)

    def verify_audit(self, expect: tuple[int, str] | None = None) -> VerifyResult:
        return verify(self.log.path, expect)

    def purge(self, now: float) -> int:
        before = len(self.index.ids())
        # Opening a Vault recovers and purges at its clock's time, under the folder's write lock.
        with Vault(self.path, self.path / "authority.pub", clock=lambda: now) as vault:
            vault.purge()
            after = len(vault.rows())
        return before - after

    def close(self) -> None:
        self.index.close()
