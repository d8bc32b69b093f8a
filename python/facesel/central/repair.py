"""``facesel central repair-rows``: rewrite a moved row of the central store from its verified signed header.

A row whose camera or seal time the tables' owner rewrote is named and refused by every reader
(its scope check, the opening's row check, ``central audit``), but until round 13a nothing put it
back: the operator had to restore its columns by hand, past the append-only guard. Here each
candidate row's record is read and verified (its structure, the camera's signature under the key
the trusted authority.pub registered, its bytes against the digest its ``received`` entry logged),
and the row is rewritten to the one its signed header makes, in one transaction with a
``row-repaired`` entry in the hash-chained log naming every column changed (old and new value).
Migration 7's guard lets only such an update through: a live row, its payload and arrival time
kept, made equal to its ``received`` entry (camera, seal time, epoch, size, digest), so a repair can
move a row toward its log, never away from it.

Candidates are the rows that disagree with their ``received`` entry
(:func:`facesel.central.row_drift.drifted_rows`: one join); with ``every_row`` every live row is
read and checked too (finds a row whose quality, track or first/last timestamps were rewritten,
which the log does not hold), a page at a time.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import psycopg

from facesel.central import pg_audit
from facesel.central.pg_schema import AUDIT_LOCK
from facesel.central.read_limit import BOUNDED_INDEX_COLUMNS, checked_index_row
from facesel.central.row_drift import drifted_rows
from facesel.central.verify import AUTHORITY_REGISTRY, authority_cameras, verify_record
from facesel.vault.errors import RecordError
from facesel.vault.index import COLUMNS, IndexRow
from facesel.vault.keys import AuthorityPublic

_PAGE = 500


@dataclass(frozen=True)
class RowRepair:
    """One row checked: ``camera_id``/``record_id`` its key now; ``changes`` ``{column: (row's value,
    the signed header's)}`` (empty: the row is its record's); ``problem`` why it cannot be repaired
    (the record does not verify, or no arrival logs its bytes), None when it can."""

    camera_id: str
    record_id: str
    changes: dict = field(default_factory=dict)
    problem: str | None = None
    true_row: IndexRow | None = None

    def describe(self) -> str:
        """One line naming the row and what a repair changes (or why it cannot)."""
        if self.problem:
            return f"record {self.record_id} of camera {self.camera_id}: NOT REPAIRABLE: {self.problem}"
        changed = ", ".join(f"{c} {_shown(old)} -> {_shown(new)}" for c, (old, new) in self.changes.items())
        return f"record {self.record_id} of camera {self.camera_id}: {changed}"


def _shown(value) -> str:
    return repr(value) if isinstance(value, str) else f"{value}"


def _loggable(value):
    """A column's value as a JSON value of the log (a non-finite number, which JSON has not, as text)."""
    return repr(value) if isinstance(value, float) and not math.isfinite(value) else value


def _candidates(conn: psycopg.Connection, every_row: bool) -> Iterator[tuple[str, str]]:
    """(camera_id, record_id) of the rows to check: the drifted ones, then (``every_row``) every live row."""
    seen = set()
    for drift in drifted_rows(conn):
        seen.add((drift.camera_id, drift.record_id))
        yield drift.camera_id, drift.record_id
    if not every_row:
        return
    after = ("", "")
    while True:  # a page at a time by key (plain queries: a repair may be written between pages)
        page = conn.execute("SELECT camera_id, record_id FROM records WHERE purged_at IS NULL AND "
                            "(camera_id, record_id) > (%s, %s) ORDER BY camera_id, record_id LIMIT %s",
                            (*after, _PAGE)).fetchall()
        for key in page:
            if key not in seen:
                yield key
        if len(page) < _PAGE:
            return
        after = page[-1]


def check_row(store, camera_id: str, record_id: str, authority: AuthorityPublic,
              registry: str = AUTHORITY_REGISTRY) -> RowRepair:
    """The :class:`RowRepair` of the live row ``(camera_id, record_id)`` of ``store`` (a PostgresVault);
    ``registry`` names ``authority``'s list of cameras in a refusal."""
    values = store.conn.execute(f"SELECT {BOUNDED_INDEX_COLUMNS} FROM records WHERE camera_id = %s AND "
                                "record_id = %s AND purged_at IS NULL", (camera_id, record_id)).fetchone()
    try:
        if values is None:
            raise RecordError("the row is gone or purged")
        row = checked_index_row(values)
        data = store.read(record_id, camera_id)
        parsed = verify_record(data, authority.authority_id, authority_cameras(authority), record_id,
                               registry=registry)
        header_camera = parsed.header["camera_id"]
        logged = store.logged_digests([record_id], header_camera)
        digest = hashlib.sha256(data).hexdigest()
        if logged.get(record_id) != digest:
            raise RecordError(f"no 'received' entry of camera {header_camera!r} logs these bytes (sha256 "
                              f"{digest[:16]}...): only a row whose record arrived as it is now is rewritten")
    except RecordError as err:
        text = str(err)
        return RowRepair(camera_id, record_id, problem=text.split(": ", 1)[1] if text.startswith("record ") else text)
    true_row = IndexRow.from_header(parsed.header, len(data), digest)
    changes = {c: (getattr(row, c), getattr(true_row, c)) for c in COLUMNS if getattr(row, c) != getattr(true_row, c)}
    return RowRepair(camera_id, record_id, changes, None, true_row)


def planned_repairs(store, authority: AuthorityPublic, every_row: bool = False,
                    registry: str = AUTHORITY_REGISTRY) -> Iterator[RowRepair]:
    """Each candidate row that differs from its signed header, or cannot be checked; rows equal to
    their record's are passed over. ``authority`` registers the cameras' keys (a trusted file, see
    :func:`facesel.central.verify.authority_for_reading`); ``registry`` names it in refusals."""
    for camera_id, record_id in _candidates(store.conn, every_row):
        checked = check_row(store, camera_id, record_id, authority, registry)
        if checked.problem or checked.changes:
            yield checked


def apply_repair(store, repair: RowRepair) -> dict:
    """Rewrite the row of ``repair`` to its signed header's and log a ``row-repaired`` entry, in one
    transaction; the entry. RecordError when the store refuses it (the row changed meanwhile, the
    guard of migration 7, another row under the header's camera and id)."""
    if repair.problem or not repair.changes or repair.true_row is None:
        raise ValueError(f"record {repair.record_id}: nothing to repair ({repair.problem or 'the row is its record'})")
    true_row = repair.true_row
    assignments = ", ".join(f"{c} = %s" for c in COLUMNS)
    try:
        with store.conn.transaction():
            store.conn.execute("SELECT pg_advisory_xact_lock(%s)", (AUDIT_LOCK,))
            done = store.conn.execute(
                f"UPDATE records SET {assignments} WHERE camera_id = %s AND record_id = %s AND purged_at IS NULL "
                "RETURNING record_id", (*(getattr(true_row, c) for c in COLUMNS), repair.camera_id,
                                        repair.record_id)).fetchone()
            if done is None:
                raise RecordError(f"record {repair.record_id} of camera {repair.camera_id}: the row is gone or was "
                                  "purged meanwhile")
            return pg_audit.append(store.conn, store.clock(), "row-repaired", record_id=true_row.record_id,
                                   camera_id=true_row.camera_id, sha256=true_row.sha256,
                                   changed={c: [_loggable(old), _loggable(new)]
                                            for c, (old, new) in repair.changes.items()})
    except psycopg.errors.RaiseException as err:  # the guard: the update is not toward the log
        raise RecordError(f"record {repair.record_id} of camera {repair.camera_id}: the store refused the repair "
                          f"({str(err).splitlines()[0]})") from None
    except psycopg.errors.UniqueViolation:
        raise RecordError(f"record {repair.record_id}: camera {true_row.camera_id} already has a row under this id; "
                          f"the row of camera {repair.camera_id} is left as it is") from None
