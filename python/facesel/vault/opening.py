"""Authorised opening: K shares rebuild the master key, records are verified, decrypted, logged.

Order of events, so that no disclosure escapes the log and no failure leaves partial output:

1. Check the request (reason, selection, empty output folder) and rebuild the master key from
   the shares; any problem stops here with nothing read, written or logged. What a selection
   holds comes from the vault's *signed log* (records sealed by its camera, minus every logged
   purge, loss or quarantine), verified in the same read, never from the index alone: a deleted
   index row hides nothing, a row put back for a purged record opens nothing.
2. Read, verify and decrypt every selected record *in memory*. A corrupt or tampered record, a
   shredded epoch or a wrong key stops here: nothing written, nothing logged.
3. Append an ``open`` entry (who, why, which records, which shares), signed by the authority, to
   the vault's audit log, and the same to the authority's own log (with the vault's id and the
   vault entry's hash): opening a *copy* of a vault still leaves a trace the original can be
   checked against.
4. Only then write the snapshots, into a staging folder beside ``out`` that is renamed to
   ``out`` at the end; any failure removes it and logs ``open-aborted`` in both logs. The staging
   folder is registered in the user's own state folder (``facesel.vault.staging``), so that the
   pictures of an opening killed by SIGKILL are removed by the next opening to any output.

Every record must be signed by the vault's registered camera, be the file logged as sealed (hash,
seal time and epoch), lie inside its epoch's window and not in the future, and match its index
row when it has one (a record missing from the index is opened from the log and its file, and
``facesel open`` says so); blob names come from an allow-list (``crop``, ``clip/NNNN``) and every
output path must resolve inside its record's folder.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import os
import re
import shutil
import stat
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from facesel.path_arg import path_arg
from facesel.setting_checks import check_flag
from facesel.vault.audit import AuditLog, read_verified
from facesel.vault.authority_witness import vault_copy_problem, vault_log_problems
from facesel.vault.errors import AuditError, EpochUnavailableError, KeyMaterialError, RecordError, VaultWriteError
from facesel.vault.consistency import GONE_EVENTS, LoggedSeal, live_seals
from facesel.vault.fsutil import TMP_SUFFIX, atomic_write
from facesel.vault.identity import (VaultIdentity, check_not_revoked, check_record, load_identity,
                                    read_record_file)
from facesel.vault.index import COLUMNS, Index, IndexRow
from facesel.vault.keys import AuthorityPublic, Keystore
from facesel.vault.payload import BLOB_NAME, OpenedSnapshot, decode_snapshot
from facesel.vault.record import RECORD_ID, open_record
from facesel.vault.selection_args import check_record_ids, check_seal_time
from facesel.vault.shares import ShareFile, reconstruct_master
from facesel.vault.staging import write_staged
from facesel.vault.store import record_path
from facesel.vault.timeparse import format_time

_log = logging.getLogger("facesel.vault")


def open_index(vault_dir: str | os.PathLike, readonly: bool = True) -> Index:
    """The index of an existing vault (never creates one; read-only unless asked)."""
    path = Path(vault_dir) / "index.sqlite"
    if not path.exists() and not path.is_symlink():  # anything else: Index says what it is
        raise FileNotFoundError(f"no vault at {vault_dir}: {path.name} does not exist there")
    return Index(path, readonly=readonly)


def logged_records(vault_dir: str | os.PathLike, identity: VaultIdentity,
                   now: float | None = None) -> dict[str, LoggedSeal]:
    """The records a vault's signed log holds: seals by its camera minus every logged removal.

    The log is verified (chain, signatures by the vault's camera and authority, times, head) in
    the same read; this, not the index, says what exists.

    Raises
    ------
    AuditError
        When the log does not verify.
    """
    entries = read_verified(Path(vault_dir) / "audit.log", identity.audit_keys(), now)
    return live_seals(entries, identity.camera_id)


@dataclass(frozen=True)
class Selection:
    """Records chosen from the signed log: ``(record id, its logged seal, its index row or None)``
    in seal-time order, and the ids among them that the index does not list."""

    chosen: list[tuple[str, LoggedSeal, IndexRow | None]]
    unindexed: list[str]


# The Python arguments' names: `facesel open` checks its flags first, in its own words.
CHOOSE_ONE = "choose exactly one of: record_ids (a list of ids), a time window (start and/or end), or all_records=True"


def _check_choice(record_ids: Sequence[str] | None, start: float | None, end: float | None,
                  all_records: bool) -> list[str] | None:
    """Exactly one way of choosing records, and well-formed record ids and times; the ids as a list."""
    record_ids = check_record_ids(record_ids)
    check_flag(all_records, "all_records")  # all_records="no" opened every record (ux19)
    check_seal_time(start, "start")
    check_seal_time(end, "end")
    modes = sum([bool(record_ids), start is not None or end is not None, bool(all_records)])
    if modes != 1:
        raise ValueError(CHOOSE_ONE)
    for rid in record_ids or ():
        record_path(Path("."), rid)  # validates the id's form
    return record_ids


def select_logged(live: dict[str, LoggedSeal], index: Index, record_ids: Sequence[str] | None = None,
                  start: float | None = None, end: float | None = None, all_records: bool = False) -> Selection:
    """Choose records by exactly one of: ids, a seal-time window, or every record, from the signed
    log's live seals (``live``, see :func:`logged_records`). The index only supplies rows (each
    checked against its record later); a record it lacks is still chosen and reported."""
    record_ids = _check_choice(record_ids, start, end, all_records)
    if record_ids:
        missing = sorted(set(record_ids) - set(live))
        if missing:
            raise ValueError(f"record ids not in the vault (never sealed, or removed): {', '.join(missing)}")
        ids = list(dict.fromkeys(record_ids))
    else:
        if start is not None and end is not None and end < start:
            raise ValueError(f"--to ({format_time(end)}) is before --from ({format_time(start)})")
        ids = [rid for rid, seal in live.items()
               if (start is None or seal.sealed_at >= start) and (end is None or seal.sealed_at <= end)]
    rows = {row.record_id: row for row in index.rows(record_ids=ids)} if ids else {}
    chosen = sorted(((rid, live[rid], rows.get(rid)) for rid in ids), key=lambda c: (c[1].sealed_at, c[0]))
    return Selection(chosen, [rid for rid, _, row in chosen if row is None])


def _nothing_chosen(live: dict[str, LoggedSeal], start: float | None, end: float | None) -> str:
    """Why a selection that is not by ids chose nothing, with what the vault holds."""
    if not live:
        return "the vault holds no record"
    window = " ".join(part for part in (f"from {format_time(start)}" if start is not None else "",
                                        f"to {format_time(end)}" if end is not None else "") if part)
    times = sorted(seal.sealed_at for seal in live.values())
    return (f"no record was sealed {window} (the vault holds {len(times)} record(s), sealed from "
            f"{format_time(times[0])} to {format_time(times[-1])})")


def select_rows(index: Index, record_ids: Sequence[str] | None = None, start: float | None = None,
                end: float | None = None, all_records: bool = False,
                live: dict[str, LoggedSeal] | None = None) -> list[IndexRow]:
    """Rows chosen by exactly one of: record ids, a seal-time window, or every record.

    A window needs ``live``, the signed log's seals (:func:`logged_records`): it chooses by the log's
    seal time as well as the row's (:func:`rows_in_window`; review round 12b, finding 1)."""
    record_ids = _check_choice(record_ids, start, end, all_records)
    if record_ids:
        rows = index.rows(record_ids=list(record_ids))
        missing = sorted(set(record_ids) - {r.record_id for r in rows})
        if missing:
            raise ValueError(f"record ids not in the vault: {', '.join(missing)}")
        return rows
    if start is not None and end is not None and end < start:
        raise ValueError(f"--to ({format_time(end)}) is before --from ({format_time(start)})")
    if live is None:
        raise TypeError("select_rows by a seal-time window needs live, the signed log's seals (logged_records)")
    return rows_in_window(index.rows(), live, start, end)


