"""The fade decision under camera pans (experiments/fade_decision_registered.md; issue 23,
session 22, fade22): what a fade fire costs on panning material, and the registered motion-aware
fade decisions held out by family.

    nice -n 5 python experiments/fade_decision_loso.py signals [--only pans edge splices]
    nice -n 5 python experiments/fade_decision_loso.py fires [--only pans edge splices]
    nice -n 5 python experiments/fade_decision_loso.py changes [--only pans edge splices]
    nice -n 5 python experiments/fade_decision_loso.py switches
    python experiments/fade_decision_loso.py loso

Material, made in memory as each evaluation makes it (nothing written but numbers):
``edge`` and ``splices`` are those of ``experiments/cut_signals.py`` (the edge-return pans, the
75 cut / cross-fade / gap splices of ``facesel eval switches`` and their clips alone); ``pans`` is a
TV-like pan over every single-person clip of :func:`facesel.eval.crowds.families`: a window of 60 %
of the (4:3) frame's width and height, placed so the face stays inside it, held 20 frames, panned
across the room it has in ``PAN_FRAMES`` frames (eased), held, panned back, held; one person
throughout, so every split of a track there is a genuine track split.

``signals``: at each frame where today's fade cue fires, the numbers each candidate reads.
``fires``: every candidate's fires (cut and fade frames) per run, in ``/tmp/fade22-fires.pkl``.
``changes``: every run whose fires differ from ``today``'s under some candidate (and, for the cost
of the cue itself, ``nofade``: the fade cue off) through the default Selector (Laplacian scorer,
``keep_static``): snapshots, wrong joins (a snapshot with two owners' frames), and the tracker's
fade splits; in ``/tmp/fade22-changes.pkl``. A run whose fires equal today's gives today's output.
``switches``: the splices judged as ``facesel eval switches`` judges them (tracker level) under
today, ``nofade`` and each candidate: the switches the fade cue catches.
``loso``: the registered choice, leaving one family out, and the adoption checks.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path
from unittest import mock

import cv2
import numpy as np

CANDIDATES = {
    "today": {},
    "reach6": {"fade_reach": 6},
    "reach9": {"fade_reach": 9},
    "steps": {"fade_steps": True},
    "spread": {"fade_spread": 0.65},
}
"""The registered candidates: changes to the shipped :class:`SwitchRule` (``today`` the shipped)."""
MEASURE_ONLY = {"nofade": {"fade": 0.0}}
"""Not a candidate: the fade cue off, to measure what today's fade fires cost and catch."""
FIRES = Path("/tmp/fade22-fires.pkl")
CHANGES = Path("/tmp/fade22-changes.pkl")
PAN_FRAMES = (12, 30)
"""Frames a TV-like pan takes to cross the window's room (fast: ~3 cells of 48 a frame at the
widest room; slow)."""
WINDOW = 0.6
"""The pan window's side as a fraction of the clip's (4:3) frame."""


def rule_of(name: str):
    from facesel.track_cues.rule import SwitchRule

    return SwitchRule(**{**CANDIDATES, **MEASURE_ONLY}[name])


def _ease(k: int, count: int) -> float:
    return 0.5 - 0.5 * np.cos(np.pi * k / max(1, count - 1))


def pan_clip(frames: list, box: np.ndarray, pan: int, hold: int = 20, out_width: int = 480) -> list | None:
    """A TV-like pan over ``frames`` ((H, W, 3) uint8, one size) whose face is ``box`` (x1, y1, x2, y2)
    on the first: the window (``WINDOW`` of the frame) keeps the face inside with a tenth of the
    window to spare and pans from its leftmost to its rightmost such place and back; None when
    that room is under a fifth of the window (nothing to pan). Frames resized to ``out_width``."""
    h, w = frames[0].shape[:2]
    ww, wh = int(w * WINDOW), int(h * WINDOW)
    margin = 0.1 * ww
    lo = max(0.0, box[2] + margin - ww)
    hi = min(float(w - ww), box[0] - margin)
    if hi - lo < 0.2 * ww:
        return None
    top = int(np.clip((box[1] + box[3]) / 2 - wh / 2, 0, h - wh))
    xs = [lo] * hold + [lo + (hi - lo) * _ease(k + 1, pan) for k in range(pan)] + [hi] * hold
    xs += [hi + (lo - hi) * _ease(k + 1, pan) for k in range(pan)] + [lo] * hold
    out_h = out_width * wh // ww
    clip = []
    for t, x in enumerate(xs):
        frame = frames[t % len(frames)]
        # sub-pixel positions as a camera gives them: an affine crop (bilinear)
        m = np.float32([[out_width / ww, 0, -x * out_width / ww], [0, out_h / wh, -top * out_h / wh]])
        clip.append(cv2.warpAffine(frame, m, (out_width, out_h), flags=cv2.INTER_AREA))
    return clip


