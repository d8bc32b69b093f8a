"""Two people in opposite profiles at one place: does the turn link join them? (issue 23, session
18; docs/persons.md "A head turned away and back", "Two people in opposite profiles at one place").

    python experiments/turn_splices.py [--scan /tmp/turn18-scan.pkl] [--scan-only] [--report ROWS] [--explain A B GAP]

The material the turn link was never tested on: person A's face ends in one profile, A is lost for
a gap (0.2, 1.0, 2.8 s: A's last frame with the face blurred out), then person B comes in **in the
other profile** with B's head where A's was. Built in memory from the shared videos (no frame is
written): each clip's **profile runs** (3+ running frames in which one face, >= 16 px wide, chained by box overlap,
is a profile looking one way, :func:`facesel.select.facing.facing`) gives an A side (the clip up to
the run's end) and a B side (the run's start onward, mirrored left-right where needed so it looks
the other way), B warped onto A's head centre and face size. Two-person splices pair clips of
different people; a clip paired with itself (B its own run mirrored) is a genuine turn.

Each splice is recorded once through the default Selector and replayed per turn candidate
(:data:`motion_gap_loso.TURN_CANDIDATES`, :mod:`facesel.eval.crowds_replay`). Per candidate:
wrong joins (a two-person splice with a snapshot whose frames lie on both sides), genuine turns
joined; per splice whether the cue fires at all (opposite profiles within 3 s at any distance)
and the heads' distance with the switch cues' end of A ignored (the fixed-camera bound: at a real
doorway nothing would cut when B comes in).
"""

from __future__ import annotations

import argparse
import copy
import pickle
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

SQUARE = 480
RUN = 3
MIN_WIDTH = 16.0
SCAN_FRAMES = 600
SIDE_FRAMES = 40
GAPS = (0.2, 1.0, 2.8)
GROW = 1.6


def _iou(a, b) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return float(w * h / union) if union > 0 else 0.0


def profile_runs(detections) -> list[tuple[int, int, int, np.ndarray, np.ndarray]]:
    """Every run of at least :data:`RUN` frames in which one face (chained frame to frame by box
    overlap, IoU >= 0.3), at least :data:`MIN_WIDTH` px wide, is a profile looking the same way:
    (first frame, last frame, facing, box on the first frame, box on the last), in order of the
    last frame. ``detections``: one Detections per frame."""
    from facesel.select.facing import facing

    runs, open_runs = [], []  # open: [first, last, looks, first box, last box]
    for t, d in enumerate(detections):
        now = []
        for i in range(len(d.boxes)):
            box = d.boxes[i]
            looks = facing(box, d.landmarks[i]) if d.landmarks is not None and box[2] - box[0] >= MIN_WIDTH else None
            if looks not in (-1, 1):
                continue
            best = max(open_runs, key=lambda r: _iou(r[4], box), default=None)
            if best is not None and best[2] == looks and _iou(best[4], box) >= 0.3:
                open_runs.remove(best)
                now.append([best[0], t, looks, best[3], box.copy()])
            else:
                now.append([t, t, looks, box.copy(), box.copy()])
        runs += [tuple(r) for r in open_runs if r[1] - r[0] + 1 >= RUN]
        open_runs = now
    runs += [tuple(r) for r in open_runs if r[1] - r[0] + 1 >= RUN]
    return sorted(runs, key=lambda r: r[1])


def mirrored_box(box) -> np.ndarray:
    """A box of a :data:`SQUARE` frame after a left-right flip."""
    return np.array([SQUARE - box[2], box[1], SQUARE - box[0], box[3]], np.float32)


def readable(path: Path) -> str:
    """What OpenCV opens for a shared video (a folder of numbered frames: its pattern)."""
    return str(path / "%04d.jpg") if path.is_dir() else str(path)


def scan(paths, detector) -> list[dict]:
    """Every profile run of every clip: its path, person, fps, run (first, last, facing) and the
    run's boxes at its ends."""
    from crowds_shared import fps_of
    from facesel.eval.switches import SIGNER_PEOPLE, _signer_name, read_frames

    out = []
    for path in paths:
        frames = read_frames(readable(path), SCAN_FRAMES, square=SQUARE)
        runs = profile_runs([detector.detect(f) for f in frames])
        name = "otb_girl" if path.is_dir() else path.name
        print(f"  scan {name}: {len(frames)} frames, runs {[r[:3] for r in runs]}", flush=True)
        signer = _signer_name(str(path)) if "asl_gestures_" in name else None
        person = f"signer{SIGNER_PEOPLE[signer]}" if signer in SIGNER_PEOPLE else name
        for k, (first, last, looks, first_box, last_box) in enumerate(runs):
            out.append({"path": readable(path), "name": f"{name}#{k}", "person": person, "fps": fps_of(path),
                        "run": (first, last, looks), "first": first_box, "last": last_box})
    return out


