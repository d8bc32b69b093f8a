"""The size an opened record's picture states, read from its header before anything decodes it.

Review round 16a, finding 1 (round 15b's open item). A record's crop and clip frames are the
camera's bytes: whoever holds the camera's key seals any picture. ``cv2.imdecode`` picks its decoder
by the bytes' signature (PNG, JPEG, but also BMP, TIFF, WebP, PNM, ...) and allocates what the
header states, up to OpenCV's own limit of 2^30 pixels (3 GiB as BGR, 8 GiB as 16-bit BGRA); a
PNG of a few hundred bytes stating that much made a program calling ``OpenedSnapshot.crop()``
allocate gigabytes. A camera seals only what :func:`facesel.vault.payload.encode_snapshot`
writes: 8-bit PNG (and, for clip frames, baseline or progressive JPEG) of crops cut from frames
whose sides the pipeline bounds at :data:`facesel.detect.base.MAX_FRAME_SIDE`. So a picture is
decoded only when its signature is one of those formats and its header states 8 bits a sample
and sides within that bound; anything else is refused, naming the size, before a pixel is made.
"""

from __future__ import annotations

import struct

from facesel.detect.base import MAX_FRAME_SIDE

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8"
# Start-of-frame markers (every coding process); C4 (DHT), C8 (JPG) and CC (DAC) are not frames.
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers without a length field: TEM and the restart markers.
_STANDALONE = frozenset([0x01, *range(0xD0, 0xD8)])


class ImageHeaderError(ValueError):
    """The picture is not one a camera seals (format, depth or size); the message says which."""


def stated_size(data: bytes, formats: tuple[str, ...]) -> tuple[int, int]:
    """``(width, height)`` as the header of ``data`` (an encoded picture) states them.

    ``formats``: which of ``"png"``, ``"jpg"`` are allowed. Raises ImageHeaderError when ``data``
    is in no allowed format, its header is cut short or malformed, it states other than 8 bits a
    sample, or a side of 0 or above ``MAX_FRAME_SIDE`` (16384) pixels. Reads only the header:
    nothing is allocated beyond a few bytes whatever the picture claims.
    """
    if "png" in formats and data[:8] == PNG_SIGNATURE:
        width, height = _png(data)
    elif "jpg" in formats and data[:2] == JPEG_SIGNATURE:
        width, height = _jpeg(data)
    else:
        raise ImageHeaderError(f"is not {' or '.join(f.upper() for f in formats)} (starts {data[:8].hex()})")
    if not (1 <= width <= MAX_FRAME_SIDE and 1 <= height <= MAX_FRAME_SIDE):
        raise ImageHeaderError(f"states {width} x {height} pixels; a camera seals crops of at most "
                               f"{MAX_FRAME_SIDE} pixels a side: refused undecoded")
    return width, height


def _png(data: bytes) -> tuple[int, int]:
    # The IHDR chunk must come first: length 13, type, width, height, bit depth, colour type.
    if len(data) < 33 or data[8:16] != b"\x00\x00\x00\x0dIHDR":
        raise ImageHeaderError("is a PNG without its IHDR header first")
    width, height, depth, colour = struct.unpack_from(">IIBB", data, 16)
    # cv2.imencode of a uint8 image writes depth 8; 16 doubles every sample once decoded.
    if depth > 8:
        raise ImageHeaderError(f"is a PNG of {depth} bits a sample ({width} x {height}); a camera seals 8")
    return width, height


def _jpeg(data: bytes) -> tuple[int, int]:
    # Walk the markers from SOI to the first start-of-frame, which is the one libjpeg decodes.
    # Stricter than libjpeg, which skips stray bytes between segments: every segment here must
    # start with 0xFF, so no frame header can hide where this walk would not find it first.
    pos, end = 2, len(data)
    while True:
        if pos >= end or data[pos] != 0xFF:
            raise ImageHeaderError("is a JPEG whose markers end before its frame header")
        while pos < end and data[pos] == 0xFF:  # the marker's 0xFF and any fill bytes before its code
            pos += 1
        if pos >= end:
            raise ImageHeaderError("is a JPEG whose markers end before its frame header")
        marker = data[pos]
        pos += 1
        if marker in _STANDALONE:
            continue
        if marker in (0x00, 0xD8, 0xD9, 0xDA):  # no marker (a stuffed 0), SOI again, EOI, a scan before the frame
            raise ImageHeaderError(f"is a JPEG with marker {marker:02X} before its frame header")
        if pos + 2 > end:
            raise ImageHeaderError("is a JPEG cut short in a marker's length")
        (length,) = struct.unpack_from(">H", data, pos)
        if length < 2:
            raise ImageHeaderError(f"is a JPEG with a marker length of {length}")
        if marker in _SOF:
            if pos + 7 > end or length < 8:
                raise ImageHeaderError("is a JPEG cut short in its frame header")
            precision, height, width = struct.unpack_from(">BHH", data, pos + 2)
            if precision != 8:
                raise ImageHeaderError(f"is a JPEG of {precision} bits a sample ({width} x {height}); a camera seals 8")
            return width, height
        pos += length
