"""A lead not taken yet: let FFmpeg's swscale shrink the full frame while it converts it to BGR.

    python experiments/decode_shrink.py [--every 3]

A full-frame detection shrinks the 1080p frame to 1280x720 with OpenCV's INTER_AREA (about 11 ms
on one core, as much as decoding the frame), after the decoder has converted the whole frame from
YUV to BGR. FFmpeg can convert and shrink in one pass (swscale's area filter), from the decoded
YUV frame. This script decodes the arcade video with PyAV and, on every ``--every``-th frame,
times both ways (CPU ms, one OpenCV thread) and runs YuNet on both shrunk images: faces found,
their boxes matched by IoU, and the largest confidence difference. Using it would mean decoding
files with PyAV instead of ``cv2.VideoCapture`` and handing the shrunk image to the detector, for
both modes (the exhaustive mode shrinks every frame, so it would gain most).
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np


def main(argv=None) -> int:
    import av

    from facesel.boxes import pairwise_iou
    from facesel.data import data_root
    from facesel.selector import default_detector

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=3, help="use every N-th frame")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    detector = default_detector()
    detect = detector.detect  # the frames below are already 1280x720: no further shrink
    container = av.open(str(data_root() / "videos" / "arcade_walkers_1080p.mp4"))
    opencv_ms, swscale_ms, frames = 0.0, 0.0, 0
    found = {"opencv": 0, "swscale": 0}
    ious, score_diffs = [], []
    for i, frame in enumerate(container.decode(video=0)):
        if i % args.every:
            continue
        start = time.process_time()
        bgr = frame.to_ndarray(format="bgr24")
        by_opencv = cv2.resize(bgr, (1280, 720), interpolation=cv2.INTER_AREA)
        opencv_ms += 1000 * (time.process_time() - start)
        start = time.process_time()
        by_swscale = frame.to_ndarray(format="bgr24", width=1280, height=720, interpolation="AREA")
        swscale_ms += 1000 * (time.process_time() - start)
        frames += 1
        a, b = detect(by_opencv), detect(by_swscale)
        found["opencv"] += len(a)
        found["swscale"] += len(b)
        if len(a) and len(b):
            iou = pairwise_iou(a.boxes, b.boxes)
            best = iou.argmax(axis=1)
            ious.extend(iou.max(axis=1).tolist())
            score_diffs.extend(np.abs(a.scores - b.scores[best]).tolist())
    container.close()
    ious = np.array(ious)
    print(f"{frames} arcade frames (one in {args.every}), CPU ms a frame for BGR conversion + shrink to 1280x720:")
    print(f"  OpenCV (full BGR frame, then INTER_AREA): {opencv_ms / frames:.2f}")
    print(f"  swscale (one pass, area filter):          {swscale_ms / frames:.2f}")
    print(f"faces found: {found['opencv']} / {found['swscale']}; matched at IoU < 0.5: {(ious < 0.5).sum()} of "
          f"{len(ious)}; mean IoU {ious.mean():.3f}; confidence difference mean {np.mean(score_diffs):.4f}, "
          f"max {np.max(score_diffs):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
