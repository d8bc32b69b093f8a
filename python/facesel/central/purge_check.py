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
    (the retention's limit), given the seal times its ``received`` entries logged; None to purge it."""
    camera_id, record_id = key
    if not logged:
        return (f"record {record_id} of camera {camera_id}: its row says it expired, but no 'received' entry of "
                "it logs a seal time; kept (a row the log does not vouch for is never purged as routine)")
    if logged != {row_sealed_at} or max(logged) >= cutoff:
        times = ", ".join(f"{t:.3f}" for t in sorted(logged))
        return (f"record {record_id} of camera {camera_id}: its row's seal time {row_sealed_at:.3f} disagrees with "
                f"the one its 'received' entry logged ({times}) from its signed header; kept (a backdated row?), "
                "check the store with 'facesel central audit'")
    return None
