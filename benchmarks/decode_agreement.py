"""Does the one-step shrink change the choice? The default against the exhaustive run, per decoder.

    python benchmarks/decode_agreement.py [--videos arcade_walkers_1080p.mp4 ...]

Not a test (not in CI). Every shared video whose longer side exceeds ``max_side`` (1280: only
those are shrunk before full-frame detection) is run through the Selector twice per decoding path
(the default sparse mode and the exhaustive mode, the default scorer, one stage thread) and the
default's choice is compared with the exhaustive run's of the same path
(:func:`facesel.select.agreement.agreement`: exhaustive tracks matched, share of kept crops in the
exhaustive run's top 10 %). Decoding paths:

- ``opencv``: ``cv2.VideoCapture`` and OpenCV's ``INTER_AREA`` shrink (``facesel run``, and
  ``facesel serve`` before issue 27);
- ``pyav-opencv-shrink``: PyAV's decoding and BGR conversion, OpenCV's shrink;
- ``pyav``: PyAV with the one-step shrink from the decoded picture (``facesel serve`` now).

Nothing here was tuned on these figures: they decide whether the one-step shrink is the default.
"""

from __future__ import annotations

import argparse
import sys

VIDEOS = ("arcade_walkers_1080p.mp4", "selfie_motion_blur_portrait.mp4", "more/LivePortrait__assets_examples_source_s29.mp4")
PATHS = ("opencv", "pyav-opencv-shrink", "pyav")


def frames(video, path: str):
    """``(frame, timestamp)`` of ``video`` decoded the ``path`` way."""
    from facesel.sources import decoded
    from facesel.sources.backends import EndOfStream, FileConnection, PyAVFileConnection

    connection = (FileConnection if path == "opencv" else PyAVFileConnection)(video)
    try:
        while True:
            try:
                frame, stamp = connection.read()
            except EndOfStream:
                return
            if path == "pyav-opencv-shrink":
                decoded.forget_picture(frame)
            yield frame, stamp
    finally:
        connection.close()


def choice(video, path: str, mode: str, detector, scorer) -> list:
    from facesel import Selector
    from facesel.sinks import CallbackSink

    kept = []
    with Selector(detector, scorer, mode=mode, threads=1, sinks=[CallbackSink(kept.append)]) as selector:
        for _ in selector.run(frames(video, path)):
            pass
    return kept


def main(argv=None) -> int:
    import cv2
    from facesel.data import data_root_or_exit
    from facesel.select.agreement import agreement
    from facesel.selector import default_detector, default_scorer

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", nargs="+", default=list(VIDEOS), help="under the shared data's videos/")
    parser.add_argument("--paths", nargs="+", default=list(PATHS), choices=PATHS)
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    root = data_root_or_exit()
    detector, scorer = default_detector(), default_scorer()
    print("| video | decoding | exhaustive tracks matched by the default | kept crops in the exhaustive top 10 % |")
    print("|---|---|---|---|")
    for name in args.videos:
        video = root / "videos" / name
        for path in args.paths:
            default = choice(video, path, "sparse", detector, scorer)
            exhaustive = choice(video, path, "exhaustive", detector, scorer)
            a = agreement(default, exhaustive)
            print(f"| {name} | {path} | {a.tracks} / {a.reference_tracks} | {100.0 * a.share_within(0.1):.0f} % |",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
