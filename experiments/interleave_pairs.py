"""How often two tracks alive at the same time are never seen on the same frame while close, and
whether such a pair is one person or two (docs/persons.md, "Two tracks on one person at once").

    nice -n 5 python experiments/interleave_pairs.py --cache /tmp/interleave23/material.pkl [--record]
        [--shared-frames 300] [--shared-only | --passers-only] [--merge CACHE ...] [--json PATH]
    nice -n 5 python experiments/interleave_pairs.py --end-to-end e2e.json [--shared-frames 600]
    nice -n 5 python experiments/interleave_pairs.py --speed

``--end-to-end``: every material instead run end to end, recorded once and replayed through the
default finaliser with the merge off and on; snapshots of each and the owners of every merge.

Material (made in memory from the shared data; the cache holds only fragment summaries: frames,
boxes, coarse colours, never pixels), every fragment the Selector closes with re-linking off
(``experiments/relink_loso.py``'s recorder, here also keeping each fragment's frame indices and
boxes, which the finaliser's evidence does not):

- ``videos``: the selfie, Intel head pose (one person each), OTB Girl (the girl by her
  ground-truth box, else the man);
- ``signers``, ``talking_heads``: pauses of one person, the next person after a pause, every splice
  of ``facesel eval switches`` (hard cut, cross-fade, gap), each also at a fifth of its size
  (``experiments/relink_lone_loso.py``'s ``family_material``; a splice fragment's person is the
  majority of its frames);
- ``crowds``: the occluded tiled crowds (one person per tile);
- ``passers``: **two people at one place**, the case the merge must never join
  (:mod:`facesel.eval.passers`): on every signer's and talking head's clip (640 x 480) the next
  other person's real face slides across in front of the face, 2.5 box sides left to 2.5 right in
  60 frames (2 box sides a second at 25 fps), level with it or 0.4 box sides lower. A fragment's
  person is the one whose face centre is nearer its boxes on most of its frames;
- ``shared``: every shared video (``experiments/crowds_shared.py``'s list), first ``--shared-frames``
  frames, no truth (owner -1): these pairs are listed for a look by eye.

A pair is **interleaved** when the two fragments' observed frame spans overlap and they share no
observed frame (:func:`facesel.select.interleave.hand_overs`, the finaliser's own test). For such a
pair, at every alternation inside the span where both are alive (an observation of one following one
of the other, in frame order) the distance between the two boxes' centres over the mean of their shorter
sides, and their size ratio (larger side over smaller), are taken; the pair's ``distance`` and
``size`` are the largest over its alternations (the rule must hold at every hand-over), ``gap`` the
largest number of frames between two alternating observations, ``colours`` the distance of the two
fragments' last colours (None where either has none). Printed: every interleaved pair
with those figures and who it is (same person, two people, unknown), and the counts per source
under a proximity limit.
"""

from __future__ import annotations

import argparse
import itertools
import json
import pickle
import sys
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent


def fragments_full(frames, detector, scorer, fps: float, owner_of, **settings) -> list[tuple]:
    """(evidence, owner, frame indices (K,) int64, boxes (K, 4) float32) of every fragment the
    Selector closes with re-linking off."""
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
        indices = np.asarray(held.result.frame_indices, np.int64)
        out.append((held.evidence, owner_of(indices, held.evidence), indices,
                    np.asarray(held.result.boxes, np.float32).reshape(-1, 4)))
        return judge(held)

    finaliser._judge = record  # every closed fragment passes here once (re-linking is off)
    selector = Selector(detector, scorer, config=config, threads=1, fps=fps, post_close=[finaliser])
    for frame in frames:
        selector.feed(frame)
    selector.flush()
    return out


