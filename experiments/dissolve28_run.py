"""dissolve28's candidates end to end on the intercut variants (docs/prereg_dissolve28.md).

    nice -n 5 python experiments/dissolve28_run.py --variant fade --candidate quiet_fade [--families ...]
    nice -n 5 python experiments/dissolve28_run.py --variant zoom --candidate zoom_place --kinds interview
    python experiments/dissolve28_run.py --loso --variant fade --candidate quiet_fade
    nice -n 5 python experiments/dissolve28_run.py --shared LivePortrait__assets_examples_driving_d3.mp4 ...

One default Selector per run (``experiments/intercut_account26.py``'s ``run_one``: the shipped
defaults, accounted), under today and under the candidate. ``quiet_fade`` (``SwitchRule(fade_quiet=8)``)
only adds scene-cue fires: a run whose fires are today's under it (the scene cue alone, checked
first, no detector) is today's by construction and is not run twice (counted as unchanged; its
figures are today's, run once). ``zoom_place`` (``ShotReturnRule(zoom_place=True)``) is run on
every run given. Records: JSON under ``/tmp/dissolve28``; ``--loso`` prints the registered choice
held out by family.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))
import intercut_account26 as acc  # noqa: E402

CACHE = Path("/tmp/dissolve28")
FAMILIES = ("signers", "liveportrait", "retalking", "other")
QUIET = 8.0


def _rule(candidate: str):
    from facesel.track_cues.rule import SwitchRule

    return SwitchRule(fade_quiet=QUIET) if candidate in ("quiet_fade", "both") else SwitchRule()


def _fires(frames, rule) -> list:
    from facesel.track_cues.scene import SceneChange

    scene, out = SceneChange(rule), []
    for k, f in enumerate(frames):
        kind, _ = scene.update(f)
        if kind:
            out.append((k, kind))
    return out


def run_one(frames, owner, major, detector, scorer, candidate: str) -> dict:
    acc.CANDIDATES["zoom_place"] = {"zoom_place": True}
    shot = "zoom_place" if candidate in ("zoom_place", "both") else "today"
    rule = _rule(candidate)
    with mock.patch("facesel.track.SwitchRule", lambda: rule):
        return acc.run_one(frames, owner, major, detector, scorer, candidate=shot)


def path_of(variant, candidate, families, kinds) -> Path:
    return CACHE / (".".join([variant, candidate] + sorted(families or []) + list(kinds)) + ".json")


def run(variant, candidate, families, kinds) -> list:
    from facesel.eval.intercut import clip_label

    def one(frames, owner, major, detector, scorer, family, kind, clips):
        label = " | ".join(clip_label(c) for c in clips)
        same = False
        if candidate == "quiet_fade":
            same = _fires(frames, _rule("today")) == _fires(frames, _rule(candidate))
        out = {}
        for c in ("today",) if same else ("today", candidate):
            row = run_one(frames, owner, major, detector, scorer, c)
            row.update(family=family, kind=kind, clips=label)
            out[c] = row
        out.setdefault(candidate, dict(out["today"], same=True))
        t, n = out["today"], out[candidate]
        print(f"{variant} {family:12s} {kind:9s} {label}: {'(same fires) ' if same else ''}today {t['snapshots']} / "
              f"{t['persons']} wrong {len(t['wrong'])} without {len(t['without'])}; {candidate} {n['snapshots']} "
              f"wrong {len(n['wrong'])} without {len(n['without'])} cuts {t['cuts']} -> {n['cuts']} "
              f"shot links {len(t['shot_links'])} -> {len(n['shot_links'])}", flush=True)
        return out

    return acc.for_each_run(path_of(variant, candidate, families, kinds), variant, families, kinds, one)


def loso(rows, candidate) -> None:
    figs = {c: {f: acc.figures([r[c] for r in rows], f) for f in FAMILIES} for c in ("today", candidate)}
    t, h = acc.held_out(figs, candidate, FAMILIES)
    if t[1]:
        print(f"  held out, all: snapshots {t[0]} -> {h[0]} / {t[1]}, wrong {t[2]} -> {h[2]}, without {t[3]} -> {h[3]}")
    a = {c: [sum(figs[c][f][k] for f in FAMILIES) for k in ("snapshots", "persons", "wrong", "without")]
         for c in figs}
    print(f"  in sample: today {a['today']}, {candidate} {a[candidate]} (snapshots, persons, wrong, without)")


def shared(names, frames_max: int = 600) -> None:
    """The shared videos ``names`` (file names) where ``quiet_fade`` adds a fire
    (``experiments/dissolve28_fires.py --only shared``), first ``frames_max`` frames, as
    ``experiments/tv27_account.py shared`` runs them (``crowds_shared.run_one``, the default
    detector and scorer), under today and ``quiet_fade``: snapshots, links, cuts."""
    import cv2

    import crowds_shared as cs
    from facesel.data import data_root
    from facesel.select.linking import LinkRule
    from facesel.selector import default_detector, default_scorer
    from facesel.video import open_source

    cv2.setNumThreads(1)
    scorer = default_scorer()
    for path, _people in cs.videos(data_root()):
        if path.name not in names:
            continue
        frames = [f for f, _ in open_source(path, max_frames=frames_max)]
        min_face = 8.0 if path.name == "img" else 16.0
        for c in ("today", "quiet_fade"):
            rule = _rule(c)
            with mock.patch("facesel.track.SwitchRule", lambda: rule):
                out = cs.run_one(frames, cs.fps_of(path), default_detector(), scorer, LinkRule(), None, min_face)
            print(f"{path.name} {c}: snapshots {out['snapshots']} links {out['link_pairs']} cuts {out['cuts']}",
                  flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variant", default="fade")
    parser.add_argument("--candidate", default="quiet_fade", choices=("quiet_fade", "zoom_place"))
    parser.add_argument("--families", nargs="+", default=None)
    parser.add_argument("--kinds", nargs="+", default=["interview", "control"])
    parser.add_argument("--loso", action="store_true")
    parser.add_argument("--shared", nargs="+", default=None, help="shared video file names: today and quiet_fade")
    args = parser.parse_args()
    if args.shared:
        shared(args.shared)
        return 0
    rows = run(args.variant, args.candidate, args.families, tuple(args.kinds))
    loso(rows, args.candidate)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
