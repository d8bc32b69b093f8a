"""Review round 16a, finding 1 (round 15b's open item): an opened record's picture decoded at any size.

Whoever holds a camera's key seals any bytes as a record's crop or clip frame. ``OpenedSnapshot.crop()``
and ``.clip()`` handed them to ``cv2.imdecode``, which picks a decoder by the bytes' signature (PNG,
JPEG, BMP, TIFF, ...) and allocates what the header states, up to 2^30 pixels: a few hundred bytes
made a program calling them allocate gigabytes. Now the header is read first and a picture no camera
seals (not an 8-bit PNG, or JPEG for a clip frame; a side above MAX_FRAME_SIDE) is refused naming its
size, and ``cv2.imdecode`` is not called: counted, not timed. Every picture is made in memory.
"""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np
import pytest
from facesel.detect.base import MAX_FRAME_SIDE
from facesel.vault.errors import RecordError
from facesel.vault.payload import OpenedSnapshot, decode_snapshot, encode_snapshot
from test_vault_common import orl_faces, track_result

RID = "0" * 32


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_stating(width: int, height: int, depth: int = 8, colour: int = 2) -> bytes:
    """A PNG whose header states ``width x height`` followed by one tiny IDAT: a few dozen bytes."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + _png_chunk(b"IEND", b""))


def _jpeg_stating(face: np.ndarray, width: int, height: int) -> bytes:
    """A real JPEG of ``face`` with its frame header's size rewritten to ``width x height``."""
    data = bytearray(cv2.imencode(".jpg", face)[1].tobytes())
    at = data.index(b"\xff\xc0")
    data[at + 5:at + 9] = struct.pack(">HH", height, width)
    return bytes(data)


@pytest.fixture
def imdecode_calls(monkeypatch):
    """Every call of cv2.imdecode, recorded and answered with None: nothing is ever decoded."""
    calls = []

    def spy(buf, flags):
        calls.append(len(buf))

    monkeypatch.setattr(cv2, "imdecode", spy)
    return calls


def test_a_picture_stating_gigapixels_is_refused_before_any_decoder_runs(shared_data, imdecode_calls):
    face = orl_faces(shared_data, 1)[0]
    stated = {"crop": _png_stating(30000, 30000), "clip/0000": _png_stating(16384, 65535),
              "clip/0001": _jpeg_stating(face, 65535, 65535)}
    for name, data in stated.items():
        opened = OpenedSnapshot({}, {name: data})
        with pytest.raises(RecordError, match=rf"{name}.* states \d+ x \d+ pixels.*at most {MAX_FRAME_SIDE}"):
            opened.crop() if name == "crop" else opened.clip()
    assert imdecode_calls == []  # main: 3 calls, OpenCV allocating up to 2^30 pixels each


def test_a_crop_one_pixel_wider_than_a_camera_seals_is_refused_naming_its_size(shared_data):
    face = orl_faces(shared_data, 1)[0]
    strip = np.ascontiguousarray(np.resize(face[0], (1, MAX_FRAME_SIDE + 1, 3)))  # real pixels, a tiny file
    data = cv2.imencode(".png", strip)[1].tobytes()
    with pytest.raises(RecordError, match=rf"'crop' states {MAX_FRAME_SIDE + 1} x 1 pixels"):
        OpenedSnapshot({}, {"crop": data}).crop()  # main: decoded, shape (1, 16385, 3)
    at_bound = cv2.imencode(".png", np.ascontiguousarray(strip[:, :MAX_FRAME_SIDE]))[1].tobytes()
    assert OpenedSnapshot({}, {"crop": at_bound}).crop().shape == (1, MAX_FRAME_SIDE, 3)


@pytest.mark.parametrize("ext", [".bmp", ".tiff", ".ppm", ".webp"])
def test_a_crop_in_a_format_no_camera_seals_is_refused_undecoded(shared_data, imdecode_calls, ext):
    data = cv2.imencode(ext, orl_faces(shared_data, 1)[0])[1].tobytes()
    with pytest.raises(RecordError, match=r"'crop' is not PNG \(starts"):
        OpenedSnapshot({}, {"crop": data}).crop()
    assert imdecode_calls == []  # main: decoded by OpenCV's decoder for that signature


def test_sixteen_bit_pictures_are_refused(shared_data):
    face16 = orl_faces(shared_data, 1)[0].astype(np.uint16) * 257
    data = cv2.imencode(".png", face16)[1].tobytes()
    with pytest.raises(RecordError, match=r"PNG of 16 bits a sample \(92 x 112\)"):
        OpenedSnapshot({}, {"crop": data}).crop()  # main: a uint16 crop
    jpeg12 = bytearray(cv2.imencode(".jpg", orl_faces(shared_data, 1)[0])[1].tobytes())
    jpeg12[jpeg12.index(b"\xff\xc0") + 4] = 12
    with pytest.raises(RecordError, match=r"JPEG of 12 bits a sample"):
        OpenedSnapshot({}, {"clip/0000": bytes(jpeg12)}).clip()


@pytest.mark.parametrize("data", [b"", b"\x89PNG\r\n\x1a\n", b"\x89PNG\r\n\x1a\n" + b"\0" * 30, b"\xff\xd8",
                                  b"\xff\xd8\xff\xe0\x00\x01", b"\xff\xd8\xff\xda\x00\x08", b"\xff\xd8\x00\xff\xc0",
                                  b"\xff\xd8\xff\xc0\x00\x11\x08\x00"])
def test_cut_or_malformed_headers_are_a_record_error(imdecode_calls, data):
    with pytest.raises(RecordError, match=r"'clip/0000' "):
        OpenedSnapshot({}, {"clip/0000": data}).clip()
    assert imdecode_calls == []


def test_what_a_camera_seals_still_opens_exactly(shared_data):
    faces = orl_faces(shared_data, 3)
    for clip_format in ("png", "jpg"):
        opened = decode_snapshot(encode_snapshot(track_result(faces[0], clip=faces[1:]), RID, clip_format), RID)
        assert np.array_equal(opened.crop(), faces[0])
        clip = opened.clip()
        assert [c.shape for c in clip] == [f.shape for f in faces[1:]]
        if clip_format == "png":
            assert all(np.array_equal(a, b) for a, b in zip(clip, faces[1:], strict=True))


def test_sealing_refuses_a_crop_that_opening_would_refuse(shared_data):
    wide = np.ascontiguousarray(np.resize(orl_faces(shared_data, 1)[0][0], (1, MAX_FRAME_SIDE + 1, 3)))
    with pytest.raises(ValueError, match=rf"best.crop sides must be at most {MAX_FRAME_SIDE} pixels"):
        encode_snapshot(track_result(wide), RID)  # main: sealed, and never to be opened now