def rows_in_window(rows: list[IndexRow], live: dict[str, LoggedSeal], start: float | None,
                   end: float | None) -> list[IndexRow]:
    """The index ``rows`` a seal-time window [start, end] chooses: each whose own ``sealed_at`` *or*
    whose seal in the signed log (``live``, :func:`logged_records`) lies in it, in the rows' order.

    The index is anyone's to edit who can write the vault folder. A window read from its
    ``sealed_at`` alone never chose a row moved out of it, so that row was never checked against its
    record and the record vanished from the search without a word (review round 12b, finding 1);
    chosen by the log's time too, it is checked and refused by name (the row disagrees with the
    signed header). A row moved into the window is chosen and refused the same way (review 10c)."""
    def inside(t: float) -> bool:
        return (start is None or t >= start) and (end is None or t <= end)

    logged = {rid for rid, seal in live.items() if inside(seal.sealed_at)}
    return [row for row in rows if inside(row.sealed_at) or row.record_id in logged]


@dataclass
class OpenedRecord:
    """One opened record: its row (from the index, or rebuilt from the authenticated header when
    the index lacks it: ``indexed`` False), header and decrypted snapshot."""

    row: IndexRow
    header: dict
    snapshot: OpenedSnapshot
    indexed: bool = True


def sealed_digests(vault_dir: Path, identity: VaultIdentity, now: float | None = None) -> dict[str, str]:
    """SHA-256 of each record as logged when it was sealed, for the records the signed log still
    holds (a record logged as purged, missing or quarantined since has none: a file and row put
    back for it are refused by :func:`verified_record`).

    The log is verified in the same read (chain, signatures by the vault's camera and authority,
    times, head; :func:`logged_records`): a ``seal`` line appended by anyone without the camera's
    key counts for nothing (review 4, finding 1: it used to bring a purged record back).

    Raises
    ------
    AuditError
        When the log does not verify: then no record can be shown or opened as genuine.
    """
    return {rid: seal.sha256 for rid, seal in logged_records(vault_dir, identity, now).items()}


