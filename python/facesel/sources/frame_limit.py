"""The largest frame a source decodes (review 8, finding 2: a frame bomb from a network peer).

A JPEG of 16000 x 16000 uniform grey is 3 MB; decoded it is 384 MB of YUV and 768 MB once
converted to BGR, and FFmpeg's own limit lets it through. Whoever answers for a camera's URL (a
compromised camera, a device on the camera network, a man in the middle of plain RTSP or HTTP)
sent two such frames in an MJPEG stream and a reader's peak grew by 763,288 KiB
(``benchmarks/frame_bomb_memory.py``); ``serve`` queues up to ``buffer_frames`` decoded frames a
camera, all cameras in one process, which the kernel kills when memory runs out. The pipeline's
own check (sides up to 16384 pixels) comes after the decoding.

So FFmpeg is told the bound before it decodes: its ``max_pixels`` codec option makes the
decoder refuse a larger picture (``avcodec_open2`` or ``avcodec_send_packet`` returns EINVAL)
before it allocates it. OpenCV passes no decoder option on, so its connections check each frame
after decoding (the frame is dropped before any queue; one frame's memory is spent); and since
OpenCV scales every frame of a stream to its first frame's size, only a stream that starts large
is refused there: a later large frame is decoded whole inside OpenCV (not bounded: use the
default ``backend = "pyav"`` for a camera whose network you do not trust).

The default is an 8K UHD frame (7680 x 4320, 33,177,600 pixels): above every camera resolution in
common use, about 100 MB as BGR. ``max_frame_pixels`` (a camera's setting in ``facesel serve``)
raises or lowers it.
"""

from __future__ import annotations

import errno

import numpy as np

MAX_FRAME_PIXELS = 7680 * 4320
_FFMPEG_MAX = 2**31 - 1  # the option is a C int


def check_max_frame_pixels(value, name: str = "max_frame_pixels") -> int:
    """``value`` when it is a whole number of pixels in 1 .. 2**31 - 1; otherwise ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= _FFMPEG_MAX:
        raise ValueError(f"{name} must be a whole number of pixels from 1 to {_FFMPEG_MAX} (default "
                         f"{MAX_FRAME_PIXELS}, an 8K UHD frame), got {value!r}")
    return value


def decoder_option(max_pixels: int) -> dict[str, str]:
    """The FFmpeg codec option that makes a decoder refuse a picture above ``max_pixels``."""
    return {"max_pixels": str(max_pixels)}


def refusal_hint(err: BaseException, max_pixels: int) -> str:
    """What to add to FFmpeg's error: its EINVAL is also how it refuses a frame above the bound."""
    if getattr(err, "errno", None) == errno.EINVAL:
        return (f" (FFmpeg refuses a frame of more than max_frame_pixels = {max_pixels} pixels this way, as well as "
                "invalid data)")
    return ""


def refuse_large_frame(frame: np.ndarray, max_pixels: int, where: str) -> np.ndarray:
    """``frame`` when it has at most ``max_pixels`` pixels; otherwise the SourceError of the caller's module."""
    from facesel.sources.backends import SourceError

    height, width = frame.shape[:2]
    if height * width > max_pixels:
        raise SourceError(f"{where} sent a frame of {width}x{height} pixels, more than max_frame_pixels = "
                          f"{max_pixels}: refused")
    return frame
