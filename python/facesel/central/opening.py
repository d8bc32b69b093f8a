"""Authorised opening against any :class:`VaultBackend`: across cameras, by id, camera or time window.

The order of the file vault's opening, kept for the central store: check the request and rebuild
the master key from K shares (nothing read or logged on failure); verify and decrypt every
selected record in memory (one bad record stops everything, nothing written or logged); append an
``open`` entry, signed by the authority, to the store's audit log, and the same to the
authority's own signed ``audit.log`` with the store's entry named (seq and hash: for PostgreSQL
``central_store``/``central_seq``/``central_entry``, for a vault folder ``vault_id``/``vault_seq``/
``vault_entry``); only then write the snapshots. The owner of the store (its tables, or its
folder) can then neither erase an opening unseen nor forge one: ``facesel central audit
--authority DIR`` (or ``facesel audit verify --vault DIR --authority DIR``) finds every opening the
authority logged, and every signature.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from facesel.central.arrivals import OPEN_FLAG, late_arrivals
from facesel.central.backend import Selection, VaultBackend, ids_of_several_cameras
from facesel.central.verify import authority_for_opening, verify_row
from facesel.vault.audit import AuditLog
from facesel.vault.errors import RecordError, VaultWriteError
from facesel.vault.fsutil import atomic_write
from facesel.vault.index import IndexRow
from facesel.vault.keys import AuthorityPublic, Keystore
from facesel.vault.payload import OpenedSnapshot, decode_snapshot
from facesel.vault.opening import EpochSecrets, current_user, stopped_by
from facesel.vault.record import open_record
from facesel.vault.shares import ShareFile, reconstruct_master
from facesel.vault.signing import CAMERA_ID
from facesel.vault.staging import write_staged


@dataclass
class OpenedRecord:
    """One record opened from the central store: its index row, its checked plaintext header and
    the decrypted snapshot (crop, clip, metadata: in memory only).
    """
    row: IndexRow
    header: dict
    snapshot: OpenedSnapshot
    #: Why it is flagged: it arrived after its camera's key was revoked (opened only with
    #: ``allow_after_revocation``; review round 11); None when not.
    after_revocation: str | None = None


def select(backend: VaultBackend, selection: Selection, all_records: bool = False) -> list[IndexRow]:
    """The rows to open: a non-empty ``selection``, or everything with ``all_records`` (not both)."""
    if selection.is_empty() == (not all_records):
        # In the Python API's words (the command line checks first, in its flags' words: ux18c).
        raise ValueError("choose exactly one of: a selection (Selection's record_ids, camera_ids and/or "
                         "start/end) or all_records=True")
    rows = backend.rows(selection)
    # A row moved out of the scope hid its record (review 12b, finding 3): the log says what it holds.
    missing = backend.missing_from(selection)
    if missing:
        raise RecordError(f"{missing[0]}; {len(missing)} record(s) of this selection lack their rows: nothing was "
                          "opened")
    if selection.record_ids:
        missing = sorted(set(selection.record_ids) - {r.record_id for r in rows})
        if missing:
            raise ValueError(f"record_ids not in {backend.location}: {', '.join(missing)}")
        # An id names one record of one camera (schema 5, review round 11): when several cameras
        # hold it, the request must say whose, never open them all.
        shared = ids_of_several_cameras(rows)
        if shared:
            rid, cameras = next(iter(shared.items()))
            raise ValueError(f"record {rid} is held by cameras {', '.join(cameras)} in {backend.location}: name the "
                             "camera too (--camera); nothing was opened")
    return rows


def refuse_late_arrivals(backend: VaultBackend, rows: list[IndexRow], trusted: AuthorityPublic,
                         allow: bool) -> dict[tuple[str, str], str]:
    """The rows that arrived after their camera's key was revoked
    (:func:`facesel.central.arrivals.late_arrivals`); RecordError naming the first unless ``allow``
    (the ``central open`` flag ``--allow-after-revocation``): such a record may be a thief's
    backdated one, so it is opened only knowingly, and the opening's signed entry names it."""
    late = late_arrivals(backend, rows, trusted)
    if late and not allow:
        first = next(iter(late.values()))
        raise RecordError(f"{first}; {len(late)} selected record(s) arrived after their camera's key was revoked: "
                          f"open them knowingly with {OPEN_FLAG} (the opening's signed entry names them), or narrow "
                          "the selection; no share was read and nothing was logged")
    return late


def _decrypt(backend: VaultBackend, rows: list[IndexRow], keystore: Keystore, master: bytes) -> list[OpenedRecord]:
    logged = backend.logged_by_camera(rows)
    # The cameras' keys from the authority's signed file, not the store's table (review 10b, finding 5).
    trusted = authority_for_opening(keystore, backend.authority)
    secrets, opened = EpochSecrets(keystore, master), []
    for row in rows:
        # The row must be its record's: the selection was made by the row's camera and time.
        parsed = verify_row(backend.read(row.record_id, row.camera_id), row, trusted, logged[row.camera_id])
        payload = open_record(parsed, secrets.of(parsed.epoch_id, row.record_id))
        opened.append(OpenedRecord(row, parsed.header, decode_snapshot(payload, row.record_id)))
    secrets.clear()
    return opened


