"""The evidence vault: sealed snapshots, retention with crypto-shredding, k-of-n opening, audit log.

Camera side: :class:`Vault` (``seal``, ``maybe_purge``, ``purge``, ``close``) holds public keys and
the camera's own signing key (:class:`CameraKey`, ``facesel camera init``) only.
Authority side: :func:`create_authority`, :func:`register_camera` / :func:`enrol_camera`,
:func:`reconstruct_master`, :func:`open_records`, :func:`shred_expired`.
See ``facesel camera|authority|open|list|purge|audit --help`` and the README's threat model.
"""

from facesel.vault.audit import AuditLog
from facesel.vault.audit import verify as verify_audit
from facesel.vault.authority import create_authority, enrol_camera, extend_authority, register_camera
from facesel.vault.errors import (
                                  AuditError,
                                  EpochUnavailableError,
                                  KeyMaterialError,
                                  RecordError,
                                  VaultLockedError,
                                  VaultWriteError,
)
from facesel.vault.keys import AuthorityPublic, Keystore
from facesel.vault.opening import open_records
from facesel.vault.retention import shred_expired
from facesel.vault.shares import ShareFile, reconstruct_master
from facesel.vault.signing import CameraKey, CameraPublic
from facesel.vault.store import Vault

__all__ = [
                                  "AuditError",
                                  "AuditLog",
                                  "AuthorityPublic",
                                  "CameraKey",
                                  "CameraPublic",
                                  "EpochUnavailableError",
                                  "KeyMaterialError",
                                  "Keystore",
                                  "RecordError",
                                  "ShareFile",
                                  "Vault",
                                  "VaultLockedError",
                                  "VaultWriteError",
                                  "create_authority",
                                  "enrol_camera",
                                  "extend_authority",
                                  "open_records",
                                  "reconstruct_master",
                                  "register_camera",
                                  "shred_expired",
                                  "verify_audit",
]