class RecordNotHere(RecordError):
    """A row whose record is being sealed at this moment, or was removed (and logged) since."""


def _gone_now(identity: VaultIdentity, vault_dir: Path, record_id: str) -> str | None:
    """The removal (``purge``, ``record-missing``, ``quarantined``) that the vault's signed log,
    verified in this read, records for ``record_id``; None when it records none."""
    try:
        entries = read_verified(Path(vault_dir) / "audit.log", identity.audit_keys())
    except (AuditError, FileNotFoundError):
        return None
    return next((e["event"] for e in reversed(entries)
                 if e.get("record_id") == record_id and e.get("event") in GONE_EVENTS), None)


def _why_missing(identity: VaultIdentity, vault_dir: Path, path: Path, record_id: str, logged: bool) -> RecordError:
    """Why the file of ``record_id`` is not there: RecordNotHere (left out of a listing or an opening
    by time) only for what a camera running beside us does, RecordError (named, loud) otherwise.

    A camera indexes a record before it logs the seal and renames its temporary file into place, and
    purges between our reading the log and the file. Before (review round 11, attack20 finding 5),
    any file named like a temporary beside the record, or an unsigned ``purge`` line at the log's
    end (a torn last line, which the verified read leaves out), made a record whose file someone
    deleted or renamed away vanish without a word from the desk, ``facesel list`` and an opening by
    time or ``--all``. Now a temporary excuses only a record whose seal is not logged yet (not yet
    evidence), and a removal counts only when the signed log, verified again, records it.
    """
    gone = _gone_now(identity, vault_dir, record_id)
    if gone is not None:
        return RecordNotHere(f"record {record_id} was removed ({gone}) a moment ago")
    if not logged and any(path.parent.glob(f".{path.name}.*{TMP_SUFFIX}")):
        return RecordNotHere(f"record {record_id} is being sealed right now")
    return RecordError(f"file {path.name} is missing, and the signed log records no removal of it (deleted or "
                       "moved outside facesel)")


