"""A Radiance RGBE picture (``.hdr``) of one grey, for the tests of formats Pillow does not read.

OpenCV's ``imread`` reads Radiance pictures (by their signature, whatever the file's name) and
decodes one to 32-bit floats before converting it: about 15 bytes a pixel at the peak. Its
run-length coding makes a uniform picture small on disk: a 7700 x 4400 one is 2.1 MB. No face
data: every pixel is the same grey.
"""

from __future__ import annotations

from pathlib import Path


def radiance_bytes(width: int, height: int) -> bytes:
    """The file's bytes: the header (``-Y height +X width``) and ``height`` new-style run-length
    rows of ``width`` pixels (2 <= width <= 32767), each of its 4 components in runs of up to 127."""
    if not 8 <= width <= 32767 or height < 1:
        raise ValueError(f"width must be in [8, 32767] and height at least 1, got {width}x{height}")
    runs = [min(127, width - start) for start in range(0, width, 127)]

    def component(value: int) -> bytes:
        return b"".join(bytes([128 + run, value]) for run in runs)

    row = bytes([2, 2, width >> 8, width & 255]) + component(128) * 4  # mantissa 128, exponent 128: 0.5
    return b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y %d +X %d\n" % (height, width) + row * height


def write_radiance(path: str | Path, width: int, height: int) -> Path:
    """Write :func:`radiance_bytes` to ``path``; returns it as a Path."""
    path = Path(path)
    path.write_bytes(radiance_bytes(width, height))
    return path
