"""Where a 1080p frame's CPU goes before detection, and what decoding and shrinking in one step saves.

    python experiments/decode_costs.py [--frames 60]

One thread each (``cv2.setNumThreads(1)``, FFmpeg decoding on one thread as ``facesel serve``
now decodes), CPU ms a frame (``time.process_time``), on the arcade video (1080p H.264):

- decoding to BGR: OpenCV's ``VideoCapture.read`` and PyAV (decode + ``to_ndarray("bgr24")``);
- PyAV's conversion of a decoded frame to full-size BGR alone;
- the full-frame detection's shrink to 1280x720 as today (OpenCV ``INTER_AREA`` on the BGR frame);
- swscale's shrink of the decoded YUV frame straight to 1280x720 BGR (``AREA``), the one-step path;
- swscale's shrink of the BGR frame (what is left when the YUV frame is gone).

The saving of the one-step path is the shrink, on each frame detected whole (one in
``detect_every``, or every frame in the exhaustive mode): the full-size BGR frame is still needed
for the region search and the crops, and its conversion is cheap.
"""

from __future__ import annotations

import argparse
import time

import cv2


def per_frame_ms(items, fn) -> float:
    start = time.process_time()
    for item in items:
        fn(item)
    return 1000 * (time.process_time() - start) / max(1, len(items))


def main(argv=None) -> int:
    import av

    from facesel.data import data_root

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60)
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    path = str(data_root() / "videos" / "arcade_walkers_1080p.mp4")

    start, capture, n = time.process_time(), cv2.VideoCapture(path, cv2.CAP_ANY, [cv2.CAP_PROP_N_THREADS, 1]), 0
    while n < args.frames and capture.read()[0]:
        n += 1
    opencv_decode = 1000 * (time.process_time() - start) / n
    start, container, n = time.process_time(), av.open(path), 0
    for frame in container.decode(video=0):
        frame.to_ndarray(format="bgr24")
        n += 1
        if n == args.frames:
            break
    pyav_decode = 1000 * (time.process_time() - start) / n
    container = av.open(path)
    decoded = [f for _, f in zip(range(args.frames), container.decode(video=0))]
    full = [f.to_ndarray(format="bgr24") for f in decoded]
    rows = {
        "decode to BGR, OpenCV": opencv_decode,
        "decode to BGR, PyAV": pyav_decode,
        "YUV -> full BGR (PyAV)": per_frame_ms(decoded, lambda f: f.to_ndarray(format="bgr24")),
        "BGR -> 1280x720, OpenCV INTER_AREA (today)": per_frame_ms(
            full, lambda im: cv2.resize(im, (1280, 720), interpolation=cv2.INTER_AREA)),
        "YUV -> 1280x720 BGR, swscale AREA (one step)": per_frame_ms(
            decoded, lambda f: f.to_ndarray(format="bgr24", width=1280, height=720, interpolation="AREA")),
        "BGR -> 1280x720, swscale AREA": per_frame_ms(
            full, lambda im: av.VideoFrame.from_ndarray(im, format="bgr24").reformat(
                width=1280, height=720, interpolation="AREA").to_ndarray()),
    }
    print("| step | CPU ms a frame |\n|---|---|")
    for name, ms in rows.items():
        print(f"| {name} | {ms:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
