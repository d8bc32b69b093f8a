"""Long links (re-link over gaps longer than 1 s), chosen leave-one-source-out (docs/persons.md,
"Fragments over longer gaps").

    python experiments/relink_loso.py [--cache /tmp/relink_fragments.pkl] [--json PATH]

Material, made in memory from the shared data (never written; the cache holds only track summaries:
times, boxes, coarse colour histograms), by source:

- ``signers`` and ``talking_heads`` (the clips of :mod:`facesel.eval.switches`, 640 x 480): a
  **pause** of one person: a clip with its face covered grey on ``N`` frames (``N`` = 40 and 65 at
  25 fps: 1.6 s and 2.6 s, longer than the 1 s link gap), the same person before and after
  (fragments that should join); and the **next person after a pause** (a turnstile): a clip, then
  another person's clip at the same place whose first ``N`` frames are covered where its face is
  (:func:`facesel.eval.crowds.replacement`): fragments of two people that must never join;
- ``crowds``: the occluded tiled crowds of :mod:`facesel.eval.crowds` (one person per tile);
- ``videos``: the selfie (one person), OTB Girl (her fragments by the ground-truth box, IoU >= 0.3,
  and the man's), Intel head pose (one person).

Each is run once through the default Selector with re-linking off (the fragments as the tracker
and its cues leave them), with the Laplacian scorer (the pick is not what is measured). Then every
candidate rule of the grid (long gap 2 / 3 / 4 s, still distance 0.5 / 0.75 / 1.0 box sides, long
link colour distance 0.1 / 0.15 / 0.2 / 0.25 / 0.3 / 0.4, crowd radius 1 / 2 / 3 box sides) is asked of every pair of fragments more than 1 s apart (the long
links only: below 1 s the rule is unchanged): **good** links (one person's fragments, counted once
per pair of consecutive fragments of that person) and **wrong** links (two people's). For each
held-out source the rule with the fewest wrong links on the other sources, then the most good
ones, then the nearest to the default, is chosen; its figures on the held-out source are printed.
The end-to-end figures (with the finaliser's choices between candidates) are
``experiments/crowds_shared.py``, ``experiments/crowds_switches.py`` and ``--end-to-end`` here:
the pause material (``--pauses``, default 40 frames) through the default Selector with the rule
before long links, the colour sample before the occluded-crowds work (``ends``), the default
rule (a skipped short fragment absorbed: ``chain_through="place"``; the two before without it),
the default without that (``chain_off``), with ``chain_through="later"`` (``chain``) and with the
looser colour limit for a person alone (``lone``: ``lone_colour_distance=0.4``) and the edge return
(``edge``: ``edge_colour_distance=0.15``, ``edge30``: 0.3, both ``edge_margin=0.15``), in one run (each material recorded once and replayed per rule): snapshots of the paused person (1 is
right) and next-person pairs joined into one snapshot (0 is right).
"""

from __future__ import annotations

import argparse
import itertools
import json
import pickle
from pathlib import Path

import cv2
import numpy as np

PAUSES = (40, 65)
GRID = {"long_gap_seconds": (2.0, 3.0, 4.0), "still_distance": (0.5, 0.75, 1.0),
        "long_colour_distance": (0.1, 0.15, 0.2, 0.25, 0.3, 0.4), "crowd_radius": (1.0, 2.0, 3.0)}
DEFAULT = {"long_gap_seconds": 3.0, "still_distance": 0.75, "long_colour_distance": 0.15, "crowd_radius": 2.0}