def sides(clip) -> tuple[list, list]:
    """(A side frames: up to the run's last, at most :data:`SIDE_FRAMES`; B side: from the run's first)."""
    from facesel.eval.switches import read_frames

    first, last, _ = clip["run"]
    frames = read_frames(clip["path"], max(last + 1, first + SIDE_FRAMES), square=SQUARE)
    return frames[max(0, last + 1 - SIDE_FRAMES):last + 1], frames[first:first + SIDE_FRAMES]


def build(a: dict, b: dict, a_frames: list, b_frames: list, gap: float) -> tuple[list, int, int]:
    """(frames, A's frame count, the first B frame) of A's side, a gap of ``gap`` s and B's side
    warped so that its first profile head lands on A's last (mirrored when it looks A's way)."""
    from facesel.select.facing import head_centre

    a_box, a_looks = a["last"], a["run"][2]
    b_box = b["first"]
    flip = b["run"][2] == a_looks
    if flip:
        b_box = mirrored_box(b_box)
    ax, ay = head_centre(a_box, a_looks)
    bx, by = head_centre(b_box, -a_looks)
    scale = float(a_box[2] - a_box[0]) / max(1.0, float(b_box[2] - b_box[0]))
    warp = np.float32([[scale, 0, ax - scale * bx], [0, scale, ay - scale * by]])
    hidden = a_frames[-1].copy()
    cx, cy = (a_box[0] + a_box[2]) / 2, (a_box[1] + a_box[3]) / 2
    half = GROW * max(a_box[2] - a_box[0], a_box[3] - a_box[1]) / 2
    x1, y1 = max(0, int(cx - half)), max(0, int(cy - half))
    x2, y2 = min(SQUARE, int(cx + half)), min(SQUARE, int(cy + half))
    if x2 > x1 and y2 > y1:
        hidden[y1:y2, x1:x2] = cv2.GaussianBlur(hidden[y1:y2, x1:x2], (0, 0), max(2.0, half / 2))
    gap_frames = [hidden] * max(1, int(round(gap * a["fps"])))
    later = [cv2.warpAffine(f[:, ::-1] if flip else f, warp, (SQUARE, SQUARE), borderMode=cv2.BORDER_REPLICATE)
             for f in b_frames]
    return list(a_frames) + gap_frames + later, len(a_frames), len(a_frames) + len(gap_frames)


def judge(frames, n_a: int, b_from: int, fps: float, detector, candidates: dict) -> dict:
    """Record ``frames`` once; per candidate whether a snapshot spans both sides; the cue's distance."""
    from facesel.eval.crowds_replay import keep_fragments, record, replay
    from facesel.scoring import LaplacianVarianceScorer
    from facesel.select.finalise import Finaliser
    from facesel.select.link_turns import turn_cost
    from facesel.select.linking import LinkRule

    scorer = LaplacianVarianceScorer()
    rec = record(frames, detector, scorer, fps)
    out = {"joined": {}, "cue": {}, "bound": {}}
    for name, settings in candidates.items():
        fin = Finaliser.for_scorer(scorer, link=LinkRule(**settings))
        kept = keep_fragments(fin) if name == "off" else None
        results = replay(rec, fin)
        out["joined"][name] = any(min(r.frame_indices) < n_a and max(r.frame_indices) >= b_from for r in results)
        if kept is None:
            continue
        for count in (2, 3):
            rule = LinkRule(turn_distance=1e9, turn_count=count)
            cue, bound = None, None
            for e in kept.values():
                if not e.count or e.first_frame >= n_a:
                    continue
                for f in kept.values():
                    if not f.count or f.first_frame < b_from:
                        continue
                    d = turn_cost(rule, e, f, [])
                    cue = d if d is not None and (cue is None or d < cue) else cue
                    free = copy.copy(e)
                    free.ended_by = None  # the fixed-camera bound: no cut where B comes in
                    d = turn_cost(rule, free, f, [])
                    bound = d if d is not None and (bound is None or d < bound) else bound
            out["cue"][count], out["bound"][count] = cue, bound
    return out


def explain(clips: list[dict], a_name: str, b_name: str, gap: float, detector) -> None:
    """Why one splice's opposite-profile pairs were joined or not under ``turn150_2``: its
    fragments (frames, whether the turn link may continue them) and each A -> B pair's distance
    without and with the other fragments (the ``crowding`` check)."""
    from facesel.eval.crowds_replay import keep_fragments, record, replay
    from facesel.scoring import LaplacianVarianceScorer
    from facesel.select.finalise import Finaliser
    from facesel.select.link_turns import may_turn, turn_cost
    from facesel.select.linking import LinkRule

    by_name = {c["name"]: c for c in clips}
    a, b = by_name[a_name], by_name[b_name]
    frames, n_a, b_from = build(a, b, sides(a)[0], sides(b)[1], gap)
    scorer = LaplacianVarianceScorer()
    rule = LinkRule(turn_distance=1.5, turn_count=2)
    finaliser = Finaliser.for_scorer(scorer, link=rule)
    kept = keep_fragments(finaliser)
    replay(record(frames, detector, scorer, a["fps"]), finaliser)
    print(f"{a_name} -> {b_name}, gap {gap} s: A frames < {n_a}, B from {b_from}; links {finaliser.links}, "
          f"drops {list(finaliser.drops)}")
    for k, e in kept.items():
        print(f"  fragment {k}: frames {e.first_frame}-{e.last_frame}, {e.count} obs, ended_by {e.ended_by}, "
              f"may turn {may_turn(rule, e)}")
    for e in kept.values():
        for f in kept.values():
            if e.count and f.count and e.first_frame < n_a and f.first_frame >= b_from:
                others = [g for g in kept.values() if g is not e and g is not f and g.count]
                print(f"  {e.first_frame}-{e.last_frame} -> {f.first_frame}-{f.last_frame}: alone "
                      f"{turn_cost(rule, e, f, [])}, with the others {turn_cost(rule, e, f, others)}")


