"""How many crops the not-a-face vote must score before its verdict, in which order: kept crop
first (the vote before issue 23's speed work) against the highest attainable ``dose`` score first
(:func:`facesel.scoring.vae_methods.mahalanobis_ceiling`, the order the vote uses now), on every
track the vote is asked about on the shared videos (docs/persons.md).

    python experiments/persons_vote_order.py [--videos NAME ...]

Each video is fed to a fresh default :class:`facesel.Selector` on one thread; each time the
finaliser asks for votes, every distinct crop of each track is scored (one batch, kept in memory
only) and the vote goes on as usual. Reported per track: its crops' scores in the kept-first order,
their ceilings, and the crops scored until the first that clears the floor (all of them when none
does) in each order, against the fewest possible (1 for a face, all for a non-face).
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np


def crops_until_clear(order, scores, floor: float) -> int:
    """Crops scored in ``order`` until one reaches ``floor`` (all when none does)."""
    for n, k in enumerate(order, start=1):
        if scores[k] >= floor:
            return n
    return len(order)


def main(argv=None) -> int:
    from facesel import Selector
    from facesel.data import data_root_or_exit
    from facesel.scoring.vae_methods import mahalanobis_ceiling
    from facesel.select import face_vote
    from facesel.select.finalise import DOSE_FACE_FLOOR
    from facesel.selector import default_detector, default_scorer
    from facesel.video import open_source

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", nargs="+", help="under the shared data's videos/ (default: every video)")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    root = data_root_or_exit() / "videos"
    names = args.videos or sorted(str(p.relative_to(root)) for p in [*root.glob("*.*"), *(root / "more").glob("*.*")]
                                  if p.suffix in (".mp4", ".gif", ".mkv"))
    model = face_vote.shipped_vote_model()
    rows = []
    vote_many = face_vote.DoseFaceVote.vote_many

    def recording(self, results):
        for result in results:
            greys = self.greys(result)
            scores = model.score(greys)
            ceiling = mahalanobis_ceiling(greys, model.calibration, face_vote.VOTE_METHOD)
            kept_first = crops_until_clear(range(len(greys)), scores, DOSE_FACE_FLOOR)
            ordered = crops_until_clear(np.argsort(-ceiling, kind="stable"), scores, DOSE_FACE_FLOOR)
            fewest = 1 if scores.max() >= DOSE_FACE_FLOOR else len(greys)
            rows.append((kept_first, ordered, fewest))
            print(f"  track {result.track_id}: scores {np.round(scores, 1).tolist()} ceilings {np.round(ceiling, 1).tolist()}"
                  f" -> crops scored kept first {kept_first}, by ceiling {ordered}, fewest {fewest}", flush=True)
        return vote_many(self, results)

    face_vote.DoseFaceVote.vote_many = recording
    detector, scorer = default_detector(), default_scorer()
    for name in names:
        print(name, flush=True)
        selector = Selector(detector, scorer, threads=1)
        for frame, stamp in open_source(root / name):
            selector.feed(frame, stamp)
        selector.flush()
    totals = np.array(rows).sum(axis=0) if rows else np.zeros(3, int)
    print(f"{len(rows)} voted tracks on {len(names)} videos: crops scored kept first {totals[0]}, "
          f"by ceiling {totals[1]}, fewest possible {totals[2]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