def fragments(frames, detector, scorer, fps: float, owner_of, **settings) -> list[tuple]:
    """(evidence, owner) of every fragment the Selector closes with re-linking off; ``owner_of``
    maps a fragment's (frame indices, evidence) to a person label."""
    from facesel import Selector
    from facesel.config import PipelineConfig
    from facesel.select.faceness import FacenessRule
    from facesel.select.finalise import DOSE_FACE_FLOOR, Finaliser

    config = PipelineConfig(**settings)
    faceness = FacenessRule(min_quality=DOSE_FACE_FLOOR, suppress_static=not config.keep_static)
    finaliser = Finaliser.for_scorer(scorer, config.margin, faceness=faceness, link=None)
    out = []
    judge = finaliser._judge

    def record(held):
        out.append((held.evidence, owner_of(np.asarray(held.result.frame_indices), held.evidence)))
        return judge(held)

    finaliser._judge = record  # every closed fragment passes here once (re-linking is off)
    selector = Selector(detector, scorer, config=config, threads=1, fps=fps, post_close=[finaliser])
    for frame in frames:
        selector.feed(frame)
    selector.flush()
    return out


def _cover(frames, detector, span) -> list:
    """``frames`` with the faces the detector finds on the frames of ``span`` covered grey."""
    frames = [f.copy() for f in frames]
    for t in span:
        for x1, y1, x2, y2 in detector.detect(frames[t]).boxes:
            pad = 0.3 * (x2 - x1)
            frames[t][max(0, int(y1 - pad)):max(0, int(y2 + pad)), max(0, int(x1 - pad)):max(0, int(x2 + pad))] = 128
    return frames


def pause_material(root: Path, detector, scorer) -> dict[str, list]:
    """Fragments of the pauses and the next-person-after-a-pause splices, by source."""
    from facesel.eval import crowds
    from facesel.eval import switches as sw

    out = {}
    more = Path(root) / "videos" / "more"
    fams = {"signers": sorted(more.glob("sample-videos__asl_gestures_*.mkv")),
            "talking_heads": [more / n for n in sw.TALKING_HEADS if (more / n).is_file()]}
    for source, paths in fams.items():
        paths = [p for p in paths if source != "signers" or p.stem.split("asl_gestures_")[-1] in sw.SIGNER_PEOPLE]
        person = {p: (sw.SIGNER_PEOPLE[p.stem.split("asl_gestures_")[-1]] if source == "signers" else p.name) for p in paths}
        rows = out.setdefault(source, [])
        clips = {p: [cv2.resize(f, (640, 480)) for f in crowds.read_tile(p, 160, skip=10)] for p in paths}
        for n in PAUSES:
            for p in paths:  # one person, hidden for n frames in the middle
                frames = _cover(clips[p][:40 + n + 50], detector, range(40, 40 + n))
                rows.append((f"pause{n}:{p.name}", fragments(frames, detector, scorer, 25.0, lambda f, e: 0, keep_static=True)))
            for k, a in enumerate(paths):  # the next person (another one) after a pause
                b = next((q for q in paths[k + 1:] + paths[:k] if person[q] != person[a]), None)
                if b is None:
                    continue
                frames = crowds.replacement(clips[a][:45], clips[b][:n + 50], detector, missed=n)
                rows.append((f"next{n}:{a.name}->{b.name}",
                             fragments(frames, detector, scorer, 25.0, lambda f, e: int(f.min() >= 45), keep_static=True)))
            print(f"{source} pause {n}: {len(rows)} runs", flush=True)
    return out


