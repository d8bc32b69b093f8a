"""The cut decision's registered candidates (experiments/cut_decision_registered.md; issue 23,
session 22): where each fires against the shipped rule, and the intercut leave-one-family-out.

    nice -n 5 python experiments/cut_decision_loso.py fires [--only intercut shared ...]
    nice -n 5 python experiments/cut_decision_loso.py intercut
    nice -n 5 python experiments/cut_decision_loso.py changes --only edge blanked [--candidates cut12 spread]

``fires``: every candidate's :class:`facesel.track_cues.scene.SceneChange` over every material of
``experiments/cut_signals.py`` (the frames made in memory as each evaluation makes them); per run
the frames where a cut or a fade fires, kept in ``/tmp/cut22-fires.pkl`` (numbers only), and each
run whose fires differ from ``today``'s printed. A run with the same fires gives the same pipeline
output (the cue's decision is all a candidate changes).
``intercut``: the intercut interviews and controls whose fires differ under some candidate, run
through the default pipeline (:func:`facesel.eval.intercut.run_intercut`) under ``today`` and under
each candidate that changes them; then the leave-one-family-out choice of the registered rule, with
the shipped per-family totals (docs/persons.md, session 21's table) as ``today``'s.
``changes``: the same for other material (the default Selector with ``keep_static``, a snapshot
holding two owners' frames a wrong join; the owner switches at the edge material's next person and at a splice's second clip).
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path
from unittest import mock

import cv2

CANDIDATES = {
    "today": {},
    "cut12": {"cut": 12.0},
    "spread": {"cut_spread": 0.65},
    "cut12_spread": {"cut": 12.0, "cut_spread": 0.65},
    "cut10_spread": {"cut": 10.0, "cut_spread": 0.65},
    "cut12_spread_colour": {"cut": 12.0, "cut_spread": 0.65, "cut_colours": 0.09},
}
"""The registered candidates: changes to the shipped :class:`SwitchRule` (``today`` the shipped)."""

FIRES = Path("/tmp/cut22-fires.pkl")

# Session 21's intercut totals under the shipped pipeline (docs/persons.md, "Across a cut to
# another shot", by family): (interview snapshots, controls' snapshots, wrong joins interviews + controls)
SHIPPED = {"signers": (12, 15, 0), "liveportrait": (17, 22, 3), "retalking": (7, 9, 1), "other": (11, 9, 0)}


def rule_of(name: str):
    """The candidate's rule, with the fade decision these figures were measured under (the
    3-cell shift search; the default is 9 since fade22: docs/persons.md "Camera pans and the fade cue")."""
    from facesel.track_cues.rule import SwitchRule

    return SwitchRule(**{"fade_reach": 3, **CANDIDATES[name]})


def fires_of(frames, rule) -> list[tuple[int, str]]:
    """(frame, "cut" | "fade") wherever ``rule``'s scene-change cue fires over ``frames``."""
    from facesel.track_cues.scene import SceneChange

    scene = SceneChange(rule)
    out = []
    for k, frame in enumerate(frames):
        kind, _ = scene.update(frame)
        if kind:
            out.append((k, kind))
    return out


def run_fires(only) -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import cut_signals

    from facesel.data import data_root

    store = pickle.loads(FIRES.read_bytes()) if FIRES.exists() else {}
    rules = {name: rule_of(name) for name in CANDIDATES}
    for material in only:
        rows = store[material] = []
        for _, family, name, frames, cuts in cut_signals.MATERIAL[material](data_root()):
            fires = {c: fires_of(frames, rule) for c, rule in rules.items()}
            rows.append({"family": family, "name": name, "cuts": cuts, "fires": fires})
            differ = {c: f for c, f in fires.items() if f != fires["today"]}
            if differ:
                print(f"{material} {family} {name[:80]}: truth {cuts} today {fires['today']}", flush=True)
                for c, f in differ.items():
                    print(f"    {c}: {f}", flush=True)
        FIRES.write_bytes(pickle.dumps(store))
        changed = {c: sum(r["fires"][c] != r["fires"]["today"] for r in rows) for c in CANDIDATES}
        print(f"== {material}: {len(rows)} runs; runs whose fires differ from today's: {changed}", flush=True)
    return store


def run_intercut_changes() -> dict:
    """{family: {candidate: (delta interview snapshots, delta control snapshots, delta wrong joins)}}
    from the runs whose fires differ, each run under today and under the candidate."""
    from facesel.config import PipelineConfig
    from facesel.data import data_root
    from facesel.eval import intercut
    from facesel.scoring import LaplacianVarianceScorer
    from facesel.selector import default_detector

    store = pickle.loads(FIRES.read_bytes())
    changed = {(r["family"], r["name"]): [c for c in CANDIDATES if r["fires"][c] != r["fires"]["today"]]
               for r in store["intercut"]}
    detector, scorer = default_detector(PipelineConfig()), LaplacianVarianceScorer()
    deltas = {f: {c: [0, 0, 0] for c in CANDIDATES} for f in SHIPPED}
    for family, kind, names, frames, owner in intercut.material(data_root()):
        name = f"{kind} {' | '.join(names)}"
        todo = changed.get((family, name), [])
        if not todo:
            continue
        outs = {}
        for c in ["today"] + todo:
            with mock.patch("facesel.track.SwitchRule", lambda c=c: rule_of(c)):
                outs[c] = intercut.run_intercut(frames, owner, 25.0, detector, scorer)
            print(f"{family} {name[:70]} {c}: snapshots {outs[c]['snapshots']} per person "
                  f"{dict(sorted(outs[c]['per_person'].items()))} wrong joins {outs[c]['wrong_joins']}", flush=True)
        for c in todo:
            d = deltas[family][c]
            d[0 if kind == "interview" else 1] += outs[c]["snapshots"] - outs["today"]["snapshots"]
            d[2] += outs[c]["wrong_joins"] - outs["today"]["wrong_joins"]
    return deltas


