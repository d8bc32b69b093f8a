"""The one check every sealed record passes before a store accepts it or an authority opens it.

A record is opaque authenticated bytes: this checks what can be checked without any secret key:
its structure, canonical header and checksum (:func:`facesel.vault.record.parse_record`), that it
is the record it claims to be, that it is sealed for this store's authority, that its camera is
registered with the store, that this camera signed it (Ed25519, by the vault's own
:func:`facesel.vault.record.check_signature`, under the key in the store's camera registry), and
that its bytes are the ones logged on arrival. A record from an unregistered camera, from a
camera registered without a signing key, or signed by any other key (another camera's, or a
forger's who recomputed the checksum) is refused. The AEAD tag, checked when opening, adds that
nothing was changed since sealing even by someone holding the camera key.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable

from facesel.central.backend import Camera
from facesel.vault.authority_witness import newer_copy_problem
from facesel.vault.errors import EpochUnavailableError, KeyMaterialError, RecordError
from facesel.vault.identity import check_not_revoked, check_seal_time
from facesel.vault.index import COLUMNS, IndexRow
from facesel.vault.keys import AuthorityPublic, Keystore
from facesel.vault.record import ParsedRecord, check_signature, parse_record
from facesel.vault.timeparse import format_time as _format_time

_SHA256_HEX = re.compile(r"\A[0-9a-f]{64}\Z")


def verify_record(data: bytes, authority_id: str, camera_of: Callable[[str], Camera | None],
                  expected_id: str | None = None, expected_sha256: tuple[str, ...] = (),
                  registry: str = "this store") -> ParsedRecord:
    """Check one record's bytes; return it parsed.

    Parameters
    ----------
    data : bytes
        The whole sealed record.
    authority_id : str
        The store's authority; a record sealed for another one is refused.
    camera_of : callable
        ``camera_id -> Camera | None`` (the store's registry); None, or a camera without a
        registered ``public_key``, refuses the record.
    expected_id : str, optional
        The id the record is stored under; a record under another id is a swapped record.
    expected_sha256 : tuple of str
        SHA-256 hex digests the bytes must match (index row, audit log entry); empty skips.
    registry : str
        Whose list of cameras ``camera_of`` reads, for the messages.

    Raises
    ------
    RecordError
        Naming the record and what is wrong.
    """
    parsed = parse_record(data)
    rid = parsed.record_id
    if expected_id is not None and rid != expected_id:
        raise RecordError(f"record {expected_id}: the stored bytes are record {rid} (swapped records)")
    if parsed.header["authority_id"] != authority_id:
        raise RecordError(f"record {rid}: sealed for authority {parsed.header['authority_id']}, not {authority_id}")
    camera = camera_of(parsed.header["camera_id"])
    if camera is None:
        raise RecordError(f"record {rid}: camera {parsed.header['camera_id']!r} is not registered with {registry}")
    if camera.public_key is None:
        raise RecordError(f"record {rid}: camera {camera.camera_id!r} has no signing key registered with {registry}, "
                          "so its records cannot be verified")
    # The key is the one registered for the camera the header names: a record signed by another
    # camera (or re-signed with any other key) fails here.
    check_signature(parsed, camera.public_key)
    digest = hashlib.sha256(data).hexdigest()
    for wanted in expected_sha256:
        if not isinstance(wanted, str) or not _SHA256_HEX.fullmatch(wanted):
            # a log entry (or row) the store's tables' owner wrote as something else: this record is
            # refused, the others are read on (review round 14a, finding 2)
            raise RecordError(f"record {rid}: the store's digest of it (its row, or its 'received' log entry) is "
                              f"not a SHA-256 digest ({str(wanted)[:80]!r}): the entry was edited, so the record "
                              "is refused")
        if digest != wanted:
            raise RecordError(f"record {rid}: bytes differ from the ones logged when it arrived (sha256 {digest[:16]}..."
                              f" instead of {wanted[:16]}...)")
    return parsed


def authority_for_opening(keystore: Keystore, store_copy: AuthorityPublic) -> AuthorityPublic:
    """The authority file an opening takes the cameras' keys from: the newer of the authority's own
    ``authority.pub`` (beside its keystore) and the store's copy, each only when it carries the
    keystore's signing key (so signed by the authority: nobody else can register a camera in it).

    The store's ``cameras`` table is the store's word: its tables' owner could put a key of their
    own there for a real camera, sign a record of their making with it and have an opening decrypt
    it as that camera's (review round 10b, finding 5).

    Raises
    ------
    KeyMaterialError
        When the authority's own file belongs to another key, or neither file carries the keystore's.
    """
    own = keystore.path.parent / "authority.pub"
    if own.is_file():
        pub = AuthorityPublic.load(own)
        if pub.signing_key != keystore.signing_public or pub.authority_id != keystore.authority_id:
            raise KeyMaterialError(f"{own} belongs to another signing key than the keystore's")
        # The store's copy is a natural witness of the authority's folder: only the authority signs
        # a higher serial, so the folder's own file was put back to an older copy (session 21,
        # witness22). Refused, not taken silently: the revocations the folder lost matter beyond
        # this opening, and putting the newer genuine file back locks nobody out.
        problem = newer_copy_problem(pub, str(own), store_copy, "the central store's copy of authority.pub")
        if problem:
            raise KeyMaterialError(problem)
        return authority_for_reading(pub, store_copy)
    if _same_authority(store_copy, keystore.signing_public, keystore.authority_id):
        return store_copy
    raise KeyMaterialError(f"the store's copy of authority.pub does not carry the signing key of the keystore "
                           f"{keystore.path} (it was replaced: 'facesel central audit --authority DIR' says so), "
                           f"and there is no {own} to take the cameras' keys from")


def _same_authority(pub: AuthorityPublic, signing_key: bytes, authority_id: str) -> bool:
    return pub.signing_key == signing_key and pub.authority_id == authority_id


def authority_for_reading(trusted: AuthorityPublic, store_copy: AuthorityPublic) -> AuthorityPublic:
    """The newer of ``trusted`` (an authority.pub the reader holds: the authority's own, or a copy
    given with ``--authority``) and the store's copy, the latter only when it carries the same
    authority id and signing key (then the authority signed it, and it may register cameras the
    trusted copy predates); a store copy under another key is passed over.

    Needs no private key: :func:`authority_for_opening` is this with the keystore's public half.
    """
    if _same_authority(store_copy, trusted.signing_key, trusted.authority_id) and store_copy.serial > trusted.serial:
        return store_copy
    return trusted


def authority_cameras(authority: AuthorityPublic) -> Callable[[str], Camera | None]:
    """``camera_of`` for :func:`verify_record` from the cameras ``authority`` registered (a signed file),
    not from a store's table."""
    def camera_of(camera_id: str) -> Camera | None:
        key = authority.camera_key(camera_id)
        return None if key is None else Camera(camera_id, key)
    return camera_of


#: How :func:`verify_row`'s messages name the authority's list of cameras.
AUTHORITY_REGISTRY = "the authority (its signed authority.pub)"


def verify_row(data: bytes, row: IndexRow, authority: AuthorityPublic, logged: dict[str, str],
               now: float | None = None, registry: str = AUTHORITY_REGISTRY) -> ParsedRecord:
    """Check, for an opening, the record a store's index ``row`` names, and that the row is its record's.

    A store selects an opening's records by its rows' columns (camera, seal time), which are the
    store's word: its tables' owner may rewrite them. A record of another camera, or sealed outside
    the authorised window, relabelled into the scope would be opened under it (review round 10b,
    finding 1). So the row must equal the one its record's signed header makes, as
    :func:`facesel.vault.opening.verified_record` requires of a vault's index; the camera's key is
    the one ``authority`` registered (finding 5); and the seal time must lie in its epoch's window
    and not ahead of ``now`` beyond the readers' tolerance, as the vault's opening requires
    (:func:`facesel.vault.identity.check_seal_time`; ``receive`` checks it on arrival, a row the
    tables' owner inserted past it was not checked again). A record its camera sealed at or after
    the time ``authority`` revoked that camera's key from is refused
    (:func:`facesel.vault.identity.check_not_revoked`).

    Parameters
    ----------
    data : bytes
        The record's sealed bytes, as the store returned them for ``row.record_id``.
    row : IndexRow
        The store's row.
    authority : AuthorityPublic
        The authority file the opening trusts (:func:`authority_for_opening`): its id, the cameras
        it registered, its epochs. Never the store's own ``cameras`` table.
    logged : dict of str to str
        SHA-256 hex of records as the store's log recorded them on arrival (``logged_digests``);
        a record absent there is checked against its row's digest alone.
    now : float, optional
        Unix seconds to judge a seal time ahead of (default: the clock).
    registry : str
        How the messages name ``authority``'s list of cameras (a listing may check against the
        store's copy, which can predate a camera's registration).

    Raises
    ------
    RecordError
        Naming the record and what is wrong with it, or the columns where the row differs.
    """
    expected = (row.sha256,) + ((logged[row.record_id],) if row.record_id in logged else ())
    parsed = verify_record(data, authority.authority_id, authority_cameras(authority), row.record_id, expected,
                           registry)
    true_row = IndexRow.from_header(parsed.header, len(data), row.sha256)
    if true_row != row:
        wrong = [c for c in COLUMNS if getattr(true_row, c) != getattr(row, c)]
        raise RecordError(f"record {row.record_id}: the store's row disagrees with the record's signed header "
                          f"({', '.join(wrong)}): a row relabelled by whoever can write the store's tables is "
                          "not opened under the scope it claims")
    check_seal_time(authority, parsed.record_id, parsed.epoch_id, parsed.header["sealed_at"],
                    time.time() if now is None else now)
    check_not_revoked(authority, parsed.record_id, parsed.header["camera_id"], parsed.header["sealed_at"])
    return parsed


def format_time(seconds: float) -> str:
    """ISO 8601 of a time read from a record, or the number itself when no calendar holds it."""
    try:
        return _format_time(seconds)
    except (OverflowError, ValueError, OSError):
        return repr(seconds)


def seal_time_problem(header: dict, authority: AuthorityPublic, now: float, tolerance: float) -> str | None:
    """Why a record's signed seal time cannot be accepted on arrival at ``now``; None when it can.

    The seal time decides when retention deletes the record and the epoch decides which key
    shredding destroys it, and both are chosen by the camera: a camera (or whoever holds its key)
    could date a record years ahead, or seal it to an epoch far ahead, so that it outlives the
    retention period or the shredding of its real epoch. So the record's epoch (known to this
    store's authority) must contain its seal time, and the seal time may not lie more than
    ``tolerance`` seconds ahead of ``now``; and the authority must not have revoked the camera's
    key from a time at or before the seal time (the store's copy of authority.pub learns a
    revocation from ``facesel central init --authority``).
    """
    rid, sealed_at = header["record_id"], header["sealed_at"]
    try:
        epoch = authority.epoch(header["epoch_id"])
    except EpochUnavailableError:
        return (f"record {rid}: sealed to epoch {header['epoch_id']}, which this store's copy of authority.pub "
                "does not know (give it the newer authority.pub: facesel central init --authority)")
    if not epoch.covers(sealed_at):
        return (f"record {rid}: its epoch {epoch.epoch_id} ({format_time(epoch.not_before)} to "
                f"{format_time(epoch.not_after)}) does not contain its seal time {format_time(sealed_at)}")
    try:
        check_not_revoked(authority, rid, header["camera_id"], sealed_at)
    except RecordError as err:
        return str(err)
    if sealed_at > now + tolerance:
        return (f"record {rid}: sealed at {format_time(sealed_at)}, {sealed_at - now:.0f} s ahead of its arrival "
                f"(more than the {tolerance:.0f} s allowed for clock skew); the camera's clock is wrong, or the "
                "record was dated ahead to evade retention")
    return None
