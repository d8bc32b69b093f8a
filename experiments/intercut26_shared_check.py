"""The two shared videos where the cut cue fires (OTB Girl, the mmaction2 demo), first 600 frames,
under today's shot-return rule and under persons26's winner (docs/prereg_intercut26.md, condition (c)).

    nice -n 5 python experiments/intercut26_shared_check.py

The default Selector of ``experiments/crowds_shared.py`` (its ``run_one``, the ``after`` rule: the
default re-link); the winner is put in by giving the finaliser's module a ShotReturnRule whose
defaults are the candidate's (nothing else differs). Prints snapshots, links, shot-return links
and the cuts the finaliser saw, per video and setting.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> int:
    import cv2

    import crowds_shared as cs
    import facesel.select.finalise as finalise
    from facesel.data import data_root
    from facesel.select.linking import LinkRule
    from facesel.select.shot_return import ShotReturnRule
    from facesel.selector import default_detector, default_scorer
    from facesel.video import open_source

    class Winner(ShotReturnRule):
        def __init__(self, **fields):
            super().__init__(**{"prefer_earliest": True, "small_without_colours": True, **fields})

    cv2.setNumThreads(1)
    scorer = default_scorer()
    for path, _people in cs.videos(data_root()):
        if path.name not in ("img", "mmaction2__demo_demo.mp4"):
            continue
        frames = [f for f, _ in open_source(path, max_frames=600)]
        fps = cs.fps_of(path)
        min_face = 8.0 if path.name == "img" else 16.0
        for name, rule in (("today", ShotReturnRule), ("earliest_small", Winner)):
            finalise.ShotReturnRule = rule
            try:
                out = cs.run_one(frames, fps, default_detector(), scorer, LinkRule(), None, min_face)
            finally:
                finalise.ShotReturnRule = ShotReturnRule
            print(f"{path.name} {name}: snapshots {out['snapshots']} links {out['link_pairs']} cuts {out['cuts']}",
                  flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
