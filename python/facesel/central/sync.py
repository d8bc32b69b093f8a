"""Store-and-forward: ship a camera's sealed records to the central store, then forget them locally.

A camera seals into its own vault folder first (atomic and durable, whether the link is up or
not); :func:`sync_vault` delivers what is there. Delivery is at-least-once and the central
insert idempotent by record id, so any interruption (a SIGKILL, an outage, a dropped
connection) is repaired by running it again: nothing is lost and nothing is stored twice.

For each batch, in this order:

1. Read each record whose seal is complete (index row *and* ``seal`` entry in the local log) and
   whose bytes match the digest logged at sealing; a record that does not is left in place and
   reported (tampered or damaged on the camera).
2. The central store commits the batch (records and their ``received`` entries, one transaction).
3. For each committed record: append a ``purge`` entry with ``reason="forwarded"`` (and the seq
   and hash of the record's entry in the central log) to the local audit log (through
   :class:`facesel.vault.audit.AuditLog`, signed by the camera's own key like every entry of a
   camera's log), then delete the index row and the file. A ``purge`` entry is what the file
   vault's recovery and custody check already read as "deliberately gone" (recovery finishes a
   logged purge whose file is still there), so the local log stays consistent with the folder.

Only seals signed by the vault's own camera count (the vault's identity is verified first), and
the central store checks each record's camera signature again on arrival.

A crash between 2 and 3 leaves a record local that is also central: the next run delivers it
again (a "duplicate" arrival) and finishes step 3. A crash inside 3 leaves a logged but present
file, with or without its index row: the next run first finishes every logged forwarding (row and
file, the file only when it is the one logged as sealed). The vault folder need not be idle: a camera
may keep sealing into it meanwhile (SQLite and the audit log are safe across processes).
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from facesel.central.file_backend import SEAL_EVENTS
from facesel.central.pg_backend import Arrival, PostgresVault
from facesel.vault.audit import AuditLog, read_verified
from facesel.vault.consistency import file_sha256
from facesel.vault.fsutil import fsync_dir
from facesel.vault.errors import RecordError
from facesel.vault.identity import load_identity, read_record_file
from facesel.vault.index import IndexRow
from facesel.vault.opening import open_index
from facesel.vault.record import MAX_RECORD
from facesel.vault.signing import CameraKey, load_camera
from facesel.vault.store import record_path

FORWARDED = "forwarded"
SYNC_LOCK = ".sync.lock"  # one forwarder per vault at a time (two would log each deletion twice)
_log = logging.getLogger("facesel.central")


@dataclass
class SyncReport:
    """What one :func:`sync_vault` pass did."""

    stored: int = 0          # new in the central store
    duplicates: int = 0      # already there (a redelivery after an interruption)
    deleted: int = 0         # local copies removed after the central commit
    expired: int = 0         # refused centrally as past retention: the camera's own purge deletes them
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (record id, why it stays local)


def _check_positive(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return value


class _LocalVault:
    """The pieces of a vault folder a forwarder touches, through the file vault's own objects."""

    def __init__(self, vault_dir: Path, camera: CameraKey, clock: Callable[[], float]) -> None:
        self.path = vault_dir
        identity = self.identity = load_identity(vault_dir)
        if camera.camera_id != identity.camera_id or camera.public.public_key != identity.camera_key:
            raise ValueError(f"the camera key of {camera.camera_id!r} is not the key of vault {vault_dir}, which "
                             f"belongs to camera {identity.camera_id!r}")
        self.authority = identity.authority
        self.signer_id = camera.signer.signer_id
        self.index = open_index(vault_dir, readonly=False)  # it deletes forwarded rows
        self.log = AuditLog(vault_dir / "audit.log", clock, camera.signer)
        # record id -> size its seal logged (log_state): a larger file is not the one sealed and is
        # refused unread (review round 15b: a sparse file of 1 GiB was read whole, twice over in memory)
        self.sealed_sizes: dict[str, int | None] = {}

    def log_state(self) -> tuple[dict[str, str], set[str]]:
        """(record id -> digest logged at sealing by this camera, ids already logged as forwarded),
        from the log verified in this read: an unsigned line (a forged ``seal``, or a ``purge`` that
        would make the forwarder delete a file without logging it) counts for nothing.

        Raises AuditError when the log does not verify (nothing is forwarded or deleted)."""
        sealed, forwarded = {}, set()
        for entry in read_verified(self.log.path, self.identity.audit_keys()):
            rid = entry.get("record_id")
            if entry.get("event") in SEAL_EVENTS and "sha256" in entry and entry.get("signer") == self.signer_id:
                sealed[rid] = entry["sha256"]
                size = entry.get("size")
                self.sealed_sizes[rid] = size if isinstance(size, int) and not isinstance(size, bool) \
                    and 0 <= size <= MAX_RECORD else None
            elif entry.get("event") == "purge" and entry.get("reason") == FORWARDED:
                forwarded.add(rid)
        return sealed, forwarded

    def forget(self, row: IndexRow, store_id: str, arrival: Arrival, already_logged: bool) -> None:
        if not already_logged:
            # The central log's entry for this record, kept here: an anchor of the central log in
            # every camera's log (facesel.central.anchors), so a rewritten central history shows.
            self.log.append("purge", record_id=row.record_id, epoch_id=row.epoch_id, sealed_at=row.sealed_at,
                            sha256=row.sha256, reason=FORWARDED, central_store=store_id,
                            central_seq=arrival.central_seq, central_hash=arrival.central_hash)
        self.index.delete(row.record_id)
        record_path(self.path, row.record_id).unlink(missing_ok=True)

    def close(self) -> None:
        self.index.close()