def selector_under(frames, detector, scorer, rule) -> tuple[list, object]:
    """(every result, the Selector) of the default Selector (``keep_static``: people before a
    webcam sit still) over ``frames`` with its tracker's :class:`SwitchRule` replaced by ``rule``."""
    from facesel import Selector

    with mock.patch("facesel.track.SwitchRule", lambda: rule):
        selector = Selector(detector, scorer, threads=1, fps=25.0, keep_static=True)
        results = []
        for frame in frames:
            results += selector.feed(frame).closed
        results += selector.flush()
    return results, selector


def run_pipeline(frames, owner, detector, scorer, candidate: str) -> tuple[int, int]:
    """(snapshots, wrong joins: snapshots holding two owners' frames) of the default Selector
    (``keep_static``) over ``frames`` under ``candidate``."""
    results, _ = selector_under(frames, detector, scorer, rule_of(candidate))
    wrong = sum(len({int(owner[int(f)]) for f in r.frame_indices}) > 1 for r in results)
    return len(results), wrong


def run_material_changes(material: str, candidates: list[str]) -> None:
    """Every run of ``material`` whose fires differ under one of ``candidates``, through the
    pipeline under today and under each such candidate: snapshots and wrong joins, and totals."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import cut_signals

    from facesel.data import data_root
    from facesel.detect import make_detector
    from facesel.scoring import LaplacianVarianceScorer

    store = pickle.loads(FIRES.read_bytes())
    changed = {(r["family"], r["name"]): [c for c in candidates if r["fires"][c] != r["fires"]["today"]]
               for r in store[material]}
    detector, scorer = make_detector(max_side=1280), LaplacianVarianceScorer()
    totals = {c: [0, 0, 0, 0, 0] for c in candidates}  # runs, today's snapshots, wrong; candidate's
    for _, family, name, frames, cuts in cut_signals.MATERIAL[material](data_root()):
        todo = changed.get((family, name), [])
        if not todo:
            continue
        owner = [0] * len(frames)
        for k in range(cuts[0] if cuts and material in ("edge", "splices") else len(frames), len(frames)):
            owner[k] = 1  # the edge material's next person, a splice's second clip (a fade's blends: the first)
        base = run_pipeline(frames, owner, detector, scorer, "today")
        for c in todo:
            out = run_pipeline(frames, owner, detector, scorer, c)
            t = totals[c]
            t[0] += 1
            t[1] += base[0]
            t[2] += base[1]
            t[3] += out[0]
            t[4] += out[1]
            print(f"{material} {family} {name[:70]} {c}: snapshots {base[0]} -> {out[0]}, wrong joins {base[1]} -> {out[1]}",
                  flush=True)
    for c, t in totals.items():
        print(f"== {material} {c}: {t[0]} runs changed; snapshots {t[1]} -> {t[3]}, wrong joins {t[2]} -> {t[4]}")


def loso(deltas: dict) -> None:
    """The registered leave-one-family-out choice and its held-out figures."""
    totals = {f: {c: (SHIPPED[f][0] + d[0], SHIPPED[f][1] + d[1], SHIPPED[f][2] + d[2]) for c, d in row.items()}
              for f, row in deltas.items()}
    order = list(CANDIDATES)
    for f, row in totals.items():
        print(f"{f}: " + ", ".join(f"{c} {v[0]}+{v[1]} snapshots, {v[2]} wrong" for c, v in row.items()))

    def choose(families):
        return min(order, key=lambda c: (sum(totals[f][c][2] for f in families),
                                         sum(totals[f][c][0] + totals[f][c][1] for f in families), order.index(c)))

    held = {"wrong": 0, "snapshots": 0}
    for f in totals:
        pick = choose([g for g in totals if g != f])
        v = totals[f][pick]
        held["wrong"] += v[2]
        held["snapshots"] += v[0] + v[1]
        print(f"fold {f}: chosen {pick}; held out {v[0]}+{v[1]} snapshots, {v[2]} wrong joins "
              f"(today {totals[f]['today'][0]}+{totals[f]['today'][1]}, {totals[f]['today'][2]})")
    base = {"wrong": sum(t["today"][2] for t in totals.values()),
            "snapshots": sum(t["today"][0] + t["today"][1] for t in totals.values())}
    print(f"held out: {held} against today {base}; chosen on all four families: {choose(list(totals))}")


def main(argv=None) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import cut_signals

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", choices=("fires", "intercut", "changes"))
    parser.add_argument("--candidates", nargs="+", default=["cut12", "spread"], choices=list(CANDIDATES))
    parser.add_argument("--only", nargs="+", default=list(cut_signals.MATERIAL), choices=list(cut_signals.MATERIAL))
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    if args.stage == "fires":
        run_fires(args.only)
    elif args.stage == "changes":
        for material in args.only:
            run_material_changes(material, args.candidates)
    else:
        loso(run_intercut_changes())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
