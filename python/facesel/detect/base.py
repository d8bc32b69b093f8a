"""The detector interface and the checks every detector shares."""

from __future__ import annotations

import numbers
from typing import Protocol, runtime_checkable

import cv2
import numpy as np

from facesel.setting_checks import is_finite
from facesel.types import Detections


@runtime_checkable
class Detector(Protocol):
    """The detector protocol: ``detect(frame)`` on a (H, W, 3) uint8 BGR frame returns
    :class:`facesel.types.Detections` (boxes (N, 4) float32 x1, y1, x2, y2 in frame pixels, scores (N,)
    float32, landmarks (N, 5, 2) float32 or None). :func:`facesel.detect.factory.make_detector` makes
    the shipped ones.
    """
    def detect(self, frame: np.ndarray) -> Detections:
        """(H, W, 3) uint8 BGR frame -> Detections (boxes xyxy, scores, landmarks (N, 5, 2))."""


def check_frame(frame, name: str = "frame") -> np.ndarray:
    """Validate a video frame: a (H, W, 3) uint8 BGR array with H, W >= 1 (a (H, W) grey frame is
    converted to BGR). Raises TypeError/ValueError naming the argument and what was given."""
    if frame is None:
        raise TypeError(f"{name} must be a (H, W, 3) uint8 numpy array, got None")
    if not isinstance(frame, np.ndarray):
        raise TypeError(f"{name} must be a (H, W, 3) uint8 numpy array, got {type(frame).__name__}")
    if frame.dtype != np.uint8:
        raise TypeError(f"{name} must have dtype uint8 (0 to 255), got {frame.dtype}{_dtype_hint(frame, name)}")
    if frame.ndim == 2:
        frame = np.repeat(frame[:, :, None], 3, axis=2)
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"{name} must have shape (H, W, 3) (BGR) or (H, W) (grey), got {frame.shape}"
                         f"{_shape_hint(frame, name)}")
    if frame.shape[0] < 1 or frame.shape[1] < 1:
        raise ValueError(f"{name} must not be empty, got shape {frame.shape}")
    if max(frame.shape[:2]) > MAX_FRAME_SIDE:
        # checked before the contiguous copy: a broadcast view of a huge shape costs nothing to
        # make and gigabytes to copy, and OpenCV's resizing refuses such sides later anyway
        raise ValueError(f"{name} sides must be at most {MAX_FRAME_SIDE} pixels, got shape {frame.shape}")
    return np.ascontiguousarray(frame)


# What to do about the frames a new user hands over most often (ux20: the errors said only what
# was wrong, and a (H, W, 1) or (H, W, 4) frame was told "(H, W, 3)" though (H, W) grey is taken).
def _dtype_hint(frame: np.ndarray, name: str) -> str:
    if frame.dtype.kind == "f":
        return (f": a float image in [0, 1] becomes one with ({name} * 255).round().clip(0, 255).astype(np.uint8), "
                f"one in [0, 255] with {name}.clip(0, 255).astype(np.uint8)")
    if frame.dtype == np.uint16:
        return f": a 16-bit image becomes one with ({name} >> 8).astype(np.uint8)"
    if frame.dtype == np.bool_:
        return f": a mask becomes one with {name}.astype(np.uint8) * 255"
    if frame.dtype.kind in "iu":
        return f": scale it to 0-255, then {name}.astype(np.uint8)"
    return ""


def _shape_hint(frame: np.ndarray, name: str) -> str:
    if frame.ndim == 3 and frame.shape[2] == 4:
        return (f": drop the alpha channel, {name}[:, :, :3] for BGRA "
                f"(cv2.cvtColor({name}, cv2.COLOR_RGBA2BGR) for RGBA)")
    if frame.ndim == 3 and frame.shape[2] == 1:
        return f": give a grey frame as (H, W), {name}[:, :, 0]"
    if frame.ndim == 4 and frame.shape[0] == 1:
        return f": one frame at a time, {name}[0]"
    return ""


MAX_ONNX_THREADS = 256
"""Most ONNX Runtime intra-op threads a session is given (the C++ core's thread cap too): 2000 made
``facesel run`` hang past SIGTERM while the threads were made, 100000 crashed it (SIGSEGV)."""

MAX_FRAME_SIDE = 16384
"""The longest frame side taken (16K video is 15360 x 8640): a frame beyond it is refused by
:func:`check_frame` before anything is copied."""


def check_number(
    value,
    name: str,
    low: float | None = None,
    high: float | None = None,
    integer: bool = False,
    low_open: bool = False,
) -> float | int:
    """A detector setting, checked: a real number (an integer when ``integer``) within
    [low, high] (low excluded when ``low_open``). Raises TypeError/ValueError naming the setting."""
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        wanted = "an integer" if integer else "a number"
        raise TypeError(f"{name} must be {wanted}, got {value!r}")
    if not is_finite(value):
        # is_finite, not np.isfinite(float(...)): an int beyond a float's range (10**400) is
        # refused naming the setting, not with float()'s bare OverflowError (ux19)
        raise ValueError(f"{name} must be finite, got {value!r}")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and value > high
    if too_low or too_high:
        left = "(" if low_open else "["
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        raise ValueError(f"{name} must be in {left}{lo}, {hi}], got {value!r}")
    return int(value) if integer else float(value)


def check_max_side(max_side) -> int | None:
    """``max_side`` setting: None (detect at full size) or an integer >= 32."""
    if max_side is None:
        return None
    return check_number(max_side, "max_side", low=32, integer=True)


def shrink(frame: np.ndarray, max_side: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Resize ``frame`` so that its longer side is at most ``max_side`` (INTER_AREA, which
    averages rather than aliases; a frame of :func:`facesel.sources.decoded.decoded_frame` is
    shrunk from its decoded YUV picture by FFmpeg's area filter instead, in one pass).

    Returns
    -------
    image : (h, w, 3) uint8
        The frame itself when no resize was needed.
    back : (2,) float32
        Per-axis (x, y) factors mapping image coordinates back to frame coordinates; per axis
        because rounding the size makes the two ratios differ slightly.
    """
    h, w = frame.shape[:2]
    if max_side is None or max(h, w) <= max_side:
        return frame, np.ones(2, np.float32)
    factor = max_side / float(max(h, w))
    size = (max(1, int(round(w * factor))), max(1, int(round(h * factor))))
    # A frame whose decoded picture is still remembered (facesel.sources.decoded) is shrunk by
    # FFmpeg's scaler straight from YUV, in one pass: about 6 CPU ms less a 1080p frame.
    from facesel.sources.decoded import shrunk_copy

    small = shrunk_copy(frame, *size)
    if small is None:
        # OpenCV's INTER_AREA pixels; by the C++ core's integer average where the ratio allows
        # (1080p to 1280x720 or 640x360: about a quarter of the CPU, issue 27 session 17)
        from facesel.detect.schedule import frame_shrink

        small = frame_shrink(frame, size)
    return small, np.array([w / size[0], h / size[1]], np.float32)