def sync_vault(vault_dir: str | os.PathLike, central: PostgresVault, camera: CameraKey | str | os.PathLike,
               batch_size: int = 32, clock: Callable[[], float] = time.time,
               should_stop: Callable[[], bool] | None = None) -> SyncReport:
    """Deliver every complete record of ``vault_dir`` to ``central``; delete each once committed.

    Parameters
    ----------
    vault_dir : path-like
        A camera's vault folder (possibly open for sealing by another process).
    central : PostgresVault
        The central store; it must belong to the same authority as the vault.
    camera : CameraKey or path of ``camera.key``
        The vault's own camera key: it signs the local log entries of each deletion.
    batch_size : int >= 1
        Records per central transaction.
    clock : callable
        Unix seconds, for the local log entries.
    should_stop : callable or None
        Asked before each batch; when it returns True the pass ends there. A stop requested by a
        signal therefore never lands between a central commit and the local log entry and
        deletion that follow it (``sync --watch``'s SIGINT / SIGTERM).

    Raises
    ------
    CentralUnavailableError
        When the central store cannot be reached; every record not yet committed stays local.
    RuntimeError
        When another forwarder is working on ``vault_dir``.
    ValueError
        When the vault and the central store belong to different authorities, or ``camera`` is
        not the vault's camera.
    KeyMaterialError
        When the vault's identity or authority file does not verify.
    AuditError
        When the vault's audit log does not verify: nothing is forwarded or deleted.
    """
    _check_positive(batch_size, "batch_size")
    camera = load_camera(camera)
    vault_dir = Path(vault_dir)
    if not (vault_dir / "authority.pub").is_file():
        raise FileNotFoundError(f"no vault at {vault_dir} (authority.pub missing)")
    lock_fd = os.open(vault_dir / SYNC_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(lock_fd)
        raise RuntimeError(f"another facesel sync is forwarding {vault_dir}; try again when it is done") from None
    try:
        return _sync_locked(vault_dir, central, camera, batch_size, clock, should_stop)
    finally:
        os.close(lock_fd)  # releases the flock


def _sync_locked(vault_dir: Path, central: PostgresVault, camera: CameraKey, batch_size: int,
                 clock, should_stop: Callable[[], bool] | None) -> SyncReport:
    local = _LocalVault(vault_dir, camera, clock)
    report = SyncReport()
    try:
        if local.authority.authority_id != central.authority.authority_id:
            raise ValueError(f"vault {vault_dir} belongs to authority {local.authority.authority_id}, central store "
                             f"{central.location} to authority {central.authority.authority_id}")
        sealed, forwarded = local.log_state()
        report.deleted += _finish_forwarded(local, sealed, forwarded)
        rows = local.index.rows()
        for start in range(0, len(rows), batch_size):
            if should_stop is not None and should_stop():
                break
            _ship(local, central, rows[start:start + batch_size], sealed, forwarded, report)
        fsync_dir(local.path / "records")  # make the deletions durable
    finally:
        local.close()
    return report


def _finish_forwarded(local: _LocalVault, sealed: dict[str, str], forwarded: set[str]) -> int:
    """Complete the deletions a killed forwarder logged but did not finish (returns files deleted).

    A kill after the ``purge`` entry and the index row's deletion, before the file's, left a file
    that no later pass saw (passes go by index rows) until the camera's next start. Now every pass
    first removes what the signed log says was forwarded: the row, and the file when it is the
    one logged as sealed (any other file is left for the camera's recovery to quarantine).
    """
    deleted = 0
    indexed = local.index.ids()
    for record_id in sorted(forwarded):
        if record_id in indexed:
            local.index.delete(record_id)
        path = record_path(local.path, record_id)
        try:
            size = local.sealed_sizes.get(record_id)
            digest = file_sha256(path, MAX_RECORD if size is None else size)
        except FileNotFoundError:
            continue  # finished already
        if digest is not None and digest == sealed.get(record_id):
            path.unlink(missing_ok=True)
            deleted += 1
    return deleted


def _ship(local: _LocalVault, central: PostgresVault, rows: list[IndexRow], sealed: dict[str, str],
          forwarded: set[str], report: SyncReport) -> None:
    ready, blobs = [], []
    for row in rows:
        if row.record_id not in sealed:
            continue  # still being sealed (row written, log entry not yet): the next pass takes it
        try:
            # A regular file only, not followed if a link, its size checked first: a FIFO in its
            # place would block the forwarder for ever, a huge sparse file exhaust its memory.
            data = read_record_file(record_path(local.path, row.record_id),
                                    sealed_size=local.sealed_sizes.get(row.record_id))
        except FileNotFoundError:
            continue  # purged by the camera meanwhile
        except RecordError as err:
            report.skipped.append((row.record_id, f"{err}; left in place"))
            continue
        digest = hashlib.sha256(data).hexdigest()
        if digest != row.sha256 or digest != sealed[row.record_id]:
            report.skipped.append((row.record_id, "local file differs from the one sealed (tampered or damaged); "
                                                  "left in place"))
            continue
        ready.append(row)
        blobs.append(data)
    if not blobs:
        return
    for row, arrival in zip(ready, central.receive(blobs)):
        if arrival.committed:
            report.stored += arrival.status == "stored"
            report.duplicates += arrival.status == "duplicate"
            local.forget(row, central.store_id, arrival, row.record_id in forwarded)
            report.deleted += 1
        elif arrival.status == "expired":
            report.expired += 1
        else:
            report.skipped.append((row.record_id, f"{arrival.status}: {arrival.reason}"))
            _log.warning("record %s stays local: %s %s", row.record_id, arrival.status, arrival.reason)
