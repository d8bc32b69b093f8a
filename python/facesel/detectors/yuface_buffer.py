"""YuNet's C entry point called with a reused result buffer, because ``yuface.detect`` leaks.

``yuface`` (2023.5.1) wraps libfacedetection's ``facedetect_cnn(result_buffer, bgr, width,
height, step)`` and allocates a new 0x9000-byte result buffer on every call without freeing it:
measured 35 MiB of resident memory per 1000 calls, whatever the frame holds (blank, faces or a
quarter-size frame); for a camera at 12.5 frames/s that is 1.5 GiB an hour. Here the very same
library function (``libfacedetection.so`` from the yuface wheel, its compiled-in weights) is called
through ctypes with one buffer per thread, so memory stays flat; the output is the same array.
ctypes releases the GIL during the call, so cameras in different threads detect in parallel.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from pathlib import Path

import numpy as np

BUFFER_BYTES = 0x9000
"""libfacedetection's result buffer size (its ``DETECT_BUFFER_SIZE``)."""

_FIELDS = 16
"""int16 values per face: confidence (percent), x, y, w, h, 5 landmark (x, y) pairs, one spare."""

_MANGLED = "_Z14facedetect_cnnPhS_iii"  # facedetect_cnn(unsigned char*, unsigned char*, int, int, int)

_local = threading.local()
_lock = threading.Lock()
_function = None


def _load():
    global _function
    with _lock:
        if _function is None:
            import yuface

            library = ctypes.CDLL(str(Path(yuface.__file__).resolve().parent / "libfacedetection.so"))
            function = getattr(library, _MANGLED)
            function.restype = ctypes.POINTER(ctypes.c_int)
            function.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int]
            _function = function
    return _function


def available() -> bool:
    """True when the yuface wheel's libfacedetection can be called directly."""
    try:
        _load()
    except (ImportError, OSError, AttributeError) as err:
        # Then YuNet falls back to yuface.detect: correct, but memory grows on a long stream.
        logging.getLogger("facesel").warning(
            "libfacedetection of the yuface wheel cannot be called directly (%s): using yuface.detect, "
            "which leaks about 36 KiB per frame", err)
        return False
    return True


def detect_raw(image: np.ndarray) -> np.ndarray:
    """(N, 16) int16 rows like ``yuface.c_detect``: confidence %, x, y, w, h, 10 landmark values, spare.

    Parameters
    ----------
    image : (H, W, 3) uint8 BGR
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image must be (H, W, 3) uint8 BGR, got {image.shape} {image.dtype}")
    function = _load()
    buffer = getattr(_local, "buffer", None)
    if buffer is None:
        buffer = _local.buffer = ctypes.create_string_buffer(BUFFER_BYTES)
    image = np.ascontiguousarray(image)
    h, w = image.shape[:2]
    result = function(ctypes.addressof(buffer), image.ctypes.data, w, h, int(image.strides[0]))
    count = result[0] if result else 0
    # the face records follow the count, as int16 (the library's own layout)
    faces = np.frombuffer(buffer, dtype=np.int16, count=count * _FIELDS, offset=ctypes.sizeof(ctypes.c_int))
    return faces.reshape(count, _FIELDS).copy()


def detect(image: np.ndarray, conf: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``yuface.detect``'s ``(confs, boxes_xywh, landmarks)`` without its leak."""
    rows = detect_raw(image)
    rows = rows[rows[:, 0] > conf * 100]
    return rows[:, 0], rows[:, 1:5], rows[:, 5:-1]
