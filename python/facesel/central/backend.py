"""What listing, opening, purging and auditing need from an evidence store, whatever holds it.

Two implementations: :class:`facesel.central.file_backend.FileVaultBackend` (a camera's vault
folder, read through the file vault's own objects) and
:class:`facesel.central.pg_backend.PostgresVault` (the central store many cameras forward to).
A sealed record is opaque authenticated bytes plus its plaintext header; nothing here decrypts.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from facesel.vault.audit import VerifyResult
from facesel.vault.index import IndexRow
from facesel.vault.keys import AuthorityPublic
from facesel.vault.record import RECORD_ID
from facesel.vault.signing import Signer


@dataclass(frozen=True)
class Camera:
    """A camera the store accepts records from.

    ``public_key`` is the camera's registered signing key (raw bytes), or None where none is
    registered; :func:`facesel.central.verify.verify_record` is where it is checked.
    """

    camera_id: str
    public_key: bytes | None = None


@dataclass(frozen=True)
class Selection:
    """Which records: by id, and/or by camera and a seal-time window [start, end] (Unix seconds)."""

    record_ids: tuple[str, ...] | None = None
    camera_ids: tuple[str, ...] | None = None
    start: float | None = None
    end: float | None = None

    def __post_init__(self) -> None:
        for rid in self.record_ids or ():
            if not isinstance(rid, str) or not RECORD_ID.match(rid):
                raise ValueError(f"record_ids must be 32 lowercase hex characters each, got {rid!r}")
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")

    def is_empty(self) -> bool:
        """Whether no filter is set (every record is selected)."""
        return self.record_ids is None and self.camera_ids is None and self.start is None and self.end is None


def ids_of_several_cameras(rows: list[IndexRow]) -> dict[str, list[str]]:
    """The record ids ``rows`` hold under more than one camera: ``{record_id: [camera_id, ...]}``.

    Since the central store's schema 5 a record is the store's by camera and id (review round 11), so an
    opening by id alone can meet another camera's record under the same id (one that took a
    genuine record's id first, say): the authority's request names one record, not two.
    """
    cameras: dict[str, list[str]] = {}
    for row in rows:
        cameras.setdefault(row.record_id, []).append(row.camera_id)
    return {rid: sorted(held) for rid, held in cameras.items() if len(held) > 1}


class VaultBackend(ABC):
    """The operations ``list``, ``open``, ``purge`` and ``audit verify`` run against."""

    #: Says where the records are, for messages (a folder, or a database without its password).
    location: str

    @property
    @abstractmethod
    def authority(self) -> AuthorityPublic:
        """The authority every record here is sealed for."""

    @abstractmethod
    def rows(self, selection: Selection = Selection()) -> list[IndexRow]:
        """Index rows of the records present, ordered by seal time then id."""

    @abstractmethod
    def read(self, record_id: str, camera_id: str | None = None) -> bytes:
        """The sealed bytes of one record (RecordError when it is gone).

        A record is a store's by camera and id (the central store's schema 5: one camera can no
        longer take another's id first, review round 11): ``camera_id`` names whose; without it
        an id several cameras hold is refused (RecordError), never answered with one of them.
        """

    @abstractmethod
    def logged_digests(self, record_ids: list[str], camera_id: str | None = None) -> dict[str, str]:
        """SHA-256 of each record as the hash-chained audit log recorded it on arrival (of
        ``camera_id``'s records, as :meth:`read`)."""

    def logged_by_camera(self, rows: list[IndexRow]) -> dict[str, dict[str, str]]:
        """:meth:`logged_digests` of ``rows``, one query a camera: ``{camera_id: {record_id: sha256}}``
        (the ``logged`` of a row for :func:`facesel.central.verify.verify_row` is its camera's)."""
        by_camera: dict[str, list[str]] = {}
        for row in rows:
            by_camera.setdefault(row.camera_id, []).append(row.record_id)
        return {camera_id: self.logged_digests(ids, camera_id) for camera_id, ids in by_camera.items()}

    def missing_from(self, selection: Selection) -> list[str]:
        """One line per record the store's log puts in ``selection`` (ids, a camera, a window, or
        everything) that has no row in it, asked after :meth:`rows` (review round 12b, finding 3: a
        row moved out of a scope hid its record; round 13a: ids alone and everything too). Empty
        here: a vault folder's :meth:`rows` chooses a window by its signed log's seal times already
        (:func:`facesel.vault.opening.rows_in_window`)."""
        return []

    def arrival_times(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], float | None]:
        """When each record (``(camera_id, record_id)``) arrived in this store, by a clock its sender
        does not set; empty where the store keeps no such time (a camera's own vault folder)."""
        return {}

    @abstractmethod
    def camera(self, camera_id: str) -> Camera | None:
        """The registered camera, or None when the store does not accept ``camera_id``."""

    @abstractmethod
    def append_audit(self, event: str, signer: Signer | None = None, **fields) -> dict:
        """Append one entry to the store's audit log and return it.

        ``signer`` (the authority's key, when it opens) signs the entry, in a vault folder's log
        as in the PostgreSQL log (whose other entries are hash-chained only).
        """

    @abstractmethod
    def witness(self, entry: dict) -> dict:
        """Fields naming ``entry`` (one :meth:`append_audit` returned) for the authority's own log,
        so that the entry can later be checked to still be there, unchanged."""

    @abstractmethod
    def verify_audit(self, expect: tuple[int, str] | None = None, authority: AuthorityPublic | None = None) \
            -> VerifyResult:
        """Check the audit log's hash chain and signatures (and an externally recorded anchor
        ``expect``); ``authority`` is a trusted authority.pub to check the authority's entries with."""

    @abstractmethod
    def purge(self, now: float, allow_future: bool = False) -> int:
        """Delete every record sealed more than the retention period before ``now``; return the count.

        A ``now`` ahead of the store's clock (and the real time) by more than
        :data:`facesel.vault.consistency.PURGE_CLOCK_TOLERANCE` is refused (ValueError) unless
        ``allow_future``, which is logged.
        """

    @abstractmethod
    def close(self) -> None:
        """Release connections and locks (idempotent)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
