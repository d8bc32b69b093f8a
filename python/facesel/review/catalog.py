"""Find records in a vault by metadata only: camera, seal-time window, quality, track length.

No keys are needed and no pixel is read: the rows come from the vault's index, and each is
accepted only when its record file is signed by the vault's camera, is the file logged as sealed
and agrees with the row (:func:`facesel.vault.opening.verified_record`), exactly as ``facesel
list`` does. Records that fail are reported, never shown as if genuine.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from facesel.review.times import local_day, local_text, utc_text
from facesel.vault.errors import AuditError, RecordError
from facesel.vault.identity import VaultIdentity
from facesel.vault.index import IndexRow
from facesel.vault.opening import RecordNotHere, logged_records, open_index, rows_in_window, verified_record
from facesel.vault.record import RECORD_ID
from facesel.vault.signing import CAMERA_ID


def parse_record_key(value: object) -> tuple[str, str] | None:
    """``CAMERA/RECORD_ID`` (:attr:`Found.key`, a form's or a picture address's words) as
    ``(camera_id, record_id)``, or None when it is not that."""
    camera, _, rid = str(value).partition("/")
    return (camera, rid) if CAMERA_ID.match(camera) and RECORD_ID.match(rid) else None


@dataclass(frozen=True)
class Filters:
    """What the investigator asks for; None means "any"."""

    camera: str | None = None
    start: float | None = None  # seal time, Unix seconds (parsed from the form's local time)
    end: float | None = None
    min_quality: float | None = None
    min_track_seconds: float | None = None

    def check(self) -> None:
        """Raise ValueError for a time window that ends before it starts or a negative track length."""
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError("the end of the time window is before its start")
        if self.min_track_seconds is not None and self.min_track_seconds < 0:
            raise ValueError("the minimum track length must not be negative")


@dataclass(frozen=True)
class Found:
    """One record's metadata as shown on the page (human times only)."""

    row: IndexRow
    #: Why it is flagged AFTER-REVOCATION (it reached the central store after its camera's key was
    #: revoked; :func:`facesel.central.arrivals.late_arrivals`), None when not.
    after_revocation: str | None = None

    @property
    def key(self) -> str:
        """How the page's forms name the record: ``CAMERA/RECORD_ID`` (no camera id holds a ``/``)."""
        return f"{self.row.camera_id}/{self.row.record_id}"

    @property
    def track_seconds(self) -> float | None:
        """Seconds from the track's first to its last timestamp, None when either is unknown."""
        first, last = self.row.first_timestamp, self.row.last_timestamp
        return None if first is None or last is None else max(0.0, last - first)

    @property
    def sealed_local(self) -> str:
        """The seal time as the investigator's local time (text)."""
        return local_text(self.row.sealed_at)

    @property
    def sealed_utc(self) -> str:
        """The seal time in UTC (text)."""
        return utc_text(self.row.sealed_at)


@dataclass
class SearchResult:
    """What the find page shows: the matching records, the cameras to filter by, the matches
    counted per camera and local day, and the records refused while searching."""

    records: list[Found]
    cameras: list[str]                               # every camera of the vault (for the filter)
    counts: list[tuple[str, str, int]]               # (camera, local day, records) of the matches
    problems: list[str] = field(default_factory=list)  # records refused (tampered, unlogged...)


def _matches(found: Found, filters: Filters) -> bool:
    row = found.row
    if filters.camera and row.camera_id != filters.camera:
        return False
    if filters.start is not None and row.sealed_at < filters.start:
        return False
    if filters.end is not None and row.sealed_at > filters.end:
        return False
    if filters.min_quality is not None and (row.quality is None or row.quality < filters.min_quality):
        return False
    if filters.min_track_seconds is not None:
        length = found.track_seconds
        if length is None or length < filters.min_track_seconds:
            return False
    return True


def filter_rows(rows: list[IndexRow], check: Callable[[IndexRow], object], filters: Filters,
                flags: dict[tuple[str, str], str] | None = None) -> SearchResult:
    """The rows that pass ``check`` (raises RecordError to refuse one, RecordNotHere to skip one)
    and match ``filters``, with counts per camera and local day; ``flags`` names the rows flagged
    AFTER-REVOCATION (``(camera_id, record_id)`` -> why)."""
    flags = flags or {}
    good, problems = [], []
    for row in rows:
        try:
            check(row)
        except RecordNotHere:
            continue  # being sealed right now, or purged a moment ago (both logged)
        except RecordError as err:
            problems.append(str(err))
            continue
        good.append(Found(row, flags.get((row.camera_id, row.record_id))))
    cameras = sorted({f.row.camera_id for f in good})
    matches = [f for f in good if _matches(f, filters)]
    counts = Counter((f.row.camera_id, local_day(f.row.sealed_at)) for f in matches)
    return SearchResult(matches, cameras, sorted((c, d, n) for (c, d), n in counts.items()), problems)


def search(vault_dir: Path, identity: VaultIdentity, filters: Filters) -> SearchResult:
    """Verified rows of ``vault_dir`` that match ``filters``, in seal-time order, with counts per
    camera and local day."""
    filters.check()
    index = open_index(vault_dir)
    try:
        every_row = index.rows()
    finally:
        index.close()
    indexed = {row.record_id for row in every_row}
    # What exists, and which file is genuine, comes from the signed log verified in this read
    # (review 4, finding 1): with a log that does not verify nothing is shown as genuine.
    try:
        live = logged_records(vault_dir, identity)
    except AuditError as err:
        problem = (f"the vault's audit log does not verify, so no record can be shown as genuine: {err}; check it "
                   "with `facesel audit verify`")
        return SearchResult([], [], [], [problem])
    # The window by the index's time or the log's (review 12b, finding 1: a row moved out of it was hidden).
    rows = rows_in_window(every_row, live, filters.start, filters.end)
    # The logged seals, not their digests alone: a file larger than its seal logged is refused unread.
    result = filter_rows(rows, lambda row: verified_record(identity, vault_dir, row, live), filters)
    # The signed log, not the index, says what exists (review 2, finding 2): a record whose index
    # row was deleted is named here loudly instead of silently missing from the page.
    for record_id in sorted(set(live) - indexed):
        result.problems.append(f"record {record_id} is sealed in the signed log but missing from the index "
                               f"(a deleted index row?): `facesel open --vault {vault_dir} {record_id}` opens it from "
                               "the log; check the vault with `facesel audit verify`")
    return result
