"""Whether ``facesel run``'s video files give OpenCV's frames and times since they are decoded by
PyAV (review round 10a, ``facesel.sources.file_frames``): every shared video, bit for bit.

    python experiments/file_decoder_parity.py            # every video under $FACESEL_DATA/videos
    python experiments/file_decoder_parity.py A.mp4 B.mkv

For each file, ``facesel.video.open_source`` (every frame, and one in three with ``max_frames``
7) against what main's reader computed from OpenCV: ``cv2.VideoCapture``'s frames (display
rotation applied) and ``CAP_PROP_POS_MSEC`` seconds, falling back to ``index / fps``. Prints one
line a file and the count of files that differ; exit status 1 when any does.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np


def opencv_frames(path: Path, every: int, max_frames: int | None):
    """``(frame, seconds)`` as main's ``open_source`` read a file with OpenCV."""
    capture = cv2.VideoCapture(str(path))
    rate = capture.get(cv2.CAP_PROP_FPS)
    out, index = [], 0
    while (max_frames is None or len(out) < max_frames) and capture.grab():
        if index % every == 0:
            _, frame = capture.retrieve()
            msec = capture.get(cv2.CAP_PROP_POS_MSEC)
            out.append((frame, msec / 1000.0 if msec > 0 or index == 0 else (index / rate if rate else float(index))))
        index += 1
    capture.release()
    return out


def differences(path: Path) -> list[str]:
    """What differs between this tree's reader and OpenCV's for ``path`` (empty: nothing)."""
    from facesel.video import open_source

    found = []
    for every, max_frames in ((1, None), (3, 7)):
        want = opencv_frames(path, every, max_frames)
        got = list(open_source(path, every=every, max_frames=max_frames))
        if len(got) != len(want):
            found.append(f"every={every}: {len(got)} frames against {len(want)}")
            continue
        frames = sum(not np.array_equal(a, b) for (a, _), (b, _) in zip(got, want))
        stamps = sum(s != t for (_, s), (_, t) in zip(got, want))
        if frames or stamps:
            found.append(f"every={every}: {frames} frames and {stamps} times differ")
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("videos", nargs="*", type=Path)
    args = parser.parse_args(argv)
    videos = args.videos
    if not videos:
        from facesel.data import data_root

        folder = data_root() / "videos"
        videos = sorted(p for p in folder.rglob("*") if p.suffix.lower() in {".mp4", ".mkv", ".gif", ".avi", ".mov"})
    bad = 0
    for path in videos:
        found = differences(path)
        bad += bool(found)
        print(f"{path.name}: {'; '.join(found) if found else 'identical'}", flush=True)
    print(f"{len(videos) - bad} of {len(videos)} identical")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
