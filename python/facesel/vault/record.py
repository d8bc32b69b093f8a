"""The sealed record: a versioned binary format with an authenticated header.

Layout (all integers big-endian)::

    offset       size  field
    0            8     magic  b"\\x89FSV\\r\\n\\x1a\\n"   (PNG-style: catches text-mode mangling)
    8            2     format version (2)
    10           4     header length H (<= 64 KiB)
    14           H     header: canonical UTF-8 JSON, non-biometric metadata only
    14+H         32    ephemeral X25519 public key
    46+H         24    XChaCha20 nonce
    70+H         8     ciphertext length C
    78+H         C     ciphertext + 16-byte Poly1305 tag (XChaCha20-Poly1305-IETF)
    78+H+C       64    Ed25519 signature by the camera of every byte before it (header and ciphertext)
    142+H+C      32    BLAKE2b-256 of every byte before it

Encryption is an ECIES-style "sealed box with associated data": a fresh ephemeral X25519 key pair
per record, the shared secret with the epoch public key hashed together with both public keys
into a one-time AEAD key, and *every byte before the ciphertext* (magic, version, header,
ephemeral key, nonce, length) as associated data. PyNaCl's ``SealedBox`` takes no associated
data, so it could not authenticate the header; this construction does, with the same primitives.
Only the epoch secret opens a record, and any change to any bit is detected: by the parser
(magic, version, lengths, JSON, checksum), and, even if an attacker recomputes the checksum, by
the AEAD tag. The AEAD alone proves nothing about *who* sealed: anyone holding ``authority.pub``
can make a record that decrypts. The camera's signature does: :func:`check_signature` accepts a
record only under the public key of the camera named in its header, which the authority
registered. Version 1 records (unsigned) are refused. The trailing checksum lets ``facesel list`` and the index rebuild detect accidental
corruption without keys; it gives no protection against deliberate tampering (the tag does).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import secrets
import struct
from dataclasses import dataclass

import nacl.bindings as sodium
import nacl.exceptions

from facesel.vault.errors import RecordError
from facesel.vault.signing import verify_signature

MAGIC = b"\x89FSV\r\n\x1a\n"
VERSION = 2
MAX_RECORD = 1 << 30  # a record file bigger than this is refused before it is read
MAX_HEADER = 64 * 1024
_PREFIX = struct.Struct(">8sHI")  # magic, version, header length
_LEN = struct.Struct(">Q")
_EPK = 32
_NONCE = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
_TAG = sodium.crypto_aead_xchacha20poly1305_ietf_ABYTES
_SUM = 32
_SIG = 64
# \A...\Z, not ^...$: "$" also matches before a final newline, so "<id>\n" passed as an id (review
# round 13c, finding 4: a camera key holder sealed one that reads as another record's id on a page)
RECORD_ID = re.compile(r"\A[0-9a-f]{32}\Z")

# Header fields and their JSON types: nothing here may describe a face.
_HEADER_FIELDS = {
    "record_id": str, "authority_id": str, "epoch_id": int, "camera_id": str, "sealed_at": float,
    "first_timestamp": (float, type(None)), "last_timestamp": (float, type(None)),
    "quality": (float, type(None)), "track_id": (int, type(None)), "payload": str,
}


def new_record_id() -> str:
    """128 random bits as hex: unguessable, and carries no time or content."""
    return secrets.token_hex(16)


def _canonical(obj: dict) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False).encode("utf-8")


def _finite_or_none(value):
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def make_header(record_id: str, authority_id: str, epoch_id: int, camera_id: str, sealed_at: float,
                first_timestamp: float | None = None, last_timestamp: float | None = None,
                quality: float | None = None, track_id: int | None = None, payload: str = "snapshot-v1") -> dict:
    """Build and validate a header dictionary (see :data:`_HEADER_FIELDS`)."""
    header = {
        "record_id": record_id, "authority_id": str(authority_id), "epoch_id": int(epoch_id),
        "camera_id": str(camera_id), "sealed_at": float(sealed_at),
        "first_timestamp": _finite_or_none(first_timestamp), "last_timestamp": _finite_or_none(last_timestamp),
        "quality": _finite_or_none(quality), "track_id": None if track_id is None else int(track_id),
        "payload": payload,
    }
    _validate_header(header)
    return header


def _type_ok(value: object, kind: type | tuple) -> bool:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool):  # bool is an int subclass; never a valid header value
        return False
    # JSON has one number type: an integral float may come back as an int.
    return isinstance(value, kinds) or (float in kinds and isinstance(value, int))


def _validate_header(header: object) -> None:
    if not isinstance(header, dict) or set(header) != set(_HEADER_FIELDS):
        raise RecordError("record header has missing or unexpected fields")
    for key, kind in _HEADER_FIELDS.items():
        if not _type_ok(header[key], kind):
            raise RecordError(f"record header field {key!r} has the wrong type ({type(header[key]).__name__})")
    if not RECORD_ID.match(header["record_id"]):
        raise RecordError(f"record header has a malformed record_id {header['record_id']!r}")
    if header["epoch_id"] < 0 or not math.isfinite(header["sealed_at"]):
        raise RecordError("record header has an invalid epoch_id or sealed_at")
    if len(header["camera_id"]) > 256 or len(header["authority_id"]) > 256:
        raise RecordError("record header camera_id or authority_id is too long")


def _aead_key(shared: bytes, ephemeral_public: bytes, epoch_public: bytes) -> bytes:
    return hashlib.blake2b(shared + ephemeral_public + epoch_public, digest_size=32,
                           person=b"facesel-rec-v1").digest()


def seal_record(header: dict, plaintext: bytes, epoch_public: bytes, signer) -> bytes:
    """Encrypt ``plaintext`` to ``epoch_public`` under ``header``, sign it with the camera's
    ``signer`` (:class:`~facesel.vault.signing.Signer`); return the record bytes."""
    _validate_header(header)
    if not isinstance(epoch_public, (bytes, bytearray)) or len(epoch_public) != 32:
        raise ValueError("epoch_public must be a 32-byte X25519 public key")
    header_bytes = _canonical(header)
    if len(header_bytes) > MAX_HEADER:
        raise ValueError(f"header is {len(header_bytes)} bytes, more than {MAX_HEADER}")
    eph_public, eph_secret = sodium.crypto_box_keypair()
    shared = sodium.crypto_scalarmult(eph_secret, bytes(epoch_public))
    nonce = secrets.token_bytes(_NONCE)
    ad = (_PREFIX.pack(MAGIC, VERSION, len(header_bytes)) + header_bytes + eph_public + nonce
          + _LEN.pack(len(plaintext) + _TAG))
    ciphertext = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
        bytes(plaintext), ad, nonce, _aead_key(shared, eph_public, bytes(epoch_public)))
    body = ad + ciphertext
    body += signer.sign(body)
    return body + hashlib.blake2b(body, digest_size=_SUM).digest()


@dataclass(frozen=True)
class ParsedRecord:
    """A record whose structure and checksum are valid; its content is not yet authenticated."""

    header: dict
    associated_data: bytes
    ephemeral_public: bytes
    nonce: bytes
    ciphertext: bytes
    signature: bytes = b""

    @property
    def record_id(self) -> str:
        """The record's id (32 hex characters), from its checked plaintext header."""
        return self.header["record_id"]

    @property
    def epoch_id(self) -> int:
        """The epoch whose key sealed the record, from its checked plaintext header."""
        return self.header["epoch_id"]

    def signed_by(self, public_key: bytes) -> bool:
        """Whether ``public_key`` signed every byte before the signature (header and ciphertext).
        A record checked without holding its bytes (``verify-bundle``) answers from a stream."""
        return verify_signature(public_key, self.associated_data + self.ciphertext, self.signature)


