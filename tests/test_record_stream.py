"""``verify-bundle`` checks a sealed record in pieces (session 21, desk22): the pieces must give
exactly the whole-record answers. The Ed25519 check built from libsodium's point operations
against libsodium's own ``crypto_sign_verify_detached`` (through ``verify_signature``) on genuine,
altered and malformed signatures and keys; the streamed parse against ``parse_record`` on damaged
records; the streamed decryption against the record's own decryption."""

from __future__ import annotations

import base64
import json
import os
import zipfile

import nacl.bindings as sodium
import nacl.signing
import pytest
from facesel.review.bundle_members import CHUNK
from facesel.review.record_stream import ed25519_verify_pieces, open_payload, scan_record
from facesel.review.verify_bundle import _read_members
from facesel.vault.errors import RecordError
from facesel.vault.payload import decode_snapshot
from facesel.vault.record import parse_record
from facesel.vault.signing import verify_signature

ORDER = 2 ** 252 + 27742317777372353535851937790883648493
IDENTITY = b"\x01" + bytes(31)


def _pieces(message: bytes, size: int):
    return (message[i:i + size] for i in range(0, len(message), size))


def _cases():
    rng = __import__("random").Random(21)
    key = nacl.signing.SigningKey(bytes(range(32)))
    public = bytes(key.verify_key)
    torsion = sodium.crypto_core_ed25519_sub(IDENTITY, IDENTITY)  # the identity, canonically encoded
    order_two = bytes.fromhex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")  # (0, -1)
    mixed = sodium.crypto_core_ed25519_add(public, order_two)  # the key plus a point of order 2
    for n in range(60):
        message = rng.randbytes(rng.choice([0, 1, 63, 64, 65, 1000, 3 * CHUNK // 2]))
        signature = key.sign(message).signature
        yield public, message, signature  # genuine
        yield public, message + b"x", signature  # another message
        flipped = bytearray(signature)
        flipped[n % 64] ^= 1 << (n % 8)
        yield public, message, bytes(flipped)
        s = int.from_bytes(signature[32:], "little")
        yield public, message, signature[:32] + (s + ORDER).to_bytes(32, "little")  # S not reduced
        yield public, message, signature[:32] + bytes(32)  # S = 0
        yield public, message, rng.choice([IDENTITY, bytes(32), order_two, torsion]) + signature[32:]  # small R
        yield rng.choice([IDENTITY, bytes(32), order_two, rng.randbytes(32), mixed]), message, signature
        yield public, message, rng.randbytes(64)
        yield public, message, signature[:63]  # short


def test_the_streamed_signature_check_answers_as_libsodium_does():
    answers = []
    for public, message, signature in _cases():
        whole = verify_signature(public, message, signature)
        for size in (1, 7, 64, CHUNK):
            if size == 1 and len(message) > 2000:
                continue
            assert ed25519_verify_pieces(public, signature, _pieces(message, size)) == whole, (public, signature)
        answers.append(whole)
    assert 60 <= answers.count(True) < len(answers) // 2  # both answers were asked for


def _bundle_of(tmp_path, records: dict[str, bytes]):
    """A zip of ``records`` (name -> bytes) as the verifier reads one (stored members)."""
    path = tmp_path / "m.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in records.items():
            zf.writestr(name, data)
    return path


@pytest.fixture(scope="module")
def sealed(tmp_path_factory, shared_data):
    from large_bundle import make_bundle

    root = tmp_path_factory.mktemp("stream")
    bundle = make_bundle(root, shared_data, 1, frames=3, side=96)
    with zipfile.ZipFile(bundle) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".fsr"))
        return zf.read(name), bundle


def test_the_streamed_parse_refuses_what_parse_record_refuses_in_its_words(sealed, tmp_path):
    data, _ = sealed
    damaged = {"whole": data, "empty": b"", "short": data[:10], "cut": data[:-1], "longer": data + b"\0"}
    for at in list(range(0, 200, 3)) + [len(data) // 2, len(data) - 97, len(data) - 33, len(data) - 1]:
        flipped = bytearray(data)
        flipped[at] ^= 0x41
        damaged[f"flip{at}"] = bytes(flipped)
    path = _bundle_of(tmp_path, {f"{k}.fsr": v for k, v in damaged.items()})
    with open(path, "rb") as fp:
        members = _read_members(path, fp)
        try:
            for label, raw in damaged.items():
                try:
                    whole = parse_record(raw)
                except RecordError as err:
                    whole = str(err)
                try:
                    streamed = scan_record(members, f"{label}.fsr").parsed()
                except RecordError as err:
                    streamed = str(err)
                if isinstance(whole, str):
                    assert streamed == whole, label
                else:
                    assert (streamed.header, streamed.associated_data, streamed.nonce, streamed.signature) == \
                        (whole.header, whole.associated_data, whole.nonce, whole.signature), label
        finally:
            members.close()


def test_the_streamed_decryption_gives_the_sealed_payload_and_compares_each_picture(sealed, tmp_path):
    data, bundle = sealed
    with zipfile.ZipFile(bundle) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        item = manifest["records"][0]
        members_raw = {n: zf.read(n) for n in zf.namelist()}
    key = base64.b64decode(item["record_key"])
    parsed = parse_record(data)
    snapshot = decode_snapshot(sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
        parsed.ciphertext, parsed.associated_data, parsed.nonce, key), parsed.record_id)
    changed = dict(members_raw)
    clip = item["pictures"]["clip/0001"]
    changed[clip] = changed[clip][:-1] + bytes([changed[clip][-1] ^ 1])
    for raw, expect_same in ((members_raw, True), (changed, False)):
        path = _bundle_of(tmp_path, raw)
        with open(path, "rb") as fp:
            members = _read_members(path, fp)
            try:
                record = scan_record(members, item["sealed"]).parsed()
                payload = open_payload(record, key, parsed.record_id, item["pictures"])
                with pytest.raises(ValueError):  # another key: the tag refuses it after the last piece
                    open_payload(record, os.urandom(32), parsed.record_id, item["pictures"])
            finally:
                members.close()
        assert payload.meta == snapshot.meta
        assert [n for n, _ in payload.layout] == list(snapshot.blobs)
        assert [size for _, size in payload.layout] == [len(b) for b in snapshot.blobs.values()]
        assert payload.same == {n: (expect_same or n != "clip/0001") for n in snapshot.blobs}


def _payload_variants(payload: bytes) -> dict[str, bytes]:
    """A genuine payload and damaged ones: every way its parts can be wrong, as camera software
    holding the key could seal them."""
    meta_len = int.from_bytes(payload[:4], "big")
    meta = json.loads(payload[4:4 + meta_len])
    variants = {"genuine": payload, "empty": b"", "three bytes": payload[:3], "length only": payload[:4],
                "cut in the metadata": payload[:4 + meta_len // 2], "cut in a blob": payload[:-5],
                "a byte more": payload + b"\0", "length past the end": (len(payload)).to_bytes(4, "big") + payload[4:],
                "length zero": bytes(4) + payload[4:]}
    for at in list(range(0, min(len(payload), 4 + meta_len + 40), 7)) + list(range(4 + meta_len, len(payload), 997)):
        flipped = bytearray(payload)
        flipped[at] ^= 0x04
        variants[f"flip {at}"] = bytes(flipped)

    def with_meta(edit) -> bytes:
        changed = json.loads(json.dumps(meta))
        edit(changed)
        text = json.dumps(changed, sort_keys=True, separators=(",", ":")).encode()
        return len(text).to_bytes(4, "big") + text + payload[4 + meta_len:]

    variants["blob lengths swapped"] = with_meta(lambda m: m["blobs"].reverse())
    variants["a blob named twice"] = with_meta(lambda m: m["blobs"][1].update(name=m["blobs"][0]["name"]))
    variants["another kind"] = with_meta(lambda m: m.update(kind="other"))
    variants["another record"] = with_meta(lambda m: m.update(record_id="0" * 32))
    variants["an empty blob first"] = with_meta(lambda m: m["blobs"].insert(0, {"name": "clip/0099", "length": 0}))
    variants["an empty blob last"] = with_meta(lambda m: m["blobs"].append({"name": "clip/0099", "length": 0}))
    return variants


def test_the_streamed_payload_is_refused_or_read_exactly_as_decode_snapshot_does(sealed, tmp_path):
    from facesel.review.memory_open import record_key
    from facesel.vault.record import seal_record
    from facesel.vault.signing import Signer

    data, _ = sealed
    genuine = parse_record(data)
    camera = Signer("camera:cam-1", nacl.signing.SigningKey(bytes(32)))
    epoch_public, epoch_secret = sodium.crypto_box_keypair()
    outcomes = []
    for label, plaintext in _payload_variants(_genuine_payload(sealed)).items():
        record = seal_record(genuine.header, plaintext, epoch_public, camera)
        parsed = parse_record(record)
        key = record_key(parsed, epoch_secret)
        try:
            snapshot = decode_snapshot(sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
                parsed.ciphertext, parsed.associated_data, parsed.nonce, key), parsed.record_id)
        except RecordError:
            snapshot = None
        pictures = {n: f"p/{n}" for n in snapshot.blobs} if snapshot else {"crop": "p/crop"}
        members_raw = {"r.fsr": record, **({f"p/{n}": b for n, b in snapshot.blobs.items()} if snapshot else {})}
        path = _bundle_of(tmp_path, members_raw)
        with open(path, "rb") as fp:
            members = _read_members(path, fp)
            try:
                streamed = open_payload(scan_record(members, "r.fsr").parsed(), key, parsed.record_id, pictures)
            except ValueError:
                streamed = None
            finally:
                members.close()
        assert (streamed is None) == (snapshot is None), label
        if snapshot is not None:
            assert streamed.meta == snapshot.meta and streamed.layout == [(n, len(b)) for n, b in
                                                                          snapshot.blobs.items()], label
            assert all(streamed.same.values()), label
        outcomes.append(snapshot is None)
    assert outcomes.count(False) >= 3 and outcomes.count(True) >= 20  # both answers were asked for


def _genuine_payload(sealed) -> bytes:
    data, bundle = sealed
    with zipfile.ZipFile(bundle) as zf:
        key = base64.b64decode(json.loads(zf.read("manifest.json"))["records"][0]["record_key"])
    parsed = parse_record(data)
    return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(parsed.ciphertext, parsed.associated_data,
                                                             parsed.nonce, key)


@pytest.mark.parametrize("chunk", [1, 7, 96, CHUNK])
def test_the_streamed_body_is_every_byte_the_whole_record_check_signs(sealed, tmp_path, monkeypatch, chunk):
    """``body_pieces`` gives header and ciphertext, not one byte of the signature or checksum after
    them, whatever the reading's piece size; the signature checks on them as on the whole record."""
    from facesel.review import bundle_members
    from facesel.vault.record import seal_record
    from facesel.vault.signing import Signer

    monkeypatch.setattr(bundle_members, "CHUNK", chunk)
    data, _ = sealed
    genuine = parse_record(data)
    camera = Signer("camera:cam-1", nacl.signing.SigningKey(bytes(range(32))))
    record = seal_record(genuine.header, os.urandom(1000), sodium.crypto_box_keypair()[0], camera)
    parsed = parse_record(record)
    path = _bundle_of(tmp_path, {"r.fsr": record})
    with open(path, "rb") as fp:
        members = _read_members(path, fp)
        try:
            streamed = scan_record(members, "r.fsr").parsed()
            pieces = list(streamed.body_pieces())
            signed = streamed.signed_by(bytes(camera.key.verify_key))
            other = streamed.signed_by(bytes(nacl.signing.SigningKey(bytes(32)).verify_key))
        finally:
            members.close()
    assert b"".join(pieces) == parsed.associated_data + parsed.ciphertext == record[:-96]
    assert max(len(p) for p in pieces) <= chunk
    assert (signed, other) == (parsed.signed_by(bytes(camera.key.verify_key)), False) == (True, False)
