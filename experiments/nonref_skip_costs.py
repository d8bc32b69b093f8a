"""What a dropped frame costs the source, and what converting late and skipping non-reference frames save.

    python experiments/nonref_skip_costs.py VIDEO [--passes 3]

One thread (FFmpeg decoding on one thread, as ``facesel serve`` decodes), CPU seconds of the
process (``time.process_time``) over ``--passes`` passes of ``VIDEO`` (e.g. the 720p transcode of
the arcade video, docs/performance.md), per frame of the file:

- decoding alone, and decoding plus the YUV->BGR conversion (what every frame cost before
  ``convert_on_take``: a dropped frame included);
- the same with FFmpeg's ``skip_frame = "NONREF"`` (what ``skip_when_behind`` asks while a
  camera is behind): how many frames are still decoded, and what they cost.
"""

from __future__ import annotations

import argparse
import time


def run(path: str, passes: int, convert: bool, skip: str | None) -> tuple[int, int, float]:
    """(frames in the file's passes, frames decoded, CPU seconds)."""
    import av

    frames = decoded = 0
    start = time.process_time()
    for _ in range(passes):
        with av.open(path) as container:
            stream = container.streams.video[0]
            stream.thread_count = 1
            frames += stream.frames
            if skip:
                stream.codec_context.skip_frame = skip
            for picture in container.decode(stream):
                decoded += 1
                if convert:
                    picture.to_ndarray(format="bgr24", threads=1)
    return frames, decoded, time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("video")
    parser.add_argument("--passes", type=int, default=3)
    args = parser.parse_args()
    for label, convert, skip in (("decode", False, None), ("decode + BGR", True, None),
                                 ("decode, NONREF skipped", False, "NONREF"), ("decode + BGR, NONREF skipped", True, "NONREF")):
        frames, decoded, seconds = run(args.video, args.passes, convert, skip)
        print(f"{label}: {decoded} of {frames} frames decoded, {1000 * seconds / frames:.2f} CPU ms a frame of the file, "
              f"{1000 * seconds / max(1, decoded):.2f} a decoded frame")


if __name__ == "__main__":
    main()