def _logged_temporary(path: Path, digest_logged: str | None, sealed_size: int | None = None) -> bytes | None:
    """The bytes of a temporary file beside ``path`` that are the logged seal's own (SHA-256
    ``digest_logged``, at most ``sealed_size`` bytes when logged): a seal is logged a moment before
    its temporary is renamed into place."""
    if digest_logged is None:
        return None
    for tmp in sorted(path.parent.glob(f".{path.name}.*{TMP_SUFFIX}")):
        try:
            data = read_record_file(tmp, sealed_size=sealed_size)
        except (FileNotFoundError, RecordError):
            continue  # renamed into place meanwhile, or not a regular file
        if hashlib.sha256(data).hexdigest() == digest_logged:
            return data
    return None


def verified_record(identity: VaultIdentity, vault_dir: Path, row: IndexRow, logged: Mapping[str, str | LoggedSeal]):
    """The record of ``row``, accepted only when genuine and when the row matches its header.

    ``logged``: record id -> its SHA-256 as logged at sealing (:func:`sealed_digests`), or its
    :class:`LoggedSeal` (:func:`logged_records`), which also bounds the file's size by the size
    logged, so that a file larger than that is refused unread (review round 15b).

    Returns
    -------
    ParsedRecord
        Signed by this vault's camera, logged as sealed with this SHA-256.

    Raises
    ------
    RecordError
        Naming the record and what is wrong with it.
    """
    seal = logged.get(row.record_id)
    if isinstance(seal, LoggedSeal):
        return _verified(identity, Path(vault_dir), row.record_id, row, seal.sha256, None, sealed_size=seal.size)[0]
    return _verified(identity, Path(vault_dir), row.record_id, row, seal, None)[0]


def _verified(identity: VaultIdentity, vault_dir: Path, record_id: str, row: IndexRow | None,
              digest_logged: str | None, seal: LoggedSeal | None, now: float | None = None,
              sealed_size: int | None = None):
    """The checks of :func:`verified_record`; ``row`` None (not indexed) skips the row check, and
    ``seal`` (the logged seal) also binds the seal time and epoch. The file is read only when it
    holds at most the size logged (``sealed_size``, or ``seal``'s)."""
    if seal is not None and sealed_size is None:
        sealed_size = seal.size
    if not isinstance(record_id, str) or not RECORD_ID.match(record_id):
        # An index row is anyone's who can write the folder: one row with another id made record_path's
        # ValueError end the whole find page and `facesel list` (review round 13c, finding 4).
        raise RecordError(f"record {str(record_id)[:80]!r}: the index names an id that is not 32 lowercase hex "
                          "characters (no camera of ours writes one): the row is refused")
    path = record_path(vault_dir, record_id)
    try:
        try:
            data = read_record_file(path, sealed_size=sealed_size)
        except FileNotFoundError:
            data = _logged_temporary(path, digest_logged, sealed_size)
            if data is None:
                try:
                    data = read_record_file(path, sealed_size=sealed_size)  # renamed into place while we looked
                except FileNotFoundError:
                    raise _why_missing(identity, vault_dir, path, record_id, digest_logged is not None) from None
        parsed = check_record(identity, data, record_id, now=time.time() if now is None else now)
        check_not_revoked(identity.authority, record_id, identity.camera_id, parsed.header["sealed_at"])
        digest = hashlib.sha256(data).hexdigest()
        if digest_logged is None:
            gone = _gone_now(identity, vault_dir, record_id)
            if gone is not None:
                # Purged beside us a moment ago, or a file put back after its purge: never opened.
                raise RecordNotHere(f"record {record_id} was removed ({gone}); a file under its name is not opened")
            raise RecordError("the log holds no seal of this record (planted or forged file)")
        if digest_logged != digest:
            raise RecordError("the file is not the one logged as sealed (replaced)")
        if seal is not None and (seal.sealed_at, seal.epoch_id) != (parsed.header["sealed_at"], parsed.epoch_id):
            raise RecordError("the record's seal time or epoch differs from its logged seal")
        expected = IndexRow.from_header(parsed.header, len(data), digest)
        if row is not None and expected != row:
            wrong = [c for c in COLUMNS if getattr(expected, c) != getattr(row, c)]
            raise RecordError(f"the index row disagrees with the record's authenticated header ({', '.join(wrong)})")
    except RecordError as err:
        text = str(err)
        raise type(err)(text if text.startswith(f"record {record_id}") else f"record {record_id}: {text}") \
            from None
    return parsed, expected


