"""The shot-return link on intercut material, chosen leave-one-family-out (issue 23, session 20).

    python experiments/intercut_shot_return_loso.py [--cache DIR]

Material: :mod:`facesel.eval.intercut` (made in memory): per family (signers, LivePortrait,
video-retalking, other) interviews A1 | B1 | A2 | B2 | A3 | B3 (hard cuts, 2 s shots at 25 fps,
A2 continuing A's own clip) and controls A1 | B1 | C1 (C another person of the family; for the
signers, another person in the same office and framing). The default Selector, the Laplacian
scorer (the pick is not measured), one run per setting and piece of material.

**Pre-registered** (written and committed before any candidate was run; only the default, the
link off, had been seen: 2.5-3 snapshots per interview person, 2 wrong joins on the signers'
controls and 2 on LivePortrait's, made by the default's cut cue not splitting two people whose
colours at the cut are alike):

- candidates: :class:`facesel.select.shot_return.ShotReturnRule` with ``thumb_distance`` in
  {6, 10, 15}, ``max_distance`` in {0.5, 1.0}, ``colour_distance`` in {0.3, 0.5}; every other
  field at its default (size ratio 1.5, 10 s, 0.2 s, 0.5 s, 8 cuts, 8 observations): 12
  candidates, and ``off`` (None).
- choice, for each held-out family in turn, on the other three families' interviews and
  controls together: among the candidates whose wrong joins (interviews + controls) are no more
  than ``off``'s, the one with the fewest interview snapshots; ties to the smallest
  ``thumb_distance``, then ``colour_distance``, then ``max_distance`` (the strictest); ``off``
  when none has fewer interview snapshots than ``off``.
- reported: the held-out family's interview snapshots per person and wrong joins (interviews,
  controls) at its fold's choice, summed over the four folds, against ``off``.
- adoption as the default: only if the held-out sum has fewer interview snapshots **and** no
  fold adds a wrong join on its held-out family, **and** the existing material is unchanged
  (the splices end to end, ``experiments/switches_end_to_end.py``; the shared videos'
  snapshots, ``experiments/crowds_shared.py``); otherwise it stays a setting, off.

Each setting's per-run figures are cached as JSON in ``--cache`` (default /tmp/intercut-loso).
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

THUMBS = (6.0, 10.0, 15.0)
DISTANCES = (0.5, 1.0)
COLOURS = (0.3, 0.5)


def candidates() -> dict:
    """name -> ShotReturnRule or None (``off``), in tie-break order (strictest first)."""
    from facesel.select.shot_return import ShotReturnRule

    out = {"off": None}
    for thumb, colour, distance in itertools.product(THUMBS, COLOURS, DISTANCES):
        out[f"t{thumb:g}_c{colour:g}_d{distance:g}"] = ShotReturnRule(
            thumb_distance=thumb, max_distance=distance, colour_distance=colour)
    return out


def run_all(cache: Path) -> dict:
    """name -> list of per-run dicts (family, kind, snapshots, persons, wrong_joins)."""
    import cv2

    from facesel.config import PipelineConfig
    from facesel.data import data_root
    from facesel.eval import intercut
    from facesel.selector import default_detector

    cv2.setNumThreads(1)
    cache.mkdir(parents=True, exist_ok=True)
    detector = default_detector(PipelineConfig())
    out = {}
    for name, rule in candidates().items():
        path = cache / f"{name}.json"
        if not path.is_file():
            rows = intercut.evaluate(data_root(), detector=detector, shot_return=rule, cut_veto=False,
                                     log=lambda line, name=name: print(name, line, flush=True))
            path.write_text(json.dumps([{"family": r.family, "kind": r.kind, "snapshots": r.snapshots,
                                         "persons": r.persons, "wrong_joins": r.wrong_joins,
                                         "shot_returns": r.extra["shot_returns"]} for r in rows]))
        out[name] = json.loads(path.read_text())
    return out


def totals(rows: list, families: set) -> dict:
    """Interview snapshots and persons, wrong joins (interviews, controls) over ``families``."""
    t = {"snapshots": 0, "persons": 0, "wrong_interview": 0, "wrong_control": 0, "control_snapshots": 0,
         "control_persons": 0}
    for r in rows:
        if r["family"] not in families:
            continue
        if r["kind"] == "interview":
            t["snapshots"] += r["snapshots"]
            t["persons"] += r["persons"]
            t["wrong_interview"] += r["wrong_joins"]
        else:
            t["control_snapshots"] += r["snapshots"]
            t["control_persons"] += r["persons"]
            t["wrong_control"] += r["wrong_joins"]
    return t


def choose(runs: dict, families: set) -> str:
    """The pre-registered choice on ``families`` (module docstring)."""
    off = totals(runs["off"], families)
    off_wrong = off["wrong_interview"] + off["wrong_control"]
    best, best_snapshots = "off", off["snapshots"]
    for name in runs:  # in tie-break order: a later candidate must do strictly better
        if name == "off":
            continue
        t = totals(runs[name], families)
        if t["wrong_interview"] + t["wrong_control"] <= off_wrong and t["snapshots"] < best_snapshots:
            best, best_snapshots = name, t["snapshots"]
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/intercut-loso"))
    args = parser.parse_args()
    runs = run_all(args.cache)
    families = sorted({r["family"] for r in runs["off"]})
    held = {"off": {"snapshots": 0, "persons": 0, "wrong": 0}, "chosen": {"snapshots": 0, "persons": 0, "wrong": 0}}
    for family in families:
        chosen = choose(runs, set(families) - {family})
        t_off, t_chosen = totals(runs["off"], {family}), totals(runs[chosen], {family})
        print(f"held out {family:12s}: chosen {chosen:18s} interview snapshots {t_off['snapshots']} -> "
              f"{t_chosen['snapshots']} for {t_chosen['persons']} persons ({t_off['snapshots'] / t_off['persons']:.2f} -> "
              f"{t_chosen['snapshots'] / t_chosen['persons']:.2f}); wrong joins interviews {t_off['wrong_interview']} -> "
              f"{t_chosen['wrong_interview']}, controls {t_off['wrong_control']} -> {t_chosen['wrong_control']} "
              f"(control snapshots {t_off['control_snapshots']} -> {t_chosen['control_snapshots']} "
              f"for {t_chosen['control_persons']} persons)")
        for key, t in (("off", t_off), ("chosen", t_chosen)):
            held[key]["snapshots"] += t["snapshots"]
            held[key]["persons"] += t["persons"]
            held[key]["wrong"] += t["wrong_interview"] + t["wrong_control"]
    for key, t in held.items():
        print(f"held out, all folds, {key:6s}: interview snapshots {t['snapshots']} for {t['persons']} persons "
              f"({t['snapshots'] / max(1, t['persons']):.2f}), wrong joins {t['wrong']}")
    print("in sample (every family), per candidate:")
    for name, rows in runs.items():
        t = totals(rows, set(families))
        print(f"  {name:18s} interviews {t['snapshots']}/{t['persons']} wrong {t['wrong_interview']}; controls "
              f"{t['control_snapshots']}/{t['control_persons']} wrong {t['wrong_control']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
