"""The edge-return long link (``LinkRule.edge_colour_distance``), measured and chosen
leave-one-source-out (docs/persons.md, "Leaving by the frame's edge and coming back").

    python experiments/edge_return_loso.py --cache /tmp/edge23/material.pkl [--record] [--json PATH]
        [--guards /tmp/relink23/material.pkl]

Material (:mod:`facesel.eval.edge_return`, made in memory, never written; the cache holds only
track summaries and counts): every single-person clip of :func:`facesel.eval.crowds.families`
(signers, LivePortrait, video-retalking, other) under a virtual camera that pans until the face
has left the frame by its left or right edge, stays off it for ``GAPS`` frames at 25 fps, and pans
back: onto the same person (**return**: one person, the fragments should join) or onto the next
clip of the same family (**next**: another person entering by the same edge, a doorway: must never
join). Each is recorded once through the default Selector (Laplacian scorer, ``keep_static``) and
replayed through the default finaliser with every candidate rule of the grid
(:mod:`facesel.eval.crowds_replay`), and once with re-linking off for the fragments themselves.

Figures per run: snapshots of each person (1 is right) and **wrong joins** (delivered results
whose frames hold both people). Per held-out family the candidate with the fewest wrong joins on
the other families, then the fewest snapshots, then the nearest to the default, is chosen; its
figures on the held-out family are printed. ``--guards``: the cached pause / next-person-after-a-
pause / splice material of ``experiments/relink_lone_loso.py`` (frame sizes restored from the run
names), every candidate asked of every pair of fragments the default refuses (pair level: made
rightly, made wrongly). ``link_explain.explain_long`` gives, for the default, the gates that
refused each return's long link.
"""

from __future__ import annotations

import argparse
import itertools
import json
import pickle
from pathlib import Path

import cv2
import numpy as np

GAPS = (5, 20, 45)
GRID = {"edge_colour_distance": (None, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4), "edge_region": ("both", "face"), "edge_margin": (0.05, 0.15)}
DEFAULT = {"edge_colour_distance": None, "edge_region": "both", "edge_margin": 0.05}
FPS = 25.0


def candidates() -> list[dict]:
    grid = [dict(zip(GRID, v)) for v in itertools.product(*GRID.values())]
    return [g for g in grid if g["edge_colour_distance"] is not None or g == DEFAULT]


def _key(settings: dict) -> str:
    return json.dumps(settings, sort_keys=True)


def _owner_of(owner):
    def of(indices, evidence):
        votes = owner[np.asarray(indices, np.int64)]
        return int(np.round(np.mean(votes))) if len(votes) else -1
    return of


RECORD_SETTINGS: dict = {}
"""PipelineConfig changes the material is recorded with (``motion_gap_loso.py --set bridge``)."""


def run_material(frames, owner, detector, scorer, rules: dict) -> dict:
    """One clip: fragments (evidence, owner) with re-linking off, the default's explain_long of
    every pair of consecutive fragments more than 1 s apart, and per rule (a LinkRule, or a
    (LinkRule, Finaliser settings) pair) the snapshots of each person and the wrong joins."""
    from facesel.eval.crowds_replay import record, replay
    from facesel.select.finalise import Finaliser
    from facesel.select.link_explain import explain_long
    from facesel.select.linking import LinkRule

    recording = record(frames, detector, scorer, FPS, None, keep_static=True, **RECORD_SETTINGS)
    off = Finaliser.for_scorer(scorer, link=None)
    frags, judge = [], off._judge

    def keep(held):
        frags.append((held.evidence, _owner_of(owner)(held.result.frame_indices, held.evidence)))
        return judge(held)
    off._judge = keep
    replay(recording, off)
    frags.sort(key=lambda f: f[0].first_time)
    explained = []
    evidence = [e for e, _ in frags]
    for (a, pa), (b, pb) in itertools.pairwise(frags):
        if b.first_time - a.last_time > LinkRule().max_gap_seconds:
            explained.append((pa, pb, explain_long(LinkRule(), a, b, evidence)))
    out = {"fragments": frags, "explained": explained, "rules": {}}
    for key, rule in rules.items():
        rule, extra = rule if isinstance(rule, tuple) else (rule, {})  # (LinkRule, Finaliser settings)
        delivered = replay(recording, Finaliser.for_scorer(scorer, link=rule, **extra))
        people = [set(owner[np.asarray(r.frame_indices, np.int64)].tolist()) for r in delivered]
        shown = {int(owner[int(r.best.frame_index)]) for r in delivered}  # whose face each best crop shows
        present = {int(k) for k in np.unique(owner) if k >= 0}
        out["rules"][key] = {"snapshots": [sum(1 for p in people if k in p) for k in (0, 1)],
                             "wrong": sum(1 for p in people if len(p) > 1), "delivered": len(delivered),
                             "without": len(present - shown)}
    return out


