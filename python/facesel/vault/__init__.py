"""The evidence vault: sealed snapshots, retention with crypto-shredding, k-of-n opening, audit log.

Camera side: :class:`Vault` (``seal``, ``purge``, ``close``) holds public keys only.
Authority side: :func:`create_authority`, :func:`reconstruct_master`, :func:`open_records`,
:func:`shred_expired`. See ``facesel authority|open|list|purge|audit --help``.
"""

from facesel.vault.audit import AuditLog
from facesel.vault.audit import verify as verify_audit
from facesel.vault.authority import create_authority, extend_authority
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
from facesel.vault.store import Vault

__all__ = [
                                  "AuditError",
                                  "AuditLog",
                                  "AuthorityPublic",
                                  "EpochUnavailableError",
                                  "KeyMaterialError",
                                  "Keystore",
                                  "RecordError",
                                  "ShareFile",
                                  "Vault",
                                  "VaultLockedError",
                                  "VaultWriteError",
                                  "create_authority",
                                  "extend_authority",
                                  "open_records",
                                  "reconstruct_master",
                                  "shred_expired",
                                  "verify_audit",
]
