"""The records a selection of the central store should hold, by its hash-chained log.

A selection by camera or seal-time window is made by the ``records`` table's ``camera_id`` and
``sealed_at``, the tables' owner's word. Review 10b refused rows moved *into* a scope (each chosen
row must equal its record's signed header); a row moved *out* (its time a month back, its camera
relabelled) was never chosen, so never checked, and a court's opening of a camera and a window
left the record out without a word (review round 12b, finding 3). The ``received`` entry of each
record logs its camera and seal time as its signed header gave them on arrival; the log is
hash-chained, and a witness of its head shows a rewrite. This module names the records the log
puts in a selection that the rows do not: received there, not logged as purged, and without a row
in it now.
"""

from __future__ import annotations

import psycopg

from facesel.central.backend import Selection
from facesel.central.pg_schema import INDEXED_RECEIVED_LINE
from facesel.central.read_limit import row_limit, too_many_rows
from facesel.vault.timeparse import format_time

# The expressions of migration 7's indexes, word for word (the planner matches them as written).
_CAMERA = "facesel_entry_field(a.line, 'camera_id')"
_SEALED = "facesel_entry_number(a.line, 'sealed_at')"
_RECEIVED = f"a.event = 'received' AND octet_length(a.line) <= {INDEXED_RECEIVED_LINE}"


def scope_query(selection: Selection) -> tuple[str, list]:
    """(SQL, arguments) of the ``received`` entries ``(camera_id, record_id, sealed_at)`` of
    ``selection``'s ids, cameras and window, in log order.

    Since migration 7 (review round 13a) the entries are indexed by camera and seal time (and by seal
    time alone, and by id since schema 1), so a camera and a window read the window's entries; a
    selection of everything reads the whole log (:func:`unrowed_anywhere` is its check)."""
    sql = f"SELECT {_CAMERA}, a.record_id, {_SEALED} FROM audit a WHERE {_RECEIVED}"
    args: list = []
    if selection.record_ids is not None:
        sql += " AND a.record_id = ANY(%s)"
        args.append(list(selection.record_ids))
    if selection.camera_ids is not None:
        sql += f" AND {_CAMERA} = ANY(%s)"
        args.append(list(selection.camera_ids))
    for bound, op in ((selection.start, ">="), (selection.end, "<=")):
        if bound is not None:
            sql += f" AND {_SEALED} {op} %s"
            args.append(bound)
    return sql + " ORDER BY a.seq", args


def unrowed_in_scope(conn: psycopg.Connection, selection: Selection, location: str) -> list[str]:
    """One line per record the log records as received in ``selection``'s ids, cameras and window,
    and not as purged since, that has no row (not purged) in the selection now; TooManyRows past
    :func:`row_limit` of *those*. Asked after the rows were read: a record received meanwhile has its
    row, and a purge meanwhile is logged in the transaction that marks the row.

    Plain queries, compared here: one scan of the selection's ``received`` entries through a cursor
    (by migration 7's index: the window's entries, not the log's), then per page the purges and the
    rows of its ids alone, by the ``record_id`` indexes. One query joining them was left to the
    planner, which without fresh statistics scanned a camera's every row for each entry: 50 s for
    20,000 records. A selection of everything goes to :func:`unrowed_anywhere`."""
    if selection.is_empty():
        return unrowed_anywhere(conn, location)
    if selection.record_ids is None and selection.start is None and selection.end is None:
        return unrowed_of_cameras(conn, selection.camera_ids, location)
    sql, args = scope_query(selection)
    limit, missing = row_limit(), []
    # Through a server-side cursor, a page at a time: a camera's history may be long; only what is
    # missing is kept.
    with conn.transaction(), conn.cursor(name="facesel_scope") as cursor:
        cursor.itersize = _PAGE
        cursor.execute(sql, args)
        while True:
            page = cursor.fetchmany(_PAGE)
            if not page:
                return missing
            missing += _unrowed(conn, selection, page)
            if len(missing) > limit:
                raise too_many_rows(location, limit)


def unrowed_anywhere(conn: psycopg.Connection, location: str) -> list[str]:
    """:func:`unrowed_in_scope` of the whole store (``central open --all``, an unfiltered ``central
    list``, the desk's find without a window): each record logged as received, not logged as purged,
    that has no live row of its camera. One anti-join in the server by the ``record_id`` indexes,
    which returns only what is missing (at most :func:`row_limit` plus one), so a log of every
    arrival since the store began is read by the server, never sent (review round 13a)."""
    limit = row_limit()
    rows = conn.execute(
        f"SELECT {_CAMERA}, a.record_id, {_SEALED} FROM audit a WHERE {_RECEIVED} AND {_CAMERA} IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM records r WHERE r.record_id = a.record_id AND r.camera_id = "
        f"{_CAMERA} AND r.purged_at IS NULL) AND NOT EXISTS (SELECT 1 FROM audit p WHERE p.event = 'purge' "
        f"AND p.record_id = a.record_id AND coalesce(facesel_entry_field(p.line, 'camera_id'), {_CAMERA}) = "
        f"{_CAMERA}) ORDER BY a.seq LIMIT %s", (limit + 1,)).fetchall()
    if len(rows) > limit:
        raise too_many_rows(location, limit)
    return [_line(camera_id, record_id, sealed_at) for camera_id, record_id, sealed_at in rows
            if record_id is not None]


