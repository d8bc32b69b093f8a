"""Which of the central store's expired-looking rows a retention purge may destroy.

The ``records`` table's ``sealed_at`` is the tables' owner's word (review 10b): a row backdated a
year made the routine ``central purge`` drop the ciphertext of a record sealed minutes before and
log it as an ordinary retention purge, which no audit could tell from a genuine one (review round
12, finding 2). The seal time a purge goes by is therefore the one the record's ``received`` entry
logged: taken from the record's signed header when it arrived, in the hash-chained log, which the
owner cannot rewrite unseen by a witness of its head. A row is purged only when that time is past
the retention too and agrees with the row; any other is kept and named.
"""

from __future__ import annotations

import json
import math

import psycopg

from facesel.central.read_limit import MAX_RECEIVED_LINE

Key = tuple[str, str]  # (camera_id, record_id)


def logged_seal_times(conn: psycopg.Connection, keys: list[Key]) -> dict[Key, set[float]]:
    """Every seal time the ``received`` entries of ``keys`` logged (an entry longer than a genuine one,
    or whose fields are no camera, id and finite time, counts for nothing: the row is then kept)."""
    if not keys:
        return {}
    lines = conn.execute("SELECT line FROM audit WHERE event = 'received' AND record_id = ANY(%s) "
                         "AND octet_length(line) <= %s", ([k[1] for k in keys], MAX_RECEIVED_LINE)).fetchall()
    wanted, out = set(keys), {}
    for (line,) in lines:
        try:
            entry = json.loads(line)
            key, sealed_at = (entry["camera_id"], entry["record_id"]), float(entry["sealed_at"])
        except (ValueError, TypeError, KeyError):
            continue
        if key in wanted and math.isfinite(sealed_at):
            out.setdefault(key, set()).add(sealed_at)
    return out


def purge_refusal(key: Key, row_sealed_at: float, logged: set[float] | None, cutoff: float) -> str | None:
    """Why the row of ``key`` (sealed at ``row_sealed_at`` by its row) must not be purged at ``cutoff``
    (the retention's limit), given the seal times its ``received`` entries logged; None to purge it.

    The logged seal time decides (review round 13a): a row whose own time disagrees but whose logged
    seal time is past the retention is purged all the same (a row dated *later* was kept past its
    retention before), and its purge entry names both times."""
    camera_id, record_id = key
    if not logged:
        return (f"record {record_id} of camera {camera_id}: its row says it expired, but no 'received' entry of "
                "it logs a seal time; kept (a row the log does not vouch for is never purged as routine)")
    if len(logged) > 1 or max(logged) >= cutoff:
        times = ", ".join(f"{t:.3f}" for t in sorted(logged))
        return (f"record {record_id} of camera {camera_id}: its row's seal time {row_sealed_at:.3f} disagrees with "
                f"the one its 'received' entry logged ({times}) from its signed header; kept (a backdated row?), "
                "check the store with 'facesel central audit'")
    return None


def moved_later(conn: psycopg.Connection, cutoff: float, limit: int, after: Key = ("", "")) -> list[tuple]:
    """Live rows that look fresh by their own time (``sealed_at >= cutoff``) whose ``received`` entry
    logged a seal time before ``cutoff``: ``(record_id, blob_key, camera_id, sealed_at)``, at most
    ``limit``, by camera and id, after the key ``after`` (camera, id).

    A row dated later by the tables' owner escaped every purge, which took its candidates from the
    rows' time alone (review round 12b's open item, closed in 13a). One join of the live rows with
    their entries by the ``record_id`` index; the purge judges each by :func:`purge_refusal`."""
    from facesel.central.pg_schema import INDEXED_RECEIVED_LINE

    return conn.execute(
        "SELECT r.record_id, r.blob_key, r.camera_id, r.sealed_at FROM records r WHERE r.purged_at IS NULL AND "
        "r.sealed_at >= %s AND EXISTS (SELECT 1 FROM audit a WHERE a.event = 'received' AND octet_length(a.line) "
        f"<= {INDEXED_RECEIVED_LINE} AND a.record_id = r.record_id AND facesel_entry_field(a.line, 'camera_id') = "
        "r.camera_id AND facesel_entry_number(a.line, 'sealed_at') < %s) AND (r.camera_id, r.record_id) > (%s, %s) "
        "ORDER BY r.camera_id, r.record_id LIMIT %s", (cutoff, cutoff, *after, limit)).fetchall()


# A JSON number as text: only these are cast (an owner's garbage must not make the query fail).
_NUMBER = r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$"


def entry_number(alias: str, field: str) -> str:
    """SQL for ``field`` of the log line of table alias ``alias`` as a float8, NULL when it is no number."""
    value = f"facesel_entry_field({alias}.line, '{field}')"
    return f"(CASE WHEN {value} ~ '{_NUMBER}' THEN {value}::float8 END)"


def early_purges(conn: psycopg.Connection, retention_seconds: float) -> list[str]:
    """One line per ``purge`` entry (reason ``retention``) logged before the retention ran out on its
    record by the seal time the record's ``received`` entry logged, or naming another seal time.

    The central log is hash-chained, not signed: whoever writes the tables can append a well-chained
    ``purge`` and drop the ciphertext, and before review round 12b (finding 2) the store's own purge
    went by a row's time the owner could backdate. Either destroyed a fresh record under an entry
    that looked routine; this names each such entry (``facesel central audit``)."""
    sealed_a, sealed_p = entry_number("a", "sealed_at"), entry_number("p", "sealed_at")
    purged = entry_number("p", "time")
    rows = conn.execute(
        f"SELECT p.seq, p.record_id, facesel_entry_field(a.line, 'camera_id'), {sealed_a}, {sealed_p}, {purged} "
        "FROM audit p JOIN audit a ON a.event = 'received' AND a.record_id = p.record_id AND "
        "coalesce(facesel_entry_field(p.line, 'camera_id'), facesel_entry_field(a.line, 'camera_id')) = "
        "facesel_entry_field(a.line, 'camera_id') AND octet_length(a.line) <= %s "
        "WHERE p.event = 'purge' AND octet_length(p.line) <= %s AND "
        "facesel_entry_field(p.line, 'reason') = 'retention' AND "
        f"({sealed_p} IS DISTINCT FROM {sealed_a} OR {purged} IS NULL OR {purged} < {sealed_a} + %s) ORDER BY p.seq",
        (MAX_RECEIVED_LINE, MAX_RECEIVED_LINE, float(retention_seconds))).fetchall()
    out = []
    for seq, record_id, camera_id, logged, said, when in rows:
        if logged is None:
            continue  # a received entry edited past reading: the chain check names it
        if said != logged:
            out.append(f"record {record_id} of camera {camera_id}: purged (seq {seq}) as sealed at {said}, but its "
                       f"'received' entry logged a seal time of {logged:.3f} (a backdated row purged as routine?)")
        else:
            out.append(f"record {record_id} of camera {camera_id}: purged (seq {seq}) at {when}, before its retention "
                       f"ran out ({logged + retention_seconds:.3f}, by its logged seal time): erased early")
    return out
