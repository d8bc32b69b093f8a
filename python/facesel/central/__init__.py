"""Many cameras, one evidence store: a central vault in PostgreSQL, fed by store-and-forward.

Data flow::

    camera: Selector -> facesel.vault.Vault (local folder, sealed at once)
                      -> facesel sync (sync.sync_vault) -> PostgresVault.receive (one transaction)
    archive: facesel batch (batch.py) -> one pipeline per video (pool or Ray) -> per-task vault -> sync
    authority: facesel central list|open|purge|audit -> any VaultBackend (file folder or PostgreSQL)

:mod:`backend` is the interface, :mod:`file_backend` and :mod:`pg_backend` its two
implementations, :mod:`verify` the one record check, :mod:`opening` opening across cameras.
"""

from facesel.central.backend import Camera, Selection, VaultBackend
from facesel.central.verify import verify_record

__all__ = ["Camera", "Selection", "VaultBackend", "verify_record"]