def pan_material(root):
    from facesel.detect import make_detector
    from facesel.eval import crowds
    from facesel.eval import edge_return as er

    detector = make_detector(max_side=1280)
    for family, paths in crowds.families(root).items():
        for p in paths:
            found = er.first_face(detector, crowds.read_tile(p, 3 * 20 + 2 * max(PAN_FRAMES) + 20, skip=10))
            if found is None:
                continue
            for pan in PAN_FRAMES:
                clip = pan_clip(found[0], found[1], pan)
                if clip is not None:
                    yield "pans", family, f"pan{pan} {p.name}", clip, []


def material(name: str, root):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import cut_signals

    if name == "pans":
        return pan_material(root)
    return cut_signals.MATERIAL[name](root)


def signals(frames) -> list[dict]:
    """At each frame today's fade cue fires: the span difference and what each candidate reads."""
    from facesel.track_cues.scene import SceneChange, moved_change, moved_difference

    scene = SceneChange(rule_of("today"))
    out = []
    for k, frame in enumerate(frames):
        kind, value = scene.update(frame)
        if kind == "fade":
            thumbs = list(scene._thumbs)
            m3, s3 = moved_change(thumbs[-1], thumbs[0], 3)
            m9, s9 = moved_change(thumbs[-1], thumbs[0], 9)
            steps = sum(moved_difference(b, a) for a, b in zip(thumbs, thumbs[1:]))
            out.append({"frame": k, "span": value, "m3": m3, "spread3": s3, "m9": m9, "spread9": s9, "steps": steps})
    return out


def run_signals(only) -> None:
    from facesel.data import data_root

    for m in only:
        for _, family, name, frames, cuts in material(m, data_root()):
            for s in signals(frames):
                print(f"{m} {family} {name[:60]} truth {cuts}: " + " ".join(
                    f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in s.items()), flush=True)


def fires_of(frames, rule) -> list[tuple[int, str]]:
    from facesel.track_cues.scene import SceneChange

    scene = SceneChange(rule)
    return [(k, kind) for k, frame in enumerate(frames) for kind in [scene.update(frame)[0]] if kind]


def run_fires(only) -> None:
    from facesel.data import data_root

    store = pickle.loads(FIRES.read_bytes()) if FIRES.exists() else {}
    names = list(CANDIDATES) + list(MEASURE_ONLY)
    rules = {c: rule_of(c) for c in names}
    for m in only:
        rows = store[m] = []
        for _, family, name, frames, cuts in material(m, data_root()):
            fires = {c: fires_of(frames, r) for c, r in rules.items()}
            rows.append({"family": family, "name": name, "cuts": cuts, "fires": fires})
            differ = {c: f for c, f in fires.items() if f != fires["today"] and c in CANDIDATES}
            if differ:
                print(f"{m} {family} {name[:70]}: truth {cuts} today {fires['today']}; " +
                      "; ".join(f"{c} {f}" for c, f in differ.items()), flush=True)
        FIRES.write_bytes(pickle.dumps(store))
        print(f"== {m}: {len(rows)} runs; with a fade today "
              f"{sum(any(k == 'fade' for _, k in r['fires']['today']) for r in rows)}; differ from today: "
              f"{ {c: sum(r['fires'][c] != r['fires']['today'] for r in rows) for c in names} }", flush=True)


