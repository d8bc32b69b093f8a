"""A decoded picture's BGR frame converted by FFmpeg's scaler straight into an array of our own.

Why (issue 27, session 22, docs/performance.md): PyAV's ``to_ndarray(format="bgr24")`` converts
into a new PyAV frame and returns a view of it. That frame's 6 MiB (1080p) comes from
``av_malloc``, which is glibc's ``posix_memalign``; measured, the same copies in such aligned
blocks cost as much memory as PyAV's frames, in ``malloc``'d ones no more than the live bytes
(the likely path: an aligned block is carved out of a larger free chunk with slivers split off
around it, small allocations take the slivers, and the hole a freed frame leaves is then too small
for the next aligned request, so the heap grows instead). Frames held for a while (the frames in flight of
several cameras) then cost far more resident memory than the same frames in ``malloc``'d arrays
(four 1080p cameras: about 1,000-1,080 against 620-730 MiB). Copying PyAV's view into a numpy array
avoids that but costs 0.3-1.2 CPU ms a 1080p frame; converting into a numpy array directly costs
nothing extra, and it is faster than PyAV's path, which sets up a new scaler for every picture.

The conversion is FFmpeg's own (``sws_scale``, the library PyAV ships), with the same pixels as
``to_ndarray(format="bgr24", threads=1)`` for the pictures it accepts: 4:2:0 8-bit YUV
(``yuv420p``) tagged with a BT.601, BT.709, FCC or SMPTE 240M matrix or none, in any range (the
scaler is told the picture's matrix and range, as PyAV's path tells it); any other picture, or a
PyAV build without the library, goes through PyAV as before. ``tests/test_own_bgr.py`` checks the pixels against PyAV's.
"""

from __future__ import annotations

import ctypes
import glob
import logging
import os
import threading

import numpy as np

_YUV420P, _BGR24 = 0, 3
"""FFmpeg's ``AVPixelFormat`` values (stable across FFmpeg's major versions)."""
_SWS_BILINEAR = 2
"""PyAV's default ``interpolation`` for ``reformat`` (no scaling happens here: same size)."""
_COLORSPACES = {1, 2, 4, 5, 6, 7}
"""``AVColorSpace`` values converted here: BT.709, unspecified (BT.601), FCC, BT.470BG, SMPTE 170M,
SMPTE 240M; each is also the index of its matrix in ``sws_getCoefficients``."""
_RANGES = {0: 0, 1: 0, 2: 1}
"""``AVColorRange`` (unspecified, limited, full) -> swscale's source range flag."""
_ROW_ALIGN, _HEIGHT_ALIGN, _TAIL = 64, 32, 64
"""Rows padded to 64 bytes, height to 32 rows and 64 bytes past the end, as FFmpeg pads its own
frames (``av_frame_get_buffer``): its vector code may write a little beyond a row's last pixel."""
_PIXEL_ALIGN = 16
"""A row holds the width rounded up to 16 pixels before it is padded to 64 bytes. FFmpeg's x86
unscaled YUV -> BGR converter works in blocks of 8 pixels; where the row's stride cannot hold the
width rounded up to 8, it converts one block fewer and leaves the last ``width % 8`` pixels of every
row unwritten (its ``yuv2rgb`` template: ``h_size -= 8``). With 64-byte rows alone, a 340-pixel
frame (1,020 bytes in a 1,024-byte row) kept 4 columns of whatever the heap held: pixels that
differed from PyAV's by up to 89 levels and from run to run (found in session 23: the fingerprint
of one video differed between two runs of the same code)."""

enabled = True
"""False: every picture goes through PyAV's ``to_ndarray`` (measurement: ``benchmarks/capacity.py``'s
``pyav-views`` variants)."""

_local = threading.local()


def _load():
    """The ``sws_getContext``/``sws_scale``/``sws_freeContext`` functions of the libswscale PyAV
    loaded, or None where PyAV's wheel ships none (then PyAV converts every picture)."""
    import av

    folder = os.path.join(os.path.dirname(os.path.dirname(av.__file__)), "av.libs")
    found = sorted(glob.glob(os.path.join(folder, "libswscale-*.so*")))
    if not found:
        return None
    try:
        lib = ctypes.CDLL(found[0])
    except OSError:
        return None
    lib.sws_getContext.restype = ctypes.c_void_p
    lib.sws_getContext.argtypes = [ctypes.c_int] * 7 + [ctypes.c_void_p] * 3
    lib.sws_scale.restype = ctypes.c_int
    lib.sws_scale.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_int),
                              ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_void_p),
                              ctypes.POINTER(ctypes.c_int)]
    lib.sws_freeContext.restype = None
    lib.sws_freeContext.argtypes = [ctypes.c_void_p]
    lib.sws_getCoefficients.restype = ctypes.POINTER(ctypes.c_int)
    lib.sws_getCoefficients.argtypes = [ctypes.c_int]
    table = ctypes.POINTER(ctypes.c_int)
    lib.sws_getColorspaceDetails.restype = ctypes.c_int
    lib.sws_getColorspaceDetails.argtypes = [ctypes.c_void_p, ctypes.POINTER(table), ctypes.POINTER(ctypes.c_int),
                                             ctypes.POINTER(table)] + [ctypes.POINTER(ctypes.c_int)] * 4
    lib.sws_setColorspaceDetails.restype = ctypes.c_int
    lib.sws_setColorspaceDetails.argtypes = [ctypes.c_void_p, table, ctypes.c_int, table] + [ctypes.c_int] * 4
    return lib


