"""A central-store evidence bundle made without a PostgreSQL server (no tests here).

:func:`central_bundle` does what the desk's opening of the central store does
(:func:`facesel.review.central_open.open_central`, then :func:`facesel.review.bundle.build_bundle`)
with the store's part played here: records sealed by real camera keys of a test authority, decrypted
with K shares, the store's ``open`` entry hashed as the store hashes it (the store's log is
hash-chained, not signed), and the authority's own signed ``open`` entry naming it. The bundle is
what the desk exports; for a forger, the authority is their own (the verifier then runs unpinned).
Pictures are synthetic arrays kept in memory (no face, nothing written but the sealed bundle).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from facesel.review.bundle import build_bundle
from facesel.review.memory_open import Opening, logged_records, record_key
from facesel.vault.audit import AuditLog
from facesel.vault.audit_format import _entry_hash
from facesel.vault.index import IndexRow
from facesel.vault.keys import AuthorityPublic, Keystore
from facesel.vault.opening import OpenedRecord
from facesel.vault.payload import decode_snapshot, encode_snapshot
from facesel.vault.record import make_header, open_record, parse_record, seal_record
from facesel.vault.signing import CameraKey
from test_vault_common import T0, FakeClock, add_camera, camera_dir, make_authority, master_of, track_result


@dataclass
class Sealed:
    """One record to put in the bundle: its camera, id, seal time and (optional) after-revocation note."""

    camera_id: str
    record_id: str
    sealed_at: float
    after_revocation: str | None = None


def central_authority(root: Path, cameras: tuple[str, ...] = ("cam-a", "cam-c")) -> Path:
    """A test authority (2 of 3, retention 30 days, epochs of a day from T0 - 2 days) registering ``cameras``."""
    adir = make_authority(root / "auth", camera_id=cameras[0])[1]
    for camera in cameras[1:]:
        add_camera(adir, camera)
    return adir


def central_bundle(adir: Path, records: list[Sealed], opened_at: float, case: str = "CASE-13c",
                   acknowledged: str | None = None) -> bytes:
    """The bundle of an opening of ``records`` at ``opened_at`` (the authority's clock), as the desk exports it."""
    authority = AuthorityPublic.load(adir / "authority.pub")
    keystore = Keystore(adir / "keystore")
    master = master_of(adir)
    opened, sealed, keys, late = [], {}, {}, {}
    for n, item in enumerate(records):
        epoch = authority.epoch_for(item.sealed_at)
        header = make_header(item.record_id, authority.authority_id, epoch.epoch_id, item.camera_id, item.sealed_at)
        crop = np.full((24, 20, 3), 40 + n, np.uint8)  # synthetic: a grey patch, not a face
        signer = CameraKey.load(camera_dir(adir, item.camera_id)).signer
        data = seal_record(header, encode_snapshot(track_result(crop), item.record_id), epoch.public_key, signer)
        parsed = parse_record(data)
        secret = keystore.unwrap(master, parsed.epoch_id)
        snapshot = decode_snapshot(open_record(parsed, secret), item.record_id)
        row = IndexRow.from_header(parsed.header, len(data), hashlib.sha256(data).hexdigest())
        opened.append(OpenedRecord(row, parsed.header, snapshot))
        key = (item.camera_id, item.record_id)
        sealed[key], keys[key] = data, record_key(parsed, secret)
        if item.after_revocation is not None:
            late[key] = item.after_revocation
    shares = [1, 2]
    fields = {"opened_by": "investigator", "reason": "court order 13c", "case": case, "shares": shares,
              "record_ids": [r.row.record_id for r in opened], "records": logged_records(opened), "via": "review"}
    if late:
        fields["after_revocation"] = sorted(rid for _, rid in late)
        fields["after_revocation_records"] = sorted(list(key) for key in late)
        fields["after_revocation_acknowledged"] = acknowledged
    entry = {"seq": 41, "time": opened_at, "event": "open", "prev": "0" * 64, "signer": "store", **fields}
    entry["hash"] = _entry_hash(entry)  # the store's log: hash-chained, not signed
    clock = FakeClock(opened_at)
    signer = keystore.signer(master)
    authority_log = adir / "audit.log"
    authority_entry = AuditLog(authority_log, clock, signer).append(
        "open", store="store@db:5432", central_seq=entry["seq"], central_entry=entry["hash"], **fields)
    opening = Opening(None, None, authority, opened, sealed, keys, entry, authority_entry, signer, case,
                      "court order 13c", shares, authority_log, clock, log_to=lambda *a, **k: {},
                      store_location="store@db:5432", after_revocation=late, acknowledgement=acknowledged)
    return build_bundle(opening, created=opened_at + 60)


__all__ = ["T0", "Sealed", "central_authority", "central_bundle"]
