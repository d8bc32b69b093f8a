"""An opening held in memory: records verified, decrypted and logged, with nothing written but
the two audit entries.

The same order as :func:`facesel.vault.opening.open_records` (the CLI's ``open``), built from
its public pieces: select, verify every record (signed by the vault's camera, logged as sealed,
agreeing with its index row), decrypt in memory, then append the ``open`` entry to the vault's
log and to the authority's own log, and only then hand anything to a caller that could show it.
Where ``open_records`` writes folders, this keeps an :class:`Opening` in memory.

For the evidence bundle each record's one-time AEAD key is kept as well: it decrypts that record
and no other (each record has its own ephemeral key pair), so a receiving expert can check that
the snapshot in the bundle is exactly what the camera sealed and signed, without any epoch key.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import nacl.bindings as sodium

from facesel.vault.audit import AuditLog
from facesel.vault.identity import VaultIdentity
from facesel.vault.keys import AuthorityPublic, Keystore
from facesel.vault.opening import EpochSecrets, OpenedRecord, logged_records as logged_seals, open_index, \
    select_rows, vault_for_keystore, verified_record
from facesel.vault.payload import decode_snapshot
from facesel.vault.record import ParsedRecord, _aead_key, open_record
from facesel.vault.signing import Signer


def record_key_of(row) -> tuple[str, str]:
    """How the desk names a record: ``(camera_id, record_id)`` of its index row. Since the central
    store's schema 5 an id alone may be held by several cameras (review round 11)."""
    return (row.camera_id, row.record_id)


def logged_records(records: Sequence[OpenedRecord]) -> list[list[str]]:
    """The ``records`` field of the desk's log entries: ``[[camera_id, record_id], ...]`` in order
    (beside ``record_ids``, kept for the readers of older entries)."""
    return [list(record_key_of(r.row)) for r in records]


def checked_request(case: str | None, reason: str | None, record_ids: Sequence[str]) -> tuple[str, str]:
    """What every opening asks before any key is touched: a case reference and a reason (stripped,
    both non-empty) and at least one record id. Returns ``(case, reason)``; ValueError otherwise."""
    case, reason = (case or "").strip(), (reason or "").strip()
    if not case or not reason:
        raise ValueError("both the case reference and the reason are required")
    if not record_ids:
        raise ValueError("choose at least one record to open")
    return case, reason


def record_bytes(parsed: ParsedRecord) -> bytes:
    """The record file's bytes rebuilt from its parts (``verified_record`` checked their SHA-256
    against the seal entry, so these are the sealed bytes; see :mod:`facesel.vault.record`)."""
    body = parsed.associated_data + parsed.ciphertext + parsed.signature
    return body + hashlib.blake2b(body, digest_size=32).digest()


def record_key(parsed: ParsedRecord, epoch_secret: bytes) -> bytes:
    """The one-time XChaCha20-Poly1305 key of this record alone (see :func:`facesel.vault.record.seal_record`)."""
    epoch_public = sodium.crypto_scalarmult_base(bytes(epoch_secret))
    shared = sodium.crypto_scalarmult(bytes(epoch_secret), parsed.ephemeral_public)
    return _aead_key(shared, parsed.ephemeral_public, epoch_public)


