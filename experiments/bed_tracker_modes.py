"""The children on the bed under other detection and tracking modes (docs/persons.md "A head turned
away and back", the boy's boundary 15 -> 18): is a boundary of his the tracker's or the detector's?

    python experiments/bed_tracker_modes.py

The clip (200 frames, 960 x 540, 30 fps) recorded through the default Selector (YuNet at max_side
1280, the Laplacian scorer: tracks and links do not depend on the pick) with ``detect_every`` 1
(the whole frame searched on every frame) and/or ``predict_motion`` (the tracker moves an unseen
track by its velocity), each replayed through the default finaliser (the order of release on, as in
the pipeline). Printed: snapshots, links, and each snapshot's (id, first frame, last frame).
A development look at one clip, not a proposal: nothing here is chosen.
"""

from __future__ import annotations

import itertools

import cv2

MODES = {"default": {}, "every1": {"detect_every": 1}, "predict": {"predict_motion": True},
         "every1+predict": {"detect_every": 1, "predict_motion": True}}


def main() -> int:
    from facesel.data import data_root
    from facesel.detect import make_detector
    from facesel.eval.crowds_replay import record, replay
    from facesel.scoring import LaplacianVarianceScorer
    from facesel.select.finalise import Finaliser
    from facesel.select.linking import LinkRule
    from facesel.video import open_source

    cv2.setNumThreads(1)
    path = data_root() / "videos" / "more" / "sam2__notebooks_videos_bedroom.mp4"
    frames = [f for f, _ in itertools.islice(open_source(path), 600)]
    detector = make_detector(max_side=1280)
    for name, settings in MODES.items():
        scorer = LaplacianVarianceScorer()
        recording = record(frames, detector, scorer, 30.0, None, **settings)
        finaliser = Finaliser.for_scorer(scorer, link=LinkRule(), await_predecessor=True)
        delivered = sorted(replay(recording, finaliser), key=lambda r: r.first_frame)
        print(f"{name}: {len(delivered)} snapshots, links {finaliser.links}, "
              f"{[(int(r.track_id), int(r.first_frame), int(r.last_frame)) for r in delivered]}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
