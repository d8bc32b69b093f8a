"""An opening of the central store held in memory: the order of
:func:`facesel.central.opening.open_from` (verify every record, decrypt in memory, log), with
nothing written but the log entries: the store's ``open`` entry, and the same in the authority's
own log (naming the store's entry), before anything can be shown."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from facesel.central.arrivals import late_arrivals
from facesel.central.backend import Selection, VaultBackend, ids_of_several_cameras
from facesel.central.verify import authority_for_opening, verify_row
from facesel.review.memory_open import Opening, checked_request, record_key
from facesel.review.sources import desk_refusal
from facesel.vault.errors import RecordError
from facesel.vault.audit import AuditLog
from facesel.vault.keys import AuthorityPublic, Keystore
from facesel.vault.opening import EpochSecrets, OpenedRecord
from facesel.vault.payload import decode_snapshot
from facesel.vault.record import open_record


def open_central(store: VaultBackend, lock: threading.Lock, keystore: Keystore, master: bytes, shares: Sequence[int],
                 record_ids: Sequence[str], case: str, reason: str, opened_by: str,
                 clock: Callable[[], float] = time.time) -> Opening:
    """Verify, decrypt and log the opening of ``record_ids`` of the central ``store``.

    Raises
    ------
    ValueError
        An empty case or reason, no record, or ids the store does not hold.
    RecordError, EpochUnavailableError
        From the checks; nothing is logged then.
    """
    case, reason = checked_request(case, reason, record_ids)
    with lock:
        rows = store.rows(Selection(record_ids=tuple(record_ids)))
        missing = sorted(set(record_ids) - {r.record_id for r in rows})
        if missing:
            raise ValueError(f"record ids not in {store.location}: {', '.join(missing)}")
        logged = store.logged_by_camera(rows)
        trusted = authority_for_opening(keystore, store.authority)  # the cameras' keys: not the store's table
        # Not opened here (review round 11): a record that arrived after its camera's key was
        # revoked, and an id several cameras hold (the desk names records by id).
        late, shared = late_arrivals(store, rows, trusted), ids_of_several_cameras(rows)
        for row in rows:
            refusal = desk_refusal(row, late, shared)
            if refusal:
                raise RecordError(refusal)
        parsed_rows = []
        for row in rows:  # every record checked before any is decrypted
            data = store.read(row.record_id, row.camera_id)
            parsed_rows.append((row, verify_row(data, row, trusted, logged[row.camera_id], clock()), data))
    secrets = EpochSecrets(keystore, master)
    records, sealed, keys = [], {}, {}
    for row, parsed, data in parsed_rows:
        secret = secrets.of(parsed.epoch_id, row.record_id)
        payload = open_record(parsed, secret)
        records.append(OpenedRecord(row, parsed.header, decode_snapshot(payload, row.record_id)))
        sealed[row.record_id] = data
        keys[row.record_id] = record_key(parsed, secret)
    secrets.clear()
    signer = keystore.signer(master)
    fields = {"opened_by": opened_by.strip() or "unknown", "reason": reason, "case": case, "shares": list(shares),
              "record_ids": [r.row.record_id for r in records], "via": "review"}

    def log_to(event: str, acting, **more) -> dict:
        with lock:
            return store.append_audit(event, signer=acting, **more)

    entry = log_to("open", signer, **fields)
    authority_log = keystore.path.parent / "audit.log"
    authority_entry = AuditLog(authority_log, clock, signer).append(
        "open", store=store.location, central_seq=entry["seq"], central_entry=entry["hash"], **fields)
    return Opening(None, None, authority_with_cameras(keystore, store), records, sealed, keys, entry,
                   authority_entry, signer, case, reason, list(shares), authority_log, clock, log_to=log_to,
                   store_location=store.location)


def authority_with_cameras(keystore: Keystore, store: VaultBackend) -> AuthorityPublic:
    """The authority file a bundle's reader needs (it registers every enrolled camera): the one the
    opening took the cameras' keys from (:func:`facesel.central.verify.authority_for_opening`)."""
    return authority_for_opening(keystore, store.authority)
