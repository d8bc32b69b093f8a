"""Which gate refuses the `zoom` variant's zoomed returns (docs/prereg_dissolve28.md, ``zoom_place``):
every shot-return pair whose "same shot" test passed (and the zoom it passed at), with its place
distance before and after the mapping, its size ratio and its colour distance, and the pairs within
60 frames of a cut away that the thumbnail test or the timing refused (numbers only).

    nice -n 5 python experiments/dissolve28_zoom_gates.py [--families signers ...] [--match d18]
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))
import intercut_account26 as acc  # noqa: E402


def main() -> int:
    import cv2

    from facesel.config import PipelineConfig
    from facesel.data import data_root
    from facesel.eval.intercut import clip_label
    from facesel.eval.intercut_variants import variant_material
    from facesel.scoring import LaplacianVarianceScorer
    from facesel.selector import default_detector

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--families", nargs="+", default=None)
    parser.add_argument("--match", default="", help="only runs whose clip labels contain this")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    detector, scorer = default_detector(PipelineConfig()), LaplacianVarianceScorer()
    acc.CANDIDATES["zoom_place"] = {"zoom_place": True}
    for family, kind, clips, frames, owner, major in variant_material(data_root(), "zoom", args.families, ("interview",)):
        label = " | ".join(clip_label(c) for c in clips)
        if args.match not in label:
            continue
        print(f"{family} {label}:", flush=True)
        row = acc.run_one(frames, owner, major, detector, scorer, candidate="zoom_place")
        print(f"   {row['snapshots']} / {row['persons']}, shot links {len(row['shot_links'])}", flush=True)
    return 0


def cost_trace():
    """Patch :meth:`ShotMemory.cost` to print each pair's gate values after a rescale won."""
    from facesel.select import shot_return as sr
    from facesel.select.link_ends import _measured, _typical
    from facesel.track_cues import distance as colour_distance

    original = sr.ShotMemory.cost

    def cost(self, earlier, later):
        out = original(self, earlier, later)
        away = self.cut_after(earlier) if earlier.count and later.count else None
        found = None if away is None or later.first_frame <= earlier.last_frame else self._return_zoom(away, later)
        if away is not None and found is None and later.first_frame > earlier.last_frame \
                and later.first_frame - away.frame < 60:
            print(f"   pair {earlier.last_frame} -> {later.first_frame}: refused by the thumbnail test / timing", flush=True)
        if found is not None:
            a, b = earlier.last_box, later.first_box
            m = sr.zoom_box(a, found[1], self.frame_shape) if self.frame_shape else a

            def place(x):
                sa = math.sqrt(max(x[2] - x[0], 0) * max(x[3] - x[1], 0))
                sb = math.sqrt(max(b[2] - b[0], 0) * max(b[3] - b[1], 0))
                d = math.hypot((x[0] + x[2] - b[0] - b[2]) / 2, (x[1] + x[3] - b[1] - b[3]) / 2) / ((sa + sb) / 2)
                return d, max(sa, sb) / max(min(sa, sb), 1e-9)

            tail, head = _measured(earlier, "tail", self.rule.window), _measured(later, "head", self.rule.window)
            colours = colour_distance(_typical(tail), _typical(head)) if tail and head else None
            print(f"   pair {earlier.last_frame} -> {later.first_frame} zoom {found[1]:.3f}: place {place(a)[0]:.2f} "
                  f"-> {place(m)[0]:.2f}, size ratio {place(a)[1]:.2f} -> {place(m)[1]:.2f}, colours "
                  f"{'none' if colours is None else round(colours, 3)}; linked {out is not None}", flush=True)
        return out

    sr.ShotMemory.cost = cost


if __name__ == "__main__":
    cost_trace()
    raise SystemExit(main())
