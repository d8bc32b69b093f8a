"""The records a selection of the central store should hold, by its hash-chained log.

A selection by camera or seal-time window is made by the ``records`` table's ``camera_id`` and
``sealed_at``, the tables' owner's word. Review 10b refused rows moved *into* a scope (each chosen
row must equal its record's signed header); a row moved *out* (its time a month back, its camera
relabelled) was never chosen, so never checked, and a court's opening of a camera and a window
left the record out without a word (review round 12, finding 3). The ``received`` entry of each
record logs its camera and seal time as its signed header gave them on arrival; the log is
hash-chained, and a witness of its head shows a rewrite. This module names the records the log
puts in a selection that the rows do not: received there, not logged as purged, and without a row
in it now.
"""

from __future__ import annotations

import psycopg

from facesel.central.backend import Selection
from facesel.central.purge_check import entry_number
from facesel.central.read_limit import MAX_RECEIVED_LINE, row_limit, too_many_rows
from facesel.vault.timeparse import format_time

_SEALED = entry_number("a", "sealed_at")


def unrowed_in_scope(conn: psycopg.Connection, selection: Selection, location: str) -> list[str]:
    """One line per record the log records as received in ``selection``'s cameras and window, and
    not as purged since, that has no row (not purged) in the selection now; TooManyRows past
    :func:`row_limit` of them. Asked after the rows were read: a record received meanwhile has its
    row, and a purge meanwhile is logged in the transaction that marks the row."""
    sql = (f"SELECT facesel_entry_field(a.line, 'camera_id') AS camera, a.record_id, {_SEALED} FROM audit a "
           "WHERE a.event = 'received' AND octet_length(a.line) <= %s AND NOT EXISTS (SELECT 1 FROM audit p WHERE "
           "p.event = 'purge' AND p.record_id = a.record_id AND coalesce(facesel_entry_field(p.line, 'camera_id'), "
           "facesel_entry_field(a.line, 'camera_id')) = facesel_entry_field(a.line, 'camera_id'))")
    rows_sql = ("SELECT 1 FROM records r WHERE r.record_id = a.record_id AND r.camera_id = "
                "facesel_entry_field(a.line, 'camera_id') AND r.purged_at IS NULL")
    args: list = [MAX_RECEIVED_LINE]
    row_args: list = []
    if selection.camera_ids is not None:
        sql += " AND facesel_entry_field(a.line, 'camera_id') = ANY(%s)"
        args.append(list(selection.camera_ids))
        rows_sql += " AND r.camera_id = ANY(%s)"
        row_args.append(list(selection.camera_ids))
    for bound, op in ((selection.start, ">="), (selection.end, "<=")):
        if bound is not None:
            sql += f" AND {_SEALED} {op} %s"
            args.append(bound)
            rows_sql += f" AND r.sealed_at {op} %s"
            row_args.append(bound)
    limit = row_limit()
    found = conn.execute(f"{sql} AND NOT EXISTS ({rows_sql}) ORDER BY a.seq LIMIT %s",
                         [*args, *row_args, limit + 1]).fetchall()
    if len(found) > limit:
        raise too_many_rows(location, limit)
    return [f"record {record_id} of camera {camera_id}: the store's log records it as received, sealed at "
            f"{format_time(sealed_at)} (inside this selection), but no row of it is in the selection: its row was "
            "moved out (time or camera rewritten), deleted, or marked purged without a logged purge; check the store "
            "with 'facesel central audit'"
            for camera_id, record_id, sealed_at in found if camera_id is not None and record_id is not None
            and sealed_at is not None]
