"""The central store's live rows compared with their records' ``received`` entries.

A row's camera, seal time, epoch, size and digest are copied from the record's signed header on
arrival, and the same values are logged in the record's ``received`` entry of the hash-chained log
in the same transaction. The row is the tables' owner's word afterwards: a row dated *later* was
never purged (the purge took its candidates from the rows' time), and nothing compared it with
its arrival (review round 12b's open item, closed in round 13a). A row relabelled to another camera
has no ``received`` entry of its own. This module names both, for ``facesel central audit``, and
gives ``facesel central repair-rows`` its candidates.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from facesel.central.pg_schema import INDEXED_RECEIVED_LINE
from facesel.central.verify import format_time

# The fields a received entry logs that the row copies (the row's column of the same name).
LOGGED = ("sealed_at", "epoch_id", "size", "sha256")
_RECEIVED = f"a.event = 'received' AND octet_length(a.line) <= {INDEXED_RECEIVED_LINE}"


@dataclass(frozen=True)
class Drift:
    """One live row that disagrees with the log: ``camera_id`` and ``record_id`` are the row's key;
    ``columns`` the columns that differ from its ``received`` entry (empty when no entry of the
    row's camera logs the id: ``logged_cameras`` then names the cameras the log gives it)."""

    camera_id: str
    record_id: str
    columns: tuple[str, ...]
    row_sealed_at: float
    logged_sealed_at: float | None
    logged_cameras: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for ``central audit`` and ``central repair-rows --dry-run``."""
        if not self.columns:
            where = (f"the log records it as received from camera(s) {', '.join(self.logged_cameras)}"
                     if self.logged_cameras else "no 'received' entry logs it at all (a row inserted past the log)")
            return (f"record {self.record_id} of camera {self.camera_id}: no 'received' entry of this camera logs "
                    f"this row; {where} (a row relabelled to another camera?)")
        when = "" if "sealed_at" not in self.columns else (
            f": its row says sealed at {format_time(self.row_sealed_at)}, its 'received' entry logged "
            f"{'no time' if self.logged_sealed_at is None else format_time(self.logged_sealed_at)}")
        return (f"record {self.record_id} of camera {self.camera_id}: its row disagrees with its 'received' entry "
                f"({', '.join(self.columns)}){when}; the row was moved (retention, listings and openings go by the "
                "log; rewrite the row from its signed header with 'facesel central repair-rows')")


def drifted_rows(conn: psycopg.Connection) -> list[Drift]:
    """Every live row whose camera and id have a ``received`` entry that logs other values of
    :data:`LOGGED`, and every live row no ``received`` entry of its camera logs; by camera and id.

    Two joins by the ``record_id`` indexes over the live rows (the store's rows within retention),
    as ``central audit``'s other record checks."""
    fields = ", ".join(f"r.{c}" for c in LOGGED)
    logged = ", ".join(f"facesel_entry_{'field' if c == 'sha256' else 'number'}(a.line, '{c}')" for c in LOGGED)
    moved = conn.execute(
        f"SELECT r.camera_id, r.record_id, {fields}, {logged} FROM records r JOIN audit a ON {_RECEIVED} AND "
        "a.record_id = r.record_id AND facesel_entry_field(a.line, 'camera_id') = r.camera_id "
        f"WHERE r.purged_at IS NULL AND ({fields}) IS DISTINCT FROM ({logged}) "
        "ORDER BY r.camera_id, r.record_id").fetchall()
    out = []
    for camera_id, record_id, *values in moved:
        row, log = values[:len(LOGGED)], values[len(LOGGED):]
        columns = tuple(c for c, mine, theirs in zip(LOGGED, row, log) if mine != theirs)
        out.append(Drift(camera_id, record_id, columns, row[0], log[0]))
    unlogged = conn.execute(
        "SELECT r.camera_id, r.record_id, r.sealed_at, (SELECT array_agg(DISTINCT facesel_entry_field(a.line, "
        f"'camera_id')) FROM audit a WHERE {_RECEIVED} AND a.record_id = r.record_id) FROM records r "
        "WHERE r.purged_at IS NULL AND NOT EXISTS (SELECT 1 FROM audit a WHERE a.event = 'received' AND "
        "a.record_id = r.record_id AND coalesce(facesel_entry_field(a.line, 'camera_id'), r.camera_id) = "
        "r.camera_id) ORDER BY r.camera_id, r.record_id").fetchall()
    out += [Drift(camera_id, record_id, (), sealed_at, None, tuple(sorted(c for c in (cams or []) if c)))
            for camera_id, record_id, sealed_at, cams in unlogged]
    return out
