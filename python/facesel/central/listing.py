"""The central store's rows, each checked against its signed record, for ``facesel central list``.

A store's rows are its word: whoever writes its tables can relabel a row (another camera, another
seal time) or add a row whose record is signed by a key only the store's ``cameras`` table knows.
An opening refuses such rows (review round 10b, findings 1 and 5); a listing printed them like any
other (10b's open item, closed in 10c). Here every row streamed from the store is checked as an
opening checks it (:func:`facesel.central.verify.verify_row`: the record's camera signature under
the key the authority's signed ``authority.pub`` registered, the row equal to the one its signed
header makes, its digests, its seal time), which needs no private key; the rows are never kept, so
a listing still holds one page of the store's cursor and one record at a time. A genuine row of a
camera whose key the authority revoked, which arrived after the revocation's time, is yielded with
the reason it is flagged (:mod:`facesel.central.arrivals`, review round 11).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

from facesel.central.arrivals import late_arrivals
from facesel.central.backend import Selection
from facesel.central.verify import verify_row
from facesel.vault.errors import RecordError
from facesel.vault.index import IndexRow
from facesel.vault.keys import AuthorityPublic


@dataclass(frozen=True)
class CheckedRow:
    """One store row and the outcome of its check: ``problem`` is None when the row is its record's
    and the record verifies, else the reason (naming the record) it must not be taken as genuine."""

    row: IndexRow
    problem: str | None
    #: Why the row, genuine, is flagged: it arrived after its camera's key was revoked
    #: (:func:`facesel.central.arrivals.late_arrivals`, review round 11); None when not.
    after_revocation: str | None = None


def checked_rows(store, selection: Selection, authority: AuthorityPublic, registry: str,
                 now: float | None = None) -> Iterator[CheckedRow]:
    """Each row of ``selection`` in ``store`` (a :class:`~facesel.central.pg_backend.PostgresVault`),
    as the store's cursor yields it, with the outcome of checking it against its record.

    Parameters
    ----------
    store : PostgresVault
        The store; its ``iter_rows`` cursor stays open while this is iterated, and each record's
        bytes and its logged digest are read beside it (reads only: nothing is written meanwhile).
    selection : Selection
        The rows to list (by the store's columns; a row relabelled into it is reported, not listed).
    authority : AuthorityPublic
        Whose registered cameras' keys and epochs the records are checked against
        (:func:`facesel.central.verify.authority_for_reading`), never the store's ``cameras`` table.
    registry : str
        How a refusal names ``authority``'s list of cameras (the authority's file, or the store's copy).
    now : float, optional
        Unix seconds a seal time may not lie ahead of (beyond the readers' tolerance); default the
        clock when the listing starts.
    """
    now = time.time() if now is None else now
    rows = store.iter_rows(selection)
    try:
        for row in rows:
            try:
                verify_row(store.read(row.record_id, row.camera_id), row, authority,
                           store.logged_digests([row.record_id], row.camera_id), now, registry)
            except RecordError as err:
                # parse_record's messages ("not a facesel record ...") do not name the record
                named = str(err).startswith(f"record {row.record_id}")
                yield CheckedRow(row, str(err) if named else f"record {row.record_id}: {err}")
            else:
                late = late_arrivals(store, [row], authority)  # no query unless the camera's key is revoked
                yield CheckedRow(row, None, next(iter(late.values()), None))
    finally:
        rows.close()  # the cursor's transaction ends with the listing, as PostgresVault.rows() does
