"""The fade decision under camera pans (experiments/fade_decision_registered.md; issue 23,
session 22, fade22): what a fade fire costs on panning material, and the registered motion-aware
fade decisions held out by family.

    nice -n 5 python experiments/fade_decision_loso.py signals [--only pans edge splices]
    nice -n 5 python experiments/fade_decision_loso.py fires [--only pans edge splices]
    nice -n 5 python experiments/fade_decision_loso.py changes [--only pans edge splices] [--gaps 20] [--no-measure]
    nice -n 5 python experiments/fade_decision_loso.py switches
    python experiments/fade_decision_loso.py loso

Material, made in memory as each evaluation makes it (nothing written but numbers):
``edge`` and ``splices`` are those of ``experiments/cut_signals.py`` (the edge-return pans, the
75 cut / cross-fade / gap splices of ``facesel eval switches`` and their clips alone); ``pans`` is a
TV-like pan (:func:`facesel.eval.pans.pan_clip`) over every single-person clip of
:func:`facesel.eval.crowds.families`, in ``PAN_FRAMES`` frames each way; one person throughout,
so every split of a track there is a genuine track split.

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

import cv2

CANDIDATES = {
    "today": {"fade_reach": 3},
    "reach6": {"fade_reach": 6},
    "reach9": {"fade_reach": 9},
    "steps": {"fade_reach": 3, "fade_steps": True},
    "spread": {"fade_reach": 3, "fade_spread": 0.65},
}
"""The registered candidates: :class:`SwitchRule` fields, all else the shipped rule (``today``: the
decision shipped when they were registered, ``fade_reach`` 3; ``reach9`` is the default since)."""
MEASURE_ONLY = {"nofade": {"fade": 0.0, "fade_reach": 3}}
"""Not a candidate: the fade cue off, to measure what today's fade fires cost and catch."""
FIRES = Path("/tmp/fade22-fires.pkl")
CHANGES = Path("/tmp/fade22-changes.pkl")
PAN_FRAMES = (12, 30)
"""Frames a TV-like pan takes to cross the window's room (:func:`facesel.eval.pans.pan_clip`:
fast, slow)."""


def rule_of(name: str):
    from facesel.track_cues.rule import SwitchRule

    return SwitchRule(**{**CANDIDATES, **MEASURE_ONLY}[name])


def pan_material(root):
    from facesel.detect import make_detector
    from facesel.eval import crowds
    from facesel.eval import edge_return as er
    from facesel.eval.pans import pan_clip

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
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from cut_decision_loso import selector_under

    results, selector = selector_under(frames, detector, scorer, rule_of(candidate))
    counts = selector._track.counts
    owners = [sorted({int(owner[int(f)]) for f in r.frame_indices}) for r in results]
    return {"snapshots": len(results), "wrong": sum(len(o) > 1 for o in owners),
            "per_owner": {o: sum(x == [o] for x in owners) for o in sorted(set(owner))},
            "fade_splits": counts["fade"], "cut_splits": counts["cut"]}


def run_changes(only, gaps=None, measure=True) -> None:
    """``changes``; ``gaps``: only the edge runs of these gaps; ``measure``: also run ``nofade``.
    Runs already in the record are kept and not run again (a stopped run resumes)."""
    from facesel.data import data_root
    from facesel.detect import make_detector
    from facesel.scoring import LaplacianVarianceScorer

    store = pickle.loads(FIRES.read_bytes())
    out = pickle.loads(CHANGES.read_bytes()) if CHANGES.exists() else {}
    detector, scorer = make_detector(max_side=1280), LaplacianVarianceScorer()
    others = list(MEASURE_ONLY) if measure else []
    for m in only:
        todo = {(r["family"], r["name"]): [c for c in list(CANDIDATES) + others
                                           if c != "today" and r["fires"][c] != r["fires"]["today"]]
                for r in store[m]}
        rows = out.setdefault(m, [])
        done = {(r["family"], r["name"]) for r in rows}
        for _, family, name, frames, cuts in material(m, data_root()):
            names = todo.get((family, name), [])
            if (family, name) in done or (m == "edge" and gaps and not any(f" gap{g}:" in name for g in gaps)):
                continue
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
    parser.add_argument("--only", nargs="+", default=["pans", "edge", "splices"],
                        choices=["pans", "edge", "splices", "shared", "crowds", "intercut", "blanked"],
                        help="material (fires: also the 40 shared videos, crowds, intercut, blanked face)")
    parser.add_argument("--gaps", nargs="+", type=int, help="changes: only the edge runs of these gaps (5, 20, 45)")
    parser.add_argument("--no-measure", action="store_true", help="changes: leave out nofade (the cue off)")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    if args.stage == "signals":
        run_signals(args.only)
    elif args.stage == "fires":
        run_fires(args.only)
    elif args.stage == "changes":
        run_changes(args.only, args.gaps, not args.no_measure)
    elif args.stage == "switches":
        run_switches()
    else:
        import fade_decision_report

        fade_decision_report.report(pickle.loads(FIRES.read_bytes()), pickle.loads(CHANGES.read_bytes()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