def _decrypt_all(identity: VaultIdentity, vault_dir: Path, selection: Selection, keystore: Keystore,
                 master: bytes, by_id: bool) -> list[OpenedRecord]:
    """Check, then decrypt in memory. A record the camera is sealing or has just purged is left
    out of a time-window or ``--all`` selection; asked for by id, it is an error."""
    checked, failed = [], []
    for record_id, seal, row in selection.chosen:  # check every record before decrypting any
        try:
            parsed, expected = _verified(identity, vault_dir, record_id, row, seal.sha256, seal)
            checked.append((row or expected, parsed, row is not None))
        except RecordNotHere as err:
            if by_id:
                failed.append((record_id, str(err)))
        except RecordError as err:
            failed.append((record_id, str(err)))
    if failed:
        others = f" (and {len(failed) - 1} more: {', '.join(r for r, _ in failed[1:6])}" \
                 f"{', ...' if len(failed) > 6 else ''})" if len(failed) > 1 else ""
        raise RecordError(f"{failed[0][1]}{others}; nothing was opened")
    secrets, opened = EpochSecrets(keystore, master), []
    for row, parsed, indexed in checked:
        payload = open_record(parsed, secrets.of(parsed.epoch_id, row.record_id))
        opened.append(OpenedRecord(row, parsed.header, decode_snapshot(payload, row.record_id), indexed))
    secrets.clear()
    return opened


def _write_outputs(out_dir: Path, opened: list[OpenedRecord]) -> None:
    for item in opened:
        folder = out_dir / item.row.record_id
        folder.mkdir(mode=0o700)
        inside = folder.resolve()
        for name, blob in item.snapshot.blobs.items():
            if not BLOB_NAME.match(name):  # decode_snapshot checked already; never trust one check
                raise RecordError(f"record {item.row.record_id}: blob name {name!r} is not allowed")
            ext = ".png" if blob[:4] == b"\x89PNG" else ".jpg"
            target = folder / (name + ext)
            if not target.resolve().is_relative_to(inside):
                raise RecordError(f"record {item.row.record_id}: blob {name!r} would be written outside its folder")
            target.parent.mkdir(exist_ok=True, mode=0o700)
            atomic_write(target, blob)
        meta = {"header": item.header, "snapshot": item.snapshot.meta}
        atomic_write(folder / "meta.json", json.dumps(meta, indent=1, sort_keys=True).encode("utf-8"))


def trusted_authority(keystore: Keystore, vault_dir: Path) -> AuthorityPublic:
    """The authority's own ``authority.pub`` (beside its keystore), checked against the keystore's
    signing key; the vault's copy only when the authority folder has none."""
    for candidate in (keystore.path.parent / "authority.pub", vault_dir / "authority.pub"):
        if candidate.exists() or candidate.is_symlink():  # never skipped for not being a regular file
            pub = AuthorityPublic.load(candidate)
            if pub.signing_key != keystore.signing_public:
                raise KeyMaterialError(f"{candidate} belongs to authority {pub.authority_id} (another signing key), "
                                       f"not to the keystore's authority {keystore.authority_id}")
            # The vault's copy is a natural witness: the authority signed it, so a higher serial there
            # means the authority's folder was put back to an older copy (session 21, witness22).
            # Refused, not warned: the way out (the newer genuine file put back) locks nobody out.
            problem = vault_copy_problem(pub, str(candidate), vault_dir)
            if problem:
                raise KeyMaterialError(problem)
            return pub
    raise FileNotFoundError(f"no authority.pub beside {keystore.path} or in {vault_dir}")


