"""The plaintext inside a record: a TrackResult's best snapshot, encoded in memory only.

Layout: ``u32 big-endian metadata length | metadata JSON | image blobs``. The crop and every clip
frame are PNG-encoded with ``cv2.imencode`` (lossless, so opening gives back the exact pixels the
Selector chose); nothing is ever written to a file before encryption.
"""

from __future__ import annotations

import json
import math
import re
import struct
from dataclasses import dataclass, field

import cv2
import numpy as np

from facesel.detect.base import MAX_FRAME_SIDE
from facesel.types import TrackResult
from facesel.vault.errors import RecordError
from facesel.vault.image_header import ImageHeaderError, stated_size

PAYLOAD_KIND = "snapshot-v1"
# The only blob names a payload may carry: they become file names when a record is opened.
BLOB_NAME = re.compile(r"\A(crop|clip/[0-9]{4})\Z")
_LEN = struct.Struct(">I")
_FORMATS = {"png": (".png", "image/png"), "jpg": (".jpg", "image/jpeg")}


def _check_image(array: object, name: str) -> np.ndarray:
    if not isinstance(array, np.ndarray) or array.dtype != np.uint8 or array.ndim not in (2, 3) \
            or array.size == 0 or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
        shape = getattr(array, "shape", None)
        dtype = getattr(array, "dtype", type(array).__name__)
        raise ValueError(f"{name} must be a non-empty (h, w[, 1|3|4]) uint8 image, got shape {shape} dtype {dtype}")
    if max(array.shape[:2]) > MAX_FRAME_SIDE:
        # what opening refuses to decode (review 16a, finding 1); a camera's crops are cut from
        # frames no larger (facesel.detect.base.check_frame)
        raise ValueError(f"{name} sides must be at most {MAX_FRAME_SIDE} pixels, got shape {array.shape}")
    return np.ascontiguousarray(array)


def _encode(array: np.ndarray, fmt: str, name: str) -> tuple[bytes, dict]:
    ext, media = _FORMATS[fmt]
    ok, buf = cv2.imencode(ext, array)
    if not ok:
        raise ValueError(f"{name}: could not encode the image as {fmt}")
    return buf.tobytes(), {"name": name, "media": media, "shape": list(array.shape)}


def _floats(values) -> list:
    return [v if math.isfinite(v) else None for v in np.asarray(values, dtype=np.float64).reshape(-1).tolist()]


