"""Serve's file camera as it read files before review round 11 (session 20): OpenCV's FFmpeg reader.

For measurement only (``benchmarks/capacity.py --variant opencvfile``): an A/B against today's
:class:`facesel.sources.backends.FileConnection` (FFmpeg through PyAV, every frame bounded) in
one invocation. Not a serve setting: OpenCV decodes a later frame far larger than the file states
whole (docs/review.md, review round 11), which is why serve no longer reads files this way;
``backend = "opencv"`` applies to network streams only.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from facesel.sources.backends import EndOfStream, SourceError, _start_file
from facesel.sources.frame_limit import MAX_FRAME_PIXELS, check_max_frame_pixels, refuse_large_frame


class OpenCVFileConnection:
    """A video file read by ``cv2.VideoCapture`` with ``decoder_threads`` FFmpeg threads (1, as
    serve's file camera had); ``loop`` reopens it at the end, each pass's times after the last.

    ``read()`` gives an (H, W, 3) uint8 BGR frame and its time in seconds, as the connection it
    stands in for; a frame above ``max_frame_pixels`` is refused once decoded (SourceError).
    """

    def __init__(self, path: str | Path, loop: bool = False, decoder_threads: int = 1,
                 max_frame_pixels: int = MAX_FRAME_PIXELS):
        self.max_frame_pixels = check_max_frame_pixels(max_frame_pixels)
        _start_file(self, path, loop, decoder_threads)
        self._capture = self._open()
        rate = self._capture.get(cv2.CAP_PROP_FPS)
        self.fps = float(rate) if rate and np.isfinite(rate) and rate > 0 else None

    def _open(self) -> cv2.VideoCapture:
        capture = cv2.VideoCapture(str(self.path), cv2.CAP_ANY, [cv2.CAP_PROP_N_THREADS, self.decoder_threads])
        if not capture.isOpened():
            capture.release()
            raise SourceError(f"cannot read video file {self.path}")
        return capture

    def read(self) -> tuple[np.ndarray, float | None]:
        """The next BGR frame and its time (growing across passes when looping); EndOfStream at
        the end of a file that does not loop."""
        ok, frame = self._capture.read()
        if not ok:
            if not self.loop:
                raise EndOfStream()
            self._capture.release()
            self._capture = self._open()
            self.passes += 1
            self._offset = self._last + (1.0 / self.fps if self.fps else 0.04)
            ok, frame = self._capture.read()
            if not ok:
                raise SourceError(f"video file {self.path} has no decodable frame")
        self._last = self._offset + max(0.0, self._capture.get(cv2.CAP_PROP_POS_MSEC)) / 1000.0
        return refuse_large_frame(frame, self.max_frame_pixels, f"video file {self.path}"), self._last

    def close(self) -> None:
        """Release the capture."""
        self._capture.release()


def use_for_file_cameras() -> None:
    """Make :func:`facesel.sources.make_source` build this reader for plain file cameras (those
    that would get :class:`facesel.sources.backends.FileConnection`), in this process."""
    import facesel.sources

    facesel.sources.FileConnection = OpenCVFileConnection
