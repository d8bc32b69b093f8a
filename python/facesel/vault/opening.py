"""Authorised opening: K shares rebuild the master key, records are verified, decrypted, logged.

Order of events, so that no disclosure escapes the log and no failure leaves partial output:

1. Check the request (reason, selection, empty output folder) and rebuild the master key from
   the shares; any problem stops here with nothing read, written or logged.
2. Read, verify and decrypt every selected record *in memory*. A corrupt or tampered record, a
   shredded epoch or a wrong key stops here: nothing written, nothing logged.
3. Append an ``open`` entry (who, why, which records, which shares) to the vault's audit log.
4. Only then write the snapshots to the output folder.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from facesel.vault.audit import AuditLog
from facesel.vault.errors import EpochUnavailableError, RecordError, VaultWriteError
from facesel.vault.fsutil import atomic_write
from facesel.vault.index import Index, IndexRow
from facesel.vault.keys import AuthorityPublic, Keystore
from facesel.vault.payload import OpenedSnapshot, decode_snapshot
from facesel.vault.record import open_record, parse_record
from facesel.vault.shares import ShareFile, reconstruct_master
from facesel.vault.store import record_path


def open_index(vault_dir: str | os.PathLike) -> Index:
    """The index of an existing vault (never creates one)."""
    path = Path(vault_dir) / "index.sqlite"
    if not path.is_file():
        raise FileNotFoundError(f"no vault at {vault_dir}: {path} does not exist")
    return Index(path)


def select_rows(index: Index, record_ids: Sequence[str] | None = None, start: float | None = None,
                end: float | None = None, all_records: bool = False) -> list[IndexRow]:
    """Rows chosen by exactly one of: record ids, a seal-time window, or ``all_records``."""
    modes = sum([bool(record_ids), start is not None or end is not None, bool(all_records)])
    if modes != 1:
        raise ValueError("choose exactly one of: record ids, a time window (start/end), or all_records")
    if record_ids:
        rows = index.rows(record_ids=list(record_ids))
        missing = sorted(set(record_ids) - {r.record_id for r in rows})
        if missing:
            raise ValueError(f"record_ids not in the vault: {', '.join(missing)}")
        return rows
    if start is not None and end is not None and end < start:
        raise ValueError(f"end ({end}) is before start ({start})")
    return index.rows(start=start, end=end)


@dataclass
class OpenedRecord:
    row: IndexRow
    header: dict
    snapshot: OpenedSnapshot


def _sealed_digests(vault_dir: Path) -> dict[str, str]:
    """SHA-256 of each record as logged when it was sealed (the hash-chained log backs the index)."""
    return {e["record_id"]: e["sha256"] for e in AuditLog(vault_dir / "audit.log").entries()
            if e.get("event") in ("seal", "recovered-record") and "sha256" in e and "record_id" in e}


def _decrypt_all(vault_dir: Path, rows: list[IndexRow], keystore: Keystore, master: bytes) -> list[OpenedRecord]:
    secrets_by_epoch: dict[int, bytes] = {}
    logged = _sealed_digests(vault_dir)
    opened = []
    for row in rows:
        path = record_path(vault_dir, row.record_id)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise RecordError(f"record {row.record_id}: file {path} is missing") from None
        parsed = parse_record(data)
        if parsed.record_id != row.record_id:
            raise RecordError(f"record {row.record_id}: file holds record {parsed.record_id} (swapped files)")
        if parsed.header["authority_id"] != keystore.authority_id:
            raise RecordError(f"record {row.record_id}: sealed for authority {parsed.header['authority_id']}, "
                              f"not {keystore.authority_id}")
        digest = hashlib.sha256(data).hexdigest()
        if digest != row.sha256 or logged.get(row.record_id, digest) != digest:
            raise RecordError(f"record {row.record_id}: file differs from the one sealed (index or audit-log checksum)")
        epoch_id = parsed.epoch_id
        if epoch_id not in secrets_by_epoch:
            try:
                secrets_by_epoch[epoch_id] = keystore.unwrap(master, epoch_id)
            except EpochUnavailableError as err:
                raise EpochUnavailableError(f"record {row.record_id}: {err}") from None
        payload = open_record(parsed, secrets_by_epoch[epoch_id])
        opened.append(OpenedRecord(row, parsed.header, decode_snapshot(payload, row.record_id)))
    return opened


def _write_outputs(out_dir: Path, opened: list[OpenedRecord]) -> None:
    for item in opened:
        folder = out_dir / item.row.record_id
        folder.mkdir(mode=0o700)
        for name, blob in item.snapshot.blobs.items():
            ext = ".png" if blob[:4] == b"\x89PNG" else ".jpg"
            target = folder / (name + ext)
            target.parent.mkdir(exist_ok=True, mode=0o700)
            atomic_write(target, blob)
        meta = {"header": item.header, "snapshot": item.snapshot.meta}
        atomic_write(folder / "meta.json", json.dumps(meta, indent=1, sort_keys=True).encode("utf-8"))


def open_records(vault_dir: str | os.PathLike, share_paths: Sequence[str | os.PathLike],
                 keystore_dir: str | os.PathLike, reason: str, out_dir: str | os.PathLike,
                 record_ids: Sequence[str] | None = None, start: float | None = None, end: float | None = None,
                 all_records: bool = False, opened_by: str | None = None,
                 passphrase_for: Callable[[ShareFile], bytes | None] | None = None,
                 clock: Callable[[], float] = time.time) -> list[OpenedRecord]:
    """Open the selected records of a vault into ``out_dir`` (see the module docstring).

    Returns
    -------
    list of OpenedRecord
        One per record written, in seal-time order. ``out_dir/<record_id>/`` holds ``crop.png``,
        ``clip/NNNN.png`` (if any) and ``meta.json``.
    """
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError(f"reason must be a non-empty case reference, got {reason!r}")
    vault_dir, out_dir = Path(vault_dir), Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise ValueError(f"out_dir {out_dir} must be a new or empty folder")
    if not share_paths:
        raise ValueError("share_paths must name at least one share file")
    keystore = Keystore(keystore_dir)
    pub = AuthorityPublic.load(vault_dir / "authority.pub")
    if pub.authority_id != keystore.authority_id:
        raise ValueError(f"vault {vault_dir} belongs to authority {pub.authority_id}, keystore {keystore_dir} "
                         f"to authority {keystore.authority_id}")
    index = open_index(vault_dir)
    try:
        rows = select_rows(index, record_ids, start, end, all_records)
    finally:
        index.close()
    master, used = reconstruct_master(share_paths, keystore, passphrase_for)
    opened = _decrypt_all(vault_dir, rows, keystore, master)
    log = AuditLog(vault_dir / "audit.log", clock)
    log.append(
        "open", opened_by=opened_by or _user(), reason=reason.strip(), shares=used,
        record_ids=[r.row.record_id for r in opened], out_dir=str(out_dir.resolve()))
    out_existed = out_dir.exists()
    try:
        out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        _write_outputs(out_dir, opened)
    except OSError as err:
        # Leave no partial plaintext behind (e.g. disk full half-way).
        for item in opened:
            shutil.rmtree(out_dir / item.row.record_id, ignore_errors=True)
        if not out_existed:
            shutil.rmtree(out_dir, ignore_errors=True)
        try:
            log.append("open-aborted", reason=f"writing the output failed: {err}")
        except OSError:
            pass
        raise VaultWriteError(f"could not write the opened snapshots to {out_dir}: {err.strerror or err}; "
                              "nothing was left there") from err
    return opened


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
