"""CPU an owning copy adds to a PyAV connection's BGR frame (the lever of docs/performance.md's
"Session 21: where the quiet sitting's 250 MiB went").

    python experiments/frame_copy_cost.py [--frames 100] [--rounds 5]

Decodes ``--frames`` frames of the arcade video (1080p) once, keeping the decoded pictures, then
converts each to BGR as a PyAV connection does (``to_ndarray(format="bgr24", threads=1)``: a view of
PyAV's frame) and, alternately frame by frame, the same followed by ``np.array(..., order="C")``
(an array of its own, as ``file_frames`` hands out). Thread CPU time of each, per frame, each round;
prints the medians and the copy's share of the conversion. A ratio within one run: the machine may
be loaded.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def convert(picture, copy: bool):
    """The connection's BGR frame of ``picture``: PyAV's view, or an owning copy of it."""
    frame = picture.to_ndarray(format="bgr24", threads=1)
    return np.array(frame, order="C") if copy else frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    import av
    from facesel.data import data_root_or_exit

    with av.open(str(data_root_or_exit() / "videos" / "arcade_walkers_1080p.mp4")) as container:
        stream = container.streams.video[0]
        stream.thread_count = 1
        pictures = []
        for picture in container.decode(stream):
            pictures.append(picture)
            if len(pictures) == args.frames:
                break
    spent = {False: [], True: []}
    for round_ in range(args.rounds):
        totals = {False: 0.0, True: 0.0}
        for index, picture in enumerate(pictures):
            for copy in ((False, True) if (index + round_) % 2 == 0 else (True, False)):
                start = time.thread_time()
                frame = convert(picture, copy)
                totals[copy] += time.thread_time() - start
                del frame  # freed before the next conversion, as a dropped or processed frame is
        for copy in totals:
            spent[copy].append(1000 * totals[copy] / len(pictures))
    view, owned = statistics.median(spent[False]), statistics.median(spent[True])
    print(f"view: {view:.2f} CPU ms a frame (rounds {', '.join(f'{x:.2f}' for x in spent[False])}); "
          f"owning copy: {owned:.2f} ({', '.join(f'{x:.2f}' for x in spent[True])}); "
          f"the copy adds {owned - view:.2f} ms, x{owned / view:.2f}")


if __name__ == "__main__":
    main()
