"""Where the desk's records come from: a camera's vault folder, or the central store.

Both answer the same three questions for :mod:`facesel.review.app`: what to call the source on the
page, which records match a search (metadata only, every record's signature checked), and how to
open records in memory once K holders rebuilt the master key.
"""

from __future__ import annotations

import threading
from pathlib import Path

from facesel.review.catalog import Filters, SearchResult, filter_rows, search
from facesel.review.memory_open import Opening, open_in_memory
from facesel.vault.identity import load_identity
from facesel.vault.keys import Keystore
from facesel.vault.opening import trusted_authority


class VaultSource:
    """A camera's vault folder."""

    def __init__(self, vault_dir: Path, keystore: Keystore) -> None:
        self.vault_dir = Path(vault_dir)
        if not (self.vault_dir / "vault.json").is_file():
            raise FileNotFoundError(f"no vault at {vault_dir} (vault.json is missing)")
        self.identity = load_identity(self.vault_dir, anchor=trusted_authority(keystore, self.vault_dir))
        self.label = f"Vault {self.identity.vault_id} of camera {self.identity.camera_id}"

    def search(self, filters: Filters) -> SearchResult:
        """The vault's records that match ``filters`` (each one checked before it is listed)."""
        return search(self.vault_dir, self.identity, filters)

    def open(self, keystore: Keystore, master: bytes, shares: list[int], record_ids: list[str], case: str,
             reason: str, opened_by: str) -> Opening:
        """Open ``record_ids`` in memory with the rebuilt ``master`` key; the opening is logged."""
        return open_in_memory(self.vault_dir, keystore, master, shares, record_ids, case, reason, opened_by)

    def close(self) -> None:
        """Nothing to close: each search and opening reads the folder anew."""
        pass


def desk_refusal(row, late: dict, shared: dict) -> str | None:
    """Why the desk lists a genuine central ``row`` as refused, or None: it arrived after its
    camera's key was revoked (``late``, :func:`facesel.central.arrivals.late_arrivals`), or its id
    is held by several cameras (``shared``, :func:`facesel.central.backend.ids_of_several_cameras`;
    the desk names records by id). Both stay openable with ``facesel central open``, knowingly
    (review round 11)."""
    from facesel.central.arrivals import OPEN_FLAG

    key = (row.camera_id, row.record_id)
    if key in late:
        return (f"{late[key]}; the desk does not open it (facesel central open {row.record_id} --camera "
                f"{row.camera_id} {OPEN_FLAG} does, and logs that)")
    if row.record_id in shared:
        return (f"record {row.record_id}: held by cameras {', '.join(shared[row.record_id])} under one id; the desk "
                f"names records by id, so it opens none of them (facesel central open {row.record_id} --camera "
                f"{row.camera_id} does)")
    return None


class CentralSource:
    """The central PostgreSQL store of many cameras."""

    def __init__(self, dsn: str, keystore: Keystore) -> None:
        from facesel.central.pg_backend import PostgresVault

        self.store = PostgresVault(dsn)
        self.lock = threading.Lock()  # one connection, used from the server's worker threads
        if self.store.authority.authority_id != keystore.authority_id:
            location = self.store.location
            self.store.close()
            raise ValueError(f"central store {location} belongs to authority {self.store.authority.authority_id}, "
                             f"the keystore to authority {keystore.authority_id}")
        self.keystore = keystore  # whose signing key vouches for the cameras' keys (search)
        self.label = f"Central store {self.store.location}"

    def search(self, filters: Filters) -> SearchResult:
        """The central store's records that match ``filters``, each checked against its digest and
        signature, and its row against the record's signed header, before it is listed.
        """
        from facesel.central.arrivals import late_arrivals
        from facesel.central.backend import Selection, ids_of_several_cameras
        from facesel.central.verify import authority_for_opening, verify_row
        from facesel.vault.errors import RecordError

        filters.check()
        with self.lock:
            rows = self.store.rows(Selection(start=filters.start, end=filters.end))
            logged = self.store.logged_by_camera(rows)

            # The cameras' keys from the authority's signed file, not the store's table (review 10b, finding 5).
            trusted = authority_for_opening(self.keystore, self.store.authority)

            late, shared = late_arrivals(self.store, rows, trusted), ids_of_several_cameras(rows)

            def check(row):
                verify_row(self.store.read(row.record_id, row.camera_id), row, trusted, logged[row.camera_id])
                refusal = desk_refusal(row, late, shared)
                if refusal:
                    raise RecordError(refusal)

            result = filter_rows(rows, check, filters)
            # Records the log puts in the window whose rows are elsewhere (review 12, finding 3).
            scope = Selection(camera_ids=None if not filters.camera else (filters.camera,), start=filters.start,
                              end=filters.end)
            result.problems += self.store.missing_from(scope)
            return result

    def open(self, keystore: Keystore, master: bytes, shares: list[int], record_ids: list[str], case: str,
             reason: str, opened_by: str) -> Opening:
        """Open ``record_ids`` from the central store in memory with the rebuilt ``master`` key; the
        opening is logged centrally.
        """
        from facesel.review.central_open import open_central

        return open_central(self.store, self.lock, keystore, master, shares, record_ids, case, reason, opened_by)

    def close(self) -> None:
        """Close the connection to the central store."""
        self.store.close()
