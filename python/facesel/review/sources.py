"""Where the desk's records come from: a camera's vault folder, or the central store.

Both answer the same three questions for :mod:`facesel.review.app`: what to call the source on the
page, which records match a search (metadata only, every record's signature checked), and how to
open records in memory once K holders rebuilt the master key.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from facesel.review.catalog import Filters, SearchResult, filter_rows, search
from facesel.review.memory_open import Opening, open_in_memory
from facesel.vault.identity import load_identity
from facesel.vault.keys import Keystore
from facesel.vault.errors import RecordError
from facesel.vault.opening import trusted_authority

_log = logging.getLogger("facesel.review")


class StoreError(RuntimeError):
    """The records' store could not answer a question (a database error, its connection lost);
    the message names the store and the error, never the connection string's secrets."""


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

    def late_arrivals(self, records: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """None of a vault's records is flagged: a vault folder keeps no arrival time."""
        return {}

    def open(self, keystore: Keystore, master: bytes, shares: list[int], records: list[tuple[str, str]], case: str,
             reason: str, opened_by: str, acknowledged: str | None = None) -> Opening:
        """Open ``records`` (``(camera_id, record_id)``) in memory with the rebuilt ``master`` key;
        the opening is logged. ``acknowledged`` is for the central store's late arrivals (none here)."""
        return open_in_memory(self.vault_dir, keystore, master, shares, records, case, reason, opened_by)

    def close(self) -> None:
        """Nothing to close: each search and opening reads the folder anew."""
        pass


#: What the investigator acknowledges in the page before a late arrival is opened; logged word for
#: word in the ``open`` entries (``after_revocation_acknowledged``) and carried by the bundle.
ACKNOWLEDGEMENT = ("I open these records knowingly: they arrived in the central store after their camera's key was "
                   "revoked, so each may be a backdated record of whoever took the key, or one the camera had not "
                   "forwarded yet; nothing in it tells which")


def asked_late_arrivals(source, records: list[tuple[str, str]]) -> tuple[dict, str | None]:
    """``(late, None)``: ``source.late_arrivals(records)``; or ``({}, why)`` when it could not be
    told, ``why`` the line the desk shows (nothing was requested, no share asked for).

    A store that fails (:class:`StoreError`) is logged on the desk's terminal and named on the
    page, with its error: before, it was a bare 500 page (ux21)."""
    try:
        return source.late_arrivals(records), None
    except (ValueError, RecordError) as err:
        return {}, f"nothing was requested: {err}"
    except StoreError as err:
        _log.error("opening request not made: %s", err)
        return {}, (f"nothing was requested, no share was asked for: {err}; try again once the store answers "
                    "(the desk's terminal logs it too)")


def desk_late_refusal(late: dict) -> str:
    """Why an opening of late arrivals (``late``: ``{(camera_id, record_id): why}``,
    :func:`facesel.central.arrivals.late_arrivals`) is refused without the acknowledgement."""
    first = next(iter(late.values()))
    return (f"{first}; {len(late)} chosen record(s) arrived after their camera's key was revoked: tick the "
            "acknowledgement beside 'Request opening' to open them knowingly (the opening's signed entry and the "
            "bundle name them), or leave them out")


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
        from facesel.central.backend import Selection
        from facesel.central.verify import authority_for_opening, verify_row

        filters.check()
        with self.lock:
            rows = self.store.rows(Selection(start=filters.start, end=filters.end))
            logged = self.store.logged_by_camera(rows)

            # The cameras' keys from the authority's signed file, not the store's table (review 10b, finding 5).
            trusted = authority_for_opening(self.keystore, self.store.authority)

            # Listed, flagged (review round 11's open item, closed in session 21): opened only knowingly.
            late = late_arrivals(self.store, rows, trusted)

            def check(row):
                try:
                    verify_row(self.store.read(row.record_id, row.camera_id), row, trusted, logged[row.camera_id])
                except RecordError:
                    raise
                except ValueError as err:  # one row's problem, not the page's (review round 14a, finding 2)
                    raise RecordError(f"record {row.record_id} of camera {row.camera_id!r}: {err}") from err

            result = filter_rows(rows, check, filters, flags=late)
            # Records the log puts in the window whose rows are elsewhere (review 12b, finding 3).
            scope = Selection(camera_ids=None if not filters.camera else (filters.camera,), start=filters.start,
                              end=filters.end)
            result.problems += self.store.missing_from(scope)
            return result

    def late_arrivals(self, records: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """Which of ``records`` (``(camera_id, record_id)``) arrived after their camera's key was
        revoked (:func:`facesel.central.arrivals.late_arrivals`): asked before any share is."""
        from facesel.central.arrivals import late_arrivals
        from facesel.central.backend import Selection
        from facesel.central.verify import authority_for_opening

        import psycopg

        from facesel.redaction import redact_url

        wanted = set(records)
        with self.lock:
            try:
                rows = self.store.rows(Selection(record_ids=tuple(sorted({rid for _, rid in wanted}))))
                rows = [row for row in rows if (row.camera_id, row.record_id) in wanted]
                return late_arrivals(self.store, rows, authority_for_opening(self.keystore, self.store.authority))
            except (psycopg.Error, OSError) as err:  # was a 500 page on the desk (ux21)
                text = (str(err).strip().splitlines() or [""])[0] or type(err).__name__
                raise StoreError(f"{self.label} could not say which of the chosen records arrived after a "
                                 f"revocation: {type(err).__name__}: {redact_url(text)}") from err

    def open(self, keystore: Keystore, master: bytes, shares: list[int], records: list[tuple[str, str]], case: str,
             reason: str, opened_by: str, acknowledged: str | None = None) -> Opening:
        """Open ``records`` (``(camera_id, record_id)``) from the central store in memory with the
        rebuilt ``master`` key; the opening is logged centrally. A late arrival among them is
        opened only with ``acknowledged`` (the words the investigator acknowledged).
        """
        from facesel.review.central_open import open_central

        return open_central(self.store, self.lock, keystore, master, shares, records, case, reason, opened_by,
                            acknowledged=acknowledged)

    def close(self) -> None:
        """Close the connection to the central store."""
        self.store.close()