def unrowed_of_cameras(conn: psycopg.Connection, camera_ids: tuple[str, ...], location: str) -> list[str]:
    """:func:`unrowed_in_scope` of whole cameras (no window, no ids: ``central open --camera C``,
    ``central list --camera C``, the desk's find of a camera without a window), in log order.

    A camera's history is every arrival since it was registered. The window's path sent each of
    its ``received`` entries to this process, a page at a time, each line parsed twice in the
    server, with two more queries a page (review round 14a, finding 4: 1,000 entries sent and
    2,000 line fields parsed, the log and the rows scanned whole, to report 5 records missing). Here
    one anti-join a camera runs in the server, as :func:`unrowed_anywhere` does for the whole store:
    the camera's entries by migration 7's index (their camera is the index key, not parsed again),
    each row and purge looked up by the ``record_id`` indexes, and only what is missing (at most
    :func:`row_limit` plus one) parsed and sent."""
    limit, found = row_limit(), []
    for camera_id in dict.fromkeys(camera_ids):  # a camera named twice is checked once
        rows = conn.execute(
            f"SELECT a.seq, a.record_id, {_SEALED} FROM audit a WHERE {_RECEIVED} AND {_CAMERA} = %(camera)s "
            "AND NOT EXISTS (SELECT 1 FROM records r WHERE r.record_id = a.record_id AND r.camera_id = %(camera)s "
            "AND r.purged_at IS NULL) AND NOT EXISTS (SELECT 1 FROM audit p WHERE p.event = 'purge' AND p.record_id = "
            "a.record_id AND coalesce(facesel_entry_field(p.line, 'camera_id'), %(camera)s) = %(camera)s) "
            "ORDER BY a.seq LIMIT %(limit)s", {"camera": camera_id, "limit": limit + 1 - len(found)}).fetchall()
        found += [(seq, camera_id, record_id, sealed_at) for seq, record_id, sealed_at in rows]
        if len(found) > limit:
            raise too_many_rows(location, limit)
    return [_line(camera_id, record_id, sealed_at) for _, camera_id, record_id, sealed_at in sorted(found)
            if record_id is not None]


def _line(camera_id: str, record_id: str, sealed_at: float | None) -> str:
    when = "at a time it does not say" if sealed_at is None else format_time(sealed_at)
    return (f"record {record_id} of camera {camera_id}: the store's log records it as received, sealed at "
            f"{when} (inside this selection), but no row of it is in the selection: its row was "
            "moved out (time or camera rewritten), deleted, or marked purged without a logged purge; check the store "
            "with 'facesel central audit' (a moved row: 'facesel central repair-rows')")


_PAGE = 2000


def _unrowed(conn: psycopg.Connection, selection: Selection, page: list[tuple]) -> list[str]:
    """The lines of :func:`unrowed_in_scope` for one page of ``(camera_id, record_id, sealed_at)``."""
    logged = {(camera_id, record_id): sealed_at for camera_id, record_id, sealed_at in page
              if camera_id is not None and record_id is not None and sealed_at is not None
              and _inside(selection, sealed_at)}
    if not logged:
        return []
    ids = sorted({record_id for _, record_id in logged})
    purged = conn.execute("SELECT record_id, facesel_entry_field(line, 'camera_id') FROM audit WHERE event = 'purge' "
                          "AND record_id = ANY(%s)", (ids,)).fetchall()
    gone = {record_id for record_id, camera_id in purged if camera_id is None}  # a purge of any camera's id
    gone_keys = {(camera_id, record_id) for record_id, camera_id in purged if camera_id is not None}
    present = {(camera_id, record_id) for camera_id, record_id, sealed_at in conn.execute(
        "SELECT camera_id, record_id, sealed_at FROM records WHERE record_id = ANY(%s) AND purged_at IS NULL", (ids,))
        if (selection.record_ids is None or record_id in selection.record_ids)
        and (selection.camera_ids is None or camera_id in selection.camera_ids) and _inside(selection, sealed_at)}
    return [_line(camera_id, record_id, sealed_at)
            for (camera_id, record_id), sealed_at in logged.items()
            if (camera_id, record_id) not in present and record_id not in gone
            and (camera_id, record_id) not in gone_keys]


def _inside(selection: Selection, sealed_at: float) -> bool:
    """Whether ``sealed_at`` lies in the selection's window [start, end]."""
    return (selection.start is None or sealed_at >= selection.start) and \
        (selection.end is None or sealed_at <= selection.end)
