"""A sealed record inside an evidence bundle, checked in pieces (session 21, desk22).

``verify-bundle`` read each sealed record whole (a record may weigh up to 1 GiB), then held its
decrypted payload and pictures beside it: about three times the largest record. Here the record
member is read three times in pieces of :data:`~facesel.review.bundle_members.CHUNK` bytes,
keeping only its first bytes (header, key, nonce: at most :data:`~facesel.vault.record.MAX_PREFIX`),
its last 96 (signature and checksum) and the payload's metadata:

1. :func:`scan_record`: the structure and the BLAKE2b checksum, as :func:`~facesel.vault.record.parse_record`
   checks them, with the same functions and messages.
2. :meth:`StreamedRecord.signed_by`: the camera's Ed25519 signature over the body
   (:func:`ed25519_verify_pieces`).
3. :func:`open_payload`: XChaCha20-Poly1305 decryption in pieces, each piece of a picture compared
   with the bundle's picture file as it comes; the tag decides at the end.

Every decision waits for the end of a reading, where the member's SHA-256 is checked against the
first reading's (:meth:`~facesel.review.bundle_members.BundleMembers.pieces`), so the verdicts are
those of the whole-record check, word for word.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

import nacl.bindings as sodium
import nacl.exceptions
from Crypto.Cipher import ChaCha20_Poly1305

from facesel.review.bundle_members import BundleMembers, MemberReadError
from facesel.vault.errors import RecordError
from facesel.vault.payload import check_payload_meta, payload_layout
from facesel.vault.record import MAX_PREFIX, ParsedRecord, check_checksum, record_header, record_layout, record_parts

_ORDER = 2 ** 252 + 27742317777372353535851937790883648493  # L, the prime order of Ed25519's base point
_FIELD = 2 ** 255 - 19
_IDENTITY = b"\x01" + bytes(31)
_TAIL = 64 + 32  # signature and checksum after the ciphertext
_TAG = 16
_SODIUM_ERRORS = (nacl.exceptions.RuntimeError, nacl.exceptions.ValueError, nacl.exceptions.TypeError)


def _times(scalar: int, point: bytes) -> bytes:
    """``scalar`` times ``point`` by doubling and adding, with libsodium's point addition only.

    Not ``crypto_scalarmult_ed25519_noclamp``: that refuses a point outside the prime-order
    subgroup, which libsodium's signature check accepts as a public key; the addition does not."""
    result, addend = _IDENTITY, point
    while scalar:
        if scalar & 1:
            result = sodium.crypto_core_ed25519_add(result, addend)
        addend = sodium.crypto_core_ed25519_add(addend, addend)
        scalar >>= 1
    return result


def _small_order(point: bytes) -> bool:
    """Whether 8 times ``point`` is the identity (libsodium refuses such an R or public key).

    libsodium compares the encoding with a list instead: every encoding of the eight small-order
    points, non-canonical ones (y = p, p + 1) and either sign bit included, so the answers agree;
    an encoding that does not decode raises here and is refused by the caller, as libsodium does."""
    return _times(8, point) == _IDENTITY


def ed25519_verify_pieces(public_key: bytes, signature: bytes, pieces: Iterator[bytes]) -> bool:
    """libsodium's ``crypto_sign_verify_detached`` (pure Ed25519, as :func:`~facesel.vault.signing.verify_signature`)
    of the message given in ``pieces``, which is hashed as it comes, never held.

    The same checks in the same terms: S below the group order, R and the public key not of small
    order, the key a canonical encoding, then ``[S]B - [H(R || A || M)]A`` encoded equal to R's
    bytes. ``pieces`` is always read to its end (its reader may check the bytes it read then).
    tests/test_ed25519_pieces.py holds it to libsodium's verdicts on the edge cases of Chalkias,
    Garillot and Nikolaenko, "Taming the many EdDSAs" (2020), in pieces of every size.
    """
    digest = hashlib.sha512(bytes(signature[:32]) + bytes(public_key))
    for piece in pieces:
        digest.update(piece)
    if len(public_key) != 32 or len(signature) != 64:
        return False
    r, s = bytes(signature[:32]), int.from_bytes(signature[32:], "little")
    if s >= _ORDER or int.from_bytes(public_key, "little") & ((1 << 255) - 1) >= _FIELD:
        return False
    k = int.from_bytes(sodium.crypto_core_ed25519_scalar_reduce(digest.digest()), "little")
    try:
        if _small_order(r) or _small_order(bytes(public_key)):
            return False
        s_base = _IDENTITY if s == 0 else sodium.crypto_scalarmult_ed25519_base_noclamp(s.to_bytes(32, "little"))
        return sodium.crypto_core_ed25519_sub(s_base, _times(k, bytes(public_key))) == r
    except _SODIUM_ERRORS:  # a point that does not decode
        return False