def vault_for_keystore(vault_dir: Path, keystore: Keystore) -> tuple[AuthorityPublic, VaultIdentity]:
    """The trusted authority file and the checked identity of ``vault_dir`` as ``keystore``'s
    authority sees it; refuses a vault of another authority before anything else is read."""
    local = AuthorityPublic.load(vault_dir / "authority.pub")
    if local.authority_id != keystore.authority_id:
        raise ValueError(f"vault {vault_dir} belongs to authority {local.authority_id}, keystore "
                         f"{keystore.path.parent} to authority {keystore.authority_id}")
    authority = trusted_authority(keystore, vault_dir)
    identity = load_identity(vault_dir, anchor=authority)
    behind = vault_log_problems(authority, str(keystore.path.parent / "authority.pub"), vault_dir / "audit.log",
                                identity.audit_keys())
    if behind:
        raise KeyMaterialError(behind[0])
    return authority, identity


class EpochSecrets:
    """The epoch secrets of one opening, each unwrapped once from the master key; :meth:`clear`
    drops them when the opening is done."""

    def __init__(self, keystore: Keystore, master: bytes) -> None:
        self._keystore, self._master, self._secrets = keystore, master, {}

    def of(self, epoch_id: int, record_id: str) -> bytes:
        """The secret of ``epoch_id``; an unavailable epoch is reported with the record asking."""
        if epoch_id not in self._secrets:
            try:
                self._secrets[epoch_id] = self._keystore.unwrap(self._master, epoch_id)
            except EpochUnavailableError as err:
                raise EpochUnavailableError(f"record {record_id}: {err}") from None
        return self._secrets[epoch_id]

    def clear(self) -> None:
        """Forget the unwrapped epoch secrets (at the end of an opening)."""
        self._secrets.clear()