def crowd_material(root: Path, detector, scorer) -> list:
    from facesel.eval import crowds

    rows = []
    for family, clips in crowds.crowds_of(crowds.families(root), 6):
        frames = crowds.compose([crowds.read_tile(p, 150, skip=10) for p in clips], 3, 240, True, 40, 1.5)

        def tile(f, e):
            c = (e.first_box[:2] + e.first_box[2:]) / 2
            return int(c[1] // 180) * 3 + int(c[0] // 240)

        rows.append((f"crowd:{family}", fragments(frames, detector, scorer, 25.0, tile, keep_static=True)))
    return rows


def video_material(root: Path, detector, scorer) -> list:
    from facesel.boxes import pairwise_iou
    from facesel.video import open_source

    rows = []
    for name in ("selfie_motion_blur_portrait.mp4", "intel_head_pose_female.gif"):
        path = Path(root) / "videos" / name
        capture = cv2.VideoCapture(str(path))
        fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
        capture.release()
        frames = [f for f, _ in itertools.islice(open_source(path), 600)]
        rows.append((name, fragments(frames, detector, scorer, fps, lambda f, e: 0)))
    folder = Path(root) / "videos" / "otb_girl"
    truth = np.array((folder / "groundtruth_rect.txt").read_text().replace(",", " ").split(), np.float32).reshape(-1, 4)
    truth[:, 2:] += truth[:, :2]
    frames = [cv2.imread(str(p)) for p in sorted((folder / "img").glob("*.jpg"))][: len(truth)]

    def girl(f, e):
        ends = list(e.head) + list(e.tail)
        hits = [pairwise_iou(np.asarray(b, np.float32)[None], truth[min(len(truth) - 1, round(t * 25)):][:1])[0, 0] >= 0.3
                for t, b, _ in ends]
        return int(np.mean(hits) >= 0.5)

    rows.append(("otb_girl", fragments(frames, detector, scorer, 25.0, girl, min_face_size=8.0)))
    return rows


def count_links(rule, runs) -> tuple[int, int, int]:
    """(good, wrong, possible) long links of ``rule`` over ``runs`` (name, [(evidence, owner)])."""
    good = wrong = possible = 0
    for _, frags in runs:
        evidence = [e for e, _ in frags]
        order = sorted(range(len(frags)), key=lambda i: frags[i][0].first_time)
        for i, j in itertools.permutations(order, 2):
            (a, pa), (b, pb) = frags[i], frags[j]
            if b.first_frame <= a.first_frame or b.first_time - a.last_time <= rule.max_gap_seconds:
                continue
            # one person's consecutive fragments (nothing of theirs in between) are a link to make
            between = any(frags[k][1] == pa and a.last_time < frags[k][0].first_time < b.first_time for k in order)
            wanted = pa == pb and not between
            possible += wanted
            if rule.cost(a, b, evidence) is None:
                continue
            good += wanted
            wrong += pa != pb
    return good, wrong, possible


def end_to_end(root: Path, pauses) -> None:
    """The pause material end to end under the rule before long links and the default (see the
    module docstring); printed per source."""
    from facesel.detect import make_detector
    from facesel.eval import crowds
    from facesel.eval import switches as sw
    from facesel.eval.crowds_replay import record, replay
    from facesel.scoring import LaplacianVarianceScorer
    from facesel.select.finalise import Finaliser
    from facesel.select.linking import LinkRule

    detector, scorer = make_detector(max_side=1280), LaplacianVarianceScorer()
    rules = {"short": LinkRule(long_gap_seconds=None, chain_through=None),
             "ends": LinkRule(colour_sample="ends", chain_through=None), "default": LinkRule(),
             "chain_off": LinkRule(chain_through=None), "chain": LinkRule(chain_through="later"),
             "lone": LinkRule(lone_colour_distance=0.4),  # measured unsafe: docs/persons.md, "Why the selfie ..."
             # the edge return (docs/persons.md, "Leaving by the frame's edge and coming back")
             "edge": LinkRule(edge_colour_distance=0.15, edge_margin=0.15),
             "edge30": LinkRule(edge_colour_distance=0.3, edge_margin=0.15)}
    recorded = {}

    def run(frames, link):
        # each material is run through the Selector once and replayed per rule (the finaliser does
        # not change what the tracker sees: facesel.eval.crowds_replay)
        key = id(frames)
        if key not in recorded:
            recorded[key] = record(frames, detector, scorer, 25.0, None, keep_static=True)
        return replay(recorded[key], Finaliser.for_scorer(scorer, link=link))

    more = Path(root) / "videos" / "more"
    fams = {"signers": [p for p in sorted(more.glob("sample-videos__asl_gestures_*.mkv"))
                        if p.stem.split("asl_gestures_")[-1] in sw.SIGNER_PEOPLE],
            "talking_heads": [more / n for n in sw.TALKING_HEADS if (more / n).is_file()]}
    for source, paths in fams.items():
        person = {p: (sw.SIGNER_PEOPLE[p.stem.split("asl_gestures_")[-1]] if source == "signers" else p.name) for p in paths}
        clips = {p: [cv2.resize(f, (640, 480)) for f in crowds.read_tile(p, 160, skip=10)] for p in paths}
        for n in pauses:
            totals = {name: [0, 0, 0, 0] for name in rules}  # paused clips, their snapshots, next pairs, joined
            for k, a in enumerate(paths):
                recorded.clear()  # this clip's two materials (paused, next person) are recorded afresh
                frames = _cover(clips[a][:40 + n + 50], detector, range(40, 40 + n))
                b = next((q for q in paths[k + 1:] + paths[:k] if person[q] != person[a]), None)
                nxt = None if b is None else crowds.replacement(clips[a][:45], clips[b][:n + 50], detector, missed=n)
                for name, link in rules.items():
                    t = totals[name]
                    t[0] += 1
                    t[1] += len(run(frames, link))
                    if nxt is not None:
                        t[2] += 1
                        t[3] += sum(1 for r in run(nxt, link) if r.frame_indices.min() < 45 <= r.frame_indices.max())
            for name, (clips_n, snaps, pairs, joined) in totals.items():
                print(f"{source} pause {n} frames, rule {name:7s}: {snaps} snapshots for {clips_n} paused people "
                      f"({snaps / max(1, clips_n):.2f}); next person joined {joined}/{pairs}", flush=True)


def main(argv=None) -> int:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from loso_choice import choose_held_out

    from facesel.data import data_root
    from facesel.detect import make_detector
    from facesel.scoring import LaplacianVarianceScorer
    from facesel.select.linking import LinkRule

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=None, help="fragment summaries (no pixels) kept between runs")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--end-to-end", action="store_true", help="the pause material end to end (see above)")
    parser.add_argument("--pauses", type=int, nargs="+", default=[PAUSES[0]], help="pause lengths in frames for --end-to-end")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    if args.end_to_end:
        from facesel.data import data_root

        end_to_end(data_root(), args.pauses)
        return 0
    if args.cache is not None and args.cache.is_file():
        material = pickle.loads(args.cache.read_bytes())
    else:
        detector, scorer, root = make_detector(max_side=1280), LaplacianVarianceScorer(), data_root()
        material = pause_material(root, detector, scorer)
        material["crowds"] = crowd_material(root, detector, scorer)
        material["videos"] = video_material(root, detector, scorer)
        if args.cache is not None:
            args.cache.write_bytes(pickle.dumps(material))
    grid = [dict(zip(GRID, values)) for values in itertools.product(*GRID.values())]
    table = {}
    for settings in grid:
        rule = LinkRule(**settings)
        key = json.dumps(settings, sort_keys=True)
        table[key] = {source: count_links(rule, runs) for source, runs in material.items()}
    none_rule = LinkRule(long_gap_seconds=None)
    possible = {source: count_links(none_rule, runs)[2] for source, runs in material.items()}

    held = {}
    for out in material:
        # fewest wrong links on the other sources, then most good ones, then nearest the default
        best = choose_held_out(table, out, lambda rows: (sum(r[1] for r in rows), -sum(r[0] for r in rows)),
                               GRID, DEFAULT)
        good, wrong, _ = table[best][out]
        held[out] = {"chosen": json.loads(best), "good": good, "wrong": wrong, "possible": possible[out]}
        print(f"held out {out:14s}: chose {best}: long links good {good}/{possible[out]}, wrong {wrong}")
    default = table[json.dumps(DEFAULT, sort_keys=True)]
    for source, (good, wrong, _) in default.items():
        print(f"default on {source:14s}: good {good}/{possible[source]}, wrong {wrong}")
    if args.json is not None:
        args.json.write_text(json.dumps({"table": table, "possible": possible, "held_out": held}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
