"""``facesel run --preview FILE``: an annotated copy of the input, FOR TESTING ONLY.

It shows what the pipeline sees while a camera is set up: each confirmed track's box and id,
the quality of its last detection and the best so far, and, for a couple of seconds after a
track closes, the crop that was kept for it. The file holds faces in the clear, like
``--plaintext-out``; a deployment never writes it.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

KEPT_FRAMES = 50
"""Frames during which a kept crop stays on screen after its track closed."""

_THUMB = 72


class PreviewWriter:
    """Writes annotated frames to ``path`` (.avi: MJPG, .mp4: mp4v) at ``fps``."""

    def __init__(self, path, fps: float = 12.5):
        self.path = Path(path)
        if self.path.suffix.lower() not in (".avi", ".mp4"):
            raise ValueError(f"--preview must end in .avi or .mp4, got {self.path}")
        if self.path.exists():
            raise ValueError(f"--preview {self.path} exists already; choose a new file")
        self.fps = float(fps)
        self._writer = None
        self._kept: list[list] = []  # [thumbnail, label, frames left]
        self.frames = 0
        self.readable: int | None = None
        """Frames the closed file says it holds (its header's count); None before :meth:`close`."""

    def kept(self, result) -> None:
        """Show ``result``'s kept crop (a thumbnail with its track and quality) on the next frames."""
        crop = np.asarray(result.best.crop)
        scale = _THUMB / max(1, crop.shape[0])
        thumb = cv2.resize(crop, (max(1, int(crop.shape[1] * scale)), _THUMB))
        self._kept.append([thumb, f"kept #{int(result.track_id)} q={float(result.best.quality):.1f}", KEPT_FRAMES])
        self._kept = self._kept[-6:]

    def write(self, frame: np.ndarray, tracks, frame_index: int) -> None:
        """Write one preview frame: ``frame`` ((H, W, 3) uint8 BGR, or (H, W) grey) with the
        ``tracks``' boxes and labels and the recent kept thumbnails drawn on a copy.
        """
        image = frame.copy() if frame.ndim == 3 else cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        for track in tracks:
            x1, y1, x2, y2 = (int(round(v)) for v in track.box)
            cv2.rectangle(image, (x1, y1), (x2, y2), (0, 255, 0), 2)
            label = f"#{track.track_id} q={track.quality:.1f} best={track.best_quality:.1f}"
            cv2.putText(image, label, (x1, max(12, y1 - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 255, 0), 1, cv2.LINE_AA)
        x = 4
        for entry in self._kept:
            thumb, label, _ = entry
            h, w = thumb.shape[:2]
            y = image.shape[0] - h - 16
            if y >= 0 and x + w <= image.shape[1]:
                image[y:y + h, x:x + w] = thumb
                cv2.putText(image, label, (x, image.shape[0] - 4), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (0, 200, 255), 1)
            x += max(w, 90) + 4
            entry[2] -= 1
        self._kept = [e for e in self._kept if e[2] > 0]
        cv2.putText(image, f"TESTING ONLY  frame {frame_index}", (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                    (0, 0, 255), 1, cv2.LINE_AA)
        if self._writer is None:
            code = "MJPG" if self.path.suffix.lower() == ".avi" else "mp4v"
            self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*code), self.fps,
                                           (image.shape[1], image.shape[0]))
            if not self._writer.isOpened():
                raise ValueError(f"--preview: cannot write a video to {self.path}")
        self._writer.write(image)
        self.frames += 1

    def close(self) -> None:
        """Finish the video file (when one was started)."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None
            self.readable = frames_read_back(self.path)

    def summary(self) -> str:
        """The run's line about the preview: how many frames, and whether the file holds them.

        OpenCV's writer reports no failed write: on a full disk ``--preview`` said "105 frames in
        p.avi" for a file that decoded 2 frames (an .mp4 opened not at all, its index never
        written; ux17). The file is read back on close and a shortfall is said."""
        line = f"preview (faces in the clear, testing only): {self.frames} frames in {self.path}"
        if self.readable is not None and self.readable < self.frames:
            line += (f", but WARNING: the file reads back as {self.readable} frames: it is incomplete "
                     "(the disk may be full)")
        return line


def frames_read_back(path: Path) -> int:
    """Frames a finished video file announces (0 when it cannot be opened). Reads its header
    only: a preview of a long run is not decoded again."""
    capture = cv2.VideoCapture(str(path))
    try:
        return max(0, int(capture.get(cv2.CAP_PROP_FRAME_COUNT))) if capture.isOpened() else 0
    finally:
        capture.release()
