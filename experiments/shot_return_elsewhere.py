"""The shot-return link (on by default since session 20) against it off, on the held-out
material without returns to a shot: same-place replacements and the edge material
(docs/persons.md, "Cuts back to a shot": "Checked elsewhere (shotcheck21)").

    nice -n 5 python experiments/shot_return_elsewhere.py [--limit N] [--skip-replacements] [--skip-edge]
        [--cache /tmp/shotcheck21-edge.pkl]

Same-place replacements (:func:`facesel.eval.crowds.run_replacements`: each clip of a family
followed by the next person after 15 frames the detector misses), live, link on and off; the edge
material (:mod:`facesel.eval.edge_return` through ``experiments/edge_return_loso.py``'s
``record_material``: a pan out by an edge and back onto the same person or the next), recorded
once and replayed through the default finaliser with the link on and off (the recording carries
the cuts' thumbnails). Also the scene cuts the finaliser saw (the link acts only after one), per kind
and gap for the edge material. The
default Selector, Laplacian scorer, ``keep_static`` (people before a webcam sit still).
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

import cv2


def main(argv=None) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import edge_return_loso as edge

    from facesel.data import data_root
    from facesel.detect import make_detector
    from facesel.eval import crowds, crowds_replay
    from facesel.scoring import LaplacianVarianceScorer
    from facesel.select.linking import LinkRule

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/shotcheck21-edge.pkl"),
                        help="the edge material's summaries and counts (no pixels)")
    parser.add_argument("--limit", type=int, default=None, help="edge material: the first N clips of each family")
    parser.add_argument("--skip-edge", action="store_true")
    parser.add_argument("--skip-replacements", action="store_true")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    detector, scorer = make_detector(max_side=1280), LaplacianVarianceScorer()
    root = data_root()
    for family, clips in ({} if args.skip_replacements else crowds.families(root)).items():
        on = crowds.run_replacements(clips, detector, scorer, keep_static=True)
        off = crowds.run_replacements(clips, detector, scorer, keep_static=True, shot_return=False)
        print(f"replacements {family:12s}: joined on {on['joined']}/{on['pairs']}, off {off['joined']}/{off['pairs']}; "
              f"cuts seen {on['cuts']}", flush=True)
    if args.skip_edge:
        return 0
    cuts = []
    recorded = crowds_replay.record

    def counting(*a, **k):  # the scene cuts of each recording
        recording = recorded(*a, **k)
        cuts.append(sum(1 for packet, _, _ in recording.steps
                        if packet is not None and packet.cut_thumbs is not None))
        return recording
    crowds_replay.record = counting
    rules = {"on": LinkRule(), "off": (LinkRule(), {"shot_return": None})}
    material = edge.record_material(root, detector, scorer, rules, args.cache, None, args.limit)
    names = [name for fam in material.values() for name, _ in fam]  # one recording per run, in order
    print(f"edge material: {len(cuts)} runs, scene cuts in {sum(1 for c in cuts if c)} of them ({sum(cuts)} cuts)")
    for kind in ("return", "next"):
        for gap in edge.GAPS:
            hit = [c for n, c in zip(names, cuts, strict=True) if n.startswith(kind) and f"gap{gap}:" in n]
            print(f"  {kind} gap {gap} frames: cuts in {sum(1 for c in hit if c)} of {len(hit)} runs")
    for kind in ("return", "next"):
        for key in rules:
            rows = [r["rules"][key] for fam in material.values() for name, r in fam if name.startswith(kind)]
            print(f"edge {kind:6s} link {key:3s}: runs {len(rows)}, snapshots {sum(sum(r['snapshots']) for r in rows)}, "
                  f"delivered {sum(r['delivered'] for r in rows)}, wrong joins {sum(r['wrong'] for r in rows)}, "
                  f"persons without {sum(r['without'] for r in rows)}")
        diff = sum(1 for fam in material.values() for name, r in fam
                   if name.startswith(kind) and r["rules"]["on"] != r["rules"]["off"])
        print(f"edge {kind}: runs where on and off differ: {diff}")
    args.cache.write_bytes(pickle.dumps(material))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
