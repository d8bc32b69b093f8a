"""Bringing record files, index and audit log back into agreement when a camera starts.

The signed audit log decides what is genuine; a file alone never is:

* a temporary file whose SHA-256 matches a logged ``seal`` whose record is not in place is the
  end of an interrupted seal: it is renamed into place (a different file under the record's name
  is quarantined first: the logged seal's own bytes are never deleted). Any other temporary is
  deleted (or, when it is not a regular file, quarantined).
* a record file the log does not know (or logs as gone), with a bad name, a bad signature,
  content other than what was logged, a seal time outside its epoch or ahead of the time its seal
  entry was logged, is moved to ``VAULT/quarantine/`` and a ``quarantined`` entry says why. It is
  never indexed or listed. Only the file's own faults count: not the clock at restart (a record
  sealed while the clock ran ahead is genuine), nor a read that failed (the file is left in place,
  unindexed, and tried again at the next start).
* index rows follow the authenticated headers of the accepted files (a row that disagrees is
  corrected and the correction logged; a row without a file is dropped).
* a file whose ``purge`` is logged is deleted (a purge is logged first, then carried out) when it
  is the file that was sealed; any other file under that name is quarantined;
* a logged record whose file is gone without a logged removal gets a ``record-missing`` entry
  (a purge is always logged before its file is deleted, so this is a deletion outside facesel).
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from facesel.vault.consistency import RECORD_SUFFIX, LoggedSeal, file_sha256, gone_record, logged_seal
from facesel.vault.errors import RecordError
from facesel.vault.fsutil import TMP_SUFFIX, fsync_dir, is_regular, remove_stale_temporaries
from facesel.vault.identity import SEAL_TIME_TOLERANCE, check_record, read_record_file
from facesel.vault.index import IndexRow
from facesel.vault.record import MAX_RECORD, RECORD_ID
from facesel.vault.timeparse import format_time

if TYPE_CHECKING:
    from facesel.vault.store import Vault

_log = logging.getLogger("facesel.vault")


def quarantine(vault: Vault, path: Path, reason: str, record_id: str | None, max_bytes: int = MAX_RECORD) -> None:
    """Move ``path`` out of ``records/`` into ``quarantine/`` and log why (with its SHA-256 when it
    holds at most ``max_bytes``: a record's size as its seal logged it, else any record's)."""
    folder = vault.path / "quarantine"
    folder.mkdir(exist_ok=True, mode=0o700)
    # A file too big to be a record is moved without being read (it may be meant to exhaust us).
    digest = file_sha256(path, max_bytes=max_bytes)
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in path.name)[:80]
    target = folder / f"{safe}.{secrets.token_hex(4)}"
    os.rename(path, target)
    fsync_dir(folder)
    fsync_dir(path.parent)
    fields = {"file": safe, "moved_to": f"quarantine/{target.name}", "sha256": digest, "reason": reason}
    if record_id is not None:
        fields["record_id"] = record_id
    vault.audit.append("quarantined", **fields)


def _logged(vault: Vault) -> tuple[dict[str, LoggedSeal], dict[str, str]]:
    """Logged seals (record id -> seal) and removals (record id -> event), from the log as verified
    (chain and signatures) in the same read: a line someone appended without a key counts for nothing."""
    sealed, gone = {}, {}
    for entry in vault.logged_entries():
        seal = logged_seal(entry, vault.camera_id)
        if seal is not None:
            sealed[seal.record_id] = seal
        elif gone_record(entry) is not None:
            gone[entry["record_id"]] = entry["event"]
    return sealed, gone


def _finish_temporaries(vault: Vault, sealed: dict[str, LoggedSeal], gone: dict[str, str], stats: dict) -> None:
    for tmp in sorted(vault.records_dir.glob(f".*{TMP_SUFFIX}")):
        if not is_regular(tmp):  # we only ever write regular temporaries: someone else put this here
            quarantine(vault, tmp, "not a regular file (a folder, FIFO, device or link) in records/", None)
            stats["quarantined"] += 1
            continue
        record_id = tmp.name[1:].split(".", 1)[0]
        final = vault.records_dir / f"{record_id}{RECORD_SUFFIX}"
        seal = sealed.get(record_id)
        # Hashed only when it has the size logged (review round 15b: sparse temporaries of 1 GiB,
        # as many as the writer liked, were each hashed whole at every start).
        if seal is not None and record_id not in gone and file_sha256(tmp, seal.read_limit) == seal.sha256:
            # The logged seal's own file: it is never deleted. Whatever else holds the record's
            # name (a planted or damaged file; never ours, as the rename is the seal's last step)
            # is quarantined first.
            if (final.exists() or final.is_symlink()) and file_sha256(final, seal.read_limit) == seal.sha256:
                tmp.unlink()  # the rename happened (a copy of it left behind): nothing to finish
                stats["temporaries_removed"] += 1
                continue
            if final.exists() or final.is_symlink():
                # Logged without the record id: the record is not gone, only this other file is.
                quarantine(vault, final, f"a file under the name of record {record_id}, whose logged seal was still "
                                         "being finished, and not the file logged as sealed", None, seal.read_limit)
                stats["quarantined"] += 1
            os.replace(tmp, final)
            stats["completed"] += 1
        else:
            tmp.unlink(missing_ok=True)
            stats["temporaries_removed"] += 1
    fsync_dir(vault.records_dir)
    remove_stale_temporaries(vault.path)


def _accepted_files(vault: Vault, sealed: dict[str, LoggedSeal], gone: dict[str, str],
                    stats: dict) -> dict[str, IndexRow]:
    accepted = {}
    for path in sorted(vault.records_dir.iterdir()):
        if path.name.startswith(".") and path.name.endswith(TMP_SUFFIX):
            continue
        record_id = path.name[:-len(RECORD_SUFFIX)] if path.name.endswith(RECORD_SUFFIX) else None
        known = record_id if record_id is not None and RECORD_ID.match(record_id) else None
        reason = None
        if known is None:
            reason = "not a record file name"
        elif known not in sealed:
            reason = "the audit log has no seal of this record (planted or forged file)"
        elif gone.get(known) == "purge":
            if file_sha256(path, sealed[known].read_limit) == sealed[known].sha256:
                path.unlink()  # a purge logged just before a crash: finish it
                fsync_dir(vault.records_dir)
                stats["purges_finished"] += 1
                continue
            reason = "the audit log says this record was purged, and the file is not the one it sealed"
        elif known in gone:
            reason = "the audit log says this record was already removed"
        else:
            try:
                data = read_record_file(path, sealed_size=sealed[known].size)
            except RecordError as err:  # not a regular file, or larger than the file sealed
                reason = str(err)
            except FileNotFoundError:
                continue  # gone since the listing: logged below as missing
            except OSError as err:
                # A read that failed (I/O error, permissions, descriptors) says nothing about the
                # file: quarantining it would log a genuine record as gone for good. Left in place,
                # unindexed and live in the log; the next start tries again.
                _log.error("vault %s: record %s could not be read (%s); left in place, not indexed, checked "
                           "again at the next start", vault.path, known, err.strerror or err)
                stats["unreadable"].append(known)
                continue
            else:
                try:
                    accepted[known] = _checked_row(vault, known, data, sealed[known])
                except RecordError as err:
                    reason = str(err)
        if reason is not None:
            try:
                quarantine(vault, path, reason, known, sealed[known].read_limit if known in sealed else MAX_RECORD)
            except OSError as err:
                # The file system refused the move: the file stays where it is, unindexed, and a
                # record the log holds stays live (the next start tries again). The camera starts.
                _log.error("vault %s: %s could not be quarantined (%s: %s); left in place, not indexed", vault.path,
                           path.name, reason, err.strerror or err)
                if known is not None and known in sealed:
                    stats["unreadable"].append(known)
                continue
            stats["quarantined"] += 1
    return accepted


def _checked_row(vault: Vault, record_id: str, data: bytes, seal: LoggedSeal) -> IndexRow:
    """The index row of a record file the log sealed, or RecordError when the file is not genuine.

    Every reason here is about the file itself (its bytes, signature, header), never about the
    clock now: a record sealed while the camera's clock ran ahead (a real-time clock kept in local
    time, an NTP step back) is as genuine after the clock is set right. Its seal time is held to the
    time its ``seal`` entry was logged instead, which the log's own checks bound (a seal dated
    ahead of its entry is what a rogue key holder would make to outlive the retention).
    """
    digest = hashlib.sha256(data).hexdigest()
    if digest != seal.sha256:
        raise RecordError("the file differs from the one logged as sealed (replaced)")
    parsed = check_record(vault.identity, data, record_id)
    if parsed.header["sealed_at"] != seal.sealed_at or parsed.header["epoch_id"] != seal.epoch_id:
        raise RecordError("the record's seal time or epoch differs from its logged seal")
    if seal.sealed_at > seal.logged_at + SEAL_TIME_TOLERANCE:
        raise RecordError(f"sealed at {format_time(seal.sealed_at)}, more than {SEAL_TIME_TOLERANCE:.0f} s after its "
                          f"seal entry was logged ({format_time(seal.logged_at)}; it would outlive its retention)")
    return IndexRow.from_header(parsed.header, len(data), digest)


def recover(vault: Vault) -> dict:
    """Run every repair above; returns counts of each action (also logged, entry by entry)."""
    stats = {"temporaries_removed": 0, "completed": 0, "indexed": 0, "rows_dropped": 0, "rows_corrected": 0,
             "logged": 0, "quarantined": 0, "purges_finished": 0, "unreadable": []}
    sealed, gone = _logged(vault)
    _finish_temporaries(vault, sealed, gone, stats)
    accepted = _accepted_files(vault, sealed, gone, stats)
    rows = {row.record_id: row for row in vault.index.rows()}
    for record_id, row in rows.items():
        if record_id not in accepted:
            vault.index.delete(record_id)
            stats["rows_dropped"] += 1
        elif row != accepted[record_id]:
            vault.index.delete(record_id)
            vault.index.insert(accepted[record_id])
            vault.audit.append("index-corrected", record_id=record_id,
                               reason="the index row differed from the record's authenticated header")
            stats["rows_corrected"] += 1
    for record_id in sorted(set(accepted) - set(rows)):
        vault.index.insert(accepted[record_id])
        stats["indexed"] += 1
    _, gone = _logged(vault)  # quarantines just logged count as gone
    cutoff = float(vault.clock()) - vault.retention_seconds
    for record_id, seal in sealed.items():
        if record_id in gone or record_id in accepted or record_id in stats["unreadable"]:
            continue
        expired = seal.sealed_at < cutoff
        # Every purge is logged before its file is deleted, so a sealed record whose file is gone
        # without a logged removal was deleted outside facesel; the log must say so.
        vault.audit.append("record-missing", record_id=record_id, sealed_at=seal.sealed_at,
                           reason="record file disappeared outside facesel" +
                           (" (its retention had ended)" if expired else ""))
        stats["logged"] += 1
    return stats
