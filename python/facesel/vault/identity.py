"""Whose vault is this? ``VAULT/vault.json``, signed by the camera, and the checks built on it.

``vault.json`` names the vault (a random id), the camera that writes it and the authority (by the
fingerprint of its signing key) it seals to. It is signed by the camera's key, which the
authority registered in ``authority.pub``. Everything that reads a vault (``list``, ``open``,
``purge``, ``audit verify``) goes through :func:`load_identity`, and then accepts only:

* records signed by *this* vault's camera, naming this camera and this authority
  (:func:`check_record`), so a record forged from public material, or copied from another
  camera's vault, is refused;
* audit entries signed by this camera or by the authority (:func:`audit_keys`).

The vault folder's own ``authority.pub`` is whatever an attacker with write access left there;
a reader that has a trusted copy (the authority's own, or the fingerprint that cameras pin)
passes it as ``anchor`` / ``pin``, and then nothing in the folder can substitute another key.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from facesel.vault.errors import KeyMaterialError, RecordError
from facesel.vault import fields
from facesel.vault.encoding import canonical as _canonical
from facesel.vault.fsutil import FileTooBigError, NotRegularFileError, atomic_write, read_regular
from facesel.vault.keys import AuthorityPublic, check_extension
from facesel.vault.record import MAX_RECORD, ParsedRecord, check_signature, parse_record
from facesel.vault.signing import FINGERPRINT, CameraKey, verify_signature
from facesel.vault.timeparse import format_time

# A record's seal time may lead the reader's clock by this much (clock skew between machines).
SEAL_TIME_TOLERANCE = 600.0

FORMAT_VAULT = "facesel-vault"


@dataclass(frozen=True)
class VaultIdentity:
    """A vault's verified identity: its id, its camera and key, and the authority it seals to."""

    vault_id: str
    camera_id: str
    camera_key: bytes
    authority: AuthorityPublic

    def audit_keys(self) -> dict[str, bytes]:
        """Signer id -> public key for every party allowed to write this vault's audit log."""
        return {f"camera:{self.camera_id}": self.camera_key,
                f"authority:{self.authority.authority_id}": self.authority.signing_key}


def write_identity(vault_dir: Path, camera: CameraKey, authority: AuthorityPublic, created_at: float) -> str:
    """Create ``vault.json`` for a new vault; returns the new vault id."""
    body = {"format": FORMAT_VAULT, "version": 1, "vault_id": secrets.token_hex(16), "camera_id": camera.camera_id,
            "authority_id": authority.authority_id, "authority_fingerprint": authority.fingerprint,
            "created_at": float(created_at)}
    doc = {**body, "signature": base64.b64encode(camera.signer.sign(_canonical(body))).decode("ascii")}
    atomic_write(Path(vault_dir) / "vault.json", json.dumps(doc, indent=1).encode("utf-8"), mode=0o644)
    return body["vault_id"]