def record_material(root: Path, detector, scorer, rules: dict, cache: Path, only=None, limit=None) -> dict:
    from facesel.eval import crowds
    from facesel.eval import edge_return as er

    material: dict = {}
    total = 2 * er.HOLD + 2 * er.PAN + max(GAPS)
    for family, paths in crowds.families(root).items():
        if only and family not in only:
            continue
        clips = {}
        for p in paths[:limit]:
            found = er.first_face(detector, [cv2.resize(f, (640, 480)) for f in crowds.read_tile(p, total + 20, skip=10)])
            if found is not None:
                clips[p.name] = found
        names = list(clips)
        rows = material.setdefault(family, [])
        for k, a in enumerate(names):
            b = names[(k + 1) % len(names)] if len(names) > 1 else None
            for edge in er.EDGES:
                for gap in GAPS:
                    for kind in ("return", "next"):
                        if kind == "next" and b is None:
                            continue
                        second = (None, None) if kind == "return" else clips[b]
                        clip = er.edge_clip(clips[a][0], clips[a][1], edge, gap, second[0], second[1])
                        name = f"{kind} {edge} gap{gap}:{a}" + ("" if kind == "return" else f"->{b}")
                        rows.append((name, run_material(clip.frames, clip.owner, detector, scorer, rules)))
            print(f"{family} {a}: {len(rows)} runs", flush=True)
            cache.write_bytes(pickle.dumps(material))
    return material


def totals(rows, key: str) -> dict:
    """Summed figures of one rule over runs."""
    ret = [r for n, r in rows if n.startswith("return")]
    nxt = [r for n, r in rows if n.startswith("next")]
    return {"returns": len(ret), "return_snapshots": sum(r["rules"][key]["snapshots"][0] for r in ret),
            "returns_one": sum(r["rules"][key]["snapshots"][0] == 1 for r in ret),
            "nexts": len(nxt), "next_joined": sum(r["rules"][key]["wrong"] > 0 for r in nxt),
            "wrong": sum(r["rules"][key]["wrong"] for _, r in rows),
            # people no best crop shows (hedged links, session 17; absent from older caches)
            "return_without": sum(r["rules"][key].get("without", 0) for r in ret),
            "next_without": sum(r["rules"][key].get("without", 0) for r in nxt)}


def edge_colours(material, short: bool = False) -> dict:
    """Per family ([one person's colour distances], [two people's]) of the consecutive fragments
    1-3 s apart (``short``: 0.5-1 s, the short link's) that left and came back by one edge within
    the size and place gates along it (``edge_margin`` 0.15)."""
    from facesel.select.link_explain import explain_long
    from facesel.select.linking import LinkRule

    rule, out = LinkRule(edge_margin=0.15), {}
    for family, rows in material.items():
        one, two = out.setdefault(family, ([], []))
        for _, r in rows:
            frags = r["fragments"]
            evidence = [e for e, _ in frags]
            for (a, pa), (b, pb) in itertools.pairwise(frags):
                lo, hi = (0.5, rule.max_gap_seconds) if short else (rule.max_gap_seconds, rule.long_gap_seconds)
                if not lo < b.first_time - a.last_time <= hi:
                    continue
                edge = explain_long(rule, a, b, evidence)["edge"]
                fits = any(v["size"] <= rule.max_size_ratio and v["along"] <= rule.still_distance for v in edge["shared"].values())
                if fits and edge["colour"] is not None:
                    (one if pa == pb else two).append(round(edge["colour"], 2))
    return out


def _frame_shape(source: str, name: str) -> tuple[int, int] | None:
    """The frame size of a run of relink_lone_loso's material, from how it was made."""
    small = name.startswith("small ")
    if source == "crowds":
        return None  # tiles inside one frame: a tile's border is not the frame's edge
    if source == "videos":
        return {"selfie_motion_blur_portrait.mp4": (1920, 1080), "otb_girl": (96, 128)}.get(name.split(":")[0])
    if "splice" in name and source == "talking_heads":
        h, w = 480, 480
    else:
        h, w = 480, 640
    return (round(h * 0.2), round(w * 0.2)) if small else (h, w)


