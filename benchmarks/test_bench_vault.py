"""Vault latency on real ORL faces (pytest-benchmark), with the results checked too.

    pytest benchmarks/test_bench_vault.py                       # timings
    pytest benchmarks/test_bench_vault.py --benchmark-disable   # CI: the checks only, one run each

What is timed: a full ``Vault.seal`` (PNG encode in memory, X25519 + XChaCha20-Poly1305, Ed25519
signature, atomic write with fsync, SQLite WAL insert, signed audit-log append: the per-person cost
at the camera), the
in-memory part alone (encode + encrypt, no disk), and opening one record (parse, decrypt, decode).
"""

from __future__ import annotations

import time

import cv2
import nacl.bindings as sodium
import numpy as np
import pytest
from facesel.types import Snapshot, TrackResult
from facesel.vault import Vault, create_authority, enrol_camera
from facesel.vault.signing import Signer
from nacl.signing import SigningKey
from facesel.vault.payload import decode_snapshot, encode_snapshot
from facesel.vault.record import (
    make_header,
    new_record_id,
    open_record,
    parse_record,
    seal_record,
)

pytest.importorskip("pytest_benchmark")
CAMERA = Signer("camera:camera-0", SigningKey.generate())


@pytest.fixture(scope="module")
def faces(shared_data) -> list[np.ndarray]:
    """Eleven real ORL faces (92x112 BGR): one best crop plus a 10-frame clip."""
    root = shared_data  # the root conftest skips, or fails under CI, without the data
    return [cv2.imread(str(root / "faces" / "orl" / f"s{i}" / "1.pgm"), cv2.IMREAD_COLOR) for i in range(1, 12)]


def _result(crop, clip=()):
    best = Snapshot(crop=crop, box=np.array([0, 0, crop.shape[1], crop.shape[0]], np.float32), landmarks=None,
                    quality=1.0, frame_index=5, timestamp=0.2, track_id=1, clip=list(clip),
                    clip_frame_indices=list(range(len(clip))))
    return TrackResult(1, 0, 10, 0.0, 0.4, best, np.ones(10), np.arange(10))


@pytest.fixture
def vault(tmp_path):
    now = time.time()
    create_authority(tmp_path / "auth", 3, 2, 86400.0, 30 * 86400.0, 86400.0, now, kdf_level="min")
    enrol_camera(tmp_path / "auth", tmp_path / "cam", "bench-cam", sorted((tmp_path / "auth" / "shares").iterdir())[:2])
    with Vault(tmp_path / "v", tmp_path / "auth" / "authority.pub", camera=tmp_path / "cam") as v:
        yield v


@pytest.mark.parametrize("clip_frames", [0, 10])
def test_seal_per_crop(benchmark, vault, faces, clip_frames):
    result = _result(faces[0], faces[1:1 + clip_frames])
    record_id = benchmark(vault.seal, result)
    assert (vault.path / "records" / f"{record_id}.fsr").is_file()
    assert record_id in {r.record_id for r in vault.rows()}


def test_encrypt_in_memory(benchmark, faces):
    public, secret = sodium.crypto_box_keypair()

    def seal_only():
        rid = new_record_id()
        header = make_header(rid, "bench", 1, "camera-0", time.time())
        return rid, seal_record(header, encode_snapshot(_result(faces[0]), rid), public, CAMERA)

    rid, data = benchmark(seal_only)
    parsed = parse_record(data)
    assert np.array_equal(decode_snapshot(open_record(parsed, secret), rid).crop(), faces[0])


def test_open_one_record(benchmark, faces):
    public, secret = sodium.crypto_box_keypair()
    rid = new_record_id()
    data = seal_record(make_header(rid, "bench", 1, "camera-0", time.time()),
                       encode_snapshot(_result(faces[0]), rid), public, CAMERA)

    def open_one():
        return decode_snapshot(open_record(parse_record(data), secret), rid).crop()

    crop = benchmark(open_one)
    assert np.array_equal(crop, faces[0])
