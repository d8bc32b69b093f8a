"""Two people in opposite profiles at one place: does the turn link join them? (issue 23, session
18; docs/persons.md "A head turned away and back", "Two people in opposite profiles at one place").

    python experiments/turn_splices.py [--scan /tmp/turn18-scan.pkl] [--max-clips N]

The material the turn link was never tested on: person A's face ends in one profile, A is lost for
a gap (0.2, 1.0, 2.8 s: A's last frame with the face blurred out), then person B comes in **in the
other profile** with B's head where A's was. Built in memory from the shared videos (no frame is
written): each clip's first **profile run** (4+ running frames whose largest face, >= 24 px wide,
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
RUN = 4
MIN_WIDTH = 24.0
SCAN_FRAMES = 300
SIDE_FRAMES = 40
GAPS = (0.2, 1.0, 2.8)
GROW = 1.6


def profile_run(detections) -> tuple[int, int, int] | None:
    """(first frame, last frame, facing) of the first run of at least :data:`RUN` frames whose
    largest face looks the same way in profile, or None. ``detections``: one Detections per frame."""
    from facesel.select.facing import facing

    looks = []
    for d in detections:
        if len(d.boxes) == 0 or d.landmarks is None:
            looks.append(None)
            continue
        widths = d.boxes[:, 2] - d.boxes[:, 0]
        i = int(np.argmax(widths))
        looks.append(facing(d.boxes[i], d.landmarks[i]) if widths[i] >= MIN_WIDTH else None)
    start = 0
    for t in range(1, len(looks) + 1):
        if t == len(looks) or looks[t] != looks[start]:
            if looks[start] in (-1, 1) and t - start >= RUN:
                return start, t - 1, looks[start]
            start = t
    return None


def largest(d):
    """(box, landmarks) of the widest detection of ``d``."""
    i = int(np.argmax(d.boxes[:, 2] - d.boxes[:, 0]))
    return d.boxes[i].copy(), d.landmarks[i].copy()


def mirrored_box(box) -> np.ndarray:
    """A box of a :data:`SQUARE` frame after a left-right flip."""
    return np.array([SQUARE - box[2], box[1], SQUARE - box[0], box[3]], np.float32)


def scan(paths, detector) -> list[dict]:
    """Every clip with a profile run: its path, person, fps, run and the boxes at the run's ends."""
    from crowds_shared import fps_of
    from facesel.eval.switches import _signer_name, read_frames

    out = []
    for path in paths:
        frames = read_frames(str(path), SCAN_FRAMES, square=SQUARE)
        dets = [detector.detect(f) for f in frames]
        run = profile_run(dets)
        name = path.name
        print(f"  scan {name}: {len(frames)} frames, run {run}", flush=True)
        if run is None:
            continue
        from facesel.eval.switches import SIGNER_PEOPLE
        signer = _signer_name(str(path)) if "asl_gestures_" in name else None
        person = f"signer{SIGNER_PEOPLE[signer]}" if signer in SIGNER_PEOPLE else name
        out.append({"path": str(path), "name": name, "person": person, "fps": fps_of(path), "run": run,
                    "first": largest(dets[run[0]]), "last": largest(dets[run[1]])})
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

    a_box, _ = a["last"]
    a_looks = a["run"][2]
    b_box, _ = b["first"]
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


def main(argv=None) -> int:
    from crowds_shared import videos
    from facesel.data import data_root
    from facesel.selector import default_detector
    from motion_gap_loso import TURN_CANDIDATES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scan", default="/tmp/turn18-scan.pkl", help="cache of the profile-run scan")
    parser.add_argument("--max-clips", type=int, default=None, help="only the first N clips with a run")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    detector = default_detector()
    cache = Path(args.scan)
    if cache.is_file():
        clips = pickle.loads(cache.read_bytes())
    else:
        clips = scan([p for p, _ in videos(data_root()) if p.is_file()], detector)
        cache.write_bytes(pickle.dumps(clips))
    clips = clips[:args.max_clips] if args.max_clips else clips
    print(f"{len(clips)} clips with a profile run: " + ", ".join(f"{c['name']} {c['run']}" for c in clips), flush=True)
    rows = []
    for a in clips:
        a_frames, _ = sides(a)
        for b in clips:
            if b is not a and b["person"] == a["person"]:
                continue
            _, b_frames = sides(b)
            for gap in GAPS:
                frames, n_a, b_from = build(a, b, a_frames, b_frames, gap)
                r = judge(frames, n_a, b_from, a["fps"], detector, TURN_CANDIDATES)
                r.update(a=a["name"], b=b["name"], gap=gap, genuine=b is a)
                rows.append(r)
                print(f"  {a['name']} -> {b['name']} gap {gap}: {'genuine' if b is a else 'two people'}, joined by "
                      f"{[k for k, v in r['joined'].items() if v]}, cue {r['cue']}, bound {r['bound']}", flush=True)
    Path("/tmp/turn18-rows.pkl").write_bytes(pickle.dumps(rows))
    report(rows, TURN_CANDIDATES)
    return 0


def report(rows, candidates) -> None:
    """Per candidate: wrong joins (end to end; under the fixed-camera bound), genuine turns joined;
    and the wrong joins per source clip of A (held out by source)."""
    from facesel.select.linking import LinkRule

    two = [r for r in rows if not r["genuine"]]
    genuine = [r for r in rows if r["genuine"]]
    for count in (2, 3):
        print(f"turn_count {count}: cue fires on {sum(r['cue'][count] is not None for r in two)} / {len(two)} two-person "
              f"splices (bound {sum(r['bound'][count] is not None for r in two)}), "
              f"{sum(r['cue'][count] is not None for r in genuine)} / {len(genuine)} genuine")
    for name, settings in candidates.items():
        wrong = [r for r in two if r["joined"][name]]
        line = f"{name:10s}: wrong joins {len(wrong)} / {len(two)}, genuine joined " \
               f"{sum(r['joined'][name] for r in genuine)} / {len(genuine)}"
        if settings:
            dist, count = settings["turn_distance"], settings.get("turn_count", LinkRule().turn_count)
            bound = [r for r in two if r["bound"][count] is not None and r["bound"][count] <= dist]
            line += f", fixed-camera bound: wrong {len(bound)} ({sorted({r['a'] for r in bound})})"
        print(line + (f"; sources with a wrong join {sorted({r['a'] for r in wrong})}" if wrong else ""))


if __name__ == "__main__":
    raise SystemExit(main())