def parse_record(data: bytes) -> ParsedRecord:
    """Check a record's structure and checksum without any key.

    Raises
    ------
    RecordError
        For anything that is not a complete, well-formed, version-1 record. No other exception
        escapes, whatever the input (fuzzed with hypothesis).
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    data = bytes(data)
    header_len, ct_len = record_layout(data, len(data))
    body, checksum = data[:-_SUM], data[-_SUM:]
    check_checksum(hashlib.blake2b(body, digest_size=_SUM).digest(), checksum)
    header = record_header(data, header_len)
    associated, ephemeral, nonce = record_parts(data, header_len)
    fixed = len(associated)
    return ParsedRecord(header, associated, ephemeral, nonce, data[fixed:fixed + ct_len],
                        data[fixed + ct_len:fixed + ct_len + _SIG])


def record_parts(prefix: bytes, header_len: int) -> tuple[bytes, bytes, bytes]:
    """``(associated data, ephemeral public key, nonce)`` of a record whose first bytes are ``prefix``
    (its layout checked by :func:`record_layout`): every byte before the ciphertext, and two of its fields."""
    offset = _PREFIX.size + header_len
    fixed = offset + _EPK + _NONCE + _LEN.size
    return prefix[:fixed], prefix[offset:offset + _EPK], prefix[offset + _EPK:offset + _EPK + _NONCE]


#: The most bytes before a record's ciphertext (prefix, largest header, key, nonce, length).
MAX_PREFIX = _PREFIX.size + MAX_HEADER + _EPK + _NONCE + _LEN.size


def record_layout(prefix: bytes, size: int) -> tuple[int, int]:
    """``(header length, ciphertext length)`` of a record of ``size`` bytes whose first bytes are
    ``prefix`` (at least ``min(size, MAX_PREFIX)`` of them); RecordError when its structure is wrong.
    :func:`parse_record`'s first checks, shared with ``verify-bundle``, which reads a record in pieces."""
    if size < _PREFIX.size:
        raise RecordError(f"not a facesel record: {size} bytes is too short")
    magic, version, header_len = _PREFIX.unpack_from(prefix)
    if magic != MAGIC:
        raise RecordError("not a facesel record (bad magic bytes)")
    if version != VERSION:
        raise RecordError(f"unsupported record version {version} (this facesel reads version {VERSION})")
    if header_len > MAX_HEADER:
        raise RecordError(f"corrupt record: header length {header_len} exceeds {MAX_HEADER}")
    fixed = _PREFIX.size + header_len + _EPK + _NONCE + _LEN.size
    if size < fixed + _TAG + _SIG + _SUM:
        raise RecordError(f"corrupt record: truncated ({size} bytes)")
    (ct_len,) = _LEN.unpack_from(prefix, fixed - _LEN.size)
    if ct_len < _TAG or fixed + ct_len + _SIG + _SUM != size:
        raise RecordError(f"corrupt record: ciphertext length {ct_len} does not match the file size {size}")
    return header_len, ct_len