_lib = _load()
if _lib is None:  # said once, so that the memory it costs is not a silent regression
    logging.getLogger(__name__).warning(
        "PyAV ships no libswscale this module can load (av.libs/libswscale-*.so): decoded pictures are "
        "converted by PyAV, whose frames cost more resident memory when held (docs/performance.md, issue 27)")


class _Scaler:
    """One thread's scaler for one picture size and colour (a scaler is not safe to share between
    threads). ``colour`` is (``AVColorSpace``, ``AVColorRange``): the picture's matrix and range are
    given to the scaler as PyAV's ``sws_scale_frame`` takes them from the frame; the output (BGR) keeps
    the scaler's own defaults."""

    def __init__(self, width: int, height: int, colour: tuple[int, int]):
        self.key = (width, height, colour)
        self.context = _lib.sws_getContext(width, height, _YUV420P, width, height, _BGR24, _SWS_BILINEAR,
                                           None, None, None)
        if self.context and not self._set_colour(*colour):
            _lib.sws_freeContext(self.context)
            self.context = None

    def _set_colour(self, colorspace: int, colour_range: int) -> bool:
        table, inverse = ctypes.POINTER(ctypes.c_int)(), ctypes.POINTER(ctypes.c_int)()
        source_range, target_range, brightness, contrast, saturation = (ctypes.c_int() for _ in range(5))
        if _lib.sws_getColorspaceDetails(self.context, ctypes.byref(inverse), ctypes.byref(source_range),
                                         ctypes.byref(table), ctypes.byref(target_range), ctypes.byref(brightness),
                                         ctypes.byref(contrast), ctypes.byref(saturation)) < 0:
            return False
        return _lib.sws_setColorspaceDetails(self.context, _lib.sws_getCoefficients(colorspace), _RANGES[colour_range],
                                             table, target_range.value, brightness.value, contrast.value,
                                             saturation.value) >= 0

    def __del__(self):
        if self.context and _lib is not None:
            _lib.sws_freeContext(self.context)
            self.context = None


def _accepts(picture) -> bool:
    """Whether the direct conversion gives PyAV's pixels for ``picture`` (see the module's docstring)."""
    return (picture.format.name == "yuv420p" and picture.width > 0 and picture.height > 0
            and picture.colorspace in _COLORSPACES and picture.color_range in _RANGES)


def bgr(picture) -> np.ndarray:
    """(H, W, 3) uint8 BGR of a decoded PyAV ``VideoFrame``: the pixels of
    ``picture.to_ndarray(format="bgr24", threads=1)``, in a numpy array of its own (rows padded to
    64 bytes: C-contiguous where ``3 * W`` is a multiple of 64, as at 1920 and 1280) for the
    pictures the direct conversion accepts; PyAV's view of its own frame for any other."""
    if _lib is None or not enabled or not _accepts(picture):
        return picture.to_ndarray(format="bgr24", threads=1)
    width, height = picture.width, picture.height
    colour = (picture.colorspace, picture.color_range)
    scaler = getattr(_local, "scaler", None)
    if scaler is None or scaler.key != (width, height, colour):
        scaler = _local.scaler = _Scaler(width, height, colour)
    if not scaler.context:  # the scaler refused this size or colour: PyAV's path
        return picture.to_ndarray(format="bgr24", threads=1)
    planes = picture.planes
    if len(planes) != 3 or planes[0].line_size < width or min(p.line_size for p in planes[1:]) < (width + 1) // 2:
        return picture.to_ndarray(format="bgr24", threads=1)
    stride = -(-(-(-width // _PIXEL_ALIGN) * _PIXEL_ALIGN) * 3 // _ROW_ALIGN) * _ROW_ALIGN
    rows = -(-height // _HEIGHT_ALIGN) * _HEIGHT_ALIGN
    store = np.empty(stride * rows + _TAIL, np.uint8)  # malloc'd: the holes freed frames leave are reused
    source = (ctypes.c_void_p * 4)(*[p.buffer_ptr for p in planes], None)
    source_strides = (ctypes.c_int * 4)(*[p.line_size for p in planes], 0)
    target = (ctypes.c_void_p * 4)(store.ctypes.data, None, None, None)
    target_strides = (ctypes.c_int * 4)(stride, 0, 0, 0)
    if _lib.sws_scale(scaler.context, source, source_strides, 0, height, target, target_strides) != height:
        return picture.to_ndarray(format="bgr24", threads=1)
    return np.ndarray((height, width, 3), np.uint8, buffer=store, strides=(stride, 3, 1))
