"""Record format: exact round trip, every single-bit flip detected, parser fuzzed with hypothesis."""

from __future__ import annotations

import functools
import hashlib
import random

import nacl.bindings as sodium
import numpy as np
import pytest
from facesel.vault.errors import RecordError
from facesel.vault.payload import decode_snapshot, encode_snapshot
from facesel.vault.record import (
    MAGIC,
    check_signature,
    make_header,
    new_record_id,
    open_record,
    parse_record,
    seal_record,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from facesel.vault.signing import Signer
from nacl.signing import SigningKey
from test_vault_common import T0, orl_faces, track_result

CAMERA = Signer("camera:camera-0", SigningKey(bytes(range(32))))


def _seal(result, public):
    rid = new_record_id()
    header = make_header(rid, "auth0001", 20833, "camera-0", T0, result.first_timestamp, result.last_timestamp,
                         result.best.quality, result.track_id)
    return rid, seal_record(header, encode_snapshot(result, rid), public, CAMERA)


def _open(data, secret):
    """What opening does: structure, then the camera's signature, then the AEAD."""
    parsed = parse_record(data)
    check_signature(parsed, CAMERA.public_key)
    return decode_snapshot(open_record(parsed, secret, _public(secret)), parsed.record_id)


@functools.lru_cache(maxsize=4)
def _public(secret: bytes) -> bytes:
    return sodium.crypto_scalarmult_base(secret)


@pytest.fixture(scope="module")
def keypair():
    public, secret = sodium.crypto_box_keypair()
    return public, secret


@pytest.fixture(scope="module")
def small_record(shared_data, keypair):
    """A small record around a real ORL face shrunk to 16x16 (every bit of it gets flipped)."""
    face = orl_faces(shared_data, 1, size=(16, 16))[0]
    result = track_result(face, track_id=4)
    result.qualities, result.frame_indices = result.qualities[:2], result.frame_indices[:2]
    rid, data = _seal(result, keypair[0])
    return face, rid, data


def test_round_trip_is_exact_with_clip(shared_data, keypair):
    faces = orl_faces(shared_data, 4)
    result = track_result(faces[0], track_id=9, clip=faces[1:])
    rid, data = _seal(result, keypair[0])
    snap = _open(data, keypair[1])
    assert np.array_equal(snap.crop(), faces[0])
    assert all(np.array_equal(a, b) for a, b in zip(snap.clip(), faces[1:], strict=True))
    assert snap.meta["best"]["clip_frame_indices"] == [6, 7, 8]
    assert snap.meta["track"]["frame_indices"] == list(range(3, 13))
    assert parse_record(data).header["record_id"] == rid


def test_no_pixels_or_image_signature_in_the_record(shared_data, keypair):
    face = orl_faces(shared_data, 1)[0]
    _, data = _seal(track_result(face), keypair[0])
    assert b"\x89PNG" not in data and b"\xff\xd8\xff" not in data
    raw = face.tobytes()
    # No 16-byte window of the raw pixels appears in the record.
    windows = {raw[i:i + 16] for i in range(0, len(raw) - 16, 7)}
    assert not any(w in data for w in windows)


def test_wrong_key_is_a_clear_error(small_record):
    _, _, data = small_record
    _, other_secret = sodium.crypto_box_keypair()
    with pytest.raises(RecordError, match="authentication failed"):
        _open(data, other_secret)


def _flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def _fix_checksum(data: bytes) -> bytes:
    body = data[:-32]
    return body + hashlib.blake2b(body, digest_size=32).digest()


def test_every_single_bit_flip_is_detected(small_record, keypair):
    """Flip each of the record's bits, (a) as is and (b) with the trailing checksum recomputed, as
    a deliberate tamperer would: every variant must fail with RecordError, never open."""
    _, _, data = small_record
    assert 1000 < len(data) < 2000
    plain_caught = tamper_caught = 0
    kinds = set()
    for bit in range(len(data) * 8):
        flipped = _flip(data, bit)
        with pytest.raises(RecordError) as err:
            _open(flipped, keypair[1])
        plain_caught += 1
        if bit >= (len(data) - 32) * 8:
            continue  # a flip in the checksum itself has nothing left to recompute
        with pytest.raises(RecordError) as err:
            _open(_fix_checksum(flipped), keypair[1])
        kinds.add("signature" if "signature" in str(err.value) else "parser")
        tamper_caught += 1
    assert plain_caught == len(data) * 8
    assert tamper_caught == (len(data) - 32) * 8
    # With the checksum repaired, both the structural checks and the camera's signature do part of the work.
    assert kinds == {"signature", "parser"}


def test_sampled_bit_flips_on_a_full_size_record(shared_data, keypair):
    """A full 92x112 ORL face with a 3-frame clip: 1500 random bits (seeded), checksum recomputed."""
    faces = orl_faces(shared_data, 4)
    _, data = _seal(track_result(faces[0], clip=faces[1:]), keypair[0])
    rng = random.Random(1234)
    bits = rng.sample(range((len(data) - 32) * 8), 1500)
    for bit in bits:
        with pytest.raises(RecordError):
            _open(_fix_checksum(_flip(data, bit)), keypair[1])


def test_truncation_and_extension_are_detected(small_record, keypair):
    _, _, data = small_record
    for cut in (0, 5, 13, 14, 100, len(data) - 33, len(data) - 1):
        with pytest.raises(RecordError):
            _open(data[:cut], keypair[1])
    with pytest.raises(RecordError):
        _open(data + b"\0", keypair[1])


def test_header_is_authenticated_even_with_consistent_edits(small_record, keypair):
    """Rewrite the header (e.g. move the record in time) keeping it canonical, its length field
    right and the checksum recomputed: the signature refuses it, and so does the AEAD tag."""
    _, _, data = small_record
    parsed = parse_record(data)
    header = dict(parsed.header, sealed_at=parsed.header["sealed_at"] + 86400 * 365)
    from facesel.vault.record import (
        _canonical,  # the exact serialisation the format uses
    )
    new_header = _canonical(header)
    old_len = len(_canonical(parsed.header))
    assert len(new_header) == old_len
    forged = data[:14] + new_header + data[14 + old_len:]
    forged = _fix_checksum(forged)
    assert parse_record(forged).header["sealed_at"] == header["sealed_at"]  # structurally fine
    with pytest.raises(RecordError, match="signature"):
        _open(forged, keypair[1])
    with pytest.raises(RecordError, match="authentication failed"):
        open_record(parse_record(forged), keypair[1])


def test_unsupported_version_is_named(small_record, keypair):
    _, _, data = small_record
    forged = _fix_checksum(data[:8] + (1).to_bytes(2, "big") + data[10:])
    with pytest.raises(RecordError, match="unsupported record version 1"):
        parse_record(forged)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=2048))
def test_fuzz_parser_random_bytes(blob):
    """Arbitrary bytes: the parser raises RecordError or (never, in practice) parses; nothing else."""
    for data in (blob, MAGIC + blob, MAGIC + b"\x00\x01" + blob):
        try:
            parse_record(data)
        except RecordError:
            pass


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=8),
       cut=st.one_of(st.none(), st.integers(0, 10_000)), fix=st.booleans())
def test_fuzz_parser_mutated_records(small_record, keypair, edits, cut, fix):
    """Byte edits, truncation and checksum repair of a real record: only RecordError, or the
    original content when the edits happen to change nothing."""
    _, _, data = small_record
    out = bytearray(data)
    for pos, value in edits:
        out[pos % len(out)] = value
    if cut is not None:
        out = out[: cut % (len(out) + 1)]
    mutated = _fix_checksum(bytes(out)) if fix and len(out) > 32 else bytes(out)
    try:
        snap = _open(mutated, keypair[1])
    except RecordError:
        return
    assert mutated == data  # the only record that opens is the untouched one
    assert snap.meta["record_id"] == parse_record(data).record_id
