"""tv27's new defaults elsewhere (check27; docs/persons.md "Cross-fades and zoomed returns"): does
``SwitchRule(fade_cut=True, fade_settle=True, fade_blend=0.5)`` with ``ShotReturnRule.scales =
(1.0, 1.15, 1.3, 1.5)`` change anything against tv27's ``BEFORE`` (``fade_cut=False, fade_settle=False,
fade_blend=0.0``, ``scales=(1.0,)``) on material without dissolves?

    nice -n 5 python experiments/tv27_elsewhere.py [--only edge crowds replacements shared]

The exact, cheap check, per run (each material's frames made in memory as
``experiments/cut_signals.py`` makes them; replacements as :func:`facesel.eval.crowds.run_replacements`
makes them): the shipped :class:`facesel.track_cues.scene.SceneChange` under both rules, side by
side. The new fields change nothing but what the finaliser is given (``cut_thumbs``), and
``scales`` acts only in :meth:`facesel.select.shot_return.ShotMemory._return_cut` (a recorded cut
back to the shot a track left): so a run whose fires are the same under both rules, where no fade is
recorded as a cut, and where no pair of recorded cuts (every pair, a superset of those within
``max_seconds``) has a "same shot" decision (``same_shot <= thumb_distance``) that the scales change, gives the same
output under both by construction. Printed per run: fires (cut / fade), fades recorded as cuts,
hard cuts, pairs whose same-shot decision differs, each fade's blend residual; and the totals. Numbers only, no pixels.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cut_signals as cs  # noqa: E402

BEFORE = {"fade_cut": False, "fade_settle": False, "fade_blend": 0.0}
"""tv27's ``BEFORE`` (experiments/tv27_account.py): the fade fields before tv27."""


def replacement_material(root):
    """Each clip of a family followed by the next person (:func:`facesel.eval.crowds.replacement`,
    the frames :func:`facesel.eval.crowds.run_replacements` feeds)."""
    from facesel.detect import make_detector
    from facesel.eval import crowds

    detector = make_detector(max_side=1280)
    for family, clips in crowds.families(root).items():
        for a, b in itertools.pairwise(clips):
            fa, fb = crowds.read_tile(a, 45, skip=10), crowds.read_tile(b, 60, skip=10)
            size = (640, 480)
            frames = crowds.replacement([cv2.resize(f, size) for f in fa], [cv2.resize(f, size) for f in fb], detector)
            yield "replacements", family, f"{a.name}->{b.name}", frames, []


MATERIAL = {"edge": cs.edge_material, "crowds": cs.crowd_material, "replacements": replacement_material,
            "shared": cs.shared_material}


def check(frames) -> dict:
    """Fires under both rules and the decisions the new fields could change (module docstring)."""
    from facesel.select.shot_return import ShotReturnRule
    from facesel.track_cues.rule import SwitchRule
    from facesel.track_cues.scene import SceneChange, blend_residual

    new, old = SceneChange(SwitchRule()), SceneChange(SwitchRule(**BEFORE))
    zoom, plain = ShotReturnRule(), ShotReturnRule(scales=(1.0,))
    fires_new, fires_old, cuts = [], [], []  # cuts: (frame, before, after) recorded under the new rule
    fade_recorded, residuals = 0, []  # residuals: blend_residual at each fade fire (recorded at <= fade_blend)
    for k, frame in enumerate(frames):
        kind, _ = new.update(frame)
        kind_old, _ = old.update(frame)
        if kind:
            fires_new.append((k, kind))
        if kind == "fade":  # the span the rule judged: the thumbnails kept, this frame's last
            residuals.append(round(float(blend_residual(list(new._thumbs))), 3))
        if kind_old:
            fires_old.append((k, kind_old))
        if new.cut_thumbs is not None:
            fade_recorded += kind == "fade"
            cuts.append((k, new.cut_thumbs[0], new.cut_thumbs[1]))
        if old.cut_thumbs is not None and kind_old != "cut":
            raise AssertionError("BEFORE recorded a fade as a cut")
    pairs = differ = 0
    for (_, before, _), (_, _, after) in itertools.combinations(cuts, 2):
        pairs += 1  # every pair, not only those within max_seconds: a superset, whatever the frame rate
        differ += (zoom.same_shot(after, before) <= zoom.thumb_distance) != \
            (plain.same_shot(after, before) <= plain.thumb_distance)
    return {"same_fires": fires_new == fires_old, "fades": sum(1 for _, k in fires_new if k == "fade"),
            "cuts": sum(1 for _, k in fires_new if k == "cut"), "fade_recorded": fade_recorded,
            "pairs": pairs, "pairs_differ": differ, "residuals": residuals}


def main(argv=None) -> int:
    from facesel.data import data_root

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", default=list(MATERIAL), choices=list(MATERIAL))
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    root = data_root()
    for material in args.only:
        total = {"runs": 0, "differ": 0, "fades": 0, "cuts": 0, "fade_recorded": 0, "pairs": 0, "pairs_differ": 0,
                 "runs_with_fades": 0}
        for _, family, name, frames, _ in MATERIAL[material](root):
            row = check(frames)
            may = (not row["same_fires"]) or row["fade_recorded"] > 0 or row["pairs_differ"] > 0
            total["runs"] += 1
            total["differ"] += may
            total["runs_with_fades"] += row["fades"] > 0
            for key in ("fades", "cuts", "fade_recorded", "pairs", "pairs_differ"):
                total[key] += row[key]
            print(f"{material} {family} {name[:70]}: {row}{'  MAY DIFFER' if may else ''}", flush=True)
        print(f"TOTAL {material}: {total}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