@dataclass(frozen=True)
class StreamedRecord(ParsedRecord):
    """A record member of a bundle, parsed from its first and last bytes: ``ciphertext`` is empty
    and read again from ``members`` when needed."""

    members: BundleMembers | None = field(default=None, compare=False, repr=False)
    name: str = ""
    ciphertext_length: int = 0

    def _ciphertext_end(self) -> int:
        return len(self.associated_data) + self.ciphertext_length

    def body_pieces(self) -> Iterator[bytes]:
        """The bytes the camera signed (header and ciphertext), in pieces; the member is read to
        its end, so that its SHA-256 is checked."""
        end, at = self._ciphertext_end(), 0
        for piece in self.members.pieces(self.name):
            if at < end:
                yield piece[:end - at]
            at += len(piece)

    def signed_by(self, public_key: bytes) -> bool:
        """Whether ``public_key`` signed the record, hashed from a fresh reading of the member."""
        return ed25519_verify_pieces(public_key, self.signature, self.body_pieces())


@dataclass
class ScannedMember:
    """What the first reading of a record member found: its parse, or the RecordError
    :func:`~facesel.vault.record.parse_record` raises for it (raised by :meth:`parsed`)."""

    record: StreamedRecord | None
    error: RecordError | None

    def parsed(self) -> StreamedRecord:
        """The parsed record; the structure's RecordError otherwise."""
        if self.error is not None:
            raise self.error
        return self.record


def scan_record(members: BundleMembers, name: str) -> ScannedMember:
    """Read record member ``name`` once, keeping its first and last bytes and its checksum."""
    size = members.size(name)
    body_end = size - 32
    prefix, tail, at = bytearray(), b"", 0
    checksum = hashlib.blake2b(digest_size=32)
    for piece in members.pieces(name):
        if len(prefix) < MAX_PREFIX:
            prefix += piece[:MAX_PREFIX - len(prefix)]
        if at < body_end:
            checksum.update(piece[:body_end - at])
        tail = piece[-_TAIL:] if len(piece) >= _TAIL else (tail + piece)[-_TAIL:]
        at += len(piece)
    prefix = bytes(prefix)
    try:
        header_len, ct_len = record_layout(prefix, size)
        check_checksum(checksum.digest(), tail[-32:])
        header = record_header(prefix, header_len)
    except RecordError as err:
        return ScannedMember(None, err)
    associated, ephemeral, nonce = record_parts(prefix, header_len)
    record = StreamedRecord(header, associated, ephemeral, nonce, b"", tail[:64], members=members, name=name,
                            ciphertext_length=ct_len)
    return ScannedMember(record, None)


@dataclass
class OpenedPayload:
    """A record's payload read in pieces: its metadata, its blobs' ``(name, length)`` in order,
    and for each picture compared, whether the bundle's file holds exactly those bytes (True,
    False) or the MemberReadError its reading ended with."""

    meta: dict
    layout: list[tuple[str, int]]
    same: dict[str, bool | MemberReadError]


class _PictureComparison:
    """Compares the pieces of one blob, as they are decrypted, with a bundle member read alongside."""

    def __init__(self, members: BundleMembers, path: str, length: int):
        self.result: bool | MemberReadError = False
        self._pieces = None
        if path in members and members.size(path) == length:
            self._pieces, self.result = members.pieces(path), True
        self._buffer = b""

    def feed(self, data: bytes) -> None:
        """Compare the next decrypted bytes of the blob with the member's next bytes."""
        while data and self._pieces is not None:
            try:
                if not self._buffer:
                    self._buffer = next(self._pieces, b"")
            except MemberReadError as err:
                self.result, self._pieces = err, None
                return
            if not self._buffer:
                self.result, self._pieces = False, None
                return
            n = min(len(self._buffer), len(data))
            if self._buffer[:n] != data[:n]:
                self.result = False
            self._buffer, data = self._buffer[n:], data[n:]

    def finish(self) -> None:
        """The blob has ended: read the member to its end, where its SHA-256 is checked (a
        MemberReadError there becomes :attr:`result`)."""
        if self._pieces is None:
            return
        try:
            for _ in self._pieces:  # the member's end: its SHA-256 is checked there
                self.result = False  # more bytes than the blob (cannot happen: the sizes are equal)
        except MemberReadError as err:
            self.result = err


@dataclass
class _Blob:
    """The blob being read: its name, how many of its bytes are still to come, and its comparison
    with the bundle's picture file (None when the pictures are not compared)."""

    name: str
    left: int
    comparison: _PictureComparison | None


