"""The camera-side vault: seal each TrackResult at once, store it atomically, index it, expire it.

Folder layout::

    VAULT/authority.pub    copy of the authority's public file (lets purge/list run without it)
    VAULT/records/<id>.fsr sealed records (see facesel.vault.record)
    VAULT/index.sqlite     non-biometric metadata (WAL mode)
    VAULT/audit.log        hash-chained log of every seal, purge, open and recovery
    VAULT/.lock            held (flock) by the one process that writes

Crash safety: a record is written to a temporary file in ``records/``, fsynced and renamed, then
indexed, then logged. Whatever the moment a process dies (even SIGKILL), a reader sees complete
records only, and the next :class:`Vault` brings files, index and log back into agreement
(:meth:`Vault.recover`) before it seals anything.

The camera holds public keys only: nothing here can decrypt a record.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from facesel.types import TrackResult
from facesel.vault.audit import AuditLog
from facesel.vault.consistency import RECORD_SUFFIX
from facesel.vault.errors import RecordError, VaultLockedError, VaultWriteError
from facesel.vault.fsutil import atomic_write, fsync_dir, remove_stale_temporaries
from facesel.vault.index import Index, IndexRow
from facesel.vault.keys import AuthorityPublic, load_authority_public
from facesel.vault.payload import PAYLOAD_KIND, encode_snapshot
from facesel.vault.record import (
    RECORD_ID,
    make_header,
    new_record_id,
    parse_record,
    seal_record,
)

_log = logging.getLogger("facesel.vault")


def record_path(vault_dir: Path, record_id: str) -> Path:
    if not isinstance(record_id, str) or not RECORD_ID.match(record_id):
        raise ValueError(f"record_id must be 32 lowercase hex characters, got {record_id!r}")
    return Path(vault_dir) / "records" / f"{record_id}{RECORD_SUFFIX}"


def _camera_id(value: object) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 128 or not value.isprintable():
        raise ValueError(f"camera_id must be 1-128 printable characters, got {value!r}")
    return value


class Vault:
    """Seal TrackResults into an encrypted, self-expiring evidence folder.

    Parameters
    ----------
    path : path-like
        The vault folder (created if missing).
    authority_public : path-like or AuthorityPublic
        The authority's ``authority.pub``. A vault belongs to one authority for life.
    camera_id : str
        Recorded in each record's header and index row.
    clock : callable
        Returns Unix seconds (``time.time``); inject a fake clock in tests.
    purge_interval : float
        Seconds of clock time between automatic purges inside :meth:`seal` and
        :meth:`maybe_purge` (which a long-running caller can call every frame, so that expiry
        also happens while nobody passes). Opening a vault always purges.
    clip_format : {"png", "jpg"}
        Encoding of clip frames inside the sealed payload.

    Raises
    ------
    VaultLockedError
        When another process has the vault open for writing.
    """

    def __init__(self, path: str | os.PathLike, authority_public: AuthorityPublic | str | os.PathLike,
                 camera_id: str = "camera-0", clock: Callable[[], float] = time.time,
                 purge_interval: float = 60.0, clip_format: str = "png") -> None:
        if not callable(clock):
            raise TypeError(f"clock must be callable, got {type(clock).__name__}")
        if not isinstance(purge_interval, (int, float)) or purge_interval < 0:
            raise ValueError(f"purge_interval must be a non-negative number, got {purge_interval!r}")
        if clip_format not in ("png", "jpg"):
            raise ValueError(f"clip_format must be 'png' or 'jpg', got {clip_format!r}")
        self.camera_id = _camera_id(camera_id)
        self.clock, self.purge_interval, self.clip_format = clock, float(purge_interval), clip_format
        self.path = Path(path)
        self.records_dir = self.path / "records"
        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.records_dir.mkdir(exist_ok=True, mode=0o700)
        self._lock_fd = os.open(self.path / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            raise VaultLockedError(f"vault {self.path} is open for writing by another process") from None
        self.index: Index | None = None
        try:
            self.audit = AuditLog(self.path / "audit.log", clock)
            self.authority = self._bind_authority(load_authority_public(authority_public))
            self.index = Index(self.path / "index.sqlite")
            self.recover()
            self._last_purge = float("-inf")
            self.purge()
        except BaseException:
            self.close()
            raise

    # -- life cycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Release the index and the write lock (idempotent)."""
        if self.index is not None:
            self.index.close()
            self.index = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _bind_authority(self, given: AuthorityPublic) -> AuthorityPublic:
        copy = self.path / "authority.pub"
        if copy.exists():
            bound = AuthorityPublic.load(copy)
            if bound.authority_id != given.authority_id:
                raise ValueError(f"authority_public belongs to authority {given.authority_id}, but vault "
                                 f"{self.path} belongs to authority {bound.authority_id}")
            known = {e.epoch_id: e.public_key for e in bound.epochs}
            if any(known.get(e.epoch_id, e.public_key) != e.public_key for e in given.epochs):
                raise ValueError(f"authority_public gives different keys for epochs already used by {self.path}")
            if len(given.epochs) <= len(bound.epochs):
                return bound
        first_use = not copy.exists()
        given.save(copy)  # first use, or an extended authority.pub with later epochs
        self.audit.append("vault-created" if first_use else "authority-extended", authority_id=given.authority_id,
                          camera_id=self.camera_id, epochs=len(given.epochs),
                          keys_until=given.epochs[-1].not_after if given.epochs else None)
        return given

    # -- sealing ------------------------------------------------------------------------------

    def seal(self, track_result: TrackResult) -> str:
        """Encrypt ``track_result`` to the current epoch key, store it and index it.

        Parameters
        ----------
        track_result : TrackResult
            ``best.crop`` (h, w, 3) uint8 BGR; ``best.clip`` optional list of such crops.

        Returns
        -------
        str
            The new record id (32 hex characters).

        Raises
        ------
        EpochUnavailableError
            When no epoch key covers the current time (nothing is written).
        VaultWriteError
            When the disk refuses the write (e.g. full); nothing is left behind.
        """
        self._check_open()
        now = float(self.clock())
        epoch = self.authority.epoch_for(now)  # refuse before doing anything
        self.maybe_purge(now)
        record_id = new_record_id()
        best = track_result.best if isinstance(track_result, TrackResult) else None
        payload = encode_snapshot(track_result, record_id, self.clip_format)
        header = make_header(record_id, self.authority.authority_id, epoch.epoch_id, self.camera_id, now,
                             track_result.first_timestamp, track_result.last_timestamp,
                             best.quality, track_result.track_id, PAYLOAD_KIND)
        data = seal_record(header, payload, epoch.public_key)
        del payload  # the only plaintext copy; never written anywhere
        final = record_path(self.path, record_id)
        try:
            atomic_write(final, data)
        except OSError as err:
            # The failure may come after the rename (fsync of the folder): take the file back out.
            final.unlink(missing_ok=True)
            raise VaultWriteError(f"could not write record {record_id} to {self.records_dir}: "
                                  f"{err.strerror or err}; nothing was stored") from err
        row = IndexRow.from_header(header, len(data), hashlib.sha256(data).hexdigest())
        try:
            self.index.insert(row)
            self.audit.append("seal", record_id=record_id, epoch_id=epoch.epoch_id, camera_id=self.camera_id,
                              sealed_at=now, size=row.size, sha256=row.sha256)
        except (OSError, sqlite3.Error) as err:
            self._undo_seal(record_id, final)
            raise VaultWriteError(f"could not index or log record {record_id} in {self.path}: {err}; "
                                  "the record was removed again, nothing was stored") from err
        return record_id

    def _undo_seal(self, record_id: str, final: Path) -> None:
        try:
            self.index.delete(record_id)
        except sqlite3.Error:
            pass  # recover() removes a row whose file is gone
        final.unlink(missing_ok=True)
        fsync_dir(self.records_dir)

    # -- retention ----------------------------------------------------------------------------

    @property
    def retention_seconds(self) -> float:
        return self.authority.retention_seconds

    def maybe_purge(self, now: float | None = None) -> int:
        """Purge if ``purge_interval`` seconds of clock time have passed since the last purge.

        Cheap enough to call once per frame, so that expiry also happens while nobody passes.
        """
        now = float(self.clock() if now is None else now)
        return self.purge(now) if now - self._last_purge >= self.purge_interval else 0

    def purge(self, now: float | None = None) -> int:
        """Delete every record sealed more than the retention period before ``now``; log each.

        Returns
        -------
        int
            The number of records deleted.
        """
        self._check_open()
        now = float(self.clock() if now is None else now)
        self._last_purge = now
        count = 0
        for row in self.index.rows(expired_before=now - self.retention_seconds):
            try:
                record_path(self.path, row.record_id).unlink(missing_ok=True)
                fsync_dir(self.records_dir)
                self.index.delete(row.record_id)
                self.audit.append("purge", record_id=row.record_id, epoch_id=row.epoch_id,
                                  sealed_at=row.sealed_at, reason="retention")
            except (OSError, sqlite3.Error) as err:
                # recover() finishes the index row and the log entry on the next start.
                raise VaultWriteError(f"purge of {self.path} interrupted at record {row.record_id}: {err}") from err
            count += 1
        return count

    # -- consistency --------------------------------------------------------------------------

    def recover(self) -> dict:
        """Bring record files, index and audit log into agreement after an interruption.

        Removes temporary files of interrupted writes; indexes a complete record file that has no
        index row; drops the row of a record whose file is gone; logs every record the audit log
        does not know about. Returns counts of each action.
        """
        self._check_open()
        stats = {"temporaries_removed": len(remove_stale_temporaries(self.records_dir)),
                 "indexed": 0, "rows_dropped": 0, "logged": 0}
        remove_stale_temporaries(self.path)
        files = {p.name[:-len(RECORD_SUFFIX)] for p in self.records_dir.glob(f"*{RECORD_SUFFIX}")}
        rows = self.index.ids()
        for record_id in sorted(files - rows):
            path = self.records_dir / f"{record_id}{RECORD_SUFFIX}"
            data = path.read_bytes()
            try:
                parsed = parse_record(data)
                if parsed.record_id != record_id:
                    raise RecordError(f"file name says {record_id}, header says {parsed.record_id}")
                if parsed.header["authority_id"] != self.authority.authority_id:
                    raise RecordError(f"sealed for authority {parsed.header['authority_id']}, not this vault's")
            except RecordError as err:
                _log.warning("vault %s: leaving unreadable record file %s in place: %s", self.path, path, err)
                continue
            self.index.insert(IndexRow.from_header(parsed.header, len(data), hashlib.sha256(data).hexdigest()))
            stats["indexed"] += 1
        sealed, gone = {}, set()
        for entry in self.audit.entries():
            if entry.get("event") in ("seal", "recovered-record"):
                sealed[entry.get("record_id")] = entry
            elif entry.get("event") in ("purge", "record-missing"):
                gone.add(entry.get("record_id"))
        cutoff = float(self.clock()) - self.retention_seconds
        for row in self.index.rows():
            if row.record_id not in files:
                self.index.delete(row.record_id)
                stats["rows_dropped"] += 1
            elif row.record_id not in sealed:
                self.audit.append("recovered-record", record_id=row.record_id, epoch_id=row.epoch_id,
                                  sealed_at=row.sealed_at, size=row.size, sha256=row.sha256)
                sealed[row.record_id] = {"sealed_at": row.sealed_at}
                stats["logged"] += 1
        present = self.index.ids()
        for record_id, entry in sealed.items():
            if record_id in gone or record_id in present:
                continue
            expired = float(entry.get("sealed_at", cutoff)) < cutoff
            # A purge interrupted after deleting the file is completed here; anything else is a
            # record removed outside facesel, which the log must show.
            self.audit.append("purge" if expired else "record-missing", record_id=record_id,
                              reason="retention (completed after an interruption)" if expired else
                              "record file disappeared outside facesel")
            stats["logged"] += 1
        return stats

    def _check_open(self) -> None:
        if self.index is None:
            raise RuntimeError(f"vault {self.path} is closed")

    def rows(self, **filters) -> list[IndexRow]:
        """Index rows (see :meth:`facesel.vault.index.Index.rows` for the filters)."""
        self._check_open()
        return self.index.rows(**filters)
