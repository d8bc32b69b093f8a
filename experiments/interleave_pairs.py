"""How often two tracks alive at the same time are never seen on the same frame while close, and
whether such a pair is one person or two (docs/persons.md, "Two tracks on one person at once").

    nice -n 5 python experiments/interleave_pairs.py --cache /tmp/interleave23/material.pkl [--record]
        [--shared-frames 300] [--shared-only | --passers-only] [--merge CACHE ...] [--json PATH]

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
- ``passers``: **two people at one place**, the case the merge must never join: a signer's or talking
  head's clip (640 x 480) with another person's real face (the detector's box on that person's own
  frame, padded by a quarter, scaled to the first face's size) sliding across in front of the first
  face, from 2.5 box sides left to 2.5 right in 60 frames (2 box sides a second at 25 fps), level
  with it or 0.4 box sides lower: partly covered faces of two people, on which the detector may
  find one or the other (the way two tracks could alternate in a real crowd). A fragment's person
  is the one whose face centre is nearer its boxes on most of its frames;
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


def _face(detector, frame) -> np.ndarray | None:
    """The largest detection's box (4,) float64 on ``frame``, or None."""
    boxes = np.asarray(detector.detect(frame).boxes, np.float64).reshape(-1, 4)
    if not len(boxes):
        return None
    return boxes[np.argmax((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))]


def passer_material(root: Path, detector, scorer, frames: int = 60, lead: int = 15) -> list:
    """Runs of one person's clip with another person's face passing in front (module docstring)."""
    from facesel.eval import crowds
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
            out, centres = [], []
            for t in range(frames + lead):
                frame = clips[a][t].copy()
                mine = _face(detector, clips[a][t])
                theirs = _face(detector, clips[b][t])
                centre_a = None if mine is None else (mine[:2] + mine[2:]) / 2
                centre_b = None
                if t >= lead and mine is not None and theirs is not None:
                    side = min(mine[2] - mine[0], mine[3] - mine[1])
                    x1, y1, x2, y2 = theirs
                    pad = 0.25 * (x2 - x1)
                    h, w = clips[b][t].shape[:2]
                    crop = clips[b][t][max(0, int(y1 - pad)):min(h, int(y2 + pad)), max(0, int(x1 - pad)):min(w, int(x2 + pad))]
                    scale = side / max(1.0, min(x2 - x1, y2 - y1))
                    crop = cv2.resize(crop, None, fx=scale, fy=scale)
                    cx = centre_a[0] + side * (-2.5 + 5.0 * (t - lead) / (frames - 1))
                    cy = centre_a[1] + dy * side
                    ch, cw = crop.shape[:2]
                    left, top = int(round(cx - cw / 2)), int(round(cy - ch / 2))
                    fx1, fy1, fx2, fy2 = max(0, left), max(0, top), min(640, left + cw), min(480, top + ch)
                    if fx2 > fx1 and fy2 > fy1:
                        frame[fy1:fy2, fx1:fx2] = crop[fy1 - top:fy2 - top, fx1 - left:fx2 - left]
                        centre_b = np.array([cx, cy])
                out.append(frame)
                centres.append((centre_a, centre_b))
            frags = fragments_full(out, detector, scorer, 25.0, lambda i, e: -1, keep_static=True)

            def who(indices, boxes):
                votes = []
                for f, box in zip(indices, boxes):
                    ca, cb = centres[int(f)]
                    c = (box[:2] + box[2:]) / 2
                    if ca is None:
                        continue
                    votes.append(int(cb is not None and np.linalg.norm(c - cb) < np.linalg.norm(c - ca)))
                return int(np.round(np.mean(votes))) if votes else -1
            rows.append((f"passer dy {dy}:{a.name}<-{b.name}", [(e, who(f, bx), f, bx) for e, _, f, bx in frags]))
        print(f"passers {a.name}: {len(rows)} runs", flush=True)
    return rows


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
    from relink_lone_loso import family_material

    from facesel.data import data_root
    from facesel.detect import make_detector
    from facesel.scoring import LaplacianVarianceScorer

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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--record", action="store_true")
    parser.add_argument("--shared-frames", type=int, default=300)
    parser.add_argument("--shared-only", action="store_true", help="record the shared videos only")
    parser.add_argument("--passers-only", action="store_true", help="record the passers only")
    parser.add_argument("--merge", type=Path, nargs="*", default=[], help="further caches whose sources replace these")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
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
              f"{p['size']:5.2f} {p['gap']:3d} {str(p['colours']):>5s}  {p['frames_a']} / {p['frames_b']}")
    print("\nper source: interleaved pairs (one person / two / unknown), and within 1 box side and 1.5x size")
    for source in material:
        rows = [p for p in found if p["source"] == source]
        close = [p for p in rows if p["distance"] <= 1.0 and p["size"] <= 1.5]
        count = {w: sum(p["who"] == w for p in rows) for w in ("one", "two", "unknown")}
        count_close = {w: sum(p["who"] == w for p in close) for w in ("one", "two", "unknown")}
        runs = sum(len(f) for _, f in material[source])
        print(f"{source:14s} fragments {runs:5d}: interleaved {count}; close {count_close}")
    if args.json is not None:
        args.json.write_text(json.dumps(found, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