def main(argv=None) -> int:
    from crowds_shared import videos
    from facesel.data import data_root
    from facesel.selector import default_detector
    from motion_gap_loso import TURN_CANDIDATES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scan", default="/tmp/turn18-scan2.pkl", help="cache of the profile-run scan")
    parser.add_argument("--scan-only", action="store_true", help="list the profile runs and stop")
    parser.add_argument("--report", default=None, help="only print the figures of this rows pickle")
    parser.add_argument("--explain", nargs=3, metavar=("A", "B", "GAP"), default=None,
                        help="one splice's fragments and pairs (run names as printed, gap in s)")
    args = parser.parse_args(argv)
    if args.report:
        report(pickle.loads(Path(args.report).read_bytes()), TURN_CANDIDATES)
        return 0
    cv2.setNumThreads(1)
    detector = default_detector()
    cache = Path(args.scan)
    if cache.is_file():
        clips = pickle.loads(cache.read_bytes())
    else:
        clips = scan([p for p, _ in videos(data_root())], detector)
        cache.write_bytes(pickle.dumps(clips))
    if args.scan_only:
        return 0
    if args.explain:
        explain(clips, args.explain[0], args.explain[1], float(args.explain[2]), detector)
        return 0
    print(f"{len(clips)} clips with a profile run: " + ", ".join(f"{c['name']} {c['run']}" for c in clips), flush=True)
    rows = []
    for a in clips:
        a_frames, _ = sides(a)
        for b in clips:
            if b is not a and b["person"] == a["person"]:
                continue  # the same person's other run: neither two people nor the same turn
            _, b_frames = sides(b)
            for gap in GAPS:
                frames, n_a, b_from = build(a, b, a_frames, b_frames, gap)
                r = judge(frames, n_a, b_from, a["fps"], detector, TURN_CANDIDATES)
                r.update(a=a["name"], b=b["name"], gap=gap, genuine=b is a, source=a["person"])
                rows.append(r)
                print(f"  {a['name']} -> {b['name']} gap {gap}: {'genuine' if b is a else 'two people'}, joined by "
                      f"{[k for k, v in r['joined'].items() if v]}, cue {r['cue']}, bound {r['bound']}", flush=True)
    Path("/tmp/turn18-rows.pkl").write_bytes(pickle.dumps(rows))
    report(rows, TURN_CANDIDATES)
    return 0


def report(rows, candidates) -> None:
    """Per candidate: two-person splices joined (all; and **added** over ``off``, the turn link's
    own wrong joins) with the sources (A's file) they come from, the fixed-camera bound's wrong
    joins, and genuine turns joined (all; added over ``off``)."""
    from facesel.select.linking import LinkRule

    two = [r for r in rows if not r["genuine"]]
    genuine = [r for r in rows if r["genuine"]]
    for count in (2, 3):
        fired = [r for r in two if r["cue"][count] is not None]
        print(f"turn_count {count}: cue fires on {len(fired)} / {len(two)} two-person splices "
              f"({sorted((r['a'], r['b'], r['gap'], round(r['cue'][count], 2)) for r in fired)}); bound "
              f"{sum(r['bound'][count] is not None for r in two)}; genuine {sum(r['cue'][count] is not None for r in genuine)}"
              f" / {len(genuine)}")
    for name, settings in candidates.items():
        wrong = [r for r in two if r["joined"][name]]
        added = [r for r in wrong if not r["joined"]["off"]]
        line = (f"{name:10s}: two-person joined {len(wrong)} / {len(two)} (added over off {len(added)}"
                f"{' ' + str(sorted({r['source'] for r in added})) if added else ''}), genuine joined "
                f"{sum(r['joined'][name] for r in genuine)} / {len(genuine)} (added "
                f"{sum(r['joined'][name] and not r['joined']['off'] for r in genuine)})")
        if settings:
            dist, count = settings["turn_distance"], settings.get("turn_count", LinkRule().turn_count)
            bound = [r for r in two if r["bound"][count] is not None and r["bound"][count] <= dist]
            line += f", fixed-camera bound: {len(bound)} {sorted({r['source'] for r in bound})}"
        print(line)
    print("two-person splices the default (off) joins, by gap: " + ", ".join(
        f"{g} s {sum(r['joined']['off'] for r in two if r['gap'] == g)} / {sum(r['gap'] == g for r in two)}"
        for g in sorted({r['gap'] for r in two})))


if __name__ == "__main__":
    raise SystemExit(main())