def _folder_name(camera_id: str) -> str:
    """A camera id as one folder name of its own: the id itself, as every registered camera id is
    (letters, digits, ``._:-``, starting with a letter or digit, so never ``..`` nor a separator).

    ``.`` and ``:`` were turned into ``_``, so cameras ``door.1``, ``door:1`` and ``door_1`` shared
    one folder (review round 10b, finding 2). Any other id (none passes the registry) is reduced to
    safe characters with ``@`` and a digest of the id after it, a character no camera id holds, so
    that no two ids meet in one folder either way.
    """
    if CAMERA_ID.match(camera_id):
        return camera_id
    digest = hashlib.sha256(camera_id.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return re.sub(r"[^A-Za-z0-9_-]", "_", camera_id)[:64] + "@" + digest


def _write(out_dir: Path, opened: list[OpenedRecord]) -> None:
    for item in opened:
        folder = out_dir / _folder_name(item.row.camera_id) / item.row.record_id
        folder.mkdir(mode=0o700, parents=True)
        for name, blob in item.snapshot.blobs.items():
            target = folder / (name + (".png" if blob[:4] == b"\x89PNG" else ".jpg"))
            target.parent.mkdir(exist_ok=True, mode=0o700)
            atomic_write(target, blob)
        meta = {"header": item.header, "snapshot": item.snapshot.meta}
        if item.after_revocation:  # opened with --allow-after-revocation: the output's reader is told too
            meta["arrived_after_revocation"] = item.after_revocation
        atomic_write(folder / "meta.json", json.dumps(meta, indent=1, sort_keys=True).encode("utf-8"))


def open_from(backend: VaultBackend, share_paths: Sequence[str | os.PathLike], keystore_dir: str | os.PathLike,
              reason: str, out_dir: str | os.PathLike, selection: Selection = Selection(), all_records: bool = False,
              opened_by: str | None = None,
              passphrase_for: Callable[[ShareFile], bytes | None] | None = None,
              allow_after_revocation: bool = False) -> list[OpenedRecord]:
    """Open the selected records into ``out_dir/<camera_id>/<record_id>/`` (crop, clip, meta.json).

    A selected record whose camera's key the authority revoked, and which arrived in the store
    after the revocation's time, is refused before any share is read
    (:func:`refuse_late_arrivals`) unless ``allow_after_revocation``; then it is opened, its
    ``meta.json`` says so (``arrived_after_revocation``), and the ``open`` entries name it
    (``after_revocation``: its ids).

    Returns
    -------
    list of OpenedRecord
        In seal-time order.

    Raises
    ------
    RecordError
        A record fails :func:`facesel.central.verify.verify_row` or its AEAD tag (nothing written).
    """
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError(f"reason must be a non-empty case reference, got {reason!r}")
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise ValueError(f"out_dir {out_dir} must be a new or empty folder")
    if not share_paths:
        raise ValueError("share_paths must name at least one share file")
    keystore = Keystore(keystore_dir)
    if backend.authority.authority_id != keystore.authority_id:
        raise ValueError(f"{backend.location} belongs to authority {backend.authority.authority_id}, keystore "
                         f"{keystore_dir} to authority {keystore.authority_id}")
    rows = select(backend, selection, all_records)
    if not rows:  # before: the holders gave their shares for an opening of no record, logged (ux18)
        raise ValueError(f"no record in {backend.location} matches the selection: nothing to open; no share was "
                         "read and nothing was logged")
    late = refuse_late_arrivals(backend, rows, authority_for_opening(keystore, backend.authority),
                                allow_after_revocation)
    master, used = reconstruct_master(share_paths, keystore, passphrase_for)
    opened = [replace(o, after_revocation=late.get((o.row.camera_id, o.row.record_id)))
              for o in _decrypt(backend, rows, keystore, master)]
    signer = keystore.signer(master)
    fields = {"opened_by": opened_by or current_user(), "reason": reason.strip(), "shares": used,
              "record_ids": [r.row.record_id for r in opened], "out_dir": str(out_dir.resolve())}
    if late:  # written only when there are any: every other opening's entry keeps its fields
        fields["after_revocation"] = sorted(rid for _, rid in late)
    entry = backend.append_audit("open", signer=signer, **fields)
    # The authority's own log: a copy the store's owner cannot reach, naming the store's entry.
    authority_log = AuditLog(keystore.path.parent / "audit.log", signer=signer)
    authority_log.append("open", **backend.witness(entry), **fields)
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Written into a registered staging folder beside out_dir and renamed at the end: nothing
        # decrypted stays behind on a disk full half-way, Ctrl-C or SIGTERM (a SystemExit in the
        # CLI; review 6, finding 3), and the next opening removes what a SIGKILL left (review 7,
        # finding 1; the pictures were written into out_dir itself before).
        write_staged(out_dir, lambda staging: _write(staging, opened))
    except BaseException as err:
        detail = (err.strerror or str(err)) if isinstance(err, OSError) else stopped_by(err)
        why = f"writing the output failed: {detail}" if isinstance(err, OSError) else f"stopped: {detail}"
        try:
            aborted = backend.append_audit("open-aborted", signer=signer, opened_entry=entry["hash"], reason=why)
            authority_log.append("open-aborted", **backend.witness(aborted), reason=why)
        except Exception:  # noqa: BLE001 - whatever the logs do, the error below is what the operator must see
            pass
        if not isinstance(err, OSError):
            raise  # an interruption stays one
        raise VaultWriteError(f"could not write the opened snapshots to {out_dir}: {detail}; "
                              "nothing was left there") from err
    return opened