class _PayloadReader:
    """Takes a payload's plaintext in pieces: the 4-byte metadata length, the metadata (kept), then
    each blob, compared with its picture file when ``pictures`` (name -> path) names the same blobs."""

    def __init__(self, size: int, record_id: str, members: BundleMembers, pictures: object):
        self._size, self._rid, self._members, self._pictures = size, record_id, members, pictures
        self._head = bytearray()  # the metadata length and the metadata
        self._meta_len: int | None = None
        self.meta: dict | None = None
        self.layout: list[tuple[str, int]] = []
        self.error: Exception | None = None
        self.same: dict[str, bool | MemberReadError] = {}
        self._queue: list[tuple[str, int]] = []
        self._compared = False
        self._current: _Blob | None = None

    def feed(self, data: bytes) -> None:
        """The next piece of plaintext."""
        if self.meta is None and self.error is None:
            data = self._feed_head(data)
        while data and self._current is not None:
            piece, data = data[:self._current.left], data[self._current.left:]
            if self._current.comparison is not None:
                self._current.comparison.feed(piece)
            self._current.left -= len(piece)
            if self._current.left == 0:
                self._end_blob()

    def _feed_head(self, data: bytes) -> bytes:
        """Keep ``data``'s bytes of the metadata length and the metadata; once both are whole, read
        the blob layout and begin the first blob. Returns the bytes after the metadata (the first
        blob's), or b"" while the metadata is incomplete or once it was found malformed (:attr:`error`)."""
        if self._meta_len is None:
            take = max(0, min(4, self._size) - len(self._head))
            self._head += data[:take]
            data = data[take:]
            if len(self._head) < 4:
                return b""
            (self._meta_len,) = struct.unpack_from(">I", self._head)
        end = min(4 + self._meta_len, self._size)  # a length past the payload: what there is (then refused)
        take = max(0, end - len(self._head))
        self._head += data[:take]
        data = data[take:]
        if len(self._head) < end:
            return b""
        try:
            self.meta, self.layout = payload_layout(bytes(self._head[4:]), self._size - 4 - self._meta_len)
            check_payload_meta(self.meta, self._rid)
        except Exception as err:  # noqa: BLE001  (decode_snapshot's every error: "malformed payload")
            self.error, self.meta = err, None
            return b""
        self._head = bytearray()
        self._queue = list(self.layout)
        self._compared = isinstance(self._pictures, dict) and set(self._pictures) == {n for n, _ in self.layout}
        self._next_blob()
        return data

    def _next_blob(self) -> None:
        """Begin the next blob; an empty one ends at once."""
        while self._current is None and self._queue:
            name, length = self._queue.pop(0)
            compare = _PictureComparison(self._members, self._pictures[name], length) if self._compared else None
            self._current = _Blob(name, length, compare)
            if length == 0:
                self._end_blob()

    def _end_blob(self) -> None:
        """The current blob has all its bytes: settle its comparison (:attr:`same`) and begin the next."""
        blob = self._current
        if blob.comparison is not None:
            blob.comparison.finish()
            self.same[blob.name] = blob.comparison.result
        self._current = None
        self._next_blob()

    def finish(self) -> OpenedPayload:
        """The payload read; ValueError when it is malformed (as :func:`decode_snapshot` refuses it)."""
        if self.error is None and self.meta is None:
            self.error = ValueError("the payload ends before its metadata")
        if self.error is not None:
            raise ValueError(f"{type(self.error).__name__}: {self.error}")
        return OpenedPayload(self.meta, self.layout, self.same)


def open_payload(record: StreamedRecord, key: bytes, record_id: str, pictures: object) -> OpenedPayload:
    """Decrypt ``record`` with its one-time ``key`` in pieces and read its payload; compare each
    blob with the bundle's picture file ``pictures[name]`` as it comes (when ``pictures``, the
    manifest's value, is a dict naming exactly the sealed blobs; anything else is compared with nothing).

    Raises
    ------
    ValueError
        The key does not decrypt the record (the tag, checked after the last piece), or the
        payload is malformed (as :func:`facesel.vault.payload.decode_snapshot` would refuse it).
    """
    start = len(record.associated_data)
    tag_at = start + record.ciphertext_length - _TAG
    cipher = ChaCha20_Poly1305.new(key=bytes(key), nonce=bytes(record.nonce))  # ValueError: a key not of 32 bytes
    cipher.update(record.associated_data)
    reader = _PayloadReader(record.ciphertext_length - _TAG, record_id, record.members, pictures)
    tag, at = b"", 0
    for piece in record.members.pieces(record.name):
        lo, hi = max(start, at), min(tag_at, at + len(piece))
        if lo < hi:
            reader.feed(cipher.decrypt(piece[lo - at:hi - at]))
        lo, hi = max(tag_at, at), min(tag_at + _TAG, at + len(piece))
        if lo < hi:
            tag += piece[lo - at:hi - at]
        at += len(piece)
    cipher.verify(tag)  # ValueError: "MAC check failed"
    return reader.finish()
