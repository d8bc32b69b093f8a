"""The continuity bridge on every splice of ``facesel eval switches`` (hard cut, cross-fade, gap;
docs/prereg_continuity_bridge.md): each splice recorded once, live, through the Selector with the
follower on at the loosest registered settings (floor 0.6, 3 s; the Laplacian scorer, as
``crowds_switches.py``), replayed under ``off`` (the default finaliser) and each candidate.

    python experiments/bridge_splices.py [--patch band|head]

Per candidate and family (signers; talking heads split by A's clip into LivePortrait,
video-retalking and other): snapshots, snapshots whose frames span both people (a wrong join),
bridge links, people without a snapshot (by the best crop's frame). The splices are made in memory.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bridge_shared import CANDIDATES  # noqa: E402


def family_of(name: str) -> str:
    """The held-out family of a clip by its file name (as the edge and crowd scripts fold)."""
    low = name.lower()
    if "asl_gestures" in low or "signer" in low:
        return "signers"
    if "liveportrait" in low:
        return "liveportrait"
    if "retalking" in low:
        return "retalking"
    return "other"


def main(argv=None) -> int:
    from facesel.data import data_root
    from facesel.detect import make_detector
    from facesel.eval import switches as sw
    from facesel.eval.crowds_replay import record, replay
    from facesel.scoring import LaplacianVarianceScorer
    from facesel.select.finalise import Finaliser
    from facesel.track_cues.bridge import BridgeRule

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patch", choices=("band", "head"), default="band")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    detector = make_detector(max_side=1280)
    sources = sw.load_sources(data_root(), detector, 40, 5)
    names = ["off", *CANDIDATES]
    totals: dict = {}
    for clips in sources.values():
        for a, b in sw.pairs_of(clips):
            fam = "signers" if a.source == "signers" else family_of(a.name)
            for kind in sw.KINDS:
                frames, _, owner = sw.splice(a, b, kind, 40, 5, detector)
                scorer = LaplacianVarianceScorer()
                recording = record(frames, detector, scorer, 30.0, continuity_bridge=0.6, continuity_bridge_gap=3.0,
                                   continuity_bridge_patch=args.patch)
                for name in names:
                    bridge = None if name == "off" else BridgeRule(floor=CANDIDATES[name][0],
                                                                   max_gap_seconds=CANDIDATES[name][1], patch=args.patch)
                    finaliser = Finaliser.for_scorer(scorer, bridge=bridge)
                    results = replay(recording, finaliser)
                    spanning = sum(1 for r in results if {owner[int(f)] for f in r.frame_indices} >= {0, 1})
                    if spanning or finaliser.bridged:
                        print(f"  {name}: {a.name} -> {b.name} ({kind}) spans {spanning}, bridged {finaliser.bridged}",
                              flush=True)
                    t = totals.setdefault((fam, name), [0, 0, 0, 0, 0])
                    t[0] += len(results)
                    t[1] += spanning
                    t[2] += 2
                    t[3] += len(finaliser.bridged)
                    t[4] += len({0, 1} - {owner[int(r.best.frame_index)] for r in results})
    for (fam, name), (snapshots, spanning, people, bridged, without) in sorted(totals.items()):
        print(f"{fam:12s} {name:7s}: {snapshots} snapshots for {people} people, {spanning} spanning two, "
              f"{bridged} bridge links, {without} without a snapshot")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
