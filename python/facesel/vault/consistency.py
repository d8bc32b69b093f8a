"""Chain of custody: do the record files on disk match what the audit log says was sealed and purged?

The hash chain proves the log itself is intact; this check ties the log to the records. Every
record file must have a ``seal`` entry with the same SHA-256, and every sealed record that is gone
must have a ``purge``, ``record-missing`` or ``quarantined`` entry. Run by
``facesel audit verify --vault``; needs no keys.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from facesel.vault.audit import AuditLog

RECORD_SUFFIX = ".fsr"
GONE_EVENTS = ("purge", "record-missing", "quarantined")


def file_sha256(path: Path) -> str | None:
    """SHA-256 of a regular file, read in blocks (None for a link or a folder)."""
    if path.is_symlink() or not path.is_file():
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def custody_problems(vault_dir: str | os.PathLike) -> list[str]:
    """Mismatches between ``vault_dir/records`` and ``vault_dir/audit.log``, one line each (empty: all good).

    A vault *currently open for writing* may be mid-seal; check a closed vault, or expect the
    record being written to show up as unlogged for a moment.
    """
    vault_dir = Path(vault_dir)
    sealed: dict[str, tuple[int, str | None]] = {}
    gone: set[str] = set()
    for entry in AuditLog(vault_dir / "audit.log").entries():
        rid = entry.get("record_id")
        if entry.get("event") == "seal" and isinstance(rid, str):
            sealed[rid] = (int(entry.get("seq", -1)), entry.get("sha256"))
        elif entry.get("event") in GONE_EVENTS and isinstance(rid, str):
            gone.add(rid)
    problems = []
    present = set()
    for path in sorted((vault_dir / "records").glob(f"*{RECORD_SUFFIX}")):
        rid = path.name[: -len(RECORD_SUFFIX)]
        present.add(rid)
        if rid not in sealed:
            problems.append(f"record {rid}: file present but never logged as sealed (planted or unrecovered)")
            continue
        seq, digest = sealed[rid]
        if path.is_symlink() or not path.is_file():
            problems.append(f"record {rid}: not a regular file")
            continue
        if digest is not None and file_sha256(path) != digest:
            problems.append(f"record {rid}: file differs from the one logged as sealed at seq {seq} (replaced)")
        if rid in gone:
            problems.append(f"record {rid}: file present although the log says it was purged")
    for rid, (seq, _) in sorted(sealed.items(), key=lambda item: item[1][0]):
        if rid not in present and rid not in gone:
            problems.append(f"record {rid}: sealed at seq {seq}, file gone, and no purge is logged (deleted)")
    return problems