def passer_material(root: Path, detector, scorer, frames: int = 60, lead: int = 15) -> list:
    """Runs of one person's clip with another person's face passing in front (:mod:`facesel.eval.passers`)."""
    from facesel.eval import crowds, passers
    from facesel.eval import switches as sw

    more = Path(root) / "videos" / "more"
    signers = [p for p in sorted(more.glob("sample-videos__asl_gestures_*.mkv")) if p.stem.split("asl_gestures_")[-1] in sw.SIGNER_PEOPLE]
    person = {p: ("s", sw.SIGNER_PEOPLE[p.stem.split("asl_gestures_")[-1]]) for p in signers}
    heads = [more / n for n in sw.TALKING_HEADS if (more / n).is_file()]
    person.update({p: ("h", p.name) for p in heads})
    paths = signers + heads
    clips = {p: [cv2.resize(f, (640, 480)) for f in crowds.read_tile(p, frames + lead, skip=10)] for p in paths}
    rows = []
    for k, a in enumerate(paths):
        b = next((q for q in paths[k + 1:] + paths[:k] if person[q] != person[a]), None)
        for dy in (0.0, 0.4):
            out, centres = passers.pass_in_front(clips[a], clips[b], detector, dy, frames, lead)

            def by_ends(indices, e, centres=centres):  # the owner vote over the evidence's first and last observations
                ends = list(e.head) + list(e.tail)
                return passers.owner(centres, [round(t * 25.0) for t, _, _ in ends], [np.asarray(b, np.float64) for _, b, _ in ends])

            frags = fragments_full(out, detector, scorer, 25.0, by_ends, keep_static=True)
            rows.append((f"passer dy {dy}:{a.name}<-{b.name}",
                         [(e, passers.owner(centres, f, bx), f, bx) for e, _, f, bx in frags]))
        print(f"passers {a.name}: {len(rows)} runs", flush=True)
    return rows


def end_to_end(frames, detector, scorer, fps: float, owner_of, **settings) -> dict:
    """One run recorded once (:mod:`facesel.eval.crowds_replay`) and replayed through the default
    finaliser without (``off``) and with (``on``) the interleave merge: snapshots of each, and the
    owners (``owner_of(frame indices, evidence)``) of the two sides of every merge it made."""
    from facesel.config import PipelineConfig
    from facesel.eval.crowds_replay import record, replay
    from facesel.select.finalise import Finaliser

    recording = record(frames, detector, scorer, fps, None, **settings)
    config = PipelineConfig(**settings)
    out = {}
    for name in ("off", "on"):
        finaliser = Finaliser.for_config(config, scorer)
        if name == "off":
            finaliser.interleave = None
        merges = []
        join = finaliser._join_interleaved

        def spy(held, join=join, finaliser=finaliser, merges=merges):
            before = dict(finaliser._held)
            joined = join(held)
            if joined:
                gone = [h for t, h in before.items() if t not in finaliser._held or finaliser._held[t] is not h]
                other = next(h for h in gone if h is not held)
                merges.append([owner_of(np.asarray(h.result.frame_indices), h.evidence) for h in (held, other)])
            return joined
        finaliser._join_interleaved = spy
        out[name] = len(replay(recording, finaliser))
        out[f"{name}_merges"] = merges
    return out


def shared_material(root: Path, detector, scorer, max_frames: int) -> list:
    from crowds_shared import videos
    from facesel.video import open_source

    rows = []
    for path, _ in videos(root):
        capture = cv2.VideoCapture(str(path)) if path.is_file() else None
        fps = (capture.get(cv2.CAP_PROP_FPS) if capture is not None else 0.0) or 25.0
        if capture is not None:
            capture.release()
        frames = [f for f, _ in itertools.islice(open_source(path), max_frames)]
        min_face = 8.0 if path.name == "img" else 16.0
        rows.append((path.name, fragments_full(frames, detector, scorer, fps, lambda i, e: -1, min_face_size=min_face)))
        print(f"shared {path.name}: {len(rows[-1][1])} fragments", flush=True)
    return rows


def record(cache: Path, shared_frames: int, shared_only: bool = False, passers_only: bool = False) -> dict:
    sys.path.insert(0, str(HERE))
    import relink_loso

    relink_loso.fragments = fragments_full  # the recorders below look it up by name
    from facesel.data import data_root
    from facesel.detect import make_detector
    from facesel.scoring import LaplacianVarianceScorer
    from relink_lone_loso import family_material

    detector, scorer, root = make_detector(max_side=1280), LaplacianVarianceScorer(), data_root()
    if passers_only:
        material = {"passers": passer_material(root, detector, scorer)}
        cache.write_bytes(pickle.dumps(material))
        return material
    material = {"shared": shared_material(root, detector, scorer, shared_frames)}
    cache.write_bytes(pickle.dumps(material))
    if shared_only:
        return material
    material["videos"] = relink_loso.video_material(root, detector, scorer)
    material["crowds"] = relink_loso.crowd_material(root, detector, scorer)
    cache.write_bytes(pickle.dumps(material))
    material.update(family_material(root, detector, scorer))
    cache.write_bytes(pickle.dumps(material))
    material["passers"] = passer_material(root, detector, scorer)
    cache.write_bytes(pickle.dumps(material))
    return material