@dataclass
class Opening:
    """What one opening holds in memory (decrypted data: never write it to disk).

    ``vault_dir`` and ``identity`` are None for an opening of the central store (no bundle then);
    ``log_to(event, signer, **fields)``, where given, appends to the log the opening was written to
(the central store's); by default the vault's own log.
    """

    vault_dir: Path | None
    identity: VaultIdentity | None
    authority: AuthorityPublic
    records: list[OpenedRecord]
    sealed: dict[tuple[str, str], bytes]  # (camera id, record id) -> the sealed record file (ciphertext, signed)
    keys: dict[tuple[str, str], bytes]    # (camera id, record id) -> its one-time AEAD key
    entry: dict                     # the vault's ``open`` entry
    authority_entry: dict           # the authority's ``open`` entry
    signer: Signer                  # the authority's key, to log views and exports; dropped at the end
    case: str | None                # None for the CLI's open, which logs the case reference as its reason
    reason: str
    shares: list[int]
    authority_log: Path
    clock: Callable[[], float] = time.time
    ended: bool = field(default=False)
    log_to: Callable[..., dict] | None = None
    store_location: str | None = None  # the central store, for its bundles
    #: (camera id, record id) -> why it is flagged: it arrived in the central store after its
    #: camera's key was revoked, and the investigator acknowledged that before it was opened.
    after_revocation: dict[tuple[str, str], str] = field(default_factory=dict)
    acknowledgement: str | None = None  # the words the investigator acknowledged, as logged

    def by_key(self, camera_id: str, record_id: str) -> OpenedRecord | None:
        """The opened record of camera ``camera_id`` with ``record_id``, or None (an id alone may
        name records of several cameras in the central store)."""
        return next((r for r in self.records if record_key_of(r.row) == (camera_id, record_id)), None)

    def log(self, event: str, **fields) -> dict:
        """Append ``event`` to the opening's log (signed by the authority in a vault), tied to this opening."""
        if self.ended:
            raise ValueError("this opening has ended")
        if self.log_to is not None:
            return self.log_to(event, self.signer, opening=self.entry["hash"], **fields)
        return AuditLog(self.vault_dir / "audit.log", self.clock, self.signer).append(
            event, opening=self.entry["hash"], **fields)

    def end(self, why: str) -> None:
        """Log the end of the session and drop every decrypted byte and the signing key."""
        if self.ended:
            return
        try:
            self.log("review-end", why=why)
        finally:
            self.ended = True
            self.records.clear()
            self.keys.clear()
            self.sealed.clear()
            self.signer = None


def open_in_memory(vault_dir: str | Path, keystore: Keystore, master: bytes, shares: Sequence[int],
                   records: Sequence[tuple[str, str]], case: str, reason: str, opened_by: str, via: str = "review",
                   clock: Callable[[], float] = time.time) -> Opening:
    """Verify, decrypt and log the opening of ``records`` (``(camera_id, record_id)`` pairs, every
    camera the vault's own; see the module docstring).

    Raises
    ------
    ValueError
        An empty case reference or reason, no record, a record of another camera, or a vault of
        another authority.
    RecordError, EpochUnavailableError, KeyMaterialError
        From the checks; nothing is logged then.
    """
    case, reason = checked_request(case, reason, records)
    vault_dir = Path(vault_dir)
    authority, identity = vault_for_keystore(vault_dir, keystore)
    others = sorted({camera for camera, _ in records if camera != identity.camera_id})
    if others:
        raise ValueError(f"vault {vault_dir} holds the records of camera {identity.camera_id} only, not of "
                         f"{', '.join(others)}")
    record_ids = [rid for _, rid in records]
    index = open_index(vault_dir)
    try:
        rows = select_rows(index, record_ids=list(record_ids))
    finally:
        index.close()
    logged = logged_seals(vault_dir, identity)  # the signed log, verified: a forged line opens nothing
    checked = [(row, verified_record(identity, vault_dir, row, logged)) for row in rows]  # all, before any decrypt
    secrets = EpochSecrets(keystore, master)
    records, sealed, keys = [], {}, {}
    for row, parsed in checked:
        secret = secrets.of(parsed.epoch_id, row.record_id)
        payload = open_record(parsed, secret)
        records.append(OpenedRecord(row, parsed.header, decode_snapshot(payload, row.record_id)))
        sealed[record_key_of(row)] = record_bytes(parsed)
        keys[record_key_of(row)] = record_key(parsed, secret)
    secrets.clear()
    signer = keystore.signer(master)
    fields = {"opened_by": opened_by.strip() or "unknown", "reason": reason, "case": case, "shares": list(shares),
              "record_ids": [r.row.record_id for r in records], "records": logged_records(records), "via": via}
    entry = AuditLog(vault_dir / "audit.log", clock, signer).append("open", **fields)
    authority_log = keystore.path.parent / "audit.log"
    authority_entry = AuditLog(authority_log, clock, signer).append(
        "open", vault_id=identity.vault_id, camera_id=identity.camera_id, vault_seq=entry["seq"],
        vault_entry=entry["hash"], **fields)
    return Opening(vault_dir, identity, authority, records, sealed, keys, entry, authority_entry, signer, case, reason,
                   list(shares), authority_log, clock)