def check_checksum(computed: bytes, stored: bytes) -> None:
    """RecordError unless the BLAKE2b-256 ``computed`` over a record's body is the ``stored`` one."""
    if not secrets.compare_digest(computed, stored):
        raise RecordError("corrupt record: checksum mismatch (the file was altered or damaged)")


def record_header(prefix: bytes, header_len: int) -> dict:
    """The checked header of a record whose first bytes are ``prefix``; RecordError when it is not
    canonical JSON of the allowed fields."""
    header_bytes = prefix[_PREFIX.size:_PREFIX.size + header_len]
    try:
        header = json.loads(header_bytes.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise RecordError("corrupt record: header is not valid UTF-8 JSON") from None
    _validate_header(header)
    if _canonical(header) != header_bytes:
        raise RecordError("corrupt record: header is not in canonical form")
    return header


def check_signature(record: ParsedRecord, camera_public: bytes | None) -> None:
    """Raise RecordError unless the camera with ``camera_public`` signed ``record`` (None: unknown camera)."""
    camera = record.header["camera_id"]
    if camera_public is None:
        raise RecordError(f"record {record.record_id}: camera {camera!r} is not registered with the authority "
                          "(forged or planted record)")
    if not record.signed_by(camera_public):
        raise RecordError(f"record {record.record_id}: the signature of camera {camera!r} does not match "
                          "(forged or altered record)")


def open_record(record: ParsedRecord, epoch_secret: bytes, epoch_public: bytes | None = None) -> bytes:
    """Authenticate and decrypt a parsed record with its epoch's X25519 secret key.

    ``epoch_public`` (the matching public key) may be passed to save recomputing it.

    Raises
    ------
    RecordError
        When the key is wrong or any byte of the record was changed.
    """
    if not isinstance(epoch_secret, (bytes, bytearray)) or len(epoch_secret) != 32:
        raise ValueError("epoch_secret must be a 32-byte X25519 secret key")
    if epoch_public is None:
        epoch_public = sodium.crypto_scalarmult_base(bytes(epoch_secret))
    try:
        shared = sodium.crypto_scalarmult(bytes(epoch_secret), record.ephemeral_public)
        return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
            record.ciphertext, record.associated_data, record.nonce,
            _aead_key(shared, record.ephemeral_public, epoch_public))
    except (nacl.exceptions.CryptoError, nacl.exceptions.RuntimeError):
        raise RecordError(
            f"record {record.record_id}: authentication failed (tampered or corrupt record, or wrong epoch key)"
        ) from None