def _read_vault_json(path: Path) -> dict:
    """``vault.json``, every field type-checked; only a regular file is read (never a link, FIFO,
    device or folder: those are refused at once, not waited on)."""
    try:
        doc = json.loads(read_regular(path, 65536, follow=False).decode("utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"no vault at {path.parent} ({path.name} is missing)") from None
    except NotRegularFileError as err:
        raise KeyMaterialError(f"{path} is {err.strerror}: not a vault identity file") from None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        raise KeyMaterialError(f"{path} is unreadable (damaged vault identity file)") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_VAULT or type(doc.get("version")) is not int \
            or doc.get("version") != 1:
        raise KeyMaterialError(f"{path} is not a facesel vault identity file (version 1)")
    where, err = str(path), KeyMaterialError
    fields.identifier(doc.get("vault_id"), "vault_id", where, err)
    fields.identifier(doc.get("camera_id"), "camera_id", where, err)
    fields.identifier(doc.get("authority_id"), "authority_id", where, err)
    fields.text(doc.get("authority_fingerprint"), "authority_fingerprint", where, err, FINGERPRINT)
    fields.time_value(doc.get("created_at"), "created_at", where, err)
    fields.text(doc.get("signature"), "signature", where, err, max_len=200)
    return doc


def vault_owner(vault_dir: str | os.PathLike) -> str:
    """The camera id that ``vault.json`` names (not yet verified: see :func:`load_identity`)."""
    return str(_read_vault_json(Path(vault_dir) / "vault.json").get("camera_id"))


def require_vault_folder(vault_dir: str | os.PathLike) -> None:
    """FileNotFoundError naming ``vault_dir`` unless it is a folder holding ``vault.json`` or
    ``authority.pub`` (a folder with one of them is damage, said by the checks that read them)."""
    vault_dir = Path(vault_dir)
    # A mistyped --vault said "X/authority.pub does not exist" (or "Not a directory" for a file):
    # name the folder instead. A folder holding one of the two files is a vault missing the other,
    # which the checks below report as the damage it is.
    if not vault_dir.is_dir():
        what = "it is a file, not a folder" if vault_dir.exists() else "no such folder"
        raise FileNotFoundError(f"no vault at {vault_dir} ({what}): give the folder that facesel run --vault wrote")
    if not (vault_dir / "authority.pub").exists() and not (vault_dir / "vault.json").exists():
        raise FileNotFoundError(f"no vault at {vault_dir} (it holds neither vault.json nor authority.pub): give the "
                                "folder that facesel run --vault wrote")


def load_identity(vault_dir: str | os.PathLike, anchor: AuthorityPublic | None = None,
                  pin: str | None = None) -> VaultIdentity:
    """Verify and return a vault's identity.

    Parameters
    ----------
    vault_dir : path-like
    anchor : AuthorityPublic, optional
        A trusted ``authority.pub`` (e.g. the authority's own). When the vault's copy is newer and
        a valid extension of it, the vault's copy is used (it may register more cameras).
    pin : str, optional
        The authority fingerprint the reader trusts (64 hex characters).

    Raises
    ------
    KeyMaterialError
        When the vault's authority file or ``vault.json`` is forged, edited, or not the trusted one.
    """
    vault_dir = Path(vault_dir)
    require_vault_folder(vault_dir)
    local = AuthorityPublic.load(vault_dir / "authority.pub")
    authority = local
    if anchor is not None:
        anchor.check_signature(pin)
        try:
            local.check_signature(anchor.fingerprint)
            if local.serial > anchor.serial:
                check_extension(anchor, local, f"{vault_dir / 'authority.pub'}")
            else:
                check_extension(local, anchor, f"{vault_dir / 'authority.pub'}")
                authority = anchor
        except KeyMaterialError:
            raise KeyMaterialError(f"{vault_dir / 'authority.pub'} does not match the trusted authority file: "
                                   "the vault's authority key was swapped") from None
    elif pin is not None:
        local.check_signature(pin, str(vault_dir / "authority.pub"))
    doc = _read_vault_json(vault_dir / "vault.json")
    body = {k: v for k, v in doc.items() if k != "signature"}
    camera_id = str(doc.get("camera_id"))
    key = authority.camera_key(camera_id)
    try:
        signature = base64.b64decode(str(doc.get("signature")), validate=True)
    except ValueError:
        signature = b""
    if key is None:
        raise KeyMaterialError(f"{vault_dir}: camera {camera_id!r} of this vault is not registered with authority "
                               f"{authority.authority_id}")
    if not verify_signature(key, _canonical(body), signature):
        raise KeyMaterialError(f"{vault_dir / 'vault.json'}: not signed by camera {camera_id!r} (forged or edited)")
    if doc.get("authority_id") != authority.authority_id or doc.get("authority_fingerprint") != authority.fingerprint:
        raise KeyMaterialError(f"{vault_dir}: the vault was made for another authority than {authority.authority_id}")
    return VaultIdentity(str(doc.get("vault_id")), camera_id, key, authority)


def read_record_file(path: Path, max_bytes: int = MAX_RECORD, sealed_size: int | None = None) -> bytes:
    """A record file's bytes: a regular file (not a link, FIFO, device or folder), its size
    checked on the open descriptor before anything is read.

    ``sealed_size``: the size its ``seal`` entry logged (:attr:`~facesel.vault.consistency.LoggedSeal.size`);
    a larger file is not the one sealed and is refused unread. Whoever can write the vault folder
    put a sparse file of 1 GiB (no disk used) under a record's name, and every reader (the camera's
    start, ``list``, the desk's find, ``open``) read all of it, twice its size in memory at once
    (review round 15b)."""
    limit = max_bytes if sealed_size is None else min(max_bytes, sealed_size)
    try:
        return read_regular(path, limit, follow=False)
    except FileNotFoundError:
        raise FileNotFoundError(f"file {path.name} is missing") from None
    except FileTooBigError:
        if limit < max_bytes:
            raise RecordError(f"{path.name} holds more than the {limit} bytes logged when the record was sealed "
                              "(the file was replaced; refused unread)") from None
        raise RecordError(f"{path.name} is more than the {max_bytes} bytes a record may have") from None
    except NotRegularFileError as err:
        raise RecordError(f"{path.name} is not a regular file ({err.strerror})") from None


def check_record(identity: VaultIdentity, data: bytes, record_id: str | None = None,
                 now: float | None = None) -> ParsedRecord:
    """Parse ``data`` and accept it only as a genuine record of this vault's camera and authority.

    Besides the signature, the record's seal time must lie inside the window of the epoch it was
    sealed to (a record sealed to a later epoch would outlive that epoch's shred), and, when
    ``now`` is given, not more than :data:`SEAL_TIME_TOLERANCE` seconds ahead of it (a record
    dated in the future would outlive its retention).
    """
    return check_parsed_record(identity, parse_record(data), record_id, now)


def check_parsed_record(identity: VaultIdentity, parsed: ParsedRecord, record_id: str | None = None,
                        now: float | None = None) -> ParsedRecord:
    """:func:`check_record` of a record already parsed (``verify-bundle`` parses a record in pieces)."""
    header = parsed.header
    if record_id is not None and parsed.record_id != record_id:
        raise RecordError(f"record {record_id}: the file holds record {parsed.record_id} (swapped files)")
    if header["authority_id"] != identity.authority.authority_id:
        raise RecordError(f"record {parsed.record_id}: sealed for authority {header['authority_id']}, not this "
                          "vault's")
    if header["camera_id"] != identity.camera_id:
        raise RecordError(f"record {parsed.record_id}: made by camera {header['camera_id']!r}, but this vault "
                          f"belongs to camera {identity.camera_id!r} (copied from another vault)")
    check_signature(parsed, identity.camera_key)
    check_seal_time(identity.authority, parsed.record_id, header["epoch_id"], header["sealed_at"], now)
    return parsed


def check_not_revoked(authority: AuthorityPublic, record_id: str, camera_id: str, sealed_at: float) -> None:
    """RecordError when ``authority`` revoked ``camera_id``'s key from a time at or before ``sealed_at``.

    A record dated before the revocation stays valid: its seal time is the key holder's word, so
    this cannot refuse a record that a thief backdated (docs/central.md, "Revoking a camera key").
    Called by the readers that decide whether to trust a record (openings, listings, ``receive``,
    ``verify-bundle``), not by :func:`check_record` itself: a camera's own recovery of its files
    judges their integrity, and keeps a revoked camera's records for the readers to refuse.
    """
    revoked = authority.revoked_from(camera_id)
    if revoked is not None and sealed_at >= revoked:
        raise RecordError(f"record {record_id}: sealed at {format_time(sealed_at)} by camera {camera_id!r}, signed "
                          f"with a key the authority revoked (from {format_time(revoked)}; authority.pub serial "
                          f"{authority.serial})")


def revoked_key_problem(authority: AuthorityPublic, camera_id: str, now: float) -> str | None:
    """Why camera ``camera_id`` must not seal at time ``now``: ``authority`` revoked its key from a
    time at or before it, so every record it would seal is refused by :func:`check_not_revoked`.
    None when it may (not revoked, or from a later time). For the sealing side: ``facesel serve``'s
    config and ``facesel run --vault`` (ux21)."""
    revoked = authority.revoked_from(camera_id)
    if revoked is None or revoked > now:
        return None
    return (f"camera {camera_id}'s key was revoked by the authority from {format_time(revoked)} (authority.pub "
            f"serial {authority.serial}): every record it sealed from then on is refused by every reader; make the "
            "camera a new key under another id ('facesel camera init --camera-id NEW'), register it ('facesel "
            "authority register') and give it a new vault folder")


def expired_key_problem(authority: AuthorityPublic, now: float) -> str | None:
    """Why nothing can be sealed at time ``now`` under ``authority``: no epoch key of it covers
    ``now`` (its horizon passed, or its first epoch starts later). None when one does. For the
    sealing side, before any frame is read: ``facesel run --vault`` read its whole input and then
    said that every snapshot could not be sealed ("free space (or fix the folder)"), and ``serve
    --check`` said OK of a camera that could seal nothing (ux27)."""
    if any(epoch.covers(now) for epoch in authority.epochs):
        return None
    if not authority.epochs:
        return f"authority.pub of authority {authority.authority_id} holds no epoch key: nothing can be sealed"
    first, last = min(e.not_before for e in authority.epochs), max(e.not_after for e in authority.epochs)
    if now < first:
        return (f"authority.pub of authority {authority.authority_id} has no epoch key for now ({format_time(now)}): "
                f"its first epoch starts at {format_time(first)}; nothing can be sealed before then")
    return (f"authority.pub of authority {authority.authority_id} has no epoch key for now ({format_time(now)}): its "
            f"keys ended at {format_time(last)}, so nothing can be sealed; the authority's holders make later keys "
            "with 'facesel authority extend --until TIME' and give the camera the new authority.pub")


def expired_authority_file(authority_path: str | os.PathLike, vault_dir: str | os.PathLike,
                           now: float) -> str | None:
    """:func:`expired_key_problem` of the file ``authority_path`` unless the vault's own copy in
    ``vault_dir`` (which a camera goes by when it is later: an extension the vault learnt of) covers
    ``now``. None too when the file does not load: the vault names what is wrong with it when it opens."""
    problems = {}
    for candidate in (Path(authority_path), Path(vault_dir) / "authority.pub"):
        try:
            authority = AuthorityPublic.load(candidate)
        except (ValueError, OSError):
            continue
        problems[candidate] = expired_key_problem(authority, now)
        if problems[candidate] is None:
            return None
    return problems.get(Path(authority_path))


def check_seal_time(authority: AuthorityPublic, record_id: str, epoch_id: int, sealed_at: float,
                    now: float | None = None) -> None:
    """RecordError unless ``sealed_at`` lies in epoch ``epoch_id``'s window and (with ``now``) not
    more than :data:`SEAL_TIME_TOLERANCE` seconds in the future."""
    epoch = next((e for e in authority.epochs if e.epoch_id == epoch_id), None)
    if epoch is None:
        raise RecordError(f"record {record_id}: sealed to epoch {epoch_id}, which authority "
                          f"{authority.authority_id} does not have")
    if not epoch.covers(sealed_at):
        raise RecordError(f"record {record_id}: sealed at {format_time(sealed_at)} to epoch {epoch_id}, whose "
                          f"window [{format_time(epoch.not_before)}, {format_time(epoch.not_after)}) does not "
                          "contain that time (it would outlive the epoch's shred)")
    if now is not None and sealed_at > now + SEAL_TIME_TOLERANCE:
        raise RecordError(f"record {record_id}: sealed at {format_time(sealed_at)}, more than "
                          f"{SEAL_TIME_TOLERANCE:.0f} s ahead of now ({format_time(now)}; it would outlive its "
                          "retention)")