def interleaving(a, b) -> dict | None:
    """Figures of two recorded fragments ((evidence, owner, frames, boxes)) that overlap in time and
    share no frame (:func:`facesel.select.interleave.hand_overs`); None otherwise."""
    from facesel.select.interleave import hand_overs
    from facesel.track_cues import distance as colour_distance

    figures = hand_overs(a[2], a[3].astype(np.float64), b[2], b[3].astype(np.float64))
    if figures is None:
        return None
    ca, cb = a[0].last_colours, b[0].last_colours
    colours = None if ca is None or cb is None else round(float(colour_distance(ca, cb)), 3)
    return {"distance": figures[0], "size": figures[1], "gap": figures[2], "colours": colours}


def pairs(material: dict) -> list[dict]:
    out = []
    for source, runs in material.items():
        for name, frags in runs:
            for (i, a), (j, b) in itertools.combinations(enumerate(frags), 2):
                figures = interleaving(a, b)
                if figures is None:
                    continue
                same = "unknown" if a[1] < 0 or b[1] < 0 else ("one" if a[1] == b[1] else "two")
                out.append({"source": source, "run": name, "a": i, "b": j, "who": same,
                            "frames_a": [int(a[2][0]), int(a[2][-1]), len(a[2])],
                            "frames_b": [int(b[2][0]), int(b[2][-1]), len(b[2])], **figures})
    return out


def run_end_to_end(path: Path, shared_frames: int) -> int:
    """Every material end to end (:func:`end_to_end`); rows (source, run, figures) to ``path``."""
    sys.path.insert(0, str(HERE))
    import relink_loso
    from facesel.data import data_root
    from facesel.detect import make_detector
    from facesel.scoring import LaplacianVarianceScorer

    detector, scorer, root = make_detector(max_side=1280), LaplacianVarianceScorer(), data_root()
    rows = []
    current = {"source": ""}

    def runner(frames, detector, scorer, fps, owner_of, **settings):
        figures = end_to_end(frames, detector, scorer, fps, owner_of, **settings)
        rows.append({"source": current["source"], **figures})
        wrong = sum(a != b and a >= 0 and b >= 0 for a, b in figures["on_merges"])
        if figures["on_merges"] or figures["on"] != figures["off"]:
            print(f"{current['source']}: {figures} wrong {wrong}", flush=True)
        path.write_text(json.dumps(rows))
        return []

    global fragments_full
    relink_loso.fragments = fragments_full = runner
    from relink_lone_loso import family_material

    current["source"] = "shared"
    shared_material(root, detector, scorer, shared_frames)
    current["source"] = "passers"
    passer_material(root, detector, scorer)
    current["source"] = "videos"
    relink_loso.video_material(root, detector, scorer)
    current["source"] = "crowds"
    relink_loso.crowd_material(root, detector, scorer)
    current["source"] = "family"
    family_material(root, detector, scorer)
    for source in sorted({r["source"] for r in rows}):
        mine = [r for r in rows if r["source"] == source]
        merges = [m for r in mine for m in r["on_merges"]]
        print(f"{source:8s} runs {len(mine):4d}: snapshots off {sum(r['off'] for r in mine)}, on {sum(r['on'] for r in mine)}; "
              f"merges {len(merges)}: one person {sum(a == b and a >= 0 for a, b in merges)}, "
              f"two people {sum(a != b and a >= 0 and b >= 0 for a, b in merges)}, unknown {sum(min(a, b) < 0 for a, b in merges)}")
    return 0