def run_pipeline(frames, owner, detector, scorer, candidate: str) -> dict:
    """Snapshots per owner, wrong joins and the tracker's fade / cut splits of the default Selector
    (``keep_static``) over ``frames`` under ``candidate``."""
    from facesel import Selector

    with mock.patch("facesel.track.SwitchRule", lambda: rule_of(candidate)):
        selector = Selector(detector, scorer, threads=1, fps=25.0, keep_static=True)
        results = []
        for frame in frames:
            results += selector.feed(frame).closed
        results += selector.flush()
        counts = dict(selector._track.counts)
    owners = [sorted({int(owner[int(f)]) for f in r.frame_indices}) for r in results]
    return {"snapshots": len(results), "wrong": sum(len(o) > 1 for o in owners),
            "per_owner": {o: sum(x == [o] for x in owners) for o in sorted(set(owner))},
            "fade_splits": counts["fade"], "cut_splits": counts["cut"]}


def run_changes(only) -> None:
    from facesel.data import data_root
    from facesel.detect import make_detector
    from facesel.scoring import LaplacianVarianceScorer

    store = pickle.loads(FIRES.read_bytes())
    out = pickle.loads(CHANGES.read_bytes()) if CHANGES.exists() else {}
    detector, scorer = make_detector(max_side=1280), LaplacianVarianceScorer()
    for m in only:
        todo = {(r["family"], r["name"]): [c for c in list(CANDIDATES) + list(MEASURE_ONLY)
                                           if c != "today" and r["fires"][c] != r["fires"]["today"]]
                for r in store[m]}
        rows = out[m] = []
        for _, family, name, frames, cuts in material(m, data_root()):
            names = todo.get((family, name), [])
            if not names and m != "pans":  # every pan is run under today: what a pan costs today
                continue
            owner = [0] * len(frames)
            for k in range(cuts[0] if cuts else len(frames), len(frames)):
                owner[k] = 1  # the edge material's next person, a splice's second clip
            res = {c: run_pipeline(frames, owner, detector, scorer, c) for c in ["today"] + names}
            rows.append({"family": family, "name": name, "cuts": cuts, "results": res})
            print(f"{m} {family} {name[:60]}: " + "; ".join(
                f"{c} {r['snapshots']} snap {r['per_owner']} wrong {r['wrong']} fade splits {r['fade_splits']}"
                for c, r in res.items()), flush=True)
            CHANGES.write_bytes(pickle.dumps(out))


def run_switches() -> None:
    """``facesel eval switches``' splices (tracker level, 40 frames a side, 5-frame transitions)
    judged under today's rule, with the fade cue off, and under each candidate: which switches the
    fade cue catches, and whether a candidate loses one."""
    from facesel.config import PipelineConfig
    from facesel.data import data_root
    from facesel.eval import switches as sw
    from facesel.selector import default_detector

    config = PipelineConfig(mode="exhaustive")
    detector = default_detector(config)
    sources = sw.load_sources(data_root(), detector, 40, 5)
    names = list(CANDIDATES) + list(MEASURE_ONLY)
    grid = sw.run_splices_grid(sources, detector, config, [rule_of(c) for c in names], 40, 5)
    for kind in ("cut", "fade", "gap"):
        for c, rows in zip(names, grid):
            mine = [r for r in rows if r.kind == kind]
            made = [r for r in mine if r.made]
            print(f"{kind} {c}: made {len(made)} caught {sum(r.caught for r in made)}; genuine split "
                  f"{sum(r.split for r in mine)} / {sum(r.genuine for r in mine)}; not caught: "
                  f"{[f'{r.a}->{r.b}' for r in made if not r.caught]}", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", choices=("signals", "fires", "changes", "switches", "loso"))
    parser.add_argument("--only", nargs="+", default=["pans", "edge", "splices"], choices=["pans", "edge", "splices"])
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    if args.stage == "signals":
        run_signals(args.only)
    elif args.stage == "fires":
        run_fires(args.only)
    elif args.stage == "changes":
        run_changes(args.only)
    elif args.stage == "switches":
        run_switches()
    else:
        import fade_decision_report

        fade_decision_report.report(pickle.loads(FIRES.read_bytes()), pickle.loads(CHANGES.read_bytes()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
