"""Records of a revoked camera that reached the store after its key was revoked (review round 11).

``facesel authority revoke-camera --from T`` makes every reader refuse a record that camera sealed
at or after T (:func:`facesel.vault.identity.check_not_revoked`). The seal time is the key
holder's word, though: a thief holding the stolen key seals new faces dated before T, and they
pass. What the thief does not set is when the record reached the central store: the row's
``received_at`` is the server's clock since schema 6, and the ``received`` entry of the
hash-chained log carries its own time (:meth:`facesel.central.pg_backend.PostgresVault.arrival_times`
takes the later of the two). A record of a revoked camera that arrived after T is either an
honest record the camera had not yet forwarded when it was stolen, or a backdated one of the
thief's: nothing in the record tells them apart. So it is *flagged*: ``central list`` marks it,
the desk refuses it, and ``central open`` opens it only with ``--allow-after-revocation``, which
the signed ``open`` entry then names.

What this cannot catch (docs/central.md, "Revoking a camera key"): the flag compares the arrival
with T, the time the key is revoked *from*, not with when the revocation was signed. A record the
thief sealed and delivered before T is not flagged: when T is later than the real theft (the
default of ``revoke-camera`` is the moment it is run), every backdated record delivered between
the theft and T is indistinguishable from the camera's own. Give ``--from`` the earliest time the
key may have left the operator's hands. The store's owner together with the thief could lower
both times (the row, and the log behind the anchors the stolen camera kept); an external witness
of the log's head (``facesel central head``) shows the log's rewrite.
"""

from __future__ import annotations

from collections.abc import Sequence

from facesel.central.backend import VaultBackend
from facesel.central.verify import format_time
from facesel.vault.index import IndexRow
from facesel.vault.keys import AuthorityPublic

#: The ``central open`` flag that opens such records knowingly.
OPEN_FLAG = "--allow-after-revocation"


def late_arrivals(store: VaultBackend, rows: Sequence[IndexRow], authority: AuthorityPublic) \
        -> dict[tuple[str, str], str]:
    """The rows of ``rows`` whose camera's key ``authority`` revoked and which arrived in ``store``
    after the revocation's time: ``{(camera_id, record_id): why}`` (the why names the record).

    Rows of cameras without a revocation cost nothing (no query). A row whose arrival time the
    store cannot give as a number (its owner edited both) is flagged too: unknown is not "before".
    A store that keeps no arrival time (a camera's vault folder) flags nothing.
    """
    revoked = {row.camera_id: authority.revoked_from(row.camera_id) for row in rows}
    keys = [(row.camera_id, row.record_id) for row in rows if revoked[row.camera_id] is not None]
    if not keys:
        return {}
    times = store.arrival_times(keys)
    flagged = {}
    for row in rows:
        since, key = revoked[row.camera_id], (row.camera_id, row.record_id)
        if since is None or key not in times or row.sealed_at >= since:
            continue  # sealed at or after the time: refused outright (check_not_revoked), flag or not
        arrived = times[key]
        if arrived is not None and arrived <= since:
            continue
        when = "at an unknown time" if arrived is None else f"at {format_time(arrived)}"
        flagged[key] = (f"record {row.record_id}: arrived in the store {when}, after the authority revoked camera "
                        f"{row.camera_id!r}'s key (from {format_time(since)}; authority.pub serial "
                        f"{authority.serial}); its seal time {format_time(row.sealed_at)} is the key holder's word, so "
                        "it may be a backdated record of whoever took the key, or one the camera had not forwarded "
                        "yet: nothing in it tells which")
    return flagged
