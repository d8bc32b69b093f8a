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
    def read(self, record_id: str) -> bytes:
        """The sealed bytes of one record (RecordError when it is gone)."""

    @abstractmethod
    def logged_digests(self, record_ids: list[str]) -> dict[str, str]:
        """SHA-256 of each record as the hash-chained audit log recorded it on arrival."""

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
