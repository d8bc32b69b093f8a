"""Chain of custody: do the record files on disk match what the audit log says was sealed and purged?

The hash chain proves the log itself is intact; this check ties the log to the records. Every
record file must have a ``seal`` entry with the same SHA-256, and every sealed record that is gone
must have a ``purge``, ``record-missing`` or ``quarantined`` entry. Given the authority's public
file it also checks every retention purge against the *logged* seal time plus the retention
period, and every seal against its epoch's window and the time it was logged. Run by
``facesel audit verify --vault``; needs no keys (the caller verifies the log's signatures first).

:func:`live_seals` is the one place that says which records a log holds: the seals signed by the
vault's camera, minus every record logged as gone. The camera purges, and ``open`` selects, from it.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from facesel.setting_checks import check_flag
from facesel.vault import fields
from facesel.vault.audit import AuditLog
from facesel.vault.fsutil import NotRegularFileError, is_regular, open_regular
from facesel.vault.identity import SEAL_TIME_TOLERANCE
from facesel.vault.record import MAX_RECORD
from facesel.vault.selection_args import unix_seconds

RECORD_SUFFIX = ".fsr"
GONE_EVENTS = ("purge", "record-missing", "quarantined")
# An explicit purge time may lead the clock by this much before it counts as "in the future".
PURGE_CLOCK_TOLERANCE = 300.0
# Purges that hand a record on rather than expire it (facesel.central.sync), not held to retention.
HANDOVER_REASONS = ("forwarded",)
_RECORD_ID = re.compile(r"\A[0-9a-f]{32}\Z")
_HEX64 = re.compile(r"\A[0-9a-f]{64}\Z")


def checked_purge_time(now: float | None, clock_now: float, allow_future: bool, log_override,
                       what: str = "delete records") -> float:
    """The time to use for a destructive step (a purge, a shred): ``now`` (or the clock's), refused
    when it is not a finite number or lies more than :data:`PURGE_CLOCK_TOLERANCE` seconds ahead of
    the clock, since it would destroy evidence before its time; with ``allow_future`` it is
    accepted and ``log_override(purge_time, clock_time)`` records the override in the audit log.
    Shared by the file vault, the central store and ``authority shred`` (``what`` names the step)."""
    # a truthy "no" would have let evidence be destroyed ahead of the clock (ux19)
    allow_future = check_flag(allow_future, "allow_future")
    # purge(now="2026-12-06") said "could not convert string to float", naming nothing (ux18)
    now = clock_now if now is None else unix_seconds(now, "now")
    if not math.isfinite(now):
        raise ValueError(f"the time given is {now!r}: a finite time is needed to {what}")
    if now > max(clock_now, time.time()) + PURGE_CLOCK_TOLERANCE:
        if not allow_future:
            # 1e300 was written out with its 301 digits; then "2.27427e+09 s ahead" for 2099 (ux23)
            raise ValueError(f"the time given{_as_date(now)} is {_span(now - clock_now)} ahead of the clock"
                             f"{_as_date(clock_now)}: refusing to {what} before their time (an explicit override, "
                             "--allow-future-now, is logged)")
        log_override(now, clock_now)
    return now


def _as_date(seconds: float) -> str:
    """`` (2099-01-01T00:00:00Z)`` (format_time: Unix seconds where no calendar date can show it)."""
    from facesel.vault.timeparse import format_time

    return f" ({format_time(seconds)})"


def _span(seconds: float) -> str:
    """A duration as a person reads it: ``412 s``, ``3.5 hours``, ``72.1 years`` (timeparse.format_duration
    has no years and writes 1e300 s out in days)."""
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:.3g} {unit}" if seconds / size < 1e6 else f"{seconds:.6g} s"
    return f"{seconds:.0f} s"


@dataclass(frozen=True)
class LoggedSeal:
    """What a ``seal`` entry says about a record: when it was logged, sealed, its hash and epoch."""

    record_id: str
    seq: int
    logged_at: float
    sealed_at: float
    sha256: str
    epoch_id: int
    size: int | None = None  # bytes of the file sealed; None when the entry gives no usable size

    @property
    def read_limit(self) -> int:
        """The most bytes a file may hold to be this seal's: the size logged, else any record's
        (:data:`~facesel.vault.record.MAX_RECORD`). A reader checks it on the open descriptor
        before it reads or hashes a byte (review round 15b: a sparse file of 1 GiB under a
        record's name was read whole by every reader, and hashed once per planted temporary)."""
        return MAX_RECORD if self.size is None else self.size


def _logged_size(value: object) -> int | None:
    """The ``size`` of a seal entry when it is a byte count a record may have, else None."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_RECORD:
        return None
    return value


def logged_seal(entry: dict, camera_id: str) -> LoggedSeal | None:
    """The seal in ``entry`` when it is a well-formed ``seal`` of camera ``camera_id``, else None."""
    if entry.get("event") != "seal" or entry.get("signer") != f"camera:{camera_id}":
        return None
    rid, sealed_at, digest, epoch_id = (entry.get("record_id"), entry.get("sealed_at"), entry.get("sha256"),
                                        entry.get("epoch_id"))
    try:
        if not (isinstance(rid, str) and _RECORD_ID.match(rid) and isinstance(digest, str) and _HEX64.match(digest)):
            return None
        return LoggedSeal(rid, entry["seq"], float(entry["time"]),
                          fields.time_value(sealed_at, "sealed_at", "seal", ValueError), digest,
                          fields.integer(epoch_id, "epoch_id", "seal", ValueError), _logged_size(entry.get("size")))
    except ValueError:
        return None


def gone_record(entry: dict) -> str | None:
    """The record id an entry logs as gone (purged, missing or quarantined), else None."""
    rid = entry.get("record_id")
    return rid if entry.get("event") in GONE_EVENTS and isinstance(rid, str) else None


def live_seals(entries: Iterable[dict], camera_id: str, live: dict[str, LoggedSeal] | None = None) \
        -> dict[str, LoggedSeal]:
    """Records the log holds: seals by camera ``camera_id`` minus those logged as gone since.

    ``entries`` must come from a log whose signatures were verified (``read_verified``, a
    ``LogFollower``); ``live`` is updated in place when given (a follower's new entries).
    """
    live = {} if live is None else live
    for entry in entries:
        seal = logged_seal(entry, camera_id)
        if seal is not None:
            live[seal.record_id] = seal
            continue
        rid = gone_record(entry)
        if rid is not None:
            live.pop(rid, None)
    return live


def file_sha256(path: Path, max_bytes: int | None = None) -> str | None:
    """SHA-256 of a regular file, read in blocks; None for a link, folder, FIFO, device (checked
    on the open descriptor, so nothing can make this wait), or a file above ``max_bytes``."""
    try:
        fd = open_regular(Path(path), os.O_RDONLY, follow=False)
    except NotRegularFileError:
        return None
    try:
        if max_bytes is not None and os.fstat(fd).st_size > max_bytes:
            return None
        digest = hashlib.sha256()
        for block in iter(lambda: os.read(fd, 1 << 20), b""):
            digest.update(block)
        return digest.hexdigest()
    finally:
        os.close(fd)


def custody_problems(vault_dir: str | os.PathLike, authority=None) -> list[str]:
    """Mismatches between ``vault_dir/records`` and ``vault_dir/audit.log``, one line each (empty: all good).

    Parameters
    ----------
    vault_dir : path-like
    authority : AuthorityPublic, optional
        The vault's (trusted) authority file. With it, every retention purge is checked against
        the logged seal time plus the retention period, and every seal against its epoch's
        window and the time it was logged.

    A vault *currently open for writing* may be mid-seal; check a closed vault, or expect the
    record being written to show up as unlogged for a moment.
    """
    vault_dir = Path(vault_dir)
    sealed: dict[str, tuple[int, str | None, int | None]] = {}
    gone: set[str] = set()
    entries = AuditLog(vault_dir / "audit.log").entries()
    for entry in entries:
        rid = entry.get("record_id")
        if entry.get("event") == "seal" and isinstance(rid, str):
            digest = entry.get("sha256")
            sealed[rid] = (entry["seq"], digest if isinstance(digest, str) else None, _logged_size(entry.get("size")))
        elif gone_record(entry) is not None:
            gone.add(rid)
    problems = []
    present = set()
    for path in sorted((vault_dir / "records").glob(f"*{RECORD_SUFFIX}")):
        rid = path.name[: -len(RECORD_SUFFIX)]
        present.add(rid)
        if rid not in sealed:
            problems.append(f"record {rid}: file present but never logged as sealed (planted or unrecovered)")
            continue
        seq, digest, size = sealed[rid]
        actual = file_sha256(path, size)  # at most the size logged: a sparse 1 GiB file is not hashed (round 15b)
        if actual is None:
            problems.append(f"record {rid}: file is larger than the {size} bytes logged when it was sealed (replaced)"
                            if size is not None and is_regular(path) else f"record {rid}: not a regular file")
            continue
        if digest is not None and actual != digest:
            problems.append(f"record {rid}: file differs from the one logged as sealed at seq {seq} (replaced)")
        if rid in gone:
            problems.append(f"record {rid}: file present although the log says it was purged")
    for rid, (seq, _, _) in sorted(sealed.items(), key=lambda item: item[1][0]):
        if rid not in present and rid not in gone:
            problems.append(f"record {rid}: sealed at seq {seq}, file gone, and no purge is logged (deleted)")
    if authority is not None:
        problems += timing_problems(entries, authority, vault_owner_id(entries))
    return problems


def vault_owner_id(entries: list[dict]) -> str | None:
    """The camera named by the log's ``vault-created`` entry (the vault's camera)."""
    for entry in entries:
        if entry.get("event") == "vault-created" and isinstance(entry.get("camera_id"), str):
            return entry["camera_id"]
    return None


def timing_problems(entries: list[dict], authority, camera_id: str | None) -> list[str]:
    """Seals whose time lies outside their epoch or ahead of when they were logged, and purges
    that came before the logged seal time plus the retention period (or of records never sealed)."""
    from facesel.vault.timeparse import format_time  # noqa: PLC0415 -- keeps this module's imports light

    retention = authority.retention_seconds
    windows = {e.epoch_id: e for e in authority.epochs}
    seals: dict[str, LoggedSeal] = {}
    overrides: set[float] = set()
    problems = []
    for entry in entries:
        event = entry.get("event")
        if event == "seal":
            seal = logged_seal(entry, camera_id) if camera_id else None
            if seal is None:
                problems.append(f"log seq {entry['seq']}: a seal entry that is malformed or not by this vault's camera")
                continue
            seals[seal.record_id] = seal
            epoch = windows.get(seal.epoch_id)
            if epoch is None or not epoch.covers(seal.sealed_at):
                problems.append(f"record {seal.record_id}: sealed at {format_time(seal.sealed_at)} to epoch "
                                f"{seal.epoch_id}, whose window does not contain that time (retention evaded)")
            if seal.sealed_at > seal.logged_at + SEAL_TIME_TOLERANCE:
                problems.append(f"record {seal.record_id}: its seal time {format_time(seal.sealed_at)} lies ahead of "
                                f"when it was logged ({format_time(seal.logged_at)}; retention evaded)")
        elif event == "purge-clock-override" and _is_time(entry.get("purge_time")):
            overrides.add(float(entry["purge_time"]))
        elif event == "purge" and entry.get("reason") in HANDOVER_REASONS:
            problems += _handover_problems(entry, seals)
        elif event == "purge":
            problems += _purge_problems(entry, seals, retention, overrides)
    return problems


def _is_time(value: object) -> bool:
    try:
        fields.time_value(value, "time", "log", ValueError)
        return True
    except ValueError:
        return False


def _handover_problems(entry: dict, seals: dict[str, LoggedSeal]) -> list[str]:
    """A purge that hands a record to the central store is not held to retention, but must name a
    sealed record and the central log entry that received it (``facesel central`` checks that
    entry against the central log): a bare "forwarded" cannot cover an early deletion."""
    rid = entry.get("record_id")
    if not isinstance(rid, str) or rid not in seals:
        return [f"log seq {entry['seq']}: a forwarding of record {fields.describe(rid)}, which this log never sealed"]
    if not (isinstance(entry.get("central_store"), str) and isinstance(entry.get("central_hash"), str)
            and not isinstance(entry.get("central_seq"), bool) and isinstance(entry.get("central_seq"), int)):
        return [f"record {rid}: purged as 'forwarded' without naming the central store entry that received it "
                "(an early deletion dressed as a handover)"]
    return []


def _purge_problems(entry: dict, seals: dict[str, LoggedSeal], retention: float, overrides: set[float]) -> list[str]:
    from facesel.vault.timeparse import format_time  # noqa: PLC0415

    rid = entry.get("record_id")
    seal = seals.get(rid) if isinstance(rid, str) else None
    if seal is None:
        return [f"log seq {entry['seq']}: a purge of record {fields.describe(rid)}, which this log never sealed "
                "(planted file purged)"]
    purged_at = entry.get("purged_at", entry["time"])
    if not _is_time(purged_at):
        return [f"log seq {entry['seq']}: the purge of record {rid} has a malformed purge time"]
    purged_at = float(purged_at)
    expires = seal.sealed_at + retention
    if purged_at < expires:
        return [f"record {rid}: purged at {format_time(purged_at)}, before its retention ended at "
                f"{format_time(expires)} (sealed {format_time(seal.sealed_at)}, log seq {seal.seq})"]
    if purged_at > entry["time"] + PURGE_CLOCK_TOLERANCE and purged_at not in overrides:
        return [f"record {rid}: purged as of {format_time(purged_at)}, ahead of the clock, without a logged "
                "purge-clock-override"]
    return []
