"""Review 5, finding 3 (low): a sealed payload that the decoder could not parse escaped as an
``OverflowError`` or a ``RecursionError`` instead of a RecordError naming the record.

The payload is the camera's word: whoever holds a camera's key (other software on the camera, a
stolen key syncing to the central store) seals any bytes. A blob length of ``1e999`` (JSON reads
it as infinity) or a metadata object nested 100,000 deep made ``facesel open`` (and the desk, and
``central open``, and ``verify-bundle``: every reader decodes through :func:`decode_snapshot`)
stop with a traceback instead of one line naming the record, after the holders had given their
shares. Every parse failure is now a RecordError.
"""

from __future__ import annotations

import json
import struct

import pytest
from facesel.vault import store
from facesel.vault.errors import RecordError
from facesel.vault.payload import decode_snapshot
from test_vault_common import (
    T0,
    FakeClock,
    make_authority,
    orl_faces,
    run_cli,
    share_paths,
    track_result,
    vault_at,
)

RID = "0" * 32


def _with_meta(payload: bytes, edit) -> bytes:
    (size,) = struct.unpack_from(">I", payload)
    body = edit(payload[4:4 + size].decode())
    return struct.pack(">I", len(body)) + body + payload[4 + size:]


def _infinite_length(text: str) -> bytes:
    meta = json.loads(text)
    meta["blobs"][0]["length"] = "INF"
    return json.dumps(meta).replace('"INF"', "1e999").encode()


def _deep(text: str) -> bytes:
    return ('{"kind":"snapshot-v1","blobs":' + "[" * 100_000 + "]" * 100_000 + "}").encode()


def _length_is_true(text: str) -> bytes:
    meta = json.loads(text)
    meta["blobs"][0]["length"] = True
    return json.dumps(meta).encode()


def _blob_is_not_a_mapping(text: str) -> bytes:
    meta = json.loads(text)
    meta["blobs"] = ["crop"]
    return json.dumps(meta).encode()


ROGUE = {"infinite length": _infinite_length, "nested 100000 deep": _deep, "length true": _length_is_true,
         "blob entry a string": _blob_is_not_a_mapping}


@pytest.fixture(scope="module")
def sealed(tmp_path_factory, shared_data):
    """One vault per rogue payload: a genuine record, then the rogue camera software's record."""
    root = tmp_path_factory.mktemp("rogue")
    adir = make_authority(root / "auth")[1]
    faces = orl_faces(shared_data, 2, size=(32, 36))
    original = store.encode_snapshot
    vaults = {}
    for name, edit in ROGUE.items():
        clock = FakeClock(T0)
        with vault_at(root / name.replace(" ", "-"), adir, clock=clock) as vault:
            good = vault.seal(track_result(faces[0]))
            store.encode_snapshot = lambda result, rid, fmt="png", edit=edit: _with_meta(original(result, rid, fmt),
                                                                                         edit)
            try:
                clock.advance(60)
                bad = vault.seal(track_result(faces[1], track_id=1))
            finally:
                store.encode_snapshot = original
        vaults[name] = (vault.path, good, bad)
    return adir, vaults, original


@pytest.mark.parametrize("name", sorted(ROGUE))
def test_a_rogue_payload_is_one_clear_error_naming_its_record(tmp_path, sealed, capsys, name):
    adir, vaults, _ = sealed
    vault, good, bad = vaults[name]
    shares = [a for p in share_paths(adir)[:2] for a in ("--share", p)]
    code, _, err = run_cli(capsys, "open", "--vault", vault, "--reason", "case 5", "--all", "--out",
                           tmp_path / "all", *shares)  # before: OverflowError / RecursionError traceback
    assert code == 1 and f"record {bad}: malformed payload" in err, err
    assert not (tmp_path / "all").exists() or not any((tmp_path / "all").iterdir())
    code, _, err = run_cli(capsys, "open", "--vault", vault, "--reason", "case 5", good, "--out",
                           tmp_path / "good", *shares)
    assert code == 0, err
    assert (tmp_path / "good" / good / "crop.png").is_file()


@pytest.mark.parametrize("name", sorted(ROGUE))
def test_the_decoder_raises_record_error_only(sealed, shared_data, name):
    _, _, original = sealed
    payload = _with_meta(original(track_result(orl_faces(shared_data, 1, size=(32, 36))[0]), RID), ROGUE[name])
    with pytest.raises(RecordError, match=f"record {RID}: malformed payload"):
        decode_snapshot(payload, RID)