def speed() -> int:
    """CPU share of the merge's check (:meth:`Finaliser._join_interleaved`) in one run of the arcade
    and of the bed (process CPU time: detection, tracking and the Laplacian score while recording,
    then the default finaliser replayed)."""
    import time

    from facesel.data import data_root
    from facesel.detect import make_detector
    from facesel.eval.crowds_replay import record, replay
    from facesel.scoring import LaplacianVarianceScorer
    from facesel.select.finalise import Finaliser
    from facesel.video import open_source

    for rel, fps in (("videos/arcade_walkers_1080p.mp4", 25.0), ("videos/more/sam2__notebooks_videos_bedroom.mp4", 30.0)):
        frames = [f for f, _ in itertools.islice(open_source(data_root() / rel), 600)]
        scorer = LaplacianVarianceScorer()
        start = time.process_time()
        recording = record(frames, make_detector(max_side=1280), scorer, fps, None)
        recorded = time.process_time() - start
        finaliser = Finaliser.for_scorer(scorer)
        spent = [0.0]
        join = finaliser._join_interleaved

        def timed(held, join=join, spent=spent):
            t = time.process_time()
            joined = join(held)
            spent[0] += time.process_time() - t
            return joined
        finaliser._join_interleaved = timed
        start = time.process_time()
        replay(recording, finaliser)
        replayed = time.process_time() - start
        print(f"{rel}: recording {recorded:.2f} s CPU, finaliser {replayed:.3f} s, the merge's check "
              f"{spent[0] * 1000:.2f} ms = {spent[0] / (recorded + replayed):.2%} of the run")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=None, help="fragment summaries (no pixels) kept between runs")
    parser.add_argument("--record", action="store_true")
    parser.add_argument("--shared-frames", type=int, default=300)
    parser.add_argument("--shared-only", action="store_true", help="record the shared videos only")
    parser.add_argument("--passers-only", action="store_true", help="record the passers only")
    parser.add_argument("--end-to-end", type=Path, default=None,
                        help="instead: every material end to end, merge off and on (rows written to this JSON)")
    parser.add_argument("--speed", action="store_true", help="instead: the merge's CPU share on the arcade and the bed")
    parser.add_argument("--merge", type=Path, nargs="*", default=[], help="further caches whose sources replace these")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    if args.speed:
        return speed()
    if args.end_to_end is not None:
        return run_end_to_end(args.end_to_end, args.shared_frames)
    if args.cache is None:
        parser.error("--cache is needed unless --end-to-end")
    if args.cache.is_file() and not args.record:
        material = pickle.loads(args.cache.read_bytes())
    else:
        args.cache.parent.mkdir(parents=True, exist_ok=True)
        material = record(args.cache, args.shared_frames, args.shared_only, args.passers_only)
    for extra in args.merge:
        material.update(pickle.loads(extra.read_bytes()))
    found = pairs(material)
    print(f"{'source':14s} {'run':60s} {'a':>3s} {'b':>3s} who      dist  size gap colour  frames a / b")
    for p in sorted(found, key=lambda p: p["distance"]):
        print(f"{p['source']:14s} {p['run'][:60]:60s} {p['a']:3d} {p['b']:3d} {p['who']:8s} {p['distance']:5.2f} "
              f"{p['size']:5.2f} {p['gap']:3d} {p['colours']!s:>5s}  {p['frames_a']} / {p['frames_b']}")
    print("\nper source: interleaved pairs (one person / two / unknown), and within 1 box side and 1.5x size")
    for source in material:
        rows = [p for p in found if p["source"] == source]
        close = [p for p in rows if p["distance"] <= 1.0 and p["size"] <= 1.5]
        count = {w: sum(p["who"] == w for p in rows) for w in ("one", "two", "unknown")}
        count_close = {w: sum(p["who"] == w for p in close) for w in ("one", "two", "unknown")}
        runs = sum(len(f) for _, f in material[source])
        print(f"{source:14s} fragments {runs:5d}: interleaved {count}; close {count_close}")
    print("\ntwo people's fragments alive at the same time: pairs, frames of their common span seen together / seen at all, fewest")
    for source, runs in material.items():
        together = []
        for _, frags in runs:
            for a, b in itertools.combinations(frags, 2):
                fa, fb = a[2], b[2]
                if a[1] < 0 or b[1] < 0 or a[1] == b[1] or fa[0] > fb[-1] or fb[0] > fa[-1]:
                    continue
                start, end = max(fa[0], fb[0]), min(fa[-1], fb[-1])
                ina, inb = fa[(fa >= start) & (fa <= end)], fb[(fb >= start) & (fb <= end)]
                together.append((np.intersect1d(ina, inb).size, np.union1d(ina, inb).size))
        fewest = min(together, key=lambda t: t[0] / t[1]) if together else None
        print(f"{source:14s} {len(together):4d} pairs: together on {sum(t[0] for t in together)} / {sum(t[1] for t in together)}; "
              f"fewest {fewest}; never together {sum(t[0] == 0 for t in together)}")
    if args.json is not None:
        args.json.write_text(json.dumps(found, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
