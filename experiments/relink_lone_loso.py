"""A family of looser re-link gates for a person alone, or a face too small for colours, chosen
leave-one-source-out against the splices and the next person after a pause (docs/persons.md,
"Why the selfie, OTB Girl and the bed keep extra snapshots").

    python experiments/relink_lone_loso.py --cache /tmp/relink23/material.pkl [--record] [--json PATH]

The family (:class:`facesel.select.linking.LinkRule` settings; the default is the rule of main):

- ``lone_colour_distance`` (None, 0.25, 0.3, 0.4): a long link's colour gate when **nobody else**
  was near the place during the gap (``crowding`` 0) and the person is back within
  ``lone_still_distance`` (0.25, 0.5 box sides) of where last seen: the selfie's two fragments are
  0.36 apart, back 0.10 box sides from where she was;
- ``small_position_scale`` (1, 1.25, 1.5): the short link's position allowance times this for two
  fragments neither of which has colours (faces under the 40-px colour floor: OTB Girl's first two
  fragments are 1.58 box sides apart against an allowance of 1.39);
- ``small_long`` (False, True): a long link for two such fragments without colours (OTB Girl's
  fragments 2 and 3: 2.7 s apart, 1.61 box sides), back within ``still_distance`` times
  ``small_position_scale`` and nobody near.

Material (made in memory from the shared data; the cache holds only track summaries: times, boxes,
coarse colour histograms, never pixels), by source:

- ``signers``, ``talking_heads``: the pause of one person (40 frames covered at 25 fps: 1.6 s, the
  same person before and after), the next person after a pause (another person at the same place,
  first 40 frames covered: two people), and every splice of ``facesel eval switches`` (hard cut,
  cross-fade, gap: two people); each also at a fifth of its size (``small``: faces of 15-40 px,
  under the colour floor, ``min_face_size`` 8), the negatives a small-face rule must not join;
- ``crowds``: the occluded tiled crowds (one person per tile);
- ``videos``: the selfie (one person), OTB Girl (the girl by her ground-truth box, else the man),
  Intel head pose (one person).

Every candidate is asked of every ordered pair of fragments of one run (the later starting later)
that the default rule refuses (the family only loosens gates): **good** when it joins one person's
consecutive fragments (nothing of theirs in between), **wrong** when it joins two people's (a
fragment's person is the majority of its frames: a splice fragment the tracker did not split counts
as its first person, so a link from it to the second person counts as wrong, erring towards "wrong"). Per held-out source the candidate with the fewest wrong links on the other sources, then
the most good ones, then the nearest to the default is chosen; its figures on the held-out source are
printed. A pair-level count: the finaliser's choice between candidates is not modelled (end to end:
``experiments/crowds_shared.py``, ``experiments/crowds_switches.py``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import pickle
from pathlib import Path

import cv2
import numpy as np

GRID = {"lone_colour_distance": (None, 0.25, 0.3, 0.4), "lone_still_distance": (0.25, 0.5),
        "small_position_scale": (1.0, 1.25, 1.5), "small_long": (False, True)}
DEFAULT = {"lone_colour_distance": None, "lone_still_distance": 0.25, "small_position_scale": 1.0, "small_long": False}
SMALL = 0.2
PAUSE = 40


def _small(frames, scale: float = SMALL) -> list:
    return [cv2.resize(f, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) for f in frames]


def family_material(root: Path, detector, scorer) -> dict[str, list]:
    """Pauses, next person after a pause and splices of signers and talking heads, full size and small."""
    from facesel.eval import crowds
    from facesel.eval import switches as sw
    from relink_loso import _cover, fragments

    out = {"signers": [], "talking_heads": []}
    more = Path(root) / "videos" / "more"
    fams = {"signers": [p for p in sorted(more.glob("sample-videos__asl_gestures_*.mkv"))
                        if p.stem.split("asl_gestures_")[-1] in sw.SIGNER_PEOPLE],
            "talking_heads": [more / n for n in sw.TALKING_HEADS if (more / n).is_file()]}
    for source, paths in fams.items():
        person = {p: (sw.SIGNER_PEOPLE[p.stem.split("asl_gestures_")[-1]] if source == "signers" else p.name) for p in paths}
        clips = {p: [cv2.resize(f, (640, 480)) for f in crowds.read_tile(p, 160, skip=10)] for p in paths}
        rows = out[source]
        for k, a in enumerate(paths):
            paused = _cover(clips[a][:40 + PAUSE + 50], detector, range(40, 40 + PAUSE))
            b = next((q for q in paths[k + 1:] + paths[:k] if person[q] != person[a]), None)
            nxt = None if b is None else crowds.replacement(clips[a][:45], clips[b][:PAUSE + 50], detector, missed=PAUSE)
            for size, scale in (("", None), ("small ", SMALL)):
                f = paused if scale is None else _small(paused)
                settings = {"keep_static": True} if scale is None else {"keep_static": True, "min_face_size": 8.0}
                rows.append((f"{size}pause:{a.name}", fragments(f, detector, scorer, 25.0, lambda i, e: 0, **settings)))
                if nxt is not None:
                    f = nxt if scale is None else _small(nxt)
                    rows.append((f"{size}next:{a.name}->{b.name}",
                                 fragments(f, detector, scorer, 25.0, lambda i, e: int(i.min() >= 45), **settings)))
            print(f"{source} {a.name}: {len(rows)} runs", flush=True)
    sources = sw.load_sources(root, detector, 40, 5)
    for source, clips in sources.items():
        for a, b in sw.pairs_of(clips):
            for kind in sw.KINDS:
                frames, _, owner = sw.splice(a, b, kind, 40, 5, detector)

                def owner_of(indices, e, owner=owner):
                    votes = [owner[int(i)] for i in indices if owner[int(i)] >= 0]
                    return int(np.round(np.mean(votes))) if votes else -1
                for size, scale in (("", None), ("small ", SMALL)):
                    f = frames if scale is None else _small(frames)
                    settings = {} if scale is None else {"min_face_size": 8.0}
                    out[source].append((f"{size}splice {kind}:{a.name}->{b.name}",
                                        fragments(f, detector, scorer, 30.0, owner_of, **settings)))
        print(f"{source} splices: {len(out[source])} runs", flush=True)
    return out


def count_links(rule, base, runs) -> tuple[int, int, int, list]:
    """(good, wrong, possible, names) of the links ``rule`` makes and ``base`` (the default) does not,
    over ``runs`` (name, [(evidence, owner)]; owner -1 unknown): every ordered pair of one run's
    fragments, the later starting later. Good: one person's consecutive fragments (nothing of
    theirs in between); wrong: two people's; possible: one person's consecutive fragments the
    default leaves apart; names: the runs with a wrong link."""
    good = wrong = possible = 0
    names = []
    for name, frags in runs:
        evidence = [e for e, _ in frags]
        order = sorted(range(len(frags)), key=lambda i: frags[i][0].first_time)
        for i, j in itertools.permutations(order, 2):
            (a, pa), (b, pb) = frags[i], frags[j]
            if pa < 0 or pb < 0 or b.first_frame <= a.first_frame:
                continue
            between = any(frags[k][1] == pa and a.last_time < frags[k][0].first_time < b.first_time for k in order)
            wanted = pa == pb and not between and b.first_time >= a.last_time - rule.max_overlap_seconds
            if base.cost(a, b, evidence) is not None:
                continue  # the default makes it already
            possible += wanted
            if rule.cost(a, b, evidence) is None:
                continue
            good += wanted
            if pa != pb:
                wrong += 1
                names.append(name)
    return good, wrong, possible, names


def main(argv=None) -> int:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from loso_choice import choose_held_out
    from relink_loso import crowd_material, video_material

    from facesel.data import data_root
    from facesel.detect import make_detector
    from facesel.scoring import LaplacianVarianceScorer
    from facesel.select.linking import LinkRule

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, required=True, help="fragment summaries (no pixels) kept between runs")
    parser.add_argument("--record", action="store_true", help="record the material even if the cache exists")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    if args.cache.is_file() and not args.record:
        material = pickle.loads(args.cache.read_bytes())
    else:
        detector, scorer, root = make_detector(max_side=1280), LaplacianVarianceScorer(), data_root()
        material = {}
        material["videos"] = video_material(root, detector, scorer)
        args.cache.write_bytes(pickle.dumps(material))
        material.update(family_material(root, detector, scorer))
        args.cache.write_bytes(pickle.dumps(material))
        material["crowds"] = crowd_material(root, detector, scorer)
        args.cache.write_bytes(pickle.dumps(material))
    grid = [dict(zip(GRID, values)) for values in itertools.product(*GRID.values())]
    grid = [g for g in grid if g["lone_colour_distance"] is not None or g["lone_still_distance"] == DEFAULT["lone_still_distance"]]
    print(f"{len(grid)} candidates", flush=True)
    table = {}
    base_rule = LinkRule(**DEFAULT)
    for settings in grid:
        key = json.dumps(settings, sort_keys=True)
        table[key] = {source: count_links(LinkRule(**settings), base_rule, runs) for source, runs in material.items()}

    held = {}
    for out in material:
        # fewest wrong links on the other sources, then most good ones, then nearest the default
        best = choose_held_out(table, out, lambda rows: (sum(r[1] for r in rows), -sum(r[0] for r in rows)),
                               GRID, DEFAULT)
        good, wrong, possible, names = table[best][out]
        held[out] = {"chosen": json.loads(best), "good": good, "wrong": wrong, "possible": possible, "wrong_in": names}
        print(f"held out {out:14s}: chose {best}: links the default leaves apart made rightly {good}/{possible}, "
              f"wrongly {wrong} {sorted(set(names))}", flush=True)
    print("\nevery candidate: per source (links made rightly / one person's pairs the default leaves apart, wrongly)")
    for key, row in table.items():
        print(key, {s: f"{v[0]}/{v[2]}, {v[1]}" for s, v in row.items()})
        for source, v in row.items():
            if v[3]:
                print(f"    wrong in {source}: {sorted(set(v[3]))}")
    if args.json is not None:
        args.json.write_text(json.dumps({"table": table, "held_out": held}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
