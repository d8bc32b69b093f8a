"""CPU an owning copy adds to a PyAV connection's BGR frame (the lever of docs/performance.md's
"Session 21: where the quiet sitting's 250 MiB went").

    python experiments/frame_copy_cost.py [--frames 100] [--rounds 5]

Decodes ``--frames`` frames of the arcade video (1080p) once, keeping the decoded pictures, then
converts each to BGR as a PyAV connection does (``to_ndarray(format="bgr24", threads=1)``: a view of
PyAV's frame) and, alternately frame by frame, the same followed by ``np.array(..., order="C")``
(an array of its own, as ``file_frames`` hands out), and (session 22) FFmpeg's conversion straight
into an array of our own (:func:`facesel.sources.own_bgr.bgr`, today's PyAV connections), the three
in turn frame by frame. Thread CPU time of each, per frame, each round; prints the medians and each
against the view. A ratio within one run: the machine may be loaded.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


METHODS = ("view", "copy", "own")


def convert(picture, method: str):
    """The BGR frame of ``picture``: PyAV's view, an owning copy of it, or own_bgr's array."""
    if method == "own":
        from facesel.sources import own_bgr

        return own_bgr.bgr(picture)
    frame = picture.to_ndarray(format="bgr24", threads=1)
    return np.array(frame, order="C") if method == "copy" else frame


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
    spent: dict[str, list[float]] = {method: [] for method in METHODS}
    for round_ in range(args.rounds):
        totals = dict.fromkeys(METHODS, 0.0)
        for index, picture in enumerate(pictures):
            shift = (index + round_) % len(METHODS)
            for method in METHODS[shift:] + METHODS[:shift]:
                start = time.thread_time()
                frame = convert(picture, method)
                totals[method] += time.thread_time() - start
                del frame  # freed before the next conversion, as a dropped or processed frame is
        for method in METHODS:
            spent[method].append(1000 * totals[method] / len(pictures))
    view = statistics.median(spent["view"])
    for method in METHODS:
        median = statistics.median(spent[method])
        print(f"{method}: {median:.2f} CPU ms a frame (rounds {', '.join(f'{x:.2f}' for x in spent[method])}); "
              f"{median - view:+.2f} ms against the view, x{median / view:.2f}")


if __name__ == "__main__":
    main()
