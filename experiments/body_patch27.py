"""A body patch across a face's gap (issue 23, selfie27; pre-registered in docs/prereg_body27.md,
docs/persons.md "The body below the head across a gap"): the shoulders and chest below a head box,
without the head, compared across the selfie's and OTB Girl's gaps and across pairs of different
people of the crowds' clip pool; then each registered candidate's threshold held out by family
and its stage-A verdict.

    python experiments/body_patch27.py [--json /tmp/body27.json]
    python experiments/body_patch27.py --crossing liveportrait signers retalking other   # crossing crowds, walk 0
    python experiments/body_patch27.py --crossing liveportrait signers retalking other --approach  # walking at the camera

Clothes and place, not identity: no feature is computed from the face. Everything stays in
memory; only numbers are printed (and written with ``--json``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import cv2
import numpy as np
from facesel.track_cues.body import body_histogram, body_ncc, body_pair, body_rect, histogram_distance

WALKER_WIDTH = 200
"""Width (px) a clip frame is shrunk to for the negatives (the crossing crowds' walkers: 150-260)."""


def hist_pair(frame_a, rect_a, frame_b, rect_b) -> float:
    """The histogram distance of two body rectangles (:mod:`facesel.track_cues.body`)."""
    return histogram_distance(body_histogram(frame_a, rect_a), body_histogram(frame_b, rect_b))


def largest(found, keep=lambda b: True):
    """The highest-scoring box of ``found`` (Detections) that ``keep`` accepts, or None."""
    best = None
    for box, score in zip(found.boxes, found.scores):
        if keep(box) and (best is None or score > best[1]):
            best = (np.asarray(box[:4], np.float32), float(score))
    return None if best is None else best[0]


def gap_track(frames, boxes, gaps) -> list[dict]:
    """Per gap (start, end) of frames without the person's box: per gap frame the pre-gap body
    patch at its own place against the same place now, and the arrival pair."""
    out = []
    for start, end in gaps:
        a, box_a = frames[start - 1], boxes[start - 1]
        ra = body_rect(box_a, a.shape)
        per_frame = []
        for k in range(start, end):
            per_frame.append({"frame": k, "hist": round(hist_pair(a, ra, frames[k], ra), 3),
                              "ncc": round(body_ncc(a, ra, frames[k], ra), 3)})
        box_b = boxes[end]
        side = float(box_a[2] - box_a[0])
        shift = float(np.hypot(*(((box_b[:2] + box_b[2:]) - (box_a[:2] + box_a[2:])) / 2))) / side
        arrival = body_pair(a, box_a, frames[end], box_b)
        out.append({"last_seen": start - 1, "back": end, "box_sides_apart": round(shift, 2),
                    "size_ratio": round(float((box_b[2] - box_b[0]) / side), 2),
                    "arrival": {k: round(v, 3) for k, v in arrival.items()} if arrival else None,
                    "per_frame": per_frame})
    return out


def runs_without(boxes, lo: int, hi: int, shortest: int) -> list[tuple[int, int]]:
    """(start, end) of each run of None in ``boxes[lo:hi]`` at least ``shortest`` long, with a box
    on both sides."""
    out, k = [], lo
    while k < hi:
        if boxes[k] is None:
            j = k
            while j < hi and boxes[j] is None:
                j += 1
            if j - k >= shortest and k > 0 and j < hi and boxes[k - 1] is not None:
                out.append((k, j))
            k = j
        else:
            k += 1
    return out


def selfie(root: Path, detector) -> list[dict]:
    from facesel.video import open_source

    path = root / "videos" / "selfie_motion_blur_portrait.mp4"
    frames = [f for f, _ in itertools.islice(open_source(path), 110)]
    boxes = [largest(detector.detect(f)) if k >= 55 else None for k, f in enumerate(frames)]
    return gap_track(frames, boxes, runs_without(boxes, 56, len(frames), 5))


def otb_girl(root: Path, detector, count: int = 340) -> list[dict]:
    from facesel.video import open_source

    folder = root / "videos" / "otb_girl"
    truth = np.array((folder / "groundtruth_rect.txt").read_text().replace(",", " ").split(),
                     np.float32).reshape(-1, 4)
    truth[:, 2:] += truth[:, :2]
    frames = [f for f, _ in itertools.islice(open_source(folder / "img"), count)]

    def hers(k):
        g = truth[min(k, len(truth) - 1)]
        return lambda b: g[0] <= (b[0] + b[2]) / 2 <= g[2] and g[1] <= (b[1] + b[3]) / 2 <= g[3] and b[2] - b[0] >= 8

    boxes = [largest(detector.detect(f), hers(k)) for k, f in enumerate(frames)]
    return gap_track(frames, boxes, runs_without(boxes, 1, len(frames), 5))


def clip_patches(path: Path, detector) -> dict:
    """{"start": (frame, box), "end": (frame, box)} of a clip at 10 and 150 frames in, its 4:3
    frame shrunk to :data:`WALKER_WIDTH` px (a crossing crowd's walker); a part None when no face."""
    from facesel.eval.crowds import read_tile

    tiles = read_tile(path, 160, skip=10)
    out = {}
    for name, k in (("start", 0), ("end", 150)):
        frame = tiles[k]
        scale = WALKER_WIDTH / frame.shape[1]
        small = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        box = largest(detector.detect(frame))
        out[name] = None if box is None else (small, box * scale)
    return out


def negatives(root: Path, detector) -> dict:
    """{family: [{"a", "b", "hist", "ncc"}]} every ordered pair of distinct people within each
    family: A's end against B's start; and {family: [...]} the same person's end against start."""
    from facesel.eval.crowds import families

    fams = families(root)
    neg, same = {}, {}
    for family, clips in fams.items():
        patches = {p.name: clip_patches(p, detector) for p in clips}
        neg[family], same[family] = [], []
        for a, b in itertools.product(patches, patches):
            pa, pb = patches[a]["end"], patches[b]["start"]
            if pa is None or pb is None:
                continue
            fig = body_pair(pa[0], pa[1], pb[0], pb[1])
            if fig is not None:
                (same if a == b else neg)[family].append({"a": a, "b": b, **fig})
    return {"negatives": neg, "same": same}


def thresholds(neg: dict, held: str) -> dict | None:
    """The registered procedure on every family but ``held``: T_h = 0.9 x the smallest negative
    distance, T_n = min(0.95, largest negative NCC + 0.05); None when those families hold no
    negative pair (no threshold can be chosen: the fold fails its stage A)."""
    rows = [r for f, v in neg.items() if f != held for r in v]
    hists = [r["hist"] for r in rows]
    nccs = [r["ncc"] for r in rows if np.isfinite(r["ncc"])]
    if not hists or not nccs:
        return None
    return {"T_h": 0.9 * min(hists), "T_n": min(0.95, max(nccs) + 0.05)}


def signer_pairs(root: Path, detector) -> list[dict]:
    """Reported, never used to choose: every ordered pair of clips of two different signers
    (all 13 sign clips, :data:`facesel.eval.switches.SIGNER_PEOPLE`), A's end against B's start."""
    from facesel.eval.switches import SIGNER_PEOPLE

    more = root / "videos" / "more"
    clips = {n: more / f"sample-videos__asl_gestures_{n}.mkv" for n in SIGNER_PEOPLE}
    patches = {n: clip_patches(p, detector) for n, p in clips.items() if p.exists()}
    out = []
    for a, b in itertools.product(patches, patches):
        pa, pb = patches[a]["end"], patches[b]["start"]
        if SIGNER_PEOPLE[a] == SIGNER_PEOPLE[b] or pa is None or pb is None:
            continue
        fig = body_pair(pa[0], pa[1], pb[0], pb[1])
        if fig is not None:
            out.append({"a": a, "b": b, **fig})
    return out


def passes(cand: str, fig: dict | None, t: dict) -> bool:
    if fig is None:
        return False
    h = fig["hist"] <= t["T_h"]
    n = np.isfinite(fig["ncc"]) and fig["ncc"] >= t["T_n"]
    return {"body_hist": h, "body_ncc": n, "body_both": h and n}[cand]


def geometry_ok(gap: dict, fps: float) -> bool:
    """The registered geometry gates: gap <= 3 s, within 2.0 box sides, size within 1.5x."""
    seconds = (gap["back"] - gap["last_seen"]) / fps
    return seconds <= 3.0 and gap["box_sides_apart"] <= 2.0 and 1 / 1.5 <= gap["size_ratio"] <= 1.5


def main(argv=None) -> int:
    from facesel.data import data_root
    from facesel.detect import make_detector

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    root = data_root()
    detector = make_detector(max_side=1280)
    result = {"selfie": selfie(root, detector), "otb_girl": otb_girl(root, detector)}
    for name in ("selfie", "otb_girl"):
        for g in result[name]:
            print(json.dumps({"video": name, **{k: v for k, v in g.items() if k != "per_frame"}}))
            print("  per gap frame (hist, ncc):", " ".join(f"{r['frame']}:{r['hist']:.2f}/{r['ncc']:.2f}"
                                                         for r in g["per_frame"]))
    pool = negatives(root, detector)
    result.update(pool)
    for family, rows in pool["negatives"].items():
        h = [r["hist"] for r in rows]
        n = [r["ncc"] for r in rows if np.isfinite(r["ncc"])]
        s = pool["same"][family]
        if not rows:
            print(f"{family}: no different-person pair with a body patch (the face fills the clip frame)")
            continue
        print(f"{family}: {len(rows)} different-person pairs: hist min {min(h):.3f} median {np.median(h):.3f}; "
              f"ncc max {max(n):.3f} median {np.median(n):.3f}; same person ({len(s)}): hist "
              + ", ".join(f"{r['hist']:.2f}" for r in s) + "; ncc " + ", ".join(f"{r['ncc']:.2f}" for r in s))
    extra = signer_pairs(root, detector)
    result["signer_pairs"] = extra
    n = sorted((r["ncc"] for r in extra if np.isfinite(r["ncc"])), reverse=True)
    h = sorted(r["hist"] for r in extra)
    print(f"all sign clips, different signers: {len(extra)} pairs; ncc highest {', '.join(f'{v:.3f}' for v in n[:5])}; "
          f"hist lowest {', '.join(f'{v:.3f}' for v in h[:5])}")
    for name in ("selfie", "otb_girl"):
        for g in result[name]:
            if g["arrival"]:
                above = sum(v >= g["arrival"]["ncc"] for v in n)
                below = sum(v <= g["arrival"]["hist"] for v in h)
                print(f"  {name} {g['last_seen']}->{g['back']}: different-signer pairs with ncc >= its "
                      f"{g['arrival']['ncc']:.3f}: {above}; with hist <= its {g['arrival']['hist']:.3f}: {below}")
    fps = {"selfie": 17.595, "otb_girl": 25.0}
    verdict = {}
    for cand in ("body_hist", "body_ncc", "body_both"):
        folds = {}
        for held in pool["negatives"]:
            t = thresholds(pool["negatives"], held)
            if t is None:
                folds[held] = {"threshold": None}
                continue
            wrong = sum(passes(cand, r, t) for r in pool["negatives"][held])
            joins = {v: [bool(g["arrival"] and geometry_ok(g, fps[v]) and passes(cand, g["arrival"], t))
                         for g in result[v]] for v in ("selfie", "otb_girl")}
            folds[held] = {"T_h": round(t["T_h"], 3), "T_n": round(t["T_n"], 3), "held_out_wrong": wrong, **joins}
        stage_a = all(f.get("threshold", 1) is not None and f["held_out_wrong"] == 0 and (any(f["selfie"]) or (len(f["otb_girl"]) >= 2 and all(f["otb_girl"])))
                      for f in folds.values())
        verdict[cand] = {"folds": folds, "stage_a": stage_a}
        print(cand, json.dumps(verdict[cand]))
    result["verdict"] = verdict
    if args.json is not None:
        args.json.write_text(json.dumps(result, default=float))  # numbers and clip names only
    return 0




def track_ends(recording) -> dict:
    """{track id: (first frame, first box, last frame, last box)} from a recording's packets."""
    out: dict = {}
    for packet, _, _ in recording.steps:
        if packet is None:
            continue
        for t, b in zip(np.asarray(packet.update.track_ids).tolist(), packet.detections.boxes):
            t = int(t)
            box = np.asarray(b[:4], np.float32)
            if t not in out:
                out[t] = [packet.index, box, packet.index, box]
            else:
                out[t][2:] = [packet.index, box]
    return out


def crossing_pairs(root: Path, detector, families_only, fps: float = 25.0, kind: str = "crossing") -> list[dict]:
    """On each family's first crossing crowd (walk 0, as rendered: a walker's body under the head
    is the background or a nearer walker), every pair of fragments (A, B) within the registered
    geometry (B starts after A ends, gap <= 3 s, B's first head within 2.0 of A's last head's box
    sides, size within 1.5x), labelled by the walkers (ground truth) and whether the default
    finaliser links them: the pairs a body link would judge. ``kind`` "approach": the crowd walking
    at the camera instead (:func:`facesel.eval.crowds_approach.approach_crowd`: its walkers have
    bodies, their clip's lowest eighth mirrored down)."""
    from facesel.eval import crowds
    from facesel.eval.crowds_approach import approach_crowd
    from facesel.eval.crowds_crossing import crossing_crowd
    from facesel.eval.crowds_replay import record, replay
    from facesel.select.faceness import FacenessRule
    from facesel.select.finalise import DOSE_FACE_FLOOR, Finaliser
    from facesel.selector import default_scorer

    scorer = default_scorer()
    out = []
    seen = set()
    for family, clips in crowds.crowds_of(crowds.families(root), 6):
        if family not in families_only or family in seen:
            continue
        seen.add(family)
        make = approach_crowd if kind == "approach" else crossing_crowd
        frames, truth = make(clips, 200, layout=0)
        recording = record(frames, detector, scorer, fps, locate=truth.person_at, keep_static=True)
        fin = Finaliser.for_scorer(scorer, 0.25, faceness=FacenessRule(min_quality=DOSE_FACE_FLOOR, suppress_static=False))
        replay(recording, fin)
        linked = {(int(a), int(b)) for a, b in fin.links}
        ends = track_ends(recording)
        for (a, ea), (b, eb) in itertools.permutations(ends.items(), 2):
            wa, wb = recording.tiles_of.get(a), recording.tiles_of.get(b)
            if not wa or not wb or eb[0] <= ea[2] or (eb[0] - ea[2]) / fps > 3.0:
                continue
            side = float(ea[3][2] - ea[3][0])
            centre_a, centre_b = (ea[3][:2] + ea[3][2:]) / 2, (eb[1][:2] + eb[1][2:]) / 2
            ratio = float(eb[1][2] - eb[1][0]) / side
            if np.hypot(*(centre_b - centre_a)) / side > 2.0 or not 1 / 1.5 <= ratio <= 1.5:
                continue
            fig = body_pair(frames[ea[2]], ea[3], frames[eb[0]], eb[1])
            out.append({"kind": kind, "family": family, "a": a, "b": b, "same": bool(wa & wb), "linked": (a, b) in linked,
                        "gap_s": round((eb[0] - ea[2]) / fps, 2),
                        **({"hist": None, "ncc": None} if fig is None else fig)})
    return out


def crossing_main(argv=None) -> int:
    """``--crossing FAMILY ...``: :func:`crossing_pairs` printed, per family: pairs of one walker
    and of two, their body figures (NaN: a flat patch, the background)."""
    from facesel.data import data_root
    from facesel.detect import make_detector

    parser = argparse.ArgumentParser()
    parser.add_argument("--crossing", nargs="+", required=True)
    parser.add_argument("--approach", action="store_true", help="the crowd walking at the camera instead")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    rows = crossing_pairs(data_root(), make_detector(max_side=1280), set(args.crossing),
                          kind="approach" if args.approach else "crossing")
    for r in rows:
        print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()}))
    if args.json is not None:
        args.json.write_text(json.dumps(rows, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(crossing_main() if "--crossing" in sys.argv else main())
