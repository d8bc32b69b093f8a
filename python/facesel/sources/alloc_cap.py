"""FFmpeg's largest single allocation, capped for the frames our sources accept (review round 15c).

Why: an MP4 (or an fMP4 segment of HLS) read over HTTP may state a sample of any size up to
FFmpeg's per-sample limit (about 1 GiB) in its ``stsz``; the ``mov`` demuxer grows one packet to
that size as the bytes arrive (``av_get_packet``, in steps of up to 50 MB), and FFmpeg has no
option capping a packet. Round 15a measured a reader growing by the stated size (+102,408 KiB for
100 MiB stated) or by what arrived within one read timeout. A packet is one ``av_malloc``/
``av_realloc``; FFmpeg's process-wide ``av_max_alloc`` makes every larger request fail (the
demuxer's read then ends with ENOMEM, which the connection reports as a read error).

The cap must exceed every single allocation a legitimate stream needs. The largest grows with the
frame: a decoded picture's plane (packed RGBA with 16 bits a channel, PNG's or TIFF's widest, is
8 bytes a pixel in one buffer; planar formats are one buffer a plane), the BGR frame PyAV converts
into (3 bytes a pixel, all planes in one buffer) and a packet (raw video stored in MP4: at most the
frame's bytes). So the cap is :data:`BYTES_PER_PIXEL` (8 and a quarter of margin for row and height
padding) times the largest ``max_frame_pixels`` any source of this process opened with, at least
:data:`FLOOR` (demuxer index tables of long files, decoder scratch) and at most FFmpeg's own default
(``INT_MAX``). It only rises: sources of one process (``serve``'s cameras) share one libavutil.

What it does not touch: numpy's and ONNX Runtime's memory (their own allocators, not ``av_malloc``),
and OpenCV's FFmpeg (opencv-python ships its own libavutil). What it leaves: with the default
``max_frame_pixels`` (8K UHD) the cap is about 317 MiB, so a lying sample still costs up to that
much; a camera set to 1080p bounds it to :data:`FLOOR` (64 MiB) when every source of the process is.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import logging
import os
import threading

BYTES_PER_PIXEL = 10
"""Bytes a pixel of ``max_frame_pixels`` one allocation may take: 8 (packed RGBA64) plus a quarter."""
FLOOR = 64 << 20
"""The smallest cap (bytes): above a small frame's decoder scratch and a demuxer's index of one
stream (24 bytes a sample, one ``av_realloc``): 26 hours of video at 30 frames a second, 16.5
hours of 48 kHz AAC audio."""
CEILING = 2**31 - 1
"""FFmpeg's default ``max_alloc_size`` (``INT_MAX``): the cap never allows more than FFmpeg does."""

_lock = threading.Lock()
_cap = None  # the cap set so far (bytes), None before the first source
_lib = None  # PyAV's libavutil, False where it cannot be loaded


def cap_for(max_pixels: int) -> int:
    """The cap (bytes) a source accepting frames of up to ``max_pixels`` pixels (int >= 1) needs."""
    return min(max(BYTES_PER_PIXEL * int(max_pixels) + (1 << 20), FLOOR), CEILING)


def _libavutil():
    """PyAV's own libavutil (``av.libs/libavutil-*.so*`` beside the package, as its wheel ships it),
    or False where there is none to load (then no cap is set, and a warning says so once)."""
    import av

    folder = os.path.join(os.path.dirname(os.path.dirname(av.__file__)), "av.libs")
    found = sorted(glob.glob(os.path.join(folder, "libavutil-*.so*")))
    try:
        lib = ctypes.CDLL(found[0]) if found else None
    except OSError:
        lib = None
    if lib is None or not hasattr(lib, "av_max_alloc"):
        logging.getLogger(__name__).warning(
            "PyAV ships no libavutil this module can load (av.libs/libavutil-*.so): FFmpeg's allocations are "
            "not capped, and a stream stating a huge sample may cost up to 1 GiB (docs/review.md, round 15c)")
        return False
    lib.av_max_alloc.restype = None
    lib.av_max_alloc.argtypes = [ctypes.c_size_t]
    return lib


def raise_cap(max_pixels: int) -> int | None:
    """Set FFmpeg's ``av_max_alloc`` to :func:`cap_for` ``(max_pixels)`` when that is above the cap
    set so far (never lower: another source of the process may need it); the cap now in force
    (bytes), or None where PyAV's libavutil cannot be loaded. Called before every ``av.open`` of
    our sources (:func:`facesel.sources.bounded_decoder.open_options`, ``header_size``)."""
    global _cap, _lib
    with _lock:
        if _lib is None:
            _lib = _libavutil()
        if _lib is False:
            return None
        wanted = cap_for(max_pixels)
        if _cap is None or wanted > _cap:
            _lib.av_max_alloc(wanted)
            _cap = wanted
        return _cap


def current_cap() -> int | None:
    """The cap set so far (bytes), None before the first source (FFmpeg's default then holds)."""
    return _cap


@contextlib.contextmanager
def lifted():
    """FFmpeg's default (:data:`CEILING`) for the ``with`` block, the cap put back after it: for a
    program that encodes a frame no source of it would accept (a test writing a frame bomb; an
    encoder's packet buffer is a worst case of several bytes a pixel). Holds the module's lock
    throughout, so that no source raises the cap meanwhile and has it dropped at the end."""
    with _lock:
        if _cap is None:  # no cap set (none loaded, or no source yet): FFmpeg's default holds
            yield
            return
        _lib.av_max_alloc(CEILING)
        try:
            yield
        finally:
            _lib.av_max_alloc(_cap)