def open_records(vault_dir: str | os.PathLike, share_paths: Sequence[str | os.PathLike],
                 keystore_dir: str | os.PathLike, reason: str, out_dir: str | os.PathLike,
                 record_ids: Sequence[str] | None = None, start: float | None = None, end: float | None = None,
                 all_records: bool = False, opened_by: str | None = None,
                 passphrase_for: Callable[[ShareFile], bytes | None] | None = None,
                 clock: Callable[[], float] = time.time) -> list[OpenedRecord]:
    """Open the selected records of a vault into ``out_dir`` (see the module docstring).

    Exactly one selection: ``record_ids`` (a list of ids, not one id bare), a seal-time window
    ``start``/``end`` (Unix seconds; :func:`facesel.vault.timeparse.parse_time` turns
    ``"2026-12-06T21:50"`` into them) or ``all_records``.

    Returns
    -------
    list of OpenedRecord
        One per record written, in seal-time order. ``out_dir/<record_id>/`` holds ``crop.png``,
        ``clip/NNNN.png`` (if any) and ``meta.json``.
    """
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError(f"the reason must be a non-empty case reference, got {reason!r}")
    vault_dir, out_dir = path_arg(vault_dir, "vault_dir"), path_arg(out_dir, "out_dir")
    keystore_dir = path_arg(keystore_dir, "keystore_dir")
    if out_dir.is_symlink():  # the staging folder cannot be renamed over a link: it failed after the opening was logged
        raise ValueError(f"the output folder {out_dir} is a link: give the folder itself, new or empty (nothing was "
                         "read or logged)")
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise ValueError(f"the output folder {out_dir} must be new or empty")
    if not out_dir.parent.is_dir():
        raise FileNotFoundError(f"the output folder's parent {out_dir.parent} does not exist")
    if not share_paths:
        raise ValueError("give at least one share file")
    keystore = Keystore(keystore_dir)
    _, identity = vault_for_keystore(vault_dir, keystore)
    # What to open comes from the signed log (seals minus removals), not from the index: a row
    # deleted from the index hides nothing, and a row put back for a purged record opens nothing.
    live = logged_records(vault_dir, identity)
    index = open_index(vault_dir)
    try:
        selection = select_logged(live, index, record_ids, start, end, all_records)
    finally:
        index.close()
    if not selection.chosen:
        # Before: the holders gave their shares and an opening of no record was logged (ux18)
        raise ValueError(f"{_nothing_chosen(live, start, end)}: nothing to open; no share was read and nothing "
                         "was logged")
    master, used = reconstruct_master(share_paths, keystore, passphrase_for)
    opened = _decrypt_all(identity, vault_dir, selection, keystore, master, by_id=bool(record_ids))
    signer = keystore.signer(master)
    vault_log = AuditLog(vault_dir / "audit.log", clock, signer)
    authority_log = AuditLog(keystore.path.parent / "audit.log", clock, signer)
    fields = {"opened_by": opened_by or current_user(), "reason": reason.strip(), "shares": used,
              "record_ids": [r.row.record_id for r in opened], "output": str(out_dir.resolve())}
    entry = vault_log.append("open", **fields)
    authority_log.append("open", vault_id=identity.vault_id, camera_id=identity.camera_id,
                         vault_seq=entry["seq"], vault_entry=entry["hash"], **fields)
    remove_stale_staging(out_dir)
    try:
        # Registered, so that a SIGKILL's leftovers are found by the next opening to any output
        # (review 7, finding 1); removed by the context on any exception, Ctrl-C and SIGTERM
        # (``facesel open`` turns it into SystemExit) included (review 6, finding 3).
        write_staged(out_dir, lambda staging: _write_outputs(staging, opened))
    except BaseException as err:
        write_failed = isinstance(err, (OSError, RecordError))
        detail = (err.strerror if isinstance(err, OSError) and err.strerror else str(err)) if write_failed else \
            stopped_by(err)
        for log in (vault_log, authority_log):
            try:
                log.append("open-aborted", vault_entry=entry["hash"],
                           reason=f"writing the output failed: {detail}" if write_failed else f"stopped: {detail}")
            except (OSError, AuditError):
                pass
        if not write_failed:
            raise  # an interruption stays one
        raise VaultWriteError(f"could not write the opened snapshots to {out_dir}: {detail}; "
                              "nothing was left there") from err
    return opened


def remove_stale_staging(out_dir: Path) -> list[Path]:
    """Delete the staging folders (``.NAME.partial-XXXXXXXX`` beside ``out_dir``) that an opening
    to the same output left when it was killed (SIGKILL, a power cut: no cleanup can run then),
    with the decrypted pictures it had written (review 6, finding 3): those an opening made before
    staging folders were registered, or without a usable registry. Only folders of this user
    under exactly that name; a link is never followed. Returns what was removed (logged)."""
    pattern = re.compile(rf"\A\.{re.escape(out_dir.name)}\.partial-[0-9a-f]{{8}}\Z")
    removed = []
    for candidate in out_dir.parent.iterdir():
        if not pattern.match(candidate.name):
            continue
        info = candidate.lstat()
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid():
            shutil.rmtree(candidate)
            removed.append(candidate)
            _log.warning("removed %s, the pictures of an opening to %s that was killed before it finished",
                         candidate, out_dir)
    return removed


def stopped_by(err: BaseException) -> str:
    """What an ``open-aborted`` entry says of an opening stopped by something other than a write error."""
    return "interrupted (KeyboardInterrupt)" if isinstance(err, KeyboardInterrupt) else f"{type(err).__name__}: {err}"


def current_user() -> str:
    """The login name that an ``open`` entry records when no opener is given ("unknown" if none)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
