"""YuNet (Wu et al., 2023) through the ``yuface`` package, whose weights are compiled in."""

from __future__ import annotations

import ctypes
import warnings
from pathlib import Path

import numpy as np

from facesel.detect import heap
from facesel.detect.base import check_frame, check_max_side, check_number, shrink
from facesel.types import Detections


class YuNetDetector:
    """Fast CPU face detector with five landmarks.

    Parameters
    ----------
    min_confidence : float in [0, 1]
        Detections below this confidence are dropped.
    max_side : int >= 32 or None
        When set, frames whose longer side exceeds it are shrunk to it before detection and the
        boxes and landmarks mapped back. YuNet's cost grows with the pixel count (libfacedetection
        itself warns above 960 pixels), so ``max_side=1280`` or ``960`` trades the smallest faces for
        speed on 1080p video. None (the default) detects at full size.
    threads : int >= 1
        OpenMP threads of libfacedetection. Default 1: on a busy machine its spinning OpenMP
        threads made 2 threads about 3x slower than 1 (measured on the 2-core dev box).
    keep_freed_memory : bool
        Default True: set the process's glibc heap thresholds so that the memory each call frees
        is reused by the next instead of being unmapped (:mod:`facesel.detect.heap`: about a
        fifth less CPU a frame). False leaves the allocator as it is.
    """

    thread_safe = True
    """``detect`` may be called from several threads at once (one result buffer per thread), so
    full-frame detections may run ahead of tracking (``PipelineConfig.detect_ahead``)."""

    def __init__(self, min_confidence: float = 0.6, max_side: int | None = None, threads: int = 1,
                 keep_freed_memory: bool = True):
        self.min_confidence = check_number(min_confidence, "min_confidence", 0.0, 1.0)
        self.max_side = check_max_side(max_side)
        self.threads = check_number(threads, "threads", low=1, integer=True)
        if not isinstance(keep_freed_memory, bool):
            raise TypeError(f"keep_freed_memory must be True or False, got {keep_freed_memory!r}")
        if keep_freed_memory:
            heap.keep_freed_memory()
        import yuface  # imported here so that facesel imports without it

        self._yuface = yuface
        from facesel.detectors import yuface_buffer  # yuface.detect leaks 36 KiB a call (see there)

        self._detect = yuface_buffer.detect if yuface_buffer.available() else yuface.detect
        self._omp = _bundled_openmp(yuface)

    def detect(self, frame: np.ndarray) -> Detections:
        """Faces in one frame.

        Parameters
        ----------
        frame : (H, W, 3) uint8 BGR (or (H, W) uint8 grey)

        Returns
        -------
        Detections
            boxes (N, 4) float32 xyxy, scores (N,) float32 in [0, 1], landmarks (N, 5, 2) float32.
        """
        frame = check_frame(frame)
        image, back = shrink(frame, self.max_side)
        if self._omp is not None:
            # OpenMP's thread count is per calling thread, so set it on every call.
            self._omp.omp_set_num_threads(self.threads)
        with warnings.catch_warnings():
            # yuface warns on every frame above 960 pixels; the max_side setting is our answer to it.
            warnings.filterwarnings("ignore", message="Image size .* is too large", category=UserWarning)
            confs, boxes_xywh, landmarks = self._detect(image, conf=self.min_confidence)
        if len(confs) == 0:
            return Detections.empty()
        # yuface returns int16 pixels (negative near the left/top edge), not the uint16 its docstring says.
        xywh = np.asarray(boxes_xywh, dtype=np.float32).reshape(-1, 4)
        boxes = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1) * np.tile(back, 2)
        # yuface reports confidence in percent; its landmark order is already image-left eye,
        # image-right eye, nose, image-left mouth corner, image-right mouth corner.
        scores = np.asarray(confs, dtype=np.float32) / 100.0
        points = np.asarray(landmarks, dtype=np.float32).reshape(-1, 5, 2) * back
        return Detections(boxes, scores, points)


def _bundled_openmp(module) -> ctypes.CDLL | None:
    """The libgomp that the yuface wheel bundles (``yuface.libs/libgomp-*.so*``), through which its
    thread count is set; None when this build of yuface has none (then ``threads`` has no effect)."""
    libs = Path(module.__file__).resolve().parent.parent / "yuface.libs"
    for path in sorted(libs.glob("libgomp*.so*")):
        try:
            return ctypes.CDLL(str(path))
        except OSError:
            continue
    return None
