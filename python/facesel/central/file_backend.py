"""A camera's vault folder as a :class:`VaultBackend`, through the file vault's own objects.

The folder's identity (``vault.json``, signed by its camera, whose key the authority registered)
is verified first with :func:`facesel.vault.identity.load_identity`; the one camera it accepts
records from is that camera, under that registered key. Reads go through
:class:`facesel.vault.index.Index`, :func:`facesel.vault.store.record_path` and
:class:`facesel.vault.audit.AuditLog`; purging opens a :class:`facesel.vault.Vault` (which holds
the folder's write lock while it works), and so needs the camera's own key, as does anything
this backend appends to the camera's log.
"""

from __future__ import annotations

import os
from pathlib import Path

from facesel.central.backend import Camera, Selection, VaultBackend
from facesel.vault.audit import AuditLog, VerifyResult, verify
from facesel.vault.errors import RecordError
from facesel.vault.identity import load_identity, read_record_file
from facesel.vault.index import IndexRow
from facesel.vault.keys import AuthorityPublic
from facesel.vault.opening import logged_records, open_index, rows_in_window
from facesel.vault.signing import CameraKey, Signer, load_camera
from facesel.vault.store import Vault, record_path

# The audit event of the file vault that carries the digest of a record as it was stored.
SEAL_EVENTS = ("seal",)


class FileVaultBackend(VaultBackend):
    """An existing vault folder (never creates one).

    Parameters
    ----------
    vault_dir : path-like
    camera : CameraKey or path of ``camera.key``, optional
        The vault's own camera key: needed to purge and to append to the log as the camera
        (``facesel sync`` on the camera). Readers (the authority) leave it out.
    authority : AuthorityPublic, optional
        A trusted ``authority.pub``; without it the vault's own copy is what the checks rest on.
    """

    def __init__(self, vault_dir: str | os.PathLike, camera: CameraKey | str | os.PathLike | None = None,
                 authority: AuthorityPublic | None = None) -> None:
        self.path = Path(vault_dir)
        self.location = str(self.path)
        if not (self.path / "authority.pub").is_file():
            raise FileNotFoundError(f"no vault at {self.path} (authority.pub missing)")
        self.identity = load_identity(self.path, anchor=authority)
        self.camera_key = None if camera is None else load_camera(camera)
        if self.camera_key is not None and (self.camera_key.camera_id != self.identity.camera_id
                                            or self.camera_key.public.public_key != self.identity.camera_key):
            raise ValueError(f"camera key of {self.camera_key.camera_id!r} is not the key of {self.path}, which "
                             f"belongs to camera {self.identity.camera_id!r}")
        self.index = open_index(self.path)
        self.log = AuditLog(self.path / "audit.log", signer=None if self.camera_key is None else self.camera_key.signer)

    @property
    def authority(self) -> AuthorityPublic:
        return self.identity.authority

    def rows(self, selection: Selection = Selection()) -> list[IndexRow]:
        rows = self.index.rows(record_ids=None if selection.record_ids is None else list(selection.record_ids))
        if selection.start is not None or selection.end is not None:
            # By the signed log's seal time too: a row moved out of the window is chosen, and refused
            # by the opening's row check, never left out unseen (review round 12b, finding 1).
            rows = rows_in_window(rows, logged_records(self.path, self.identity), selection.start, selection.end)
        if selection.camera_ids is not None:
            # Every record of a vault folder is its camera's: a row naming another camera is an edited
            # one, chosen with the folder's camera so that the opening refuses it (review 12b, finding 1).
            rows = [r for r in rows if r.camera_id in selection.camera_ids
                    or self.identity.camera_id in selection.camera_ids]
        return rows

    def read(self, record_id: str, camera_id: str | None = None) -> bytes:
        if camera_id is not None and camera_id != self.identity.camera_id:
            raise RecordError(f"record {record_id}: {self.path} holds camera {self.identity.camera_id!r}'s records, "
                              f"not {camera_id!r}'s")
        path = record_path(self.path, record_id)
        if record_id not in self.logged_digests([record_id]):
            # A file (and row) put back for a purged record, or planted: the signed log decides.
            raise RecordError(f"record {record_id}: the vault's signed log does not hold it (never sealed, or "
                              "removed since); a file under its name is not read")
        try:
            return read_record_file(path)  # regular files only, never waits on a FIFO, size checked first
        except FileNotFoundError:
            raise RecordError(f"record {record_id}: file {path} is missing") from None
        except RecordError as err:
            raise RecordError(f"record {record_id}: {err}") from None

    def logged_digests(self, record_ids: list[str], camera_id: str | None = None) -> dict[str, str]:
        if camera_id is not None and camera_id != self.identity.camera_id:
            return {}  # a vault folder holds one camera's records
        # From the log verified in this read (signatures, chain, head), seals minus removals:
        # an unsigned line appended to the file, or a seal logged as purged since, counts for
        # nothing (review 4, finding 1). AuditError when the log does not verify.
        wanted = set(record_ids)
        return {rid: seal.sha256 for rid, seal in logged_records(self.path, self.identity).items() if rid in wanted}

    def camera(self, camera_id: str) -> Camera | None:
        # A vault folder belongs to one camera: records naming any other are not its records.
        if camera_id != self.identity.camera_id:
            return None
        return Camera(camera_id, self.identity.camera_key)

    def append_audit(self, event: str, signer: Signer | None = None, **fields) -> dict:
        if signer is None:
            return self.log.append(event, **fields)
        return AuditLog(self.log.path, signer=signer).append(event, **fields)

    def witness(self, entry: dict) -> dict:
        # The fields a vault-folder opening writes to the authority's log ('facesel audit verify
        # --vault DIR --authority AUTHDIR' checks them).
        return {"vault_id": self.identity.vault_id, "camera_id": self.identity.camera_id, "vault_seq": entry["seq"],
                "vault_entry": entry["hash"]}

    def verify_audit(self, expect: tuple[int, str] | None = None, authority: AuthorityPublic | None = None) \
            -> VerifyResult:
        keys = self.identity.audit_keys()
        if authority is not None:
            keys = {**keys, f"authority:{authority.authority_id}": authority.signing_key}
        return verify(self.log.path, expect, keys=keys)

    def purge(self, now: float, allow_future: bool = False) -> int:
        if self.camera_key is None:
            raise ValueError(f"purging {self.path} needs its camera key (camera=...): the camera purges itself")
        # The vault's own purge, under the folder's write lock, its log entries dated by the real clock.
        with Vault(self.path, self.path / "authority.pub", camera=self.camera_key, purge_at_start=False) as vault:
            return vault.purge(now, allow_future=allow_future)

    def close(self) -> None:
        self.index.close()
