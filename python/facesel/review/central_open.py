"""An opening of the central store held in memory: the order of
:func:`facesel.central.opening.open_from` (verify every record, decrypt in memory, log), with
nothing written but the log entries: the store's ``open`` entry, and the same in the authority's
own log (naming the store's entry), before anything can be shown."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from facesel.central.arrivals import late_arrivals
from facesel.central.backend import Selection, VaultBackend
from facesel.central.verify import authority_for_opening, verify_row
from facesel.review.memory_open import Opening, checked_request, logged_records, record_key, record_key_of
from facesel.review.sources import desk_late_refusal
from facesel.vault.errors import RecordError
from facesel.vault.audit import AuditLog
from facesel.vault.keys import AuthorityPublic, Keystore
from facesel.vault.opening import EpochSecrets, OpenedRecord
from facesel.vault.payload import decode_snapshot
from facesel.vault.record import open_record


def open_central(store: VaultBackend, lock: threading.Lock, keystore: Keystore, master: bytes, shares: Sequence[int],
                 records: Sequence[tuple[str, str]], case: str, reason: str, opened_by: str,
                 clock: Callable[[], float] = time.time, acknowledged: str | None = None) -> Opening:
    """Verify, decrypt and log the opening of ``records`` (``(camera_id, record_id)`` pairs) of the
    central ``store``.

    A record that arrived after its camera's key was revoked
    (:func:`facesel.central.arrivals.late_arrivals`) is opened only when ``acknowledged`` holds the
    words the investigator acknowledged in the page; the ``open`` entries then name it
    (``after_revocation``, as ``central open --allow-after-revocation`` does) with those words
    (``after_revocation_acknowledged``), and so does the bundle.

    Raises
    ------
    ValueError
        An empty case or reason, no record, or records the store does not hold.
    RecordError, EpochUnavailableError
        From the checks, or a late arrival not acknowledged; nothing is logged then.
    """
    case, reason = checked_request(case, reason, records)
    wanted = {tuple(key) for key in records}
    with lock:
        found = store.rows(Selection(record_ids=tuple(sorted({rid for _, rid in wanted}))))
        rows = [row for row in found if record_key_of(row) in wanted]  # an id alone may be several cameras'
        missing = sorted(wanted - {record_key_of(r) for r in rows})
        if missing:
            raise ValueError(f"records not in {store.location}: "
                             f"{', '.join(f'{rid} of camera {camera}' for camera, rid in missing)}")
        logged = store.logged_by_camera(rows)
        trusted = authority_for_opening(keystore, store.authority)  # the cameras' keys: not the store's table
        late = late_arrivals(store, rows, trusted)
        if late and not acknowledged:
            raise RecordError(desk_late_refusal(late))
        parsed_rows = []
        for row in rows:  # every record checked before any is decrypted
            data = store.read(row.record_id, row.camera_id)
            parsed_rows.append((row, verify_row(data, row, trusted, logged[row.camera_id], clock()), data))
    secrets = EpochSecrets(keystore, master)
    opened, sealed, keys = [], {}, {}
    for row, parsed, data in parsed_rows:
        secret = secrets.of(parsed.epoch_id, row.record_id)
        payload = open_record(parsed, secret)
        opened.append(OpenedRecord(row, parsed.header, decode_snapshot(payload, row.record_id)))
        sealed[record_key_of(row)] = data
        keys[record_key_of(row)] = record_key(parsed, secret)
    secrets.clear()
    signer = keystore.signer(master)
    fields = {"opened_by": opened_by.strip() or "unknown", "reason": reason, "case": case, "shares": list(shares),
              "record_ids": [r.row.record_id for r in opened], "records": logged_records(opened), "via": "review"}
    if late:  # as central open's flag writes it, and the words the investigator acknowledged
        fields["after_revocation"] = sorted(rid for _, rid in late)
        fields["after_revocation_records"] = sorted(list(key) for key in late)  # an id alone may be two cameras'
        fields["after_revocation_acknowledged"] = acknowledged

    def log_to(event: str, acting, **more) -> dict:
        with lock:
            return store.append_audit(event, signer=acting, **more)

    entry = log_to("open", signer, **fields)
    authority_log = keystore.path.parent / "audit.log"
    authority_entry = AuditLog(authority_log, clock, signer).append(
        "open", store=store.location, central_seq=entry["seq"], central_entry=entry["hash"], **fields)
    return Opening(None, None, authority_with_cameras(keystore, store), opened, sealed, keys, entry,
                   authority_entry, signer, case, reason, list(shares), authority_log, clock, log_to=log_to,
                   store_location=store.location, after_revocation=dict(late) if late else {},
                   acknowledgement=acknowledged if late else None)


def authority_with_cameras(keystore: Keystore, store: VaultBackend) -> AuthorityPublic:
    """The authority file a bundle's reader needs (it registers every enrolled camera): the one the
    opening took the cameras' keys from (:func:`facesel.central.verify.authority_for_opening`)."""
    return authority_for_opening(keystore, store.authority)
