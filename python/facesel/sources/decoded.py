"""Frames that remember their decoder's picture, so that a full-frame detection can shrink in one step.

A full-frame detection shrinks the 1080p frame to ``max_side`` (1280x720) with OpenCV's
``INTER_AREA`` after the decoder has already converted the whole frame from YUV to BGR: about
9 CPU ms a detected frame, more than decoding it. FFmpeg's scaler can convert and shrink in one
pass from the decoded YUV picture (area filter: about 2.8 ms; ``experiments/decode_costs.py``,
docs/performance.md). Which frames are detected whole is decided later, in the pipeline (the
schedule, scene changes), so the source cannot shrink them ahead: :func:`decoded_frame` gives the
full-size BGR array (what every stage uses, a plain ``numpy.ndarray``) and remembers the decoded
picture beside it, and :func:`shrunk_copy` makes the shrunk BGR image from that picture when
:func:`facesel.detect.base.shrink` asks. The picture is let go (:func:`forget_picture`) as soon as
the pipeline knows the frame will not be searched whole, or when the frame itself is freed, so that
it costs memory only for frames in flight.

The picture is found by the array's identity (a weak reference checks that it is still the same
object): anything that makes a new array from the frame (the zone mask, a copy, a slice) is shrunk
the old way, so the one-step image is only ever made from the very pixels of the frame it stands for.
"""

from __future__ import annotations

import weakref

import numpy as np

from facesel.sources import own_bgr

# threads=1 in every conversion: swscale's own default (a thread per core) costs about 0.9 CPU ms more
# a 1080p frame, in threads that spin beside the cameras' (measured in benchmarks/frame_costs.py's run)

_pictures: dict[int, tuple[weakref.ref, object]] = {}
"""id(frame) -> (weak reference to the frame, its PyAV VideoFrame). Reads and writes of one key
are atomic under the GIL; the source's thread adds, the detection threads read and drop."""


def decoded_frame(picture) -> np.ndarray:
    """(H, W, 3) uint8 BGR of a PyAV ``VideoFrame`` (FFmpeg's conversion), remembered with its picture."""
    frame = own_bgr.bgr(picture)
    key = id(frame)

    def freed(ref, key=key):
        entry = _pictures.get(key)
        if entry is not None and entry[0] is ref:
            _pictures.pop(key, None)

    _pictures[key] = (weakref.ref(frame, freed), picture)
    return frame


def _picture(frame):
    entry = _pictures.get(id(frame))
    if entry is None or entry[0]() is not frame:
        return None
    return entry[1]


def shrunk_copy(frame: np.ndarray, width: int, height: int) -> np.ndarray | None:
    """(height, width, 3) uint8 BGR made by FFmpeg's scaler (area filter) from ``frame``'s decoded
    picture in one pass, or None when ``frame`` is not a remembered decoded frame (a view, a copy,
    a frame whose picture was let go) or no longer matches its picture's size."""
    picture = _picture(frame)
    if picture is None or frame.shape[:2] != (picture.height, picture.width):
        return None
    return picture.to_ndarray(format="bgr24", width=int(width), height=int(height), interpolation="AREA", threads=1)


def forget_picture(frame) -> None:
    """Let ``frame``'s decoded picture go (it will not be shrunk whole); any other array: nothing."""
    entry = _pictures.get(id(frame))
    if entry is not None and entry[0]() is frame:
        _pictures.pop(id(frame), None)


def pictures_held() -> int:
    """Decoded pictures remembered now (for tests: frames passed over must not keep theirs)."""
    return sum(1 for ref, _ in list(_pictures.values()) if ref() is not None)


class Unconverted:
    """A decoded PyAV ``VideoFrame`` waiting in a source's queue, converted to BGR only when the
    pipeline takes it (:attr:`facesel.sources.Frame.image`).

    A camera that falls behind drops most of the frames it decodes (issue 27: 20-85 % at four to
    eight 720p cameras on two cores); converting each from YUV to BGR before it waits cost CPU for
    frames that were then pushed out unseen. The wait is also cheaper in memory: a 4:2:0 picture
    is half the bytes of its BGR frame. The conversion is the very one the connection would have
    made at once (FFmpeg's swscale, one thread, into an array of its own: :mod:`facesel.sources.own_bgr`),
    so a frame that is taken has the same pixels.
    """

    __slots__ = ("keep_picture", "picture")

    def __init__(self, picture, keep_picture: bool = False):
        self.picture = picture
        self.keep_picture = bool(keep_picture)

    def convert(self) -> np.ndarray:
        """(H, W, 3) uint8 BGR of the picture; remembered with it when ``keep_picture`` (one-step shrink)."""
        if self.keep_picture:
            return decoded_frame(self.picture)
        return own_bgr.bgr(self.picture)