def guards(path: Path, keys: list[str]) -> dict:
    """Pair-level counts of every candidate on relink_lone_loso's cached material."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from facesel.select.linking import LinkRule
    from relink_lone_loso import count_links

    material = pickle.loads(path.read_bytes())
    for source, runs in material.items():
        for name, frags in runs:
            shape = _frame_shape(source, name)
            for e, _ in frags:
                e.frame_shape = shape
    base = LinkRule()
    out = {}
    for key in keys:
        rule = LinkRule(**json.loads(key))
        out[key] = {source: count_links(rule, base, runs) for source, runs in material.items()}
    return out


def main(argv=None) -> int:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from loso_choice import choose_held_out

    from facesel.data import data_root
    from facesel.detect import make_detector
    from facesel.scoring import LaplacianVarianceScorer
    from facesel.select.linking import LinkRule

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, required=True, help="summaries and counts (no pixels) kept between runs")
    parser.add_argument("--record", action="store_true", help="record the material even if the cache exists")
    parser.add_argument("--guards", type=Path, default=None, help="relink_lone_loso.py's cached material")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--families", nargs="*", default=None, help="record only these families (a quick look)")
    parser.add_argument("--limit", type=int, default=None, help="record only the first N clips of each family")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    grid = candidates()
    rules = {_key(g): LinkRule(**g) for g in grid}
    if args.cache.is_file() and not args.record:
        material = pickle.loads(args.cache.read_bytes())
    else:
        args.cache.parent.mkdir(parents=True, exist_ok=True)
        material = record_material(data_root(), make_detector(max_side=1280), LaplacianVarianceScorer(), rules, args.cache,
                                   args.families, args.limit)
        args.cache.write_bytes(pickle.dumps(material))
    default = _key(DEFAULT)
    print("\nthe default, per family: which long-link gate refused each return (consecutive fragments > 1 s apart)")
    for family, rows in material.items():
        refused: dict = {}
        colours = []
        for name, r in rows:
            for pa, pb, why in r["explained"]:
                if pa == pb and name.startswith("return"):
                    refused[" + ".join(why["refused"]) or "none"] = refused.get(" + ".join(why["refused"]) or "none", 0) + 1
                    if why["colour"] is not None:
                        colours.append(round(why["colour"], 2))
                if pa != pb and name.startswith("next") and why["colour"] is not None:
                    colours.append(f"next {why['colour']:.2f}")
        print(f"  {family}: {refused}; colours {colours}")
    print("\nthe edge cue's colours (face and band, end observations) of consecutive fragments 1-3 s apart that")
    print("left and came back by one edge within the size and place gates along it (edge_margin 0.15)")
    for family, (one, two) in edge_colours(material).items():
        print(f"  {family}: one person {len(one)} pairs {min(one, default=None)}-{max(one, default=None)}, "
              f"median {np.median(one) if one else None}; two people {len(two)} pairs, from {min(two, default=None)}")
    print("the same for fragments 0.5-1 s apart (the short link's, colour limit 0.5; the 5-frame gap)")
    for family, (one, two) in edge_colours(material, short=True).items():
        print(f"  {family}: one person {sorted(one)}; two people {sorted(two)}")
    table = {key: {family: totals(rows, key) for family, rows in material.items()} for key in rules}
    print("\nevery candidate, per family: return snapshots / returns (returns in one snapshot), next persons joined / nexts, wrong joins")
    for key, row in table.items():
        print(key, {f: f"{t['return_snapshots']}/{t['returns']} ({t['returns_one']}), {t['next_joined']}/{t['nexts']}, {t['wrong']}" for f, t in row.items()})

    held = {}
    print("\nleave-one-family-out: chosen on the other families (fewest wrong joins, then fewest snapshots, then nearest the default)")
    for out in material:
        best = choose_held_out(table, out, lambda rows: (sum(r["wrong"] for r in rows),
                                                         sum(r["return_snapshots"] for r in rows)), GRID, DEFAULT)
        t, d = table[best][out], table[default][out]
        held[out] = {"chosen": json.loads(best), "held_out": t, "default": d}
        print(f"  held out {out:12s}: chose {best}: return snapshots {t['return_snapshots']}/{t['returns']} "
              f"(default {d['return_snapshots']}), next joined {t['next_joined']}/{t['nexts']} (default {d['next_joined']}), "
              f"wrong joins {t['wrong']} (default {d['wrong']})")
    guard = None
    if args.guards is not None:
        guard = guards(args.guards, list(rules))
        print("\nguards (relink_lone_loso material, pairs the default refuses): made rightly / one person's pairs, made wrongly")
        for key, row in guard.items():
            print(key, {s: f"{v[0]}/{v[2]}, {v[1]}" for s, v in row.items()}, sorted({n for v in row.values() for n in v[3]}))
    if args.json is not None:
        args.json.write_text(json.dumps({"table": table, "held_out": held, "guards": guard}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