def encode_snapshot(result: TrackResult, record_id: str, clip_format: str = "png") -> bytes:
    """Serialise ``result`` (best crop, its metadata and optional clip) to payload bytes.

    Parameters
    ----------
    result : TrackResult
        ``result.best.crop`` is a (h, w, 3) uint8 BGR image; ``result.best.clip`` a list of them.
    record_id : str
        Written into the payload too, so a payload cannot be moved under another header unnoticed.
    clip_format : {"png", "jpg"}
        Clip frames can be JPEG to save space; the best crop is always PNG (exact).
    """
    if not isinstance(result, TrackResult):
        raise TypeError(f"track_result must be a facesel.types.TrackResult, got {type(result).__name__}")
    if clip_format not in _FORMATS:
        raise ValueError(f"clip_format must be one of {sorted(_FORMATS)}, got {clip_format!r}")
    best = result.best
    blobs, entries = [], []
    data, entry = _encode(_check_image(best.crop, "best.crop"), "png", "crop")
    blobs.append(data)
    entries.append({**entry, "length": len(data)})
    for i, frame in enumerate(best.clip or []):
        data, entry = _encode(_check_image(frame, f"best.clip[{i}]"), clip_format, f"clip/{i:04d}")
        blobs.append(data)
        entries.append({**entry, "length": len(data)})
    meta = {
        "kind": PAYLOAD_KIND, "record_id": record_id,
        "track": {"track_id": int(result.track_id), "first_frame": int(result.first_frame),
                  "last_frame": int(result.last_frame),
                  "first_timestamp": float(result.first_timestamp), "last_timestamp": float(result.last_timestamp),
                  "qualities": _floats(result.qualities),
                  "frame_indices": np.asarray(result.frame_indices, dtype=np.int64).reshape(-1).tolist()},
        "best": {"box": _floats(best.box),
                 "landmarks": None if best.landmarks is None else _floats(best.landmarks),
                 "quality": _floats([best.quality])[0], "frame_index": int(best.frame_index),
                 "timestamp": float(best.timestamp), "track_id": int(best.track_id),
                 "clip_frame_indices": [int(i) for i in (best.clip_frame_indices or [])]},
        "blobs": entries,
    }
    meta_bytes = json.dumps(meta, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return _LEN.pack(len(meta_bytes)) + meta_bytes + b"".join(blobs)


@dataclass
class OpenedSnapshot:
    """A decrypted record: metadata plus the encoded image blobs (decode with :meth:`crop`)."""

    meta: dict
    blobs: dict[str, bytes] = field(default_factory=dict)

    def crop(self) -> np.ndarray:
        """The best crop as (h, w, 3) uint8 BGR, exactly as sealed.

        Raises RecordError, before decoding, for a picture no camera seals: not an 8-bit PNG, or
        stating a side above 16384 pixels (:mod:`facesel.vault.image_header`)."""
        return _decode(self.blobs["crop"], "crop", ("png",))

    def clip(self) -> list[np.ndarray]:
        """The clip's frames as (h, w, 3) uint8 BGR images, in order (empty when none was sealed).

        Raises RecordError as :meth:`crop` does; a clip frame may be an 8-bit PNG or JPEG."""
        return [_decode(self.blobs[name], name, ("png", "jpg")) for name in sorted(self.blobs)
                if name.startswith("clip/")]


def _decode(data: bytes, name: str, formats: tuple[str, ...]) -> np.ndarray:
    # The header first (review 16a, finding 1): cv2.imdecode allocates whatever a header states,
    # in whichever of OpenCV's formats the bytes' signature names.
    try:
        width, height = stated_size(data, formats)
    except ImageHeaderError as err:
        raise RecordError(f"payload image {name!r} {err}") from None
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise RecordError(f"payload image {name!r} does not decode")
    if image.shape[:2] != (height, width):
        raise RecordError(f"payload image {name!r} decoded to {image.shape[1]} x {image.shape[0]} pixels, "
                          f"not the {width} x {height} its header states")
    return image


def decode_snapshot(payload: bytes, record_id: str) -> OpenedSnapshot:
    """Parse payload bytes from an authenticated record (see :func:`encode_snapshot`).

    Authenticated means only that the camera's key sealed it: whoever holds that key writes any
    bytes here. Every way the payload can be malformed is a RecordError naming the record; no other
    exception escapes (review 5, finding 3: a length of ``1e999`` raised OverflowError, metadata
    nested 100,000 deep RecursionError, each a traceback in every reader).

    Raises
    ------
    RecordError
        When the payload is not a well-formed ``snapshot-v1`` payload of ``record_id``.
    """
    try:
        meta, blobs = _parse(payload)
    except RecordError:
        raise
    except (struct.error, UnicodeDecodeError, ValueError, KeyError, TypeError, OverflowError, RecursionError,
            MemoryError) as err:
        raise RecordError(f"record {record_id}: malformed payload ({type(err).__name__}: {str(err)[:200]})") from None
    check_payload_meta(meta, record_id)
    return OpenedSnapshot(meta, blobs)


def check_payload_meta(meta: dict, record_id: str) -> None:
    """RecordError unless ``meta`` (a payload's parsed metadata) is a ``snapshot-v1`` payload's of ``record_id``."""
    if meta.get("kind") != PAYLOAD_KIND:
        raise RecordError(f"record {record_id}: malformed payload (kind {str(meta.get('kind'))[:40]!r})")
    if meta.get("record_id") != record_id:
        raise RecordError(f"record {record_id}: payload belongs to record {str(meta.get('record_id'))[:40]!r}")


def _parse(payload: bytes) -> tuple[dict, dict[str, bytes]]:
    """(metadata, blob name -> bytes); ValueError (or a parser's own error) when malformed."""
    (meta_len,) = _LEN.unpack_from(payload)
    offset = _LEN.size + meta_len
    meta, layout = payload_layout(payload[_LEN.size:offset], len(payload) - offset)
    blobs = {}
    for name, length in layout:
        blobs[name] = payload[offset:offset + length]
        offset += length
    return meta, blobs


def payload_layout(meta_bytes: bytes, blobs_size: int) -> tuple[dict, list[tuple[str, int]]]:
    """The metadata of a payload and its blobs' ``(name, length)`` in order, from the metadata's
    bytes and the number of bytes after them (``blobs_size``; negative when the stated metadata
    length overruns the payload). Shared by :func:`decode_snapshot` and ``verify-bundle``, which
    reads a payload in pieces. ValueError (or the JSON parser's own error) when malformed."""
    meta = json.loads(meta_bytes.decode("utf-8"))
    if not isinstance(meta, dict) or not isinstance(meta.get("blobs"), list):
        raise ValueError("the metadata is not an object with a list of blobs")
    offset, layout, names = 0, [], set()
    for entry in meta["blobs"]:
        if not isinstance(entry, dict):
            raise ValueError("a blob entry is not an object")
        length, name = entry.get("length"), entry.get("name")
        if not isinstance(name, str) or not BLOB_NAME.match(name) or name in names:
            raise ValueError(f"blob name {str(name)[:40]!r} is not allowed (only crop and clip/NNNN, once each)")
        if isinstance(length, bool) or not isinstance(length, int) or not 0 <= length <= blobs_size - offset:
            raise ValueError(f"blob {name!r} has the length {str(length)[:40]}, not a count of the bytes left")
        names.add(name)
        layout.append((name, length))
        offset += length
    if offset != blobs_size:
        raise ValueError(f"{blobs_size - offset} bytes follow the last blob")
    return meta, layout
