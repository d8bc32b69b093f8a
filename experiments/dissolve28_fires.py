"""Where ``quiet_fade`` (``SwitchRule.fade_quiet``, docs/prereg_dissolve28.md) adds a fire: the
scene cue alone (no detector), today's shipped rule and the same with ``fade_quiet`` side by side
on every run of a material. A run whose fires are the same under both gives the same output end
to end by construction (the quiet fade only adds fires; every other field is today's).

    nice -n 5 python experiments/dissolve28_fires.py [--only variants pans edge crowds replacements shared splices]

Per run: today's fires, the added fires (frame, span difference) and, where the material knows who
is where (the intercut variants' owner per frame; a splice's switch frame), whether each added
fire sits at a change of person (within ``fade_span`` frames after one began) or not (a false
fire: it may split a genuine track). Numbers only, no pixels.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent))

QUIET = 8.0
"""``quiet_fade``'s ``fade_quiet`` (docs/prereg_dissolve28.md)."""


def variant_runs(root):
    """Every interview and control of the `fade` variant, and the `default` and `zoom` variants'
    interviews: (material, family, name, frames, owner)."""
    from facesel.eval.intercut import clip_label
    from facesel.eval.intercut_variants import variant_material

    for variant, kinds in (("fade", ("interview", "control")), ("default", ("interview",)), ("zoom", ("interview",))):
        for family, kind, clips, frames, owner, _ in variant_material(root, variant, None, kinds):
            yield variant, family, f"{kind} {' | '.join(clip_label(c) for c in clips)}", frames, list(owner)


def other_runs(name, root):
    import cut_signals as cs
    import fade_decision_loso as fd
    import tv27_elsewhere as te

    if name == "pans":
        for _, family, label, frames, owner in fd.material("pans", root):
            yield "pans", family, label, frames, None
        return
    source = {"edge": cs.edge_material, "crowds": cs.crowd_material, "replacements": te.replacement_material,
              "shared": cs.shared_material, "splices": cs.splice_material}[name]
    for material, family, label, frames, switch in source(root):
        owner = None
        if name == "splices" and switch:  # one person before the switch frame, the other after
            owner = [0 if k < switch[0] else 1 for k in range(len(frames))]
        yield material, family, label, frames, owner


def check(frames, owner) -> dict:
    from facesel.track_cues.rule import SwitchRule
    from facesel.track_cues.scene import SceneChange

    today, quiet = SceneChange(SwitchRule()), SceneChange(SwitchRule(fade_quiet=QUIET))
    fires_today, fires_quiet = [], []
    for k, frame in enumerate(frames):
        kind, _ = today.update(frame)
        if kind:
            fires_today.append((k, kind))
        kind, value = quiet.update(frame)
        if kind:
            fires_quiet.append((k, kind, round(value, 2)))
    span = SwitchRule().fade_span
    added = [f for f in fires_quiet if (f[0], f[1]) not in fires_today]
    lost = [f for f in fires_today if f not in [(k, kind) for k, kind, _ in fires_quiet]]
    at_change = false = 0
    for k, _, _ in added:
        if owner is None:
            continue
        window = owner[max(0, k - 2 * span):k + 1]
        if len({o for o in window}) > 1:
            at_change += 1
        else:
            false += 1
    return {"today": len(fires_today), "added": added, "lost": lost, "at_change": at_change, "false": false}


def main(argv=None) -> int:
    from facesel.data import data_root

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = ["variants", "pans", "edge", "crowds", "replacements", "shared", "splices"]
    parser.add_argument("--only", nargs="+", default=names, choices=names)
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    root = data_root()
    for name in args.only:
        runs = variant_runs(root) if name == "variants" else other_runs(name, root)
        total = {"runs": 0, "differ": 0, "added": 0, "at_change": 0, "false": 0, "lost": 0}
        for material, family, label, frames, owner in runs:
            row = check(frames, owner)
            total["runs"] += 1
            total["differ"] += bool(row["added"] or row["lost"])
            total["added"] += len(row["added"])
            total["lost"] += len(row["lost"])
            total["at_change"] += row["at_change"]
            total["false"] += row["false"]
            if row["added"] or row["lost"]:
                print(f"{material} {family} {label[:80]}: {row}", flush=True)
        print(f"TOTAL {name}: {total}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
