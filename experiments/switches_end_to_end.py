"""Snapshots per spliced person, end to end: the default Selector (sparse detection, finaliser on;
the Laplacian scorer for speed, the pick is not what is measured) on every splice (hard cut, cross-fade, gap)
of ``facesel eval switches``, with the switch cues on and off (docs/persons.md).

    python experiments/switches_end_to_end.py [--shot-return] [--cut-veto | --shot-cut-veto]

Per splice: results delivered, whether one result spans both people (its frames on both sides
of the join), and people no delivered best crop shows. The splices are made in memory. ``--shot-return``: the two runs are instead the
default (cues on) without the shot-return link (and the cut veto) and with it (:class:`facesel.select.shot_return.ShotReturnRule`'s
defaults; docs/persons.md, "Cuts back to a shot"): a splice has one cut and never a return, so
only the longer hold of a track a cut ended could change anything. ``--cut-veto``: the same with the
finaliser's cut veto (no ordinary link across a cut; with ``--shot-return`` too, both at once);
``--shot-cut-veto [shot|start]``: the veto only across a cut to another shot (session 21).
"""

from __future__ import annotations

import argparse

import cv2


def _selector(detector, shot_return: bool, cues: bool, cut_veto: bool | str = False, explicit: bool = False):
    """The default Selector (``explicit``: its finaliser built here with the shot-return link and
    the cut veto as given, instead of the pipeline's defaults)."""
    from facesel import Selector
    from facesel.config import PipelineConfig
    from facesel.scoring import LaplacianVarianceScorer
    from facesel.select.faceness import FacenessRule
    from facesel.select.finalise import DOSE_FACE_FLOOR, Finaliser
    from facesel.select.shot_return import ShotReturnRule

    scorer = LaplacianVarianceScorer()
    if not explicit:
        return Selector(detector, scorer, threads=1, switch_cues=cues)
    config = PipelineConfig()
    faceness = FacenessRule(min_quality=DOSE_FACE_FLOOR, suppress_static=not config.keep_static)
    finaliser = Finaliser.for_scorer(scorer, config.margin, faceness=faceness, shot_return=ShotReturnRule() if shot_return else None, cut_veto=cut_veto)
    return Selector(detector, scorer, threads=1, switch_cues=cues, post_close=[finaliser])


def main(argv=None) -> int:
    from facesel.data import data_root
    from facesel.detect import make_detector
    from facesel.eval import switches as sw

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shot-return", action="store_true", help="compare the default with and without the shot-return link")
    parser.add_argument("--cut-veto", action="store_true", help="compare the default with and without the cut veto")
    parser.add_argument("--shot-cut-veto", nargs="?", const="shot", choices=("shot", "start"), default=None,
                        help="the same with the cut veto only across a cut to another shot (Finaliser(cut_veto=...): "
                             "'shot' by the cuts' thumbnails, 'start' by the later track's first frame)")
    args = parser.parse_args(argv)
    veto = True if args.cut_veto else args.shot_cut_veto or False
    cv2.setNumThreads(1)
    detector = make_detector(max_side=1280)
    sources = sw.load_sources(data_root(), detector, 40, 5)
    # (label, shot return, cues): cues on / off, or the shot-return link off / on
    changed = bool(args.shot_return or veto)
    label = f"shot_return={args.shot_return},cut_veto={veto}"
    variants = ((("without", False, True), (label, args.shot_return, True)) if changed
                else (("switch_cues=True", False, True), ("switch_cues=False", False, False)))
    totals = {label: [0, 0, 0, 0] for label, _, _ in variants}  # snapshots, spanning both, people, without one
    for clips in sources.values():
        for a, b in sw.pairs_of(clips):
            for kind in sw.KINDS:  # hard cut, cross-fade, gap
                frames, _, owner = sw.splice(a, b, kind, 40, 5, detector)
                for label, shot_return, cues in variants:
                    selector = _selector(detector, shot_return, cues, veto if label != "without" else False, changed)
                    results = []
                    for k, frame in enumerate(frames):
                        results += selector.feed(frame, k / 30.0).closed
                    results += selector.flush()
                    spanning = sum(1 for r in results if {owner[int(f)] for f in r.frame_indices} >= {0, 1})
                    t = totals[label]
                    t[0] += len(results)
                    t[1] += spanning
                    t[2] += 2
                    # a person without a snapshot: no delivered best crop is theirs
                    t[3] += 2 - len({owner[int(r.best.frame_index)] for r in results} & {0, 1})
    for label, (snapshots, spanning, people, without) in totals.items():
        print(f"{label:36s}: {snapshots} snapshots for {people} people, {spanning} snapshots' tracks span two people, "
              f"{without} people without a snapshot of their own")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
