"""Would batching the region squares of several cameras into one YuNet call save CPU?

    python benchmarks/detector_batching.py [--repeats 40]

Not a test (not in CI). Between full-frame detections a camera searches a square around each
tracked face (``facesel.detect.schedule.search_regions``: about 160x160 pixels after its shrink);
YuNet on ONNX Runtime already takes one frame's squares in one call (``detect_many``). Squares from
several cameras could be gathered into one larger call. This times ``detect_many`` on k real
squares of the arcade video (cut and shrunk as the region search does) for k = 1..16 and prints
the thread CPU ms a square: if the per-call overhead mattered, the cost a square would fall with k.
Also the full frame (1280x736) alone and two at once. Thread CPU time, one ONNX thread: compare
the rows of one run only.
"""

from __future__ import annotations

import argparse
import sys
import time


def per_image_ms(detector, images, repeats: int) -> float:
    detector.detect_many(images)  # warm: the session plans this shape once
    start = time.thread_time()
    for _ in range(repeats):
        detector.detect_many(images)
    return 1000 * (time.thread_time() - start) / repeats / len(images)


def main(argv=None) -> int:
    import cv2
    from facesel.data import data_root_or_exit
    from facesel.detect.schedule import cut_square
    from facesel.selector import default_detector
    from facesel.sources.backends import FileConnection

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=40)
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    root = data_root_or_exit()
    detector = default_detector()
    connection = FileConnection(root / "videos" / "arcade_walkers_1080p.mp4")
    frames = [connection.read()[0] for _ in range(20)]
    connection.close()
    # a 400-pixel square shrunk by 0.4, as around a 160-pixel face at region_scale 2.5, face_px 64
    squares = [cut_square(frame, x, y, x + 400, y + 400, 0.4)[0] for frame in frames
               for x, y in ((300, 200), (900, 300), (1400, 400))]
    print("region squares (160x160), thread CPU ms a square by squares a call:")
    for k in (1, 2, 4, 8, 16):
        print(f"  {k:2d} a call: {per_image_ms(detector, squares[:k], args.repeats):.3f}")
    whole = [cv2.resize(frame, (1280, 720), interpolation=cv2.INTER_AREA) for frame in frames[:2]]
    print("full frames (1280x720), thread CPU ms a frame:")
    for k in (1, 2):
        print(f"  {k} a call: {per_image_ms(detector, whole[:k], max(4, args.repeats // 8)):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
